"""evaio.aio: errors, cancellation, many concurrent awaits, the loop staying
responsive, no descriptor leaks, one context per loop.

Timing bounds are generous (a 0.5 s gap, a 60 s budget) so that only a real
stall fails, never a slow machine.
"""

import asyncio
import errno
import os
import pathlib
import threading
import time
import unittest

import evaio
import evaio.aio
from support import TempDirCase, open_fds, os_error, same_error


def run(coro, timeout=120):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def until(predicate, timeout=30.0):
    """Waits (yielding to the loop) until predicate() is true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.005)


class ErrorsTest(TempDirCase):
    def test_errors_are_the_os_modules(self):
        missing = self.path("missing")
        f = self.make_file("f")

        async def main():
            for path in (missing, os.fsencode(missing), pathlib.Path(missing)):
                with self.assertRaises(FileNotFoundError) as cm:
                    await evaio.aio.stat(path)
                same_error(self, cm.exception, os_error(os.stat, path))
            with self.assertRaises(NotADirectoryError) as cm:
                await evaio.aio.readdir(f)
            same_error(self, cm.exception, os_error(os.listdir, f))
            with self.assertRaises(FileNotFoundError) as cm:
                await evaio.aio.rename(missing, f + "2")
            same_error(self, cm.exception, os_error(os.rename, missing, f + "2"))
            with self.assertRaises(FileExistsError) as cm:
                await evaio.aio.mkdir(self.tmp, 0o777)
            same_error(self, cm.exception, os_error(os.mkdir, self.tmp, 0o777))
            # Conversions fail at the call, like os: wrong types, NUL bytes.
            with self.assertRaises(TypeError):
                evaio.aio.read("not an fd", 0, 10)
            with self.assertRaises(TypeError):
                evaio.aio.stat(None)
            with self.assertRaisesRegex(ValueError, "embedded null byte"):
                evaio.aio.stat("a\0b")
            # A NULL handle is refused by the library's wrapper: EFAULT.
            with self.assertRaises(OSError) as cm:
                await evaio.aio.readdir_batch(None, 10)
            self.assertEqual(cm.exception.errno, errno.EFAULT)
            # An exception of a custom function reaches the awaiter as it is.
            with self.assertRaisesRegex(KeyError, "from a worker"):
                await evaio.aio.custom(lambda: {}["from a worker"])
        run(main())

    def test_needs_a_running_loop(self):
        with self.assertRaises(RuntimeError):
            evaio.aio.stat(self.tmp)

    def test_full_results(self):
        async def main():
            fd, name = await evaio.aio.mkstemp(self.path("tXXXXXX"))
            os.close(fd)
            full = await evaio.aio.mkstemp(self.path("uXXXXXX"), full=True)
            os.close(full.result)
            self.assertTrue(os.path.exists(full.text))
            self.assertEqual(full._fields, ("result", "text"))
            full = await evaio.aio.nop(full=True)
            self.assertEqual(full, (0,))
        run(main())


class CancelTest(TempDirCase):
    def test_cancelling_a_queued_request(self):
        """A task awaiting a request queued behind a busy one is cancelled:
        CancelledError, and the C request reports ECANCELED, never running."""
        fifo = self.path("fifo")
        os.mkfifo(fifo)
        target = self.make_file("target")

        async def main():
            ctx = evaio.aio.ctx()
            ctx.set_max_parallel(1)
            try:
                # The one worker blocks opening the FIFO until it has a writer.
                blocker = evaio.aio.open(fifo, os.O_RDONLY, 0)
                await until(lambda: ctx.nreqs() == 1 and ctx.nready() == 0)
                futures = []

                async def waiter():
                    fut = evaio.aio.unlink(target)
                    futures.append(fut)
                    return await fut
                task = asyncio.ensure_future(waiter())
                await until(lambda: ctx.nready() == 1)  # submitted, queued
                task.cancel()
                with self.assertRaises(asyncio.CancelledError):
                    await task
                self.assertTrue(futures[0].cancelled())
                writer = os.open(fifo, os.O_WRONLY)  # lets the blocker finish
                try:
                    os.close(await blocker)
                finally:
                    os.close(writer)
                await until(lambda: futures[0].evaio_outcome is not None)
                self.assertEqual(futures[0].evaio_outcome, (-1, errno.ECANCELED))
                self.assertTrue(os.path.exists(target), "the cancelled unlink ran")
                self.assertEqual(ctx.nreqs(), 0)
            finally:
                ctx.set_max_parallel(4)
        run(main())

    def test_cancelling_a_running_open_closes_its_descriptor(self):
        """Cancelled while executing, an open still returns a descriptor:
        nobody awaits it, so the binding closes it."""
        fifo = self.path("fifo")
        os.mkfifo(fifo)

        async def main():
            ctx = evaio.aio.ctx()
            fut = evaio.aio.open(fifo, os.O_RDONLY, 0)
            task = asyncio.ensure_future(fut)
            await until(lambda: ctx.nreqs() == 1 and ctx.nready() == 0)  # running: blocked in open
            before = open_fds()
            task.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await task
            writer = os.open(fifo, os.O_WRONLY)
            try:
                await until(lambda: fut.evaio_outcome is not None)
                fd, err = fut.evaio_outcome
                self.assertGreaterEqual(fd, 0)
                self.assertEqual(err, 0)
                self.assertEqual(os_error(os.fstat, fd).errno, errno.EBADF)
            finally:
                os.close(writer)
            self.assertEqual(open_fds(), before)
        run(main())

    def test_cancelled_before_submission(self):
        async def main():
            fut = evaio.aio.nop()
            fut.cancel()  # in the same iteration: never reaches the library
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            self.assertEqual(fut.evaio_outcome, (-1, errno.ECANCELED))
            self.assertEqual(evaio.aio.ctx().nreqs(), 0)
        run(main())

    def test_cancelling_gather(self):
        async def main():
            ctx = evaio.aio.ctx()
            ctx.set_max_parallel(1)
            try:
                futs = [evaio.aio.busy(0.05) for _ in range(20)]
                g = asyncio.gather(*futs)
                await until(lambda: ctx.nready() >= 10)
                g.cancel()
                with self.assertRaises(asyncio.CancelledError):
                    await g
                await until(lambda: ctx.nreqs() == 0)
                outcomes = [f.evaio_outcome for f in futs]
                self.assertGreaterEqual(sum(o == (-1, errno.ECANCELED) for o in outcomes), 10)
            finally:
                ctx.set_max_parallel(4)
        run(main())


class ConcurrencyTest(TempDirCase):
    def test_5000_concurrent_awaits(self):
        names = [self.make_file(f"f{i}", b"x" * i) for i in range(4000)] + [self.path(f"m{i}") for i in range(1000)]

        async def main():
            return await asyncio.gather(*(evaio.aio.stat(p) for p in names), return_exceptions=True)
        results = run(main())
        self.assertEqual(len(results), 5000)
        for p, r in zip(names, results):
            if os.path.exists(p):
                self.assertEqual(r.st_size, os.stat(p).st_size)
                self.assertEqual(r.st_ino, os.stat(p).st_ino)
            else:
                self.assertIsInstance(r, FileNotFoundError)
                self.assertEqual(r.filename, p)

    def test_loop_stays_responsive_during_100k_stats(self):
        """A 10 ms timer keeps ticking while 100k results are delivered."""
        files = [self.make_file(f"f{i}") for i in range(100)]

        async def main():
            loop = asyncio.get_running_loop()
            gaps = []
            stop = asyncio.Event()

            async def ticker():
                last = loop.time()
                while not stop.is_set():
                    await asyncio.sleep(0.01)
                    now = loop.time()
                    gaps.append(now - last)
                    last = now
            tick = asyncio.ensure_future(ticker())
            it = iter(range(100_000))
            done = [0]

            async def worker():
                for i in it:
                    await evaio.aio.stat(files[i % 100])
                    done[0] += 1
            t0 = loop.time()
            await asyncio.gather(*(worker() for _ in range(256)))
            elapsed = loop.time() - t0
            stop.set()
            await tick
            return gaps, elapsed, done[0]
        gaps, elapsed, done = run(main())
        self.assertEqual(done, 100_000)
        self.assertLess(max(gaps), 0.5, f"the timer stalled for {max(gaps):.3f} s")
        # It ticked all along: at least one tick per 100 ms of work.
        self.assertGreaterEqual(len(gaps), int(elapsed / 0.1))

    def test_a_flood_of_submissions_is_flushed_in_slices(self):
        """100k requests made at once do not block the loop in one go."""
        async def main():
            loop = asyncio.get_running_loop()
            gaps = []
            stop = asyncio.Event()

            async def ticker():
                last = loop.time()
                while not stop.is_set():
                    await asyncio.sleep(0.01)
                    now = loop.time()
                    gaps.append((now, now - last))
                    last = now
            tick = asyncio.ensure_future(ticker())
            await asyncio.sleep(0.02)
            futures = [evaio.aio.nop() for _ in range(100_000)]
            made = loop.time()  # the loop was ours until now: count only later gaps
            results = await asyncio.gather(*futures)
            stop.set()
            await tick
            return [gap for end, gap in gaps if end - gap >= made], results
        gaps, results = run(main())
        self.assertEqual(len(results), 100_000)
        self.assertTrue(gaps)
        self.assertLess(max(gaps), 0.5, f"the timer stalled for {max(gaps):.3f} s")


class ResourceTest(TempDirCase):
    def test_no_descriptor_leaks(self):
        f = self.make_file("f", b"data")
        os.mkdir(self.path("d"))

        async def main():
            await evaio.aio.nop()  # the loop's context (and its poll fd) exists
            before = open_fds()
            for _ in range(50):
                fd = await evaio.aio.open(f, os.O_RDONLY, 0)
                await evaio.aio.read(fd, 0, 4)
                await evaio.aio.close(fd)
                with self.assertRaises(OSError):
                    await evaio.aio.open(self.path("missing"), os.O_RDONLY, 0)
                await evaio.aio.readdir(self.tmp)
                await evaio.aio.slurp(f, 0, 0)
                wd = await evaio.aio.wd_open(self.path("d"))
                await evaio.aio.stat(".", wd=wd)
                await evaio.aio.wd_close(wd)
                ds = await evaio.aio.opendir(self.path("d"))
                await evaio.aio.readdir_batch(ds, 10)
                await evaio.aio.closedir(ds)
                fd, name = await evaio.aio.mkstemp(self.path("tXXXXXX"))
                await evaio.aio.close(fd)
                await evaio.aio.unlink(name)
                await evaio.aio.scandir(self.tmp, 2)
            # Handles dropped without closing are released by their finalizer.
            wd = await evaio.aio.wd_open(self.path("d"))
            del wd
            await until(lambda: evaio.aio.ctx().nreqs() == 0)
            await until(lambda: open_fds() == before)
            self.assertEqual(open_fds(), before)
        run(main())

    def test_one_context_per_loop(self):
        async def use():
            await evaio.aio.stat(self.tmp)
            return evaio.aio.ctx()
        first = run(use())
        base = open_fds()
        contexts = [run(use()) for _ in range(5)]
        # A closed loop's context is freed when the next loop attaches: at
        # most one lingers.
        self.assertLessEqual(len(open_fds() - base), 1)
        self.assertIsNone(first._ptr)
        self.assertTrue(all(c._ptr is None for c in contexts[:-1]))

        async def close():
            self.assertIsNotNone(evaio.aio.ctx()._ptr)
            c = evaio.aio.ctx()
            with self.assertRaisesRegex(ValueError, "close_loop"):
                c.free()  # the loop's context is evaio.aio's to free
            evaio.aio.close_loop()
            return c
        self.assertIsNone(run(close())._ptr)

    def test_loops_in_threads(self):
        """Two threads, each with its own loop and context, at once."""
        files = [self.make_file(f"f{i}", b"x" * i) for i in range(200)]
        results, errors = {}, []

        def thread(n):
            async def main():
                sizes = [(await evaio.aio.stat(p)).st_size for p in files for _ in range(5)]
                return sizes, evaio.aio.ctx()
            try:
                results[n] = run(main())
            except BaseException as e:  # noqa: B902 -- reported below
                errors.append(e)
        threads = [threading.Thread(target=thread, args=(n,)) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        want = [i for i in range(200) for _ in range(5)]
        self.assertEqual(results[0][0], want)
        self.assertEqual(results[1][0], want)
        self.assertIsNot(results[0][1], results[1][1])


if __name__ == "__main__":
    unittest.main()

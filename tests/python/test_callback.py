"""The callback layer: contexts, poll and its fd, limits, callbacks' return
values and exceptions, cancellation, groups and feeders, handles, the
default context, submission from other threads, and that what the C side
borrows stays alive until the callback ran."""

import errno
import gc
import os
import select
import threading
import time
import unittest

import evaio
from support import TempDirCase, open_fds


def readable(fd):
    return bool(select.select([fd], [], [], 0)[0])


def settle(ctx, n, timeout=30):
    """Waits until n results wait in ctx (without polling them)."""
    deadline = time.monotonic() + timeout
    while ctx.npending() < n:
        if time.monotonic() > deadline:
            raise AssertionError(f"{ctx.npending()} results waiting, not {n}")
        time.sleep(0.002)


class ContextCase(TempDirCase):
    def setUp(self):
        super().setUp()
        self.ctx = evaio.Context()
        self.addCleanup(self._free)

    def _free(self):
        self.ctx.wait(timeout=60)
        self.ctx.free()


class PollTest(ContextCase):
    def test_poll_fd_and_poll(self):
        ctx = self.ctx
        fd = ctx.poll_fd()
        self.assertEqual(fd, ctx.fileno())
        self.assertFalse(readable(fd))
        self.assertEqual(ctx.poll(), 0)
        got = []
        r = ctx.stat(self.tmp, got.append)
        self.assertIsInstance(r, evaio.Request)
        self.assertFalse(r.done)
        with self.assertRaises(RuntimeError):
            r.value()
        settle(ctx, 1)
        self.assertTrue(readable(fd))
        self.assertEqual(ctx.nreqs(), 1)
        self.assertEqual(got, [])  # callbacks run only in poll
        self.assertEqual(ctx.poll(), 0)
        self.assertEqual(got, [r])
        self.assertTrue(r.done)
        self.assertEqual(r.value().st_ino, os.stat(self.tmp).st_ino)
        self.assertEqual((r.result, r.errno, r.cancelled, r.error), (0, 0, False, None))
        self.assertEqual(list(r.outputs), ["buf"])
        self.assertFalse(readable(fd))
        self.assertEqual(ctx.nreqs(), 0)

    def test_poll_limits(self):
        ctx = self.ctx
        got = []
        for _ in range(10):
            ctx.nop(got.append)
        settle(ctx, 10)
        ctx.set_max_poll_reqs(3)
        self.assertEqual(ctx.poll(), -1)  # stopped by the limit, results still wait
        self.assertEqual(len(got), 3)
        self.assertTrue(readable(ctx.poll_fd()))
        self.assertEqual(ctx.poll(), -1)
        self.assertEqual(ctx.poll(), -1)
        self.assertEqual(ctx.poll(), 0)
        self.assertEqual(len(got), 10)
        ctx.set_max_poll_reqs(0)

    def test_callback_return_value_stops_poll(self):
        ctx = self.ctx
        got = []
        ctx.nop(lambda r: got.append(1) or 7)
        ctx.nop(lambda r: got.append(2))
        settle(ctx, 2)
        self.assertEqual(ctx.poll(), 7)
        self.assertEqual(got, [1])
        self.assertEqual(ctx.poll(), 0)
        self.assertEqual(got, [1, 2])

    def test_callback_exception_is_raised_by_poll(self):
        ctx = self.ctx
        got = []

        def boom(r):
            raise ZeroDivisionError("in a callback")
        ctx.nop(boom)
        ctx.nop(got.append)
        settle(ctx, 2)
        with self.assertRaisesRegex(ZeroDivisionError, "in a callback"):
            ctx.poll()
        self.assertEqual(got, [])
        self.assertEqual(ctx.wait(), 0)  # the rest is delivered
        self.assertEqual(len(got), 1)

    def test_wait(self):
        ctx = self.ctx
        got = []
        ctx.busy(0.3, got.append)
        with self.assertRaises(TimeoutError):
            ctx.wait(timeout=0.01)
        self.assertEqual(ctx.wait(timeout=60), 0)
        self.assertEqual(len(got), 1)
        # From inside a callback, wait returns once only running callbacks remain.
        inner = []

        def outer(r):
            ctx.nop(inner.append)
            inner.append(ctx.wait())
        ctx.nop(outer)
        ctx.wait()
        self.assertEqual(len(inner), 2)
        self.assertEqual(inner[1], 0)

    def test_free(self):
        # Freeing with work outstanding: queued requests are cancelled, the
        # running one awaited, and every callback runs within free().
        ctx = evaio.Context()
        ctx.set_max_parallel(1)
        got = []
        running = ctx.busy(0.2, got.append)
        queued = [ctx.nop(got.append) for _ in range(3)]
        deadline = time.monotonic() + 30
        while ctx.nready() != 3 and time.monotonic() < deadline:
            time.sleep(0.001)
        ctx.free()
        self.assertEqual(sorted(map(id, got)), sorted(map(id, [running] + queued)))
        self.assertEqual(running.result, 0)
        self.assertEqual([r.errno for r in queued], [errno.ECANCELED] * 3)
        ctx.free()  # twice is harmless
        # From inside one of its callbacks: EBUSY.
        inner = evaio.Context()
        seen = []

        def cb(req):
            try:
                inner.free()
            except OSError as e:
                seen.append(e.errno)
        inner.nop(cb)
        inner.wait()
        self.assertEqual(seen, [errno.EBUSY])
        inner.free()
        with self.assertRaises(ValueError):
            ctx.nop(None)
        with self.assertRaises(ValueError):
            ctx.poll()
        with evaio.Context() as c2:
            c2.nop(None)
        self.assertIsNone(c2._ptr)

    def test_settings_and_counters(self):
        ctx = self.ctx
        ctx.set_min_parallel(2)
        deadline = time.monotonic() + 30
        while ctx.nthreads() < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(ctx.nthreads(), 2)
        ctx.set_min_parallel(0)
        ctx.set_max_parallel(1)
        ctx.set_max_idle(1)
        ctx.set_idle_timeout(5)
        ctx.set_max_running(1)
        ctx.set_max_poll_time(0.01)
        for _ in range(5):
            ctx.busy(0.01, None)
        self.assertGreaterEqual(ctx.nready(), 3)
        ctx.wait()
        self.assertEqual((ctx.nreqs(), ctx.nready(), ctx.npending()), (0, 0, 0))

    def test_default_context(self):
        got = []
        evaio.stat(self.tmp, got.append)
        self.assertEqual(evaio.wait(), 0)
        self.assertEqual(got[0].value().st_ino, os.stat(self.tmp).st_ino)
        self.assertIs(got[0].ctx, evaio.default_context())
        self.assertEqual(evaio.nreqs(), 0)
        self.assertEqual(evaio.poll(), 0)
        self.assertEqual(evaio.poll_fd(), evaio.default_context().poll_fd())
        with self.assertRaises(ValueError):
            evaio.default_context().free()
        with self.assertRaises(AttributeError):
            evaio.no_such_op  # noqa: B018

    def test_submission_from_other_threads(self):
        ctx = self.ctx
        got = []

        def submit():
            for _ in range(500):
                ctx.stat(self.tmp, got.append)
        threads = [threading.Thread(target=submit) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ctx.wait()
        self.assertEqual(len(got), 2000)
        self.assertTrue(all(r.value().st_ino == os.stat(self.tmp).st_ino for r in got))

    def test_borrowed_buffers_live_until_the_callback(self):
        ctx = self.ctx
        f = self.make_file("f", b"0123456789" * 1000)
        fd = os.open(f, os.O_RDONLY)
        try:
            got = []
            ctx.set_max_parallel(1)
            ctx.busy(0.1, None)  # the reads wait in the queue meanwhile
            for i in range(20):
                ctx.read(fd, i, 10, got.append, buf=memoryview(bytearray(10)))
            null = os.open(os.devnull, os.O_WRONLY)
            ctx.write(null, 0, bytes(bytearray(b"abc")), got.append)
            gc.collect()
            ctx.wait()
            os.close(null)
            self.assertEqual([r.value() for r in got], [10] * 20 + [3])
            self.assertTrue(all(r.keep is None for r in got))
        finally:
            os.close(fd)


class CancelTest(ContextCase):
    def test_cancel(self):
        ctx = self.ctx
        ctx.set_max_parallel(1)
        got = []
        busy = ctx.busy(0.3, got.append)
        victim = ctx.unlink(self.make_file("victim"), got.append)
        deadline = time.monotonic() + 30
        while ctx.nready() != 1 and time.monotonic() < deadline:  # busy started, victim queued
            time.sleep(0.001)
        self.assertTrue(victim.cancel())  # queued: will not run
        self.assertTrue(victim.cancel() in (True, False))  # twice is harmless
        self.assertFalse(busy.cancel())   # running: only marked
        ctx.wait()
        self.assertEqual(got, [victim, busy])  # a cancelled request completes at once
        self.assertEqual((victim.result, victim.errno, victim.cancelled), (-1, errno.ECANCELED, True))
        with self.assertRaises(OSError) as cm:
            victim.value()
        self.assertEqual(cm.exception.errno, errno.ECANCELED)
        self.assertEqual(cm.exception.filename, self.path("victim"))
        self.assertTrue(os.path.exists(self.path("victim")))
        self.assertEqual((busy.result, busy.cancelled), (0, True))
        self.assertFalse(busy.cancel())  # done


class GroupTest(ContextCase):
    def test_group(self):
        ctx = self.ctx
        order = []
        g = ctx.group(lambda r: order.append("group"))
        for i in range(3):
            g.add(ctx.nop(lambda r, i=i: order.append(i)))
        g.set_result(5, 0)
        ctx.wait()
        self.assertEqual(sorted(order[:3]), [0, 1, 2])
        self.assertEqual(order[3], "group")
        self.assertEqual((g.result, g.errno), (5, 0))
        with self.assertRaises(ValueError):
            g.add(ctx.nop(None))
        ctx.wait()

    def test_group_add_errors(self):
        ctx = self.ctx
        g1, g2 = ctx.group(), ctx.group()
        r = ctx.busy(0.05, None)
        g1.add(r)
        with self.assertRaises(OSError) as cm:
            g2.add(r)
        self.assertEqual(cm.exception.errno, errno.EBUSY)
        ctx.wait()

    def test_feeder(self):
        ctx = self.ctx
        left = [25]
        peak = [0]
        done = []

        def finished(r):
            peak[0] = max(peak[0], g.outstanding())

        def feed(group):
            if left[0]:
                left[0] -= 1
                group.add(ctx.busy(0.001, finished))
        g = ctx.group(done.append)
        g.limit(3)
        g.feed(feed)
        ctx.wait()
        self.assertEqual(left[0], 0)
        self.assertEqual(done, [g])
        self.assertLessEqual(peak[0], 3)

    def test_cancel_group(self):
        ctx = self.ctx
        ctx.set_max_parallel(1)
        g = ctx.group()
        members = [g.add(ctx.busy(0.05, None)) for _ in range(5)]
        time.sleep(0.01)
        self.assertTrue(g.cancel())
        ctx.wait()
        self.assertEqual((g.result, g.errno), (-1, errno.ECANCELED))
        self.assertGreaterEqual(sum(m.errno == errno.ECANCELED for m in members), 3)


class HandleTest(ContextCase):
    def test_handles(self):
        ctx = self.ctx
        os.mkdir(self.path("d"))
        self.make_file("d/x", b"12")
        got = []
        ctx.wd_open(self.path("d"), got.append)
        ctx.wait()
        wd = got[0].value()
        self.assertIsInstance(wd, evaio.WorkingDirectory)
        self.assertIs(wd.ctx, ctx)
        ctx.stat("x", got.append, wd=wd)
        ctx.wait()
        self.assertEqual(got[1].value().st_size, 2)
        before = open_fds()
        wd.close()  # a wd_close request nobody waits for
        self.assertTrue(wd.closed)
        ctx.wait()
        self.assertEqual(len(before - open_fds()), 1)
        with self.assertRaises(ValueError):
            wd.fileno()
        with self.assertRaises(TypeError):
            ctx.stat("x", None, wd="not a handle")
        # A dropped handle is released by its finalizer.
        ctx.opendir(self.path("d"), got.append)
        ctx.wait()
        base = open_fds()
        ds = got[2].value()
        got.clear()
        del ds
        gc.collect()
        ctx.wait()
        self.assertEqual(len(base - open_fds()), 1)


if __name__ == "__main__":
    unittest.main()

"""Shared helpers of the Python binding's tests (stdlib unittest).

ctest runs them with PYTHONPATH=bindings/python and EVAIO_LIBRARY set to
the build's library (tests/python.cmake); by hand:

    PYTHONPATH=bindings/python EVAIO_LIBRARY=build/default/libevaio.so \\
        python3 -m unittest discover -s tests/python -v
"""

import asyncio
import errno
import os
import shutil
import sys
import tempfile
import unittest

import evaio
import evaio.aio

# A descriptor number nothing here opens: EBADF.
BAD_FD = 999_999
NO_SKIP = os.environ.get("EVAIO_TEST_NO_SKIP", "") not in ("", "0")


def open_fds():
    """The process's open descriptors (without the one listing them)."""
    fds = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            os.fstat(int(name))
        except OSError:
            continue  # the listing's own descriptor, closed by now
        fds.add(int(name))
    return fds


class TempDirCase(unittest.TestCase):
    """A test with a fresh temporary folder, self.tmp."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="evaio-pytest-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def make_file(self, name, data=b""):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(data)
        return p


class Layer:
    """Runs one operation through one layer and returns its value or raises
    its error, so one scenario can run through both layers."""

    name = None

    def call(self, op, *args, **kw):
        raise NotImplementedError

    def close(self):
        pass


class CallbackLayer(Layer):
    name = "callback"

    def __init__(self):
        self.ctx = evaio.Context()

    def request(self, op, *args, **kw):
        """The completed Request; arguments as for evaio.aio (the callback
        goes after the required ones)."""
        out = []
        nreq = len([a for a in evaio.op(op).args if a.name in _required(op)])
        req = getattr(self.ctx, op)(*args[:nreq], out.append, *args[nreq:], **kw)
        self.ctx.wait(timeout=60)
        assert out == [req], (op, out, req)
        return req

    def call(self, op, *args, **kw):
        return self.request(op, *args, **kw).value()

    def result(self, op, *args, **kw):
        return self.request(op, *args, **kw).result

    def close(self):
        self.ctx.wait(timeout=60)
        self.ctx.free()


class AioLayer(Layer):
    name = "aio"

    def __init__(self):
        self.loop = asyncio.new_event_loop()

    def call(self, op, *args, **kw):
        async def run():
            return await getattr(evaio.aio, op)(*args, **kw)
        return self.loop.run_until_complete(asyncio.wait_for(run(), 60))

    def result(self, op, *args, **kw):
        return self.call(op, *args, full=True, **kw).result

    def close(self):
        self.loop.run_until_complete(self._close())
        self.loop.close()

    @staticmethod
    async def _close():
        evaio.aio.close_loop()


LAYERS = (CallbackLayer, AioLayer)


def _required(op):
    """The names of an op's required Python parameters (evaio.aio's signature)."""
    import inspect
    return [p.name for p in inspect.signature(getattr(evaio.aio, op)).parameters.values()
            if p.kind == p.POSITIONAL_OR_KEYWORD and p.default is p.empty]


def outcome(fn, *args, **kw):
    """('ok', value) or ('error', the OSError)."""
    try:
        return ("ok", fn(*args, **kw))
    except OSError as e:
        return ("error", e)


def os_error(fn, *args):
    """The OSError the os module raises for fn(*args)."""
    try:
        fn(*args)
    except OSError as e:
        return e
    raise AssertionError(f"{fn.__name__}{args} did not fail")


def same_error(test, ours, theirs):
    """Our OSError is the os module's: class, errno, strerror, filenames, text."""
    test.assertIs(type(ours), type(theirs))
    test.assertEqual((ours.errno, ours.strerror, ours.filename, ours.filename2),
                     (theirs.errno, theirs.strerror, theirs.filename, theirs.filename2))
    test.assertEqual(str(ours), str(theirs))


__all__ = ["BAD_FD", "NO_SKIP", "open_fds", "TempDirCase", "LAYERS", "CallbackLayer", "AioLayer", "outcome",
           "os_error", "same_error", "errno", "sys"]

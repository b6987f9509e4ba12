"""evaio for asyncio: every operation of the spec is an awaitable.

    import evaio.aio
    st = await evaio.aio.stat("/etc/hostname")          # os.stat_result
    data = await evaio.aio.read(fd, 0, 4096)             # bytes
    names = await evaio.aio.readdir("/etc")              # list of str
    fd = await evaio.aio.open("f", os.O_RDONLY, 0)

Each call submits the request at once and returns an asyncio future of the
running loop (like loop.run_in_executor; use asyncio.ensure_future, not
create_task, to make it a task).  Failures raise the OSError the os module
would raise, with the errno and the path arguments as filenames.
Cancelling the future, or a task awaiting it, cancels the request
(evaio_cancel): one that has not started never runs; one already running
completes, and what it produced for nobody (a descriptor, a handle) is
closed.  The C outcome of a cancelled request is then in
fut.evaio_outcome, (result, errno).

Each event loop gets its own evaio context (threads, poll fd), watched with
loop.add_reader on its poll fd; ctx() returns it, to change its settings.
It polls at most 512 results or 5 ms per wake-up, and submits at most 4096
requests per loop iteration, so a flood of requests or results never
starves the loop's other callbacks.  A closed loop's context is freed
when another loop first uses evaio, or by close_loop().
"""

import asyncio
import ctypes
import errno
import threading

from . import _build, _core
from . import _native as N
from ._convert import oserror
from ._core import Context

_ECANCELED = errno.ECANCELED

POLL_REQS = 512
POLL_TIME = 0.005
FLUSH_MAX = 4096

_get_running_loop = asyncio._get_running_loop
_by_loop = {}
_attach_lock = threading.RLock()


class Future(asyncio.Future):
    """The future of one evaio request; cancel() also cancels the request."""
    __slots__ = ("_req", "_outcome")

    def cancel(self, *args, **kwargs):
        req = getattr(self, "_req", None)
        if req is not None and not self.done():
            self._req = None
            N.cancel(req)
        return super().cancel(*args, **kwargs)

    @property
    def evaio_outcome(self):
        """(result, errno) of a request whose future was cancelled, once the
        request completed: errno ECANCELED if it never ran.  None otherwise."""
        return getattr(self, "_outcome", None)


class _Gone:
    """Stands in for the future of a loop that has gone away."""
    __slots__ = ("_outcome",)

    def done(self):
        return True


_GONE = _Gone()


class _LoopContext:
    """One event loop's evaio context, its reader, and the requests made
    during this iteration of the loop, submitted together at its end."""
    __slots__ = ("loop", "ctx", "ptr", "fd", "queue")

    def __init__(self, loop):
        self.loop = loop
        self.ctx = Context()
        self.ctx._owner = "evaio.aio (free it with evaio.aio.close_loop())"
        self.ptr = self.ctx._ptr
        self.ctx.set_max_poll_reqs(POLL_REQS)
        self.ctx.set_max_poll_time(POLL_TIME)
        self.fd = self.ctx.poll_fd()
        self.queue = []
        loop.add_reader(self.fd, self._readable)

    def flush(self):
        """Submits the queued requests, back to back: workers woken for the
        first ones find the rest queued, so a burst costs a few wake-ups,
        not one per request.  A future cancelled before this never reaches
        the library; its outcome says ECANCELED."""
        queue = self.queue
        if len(queue) > FLUSH_MAX:  # the rest after the loop's other callbacks
            self.queue = queue[FLUSH_MAX:]
            queue = queue[:FLUSH_MAX]
            self.loop.call_soon(self.flush)
        else:
            self.queue = []
        pending = _core.pending
        for key in queue:
            rec = pending[key]
            fut = rec[1]
            if fut.done():
                del pending[key]
                fut._outcome = (-1, _ECANCELED)
                continue
            try:
                p = rec[8](*rec[9])
            except ctypes.ArgumentError as e:
                del pending[key]
                fut.set_exception(TypeError(str(e)))
                continue
            if p:
                fut._req = p
            else:
                del pending[key]
                fut.set_exception(oserror(ctypes.get_errno(), rec[2], rec[3]))

    def _readable(self):
        # -1/EAGAIN (a limit stopped it) needs nothing: the fd stays readable
        # and the loop calls again after its other ready callbacks.
        if N.ctx_poll(self.ptr) == _core.STOP:
            try:
                _core.raise_stashed()
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as e:  # noqa: B902 -- reported to the loop
                self.loop.call_exception_handler({"message": "exception in an evaio completion", "exception": e})

    def close(self):
        """Cancels what is outstanding, waits for it (releasing what it
        produced), frees the context."""
        _by_loop.pop(self.loop, None)
        if not self.loop.is_closed():
            self.loop.remove_reader(self.fd)
        for key in self.queue:  # never submitted
            _core.pending.pop(key, None)
        self.queue = []
        for key, rec in list(_core.pending.items()):
            if len(rec) == 10 and rec[7] is self:
                req = getattr(rec[1], "_req", None)
                _core.pending[key] = rec[:1] + (_GONE,) + rec[2:]
                if req is not None and not rec[1].done():
                    N.cancel(req)
        self.ctx.wait()
        self.ctx._free()


def _attach():
    loop = asyncio.get_running_loop()  # RuntimeError outside a running loop
    with _attach_lock:  # loops in other threads attach and sweep too
        for other in list(_by_loop.values()):
            if other.loop.is_closed():
                other.close()
        lc = _by_loop[loop] = _LoopContext(loop)
    return lc


def _current():
    lc = _by_loop.get(_get_running_loop())
    return lc if lc is not None else _attach()


def ctx():
    """The running loop's evaio Context (for its settings and counters)."""
    return _current().ctx


def close_loop(loop=None):
    """Frees the evaio context of `loop` (default: the running one), after
    cancelling and waiting for its outstanding requests."""
    with _attach_lock:
        lc = _by_loop.get(loop or asyncio.get_running_loop())
        if lc is not None:
            lc.close()


_layer = _build.Layer("aio", {"_by_loop": _by_loop, "_get_running_loop": _get_running_loop,
                              "_attach": _attach, "_Future": Future})
for _name in _build.SHAPES:
    if _name in globals():
        raise ImportError(f"evaio.aio: operation {_name!r} clashes with a name of the module")
del _name
__all__ = sorted(_build.SHAPES) + ["Future", "ctx", "close_loop"]


def __getattr__(name):
    # evaio.aio.OP: made from the table on first use.
    if name in _build.SHAPES:
        f = globals()[name] = _layer.get(name)
        return f
    raise AttributeError(f"module 'evaio.aio' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_build.SHAPES))

"""The callback layer: contexts, requests, handles and groups, and the one
C callback every request of this package completes through.

Every submission registers a record under a fresh integer key and passes
the key as the request's `data`; the trampoline (one ctypes CFUNCTYPE for
all requests) reads result, errorno and data from the request in one copy,
pops the record and calls its completion function, which converts the
outputs while the library's memory is still valid and hands the result on
(to a callback here, to an asyncio future in aio.py).  The record holds
every Python object the C side borrows (buffers, a Python function), so
they live exactly until the callback has run.
"""

import ctypes
import itertools
import select
import struct
import threading
import time as _time_mod
import weakref

from . import _native as N
from ._convert import oserror, unpacker

# -- the trampoline -------------------------------------------------------------

# key -> (completion(req, result, errorno, record), target, ...); see _build.py
pending = {}
next_key = itertools.count(1).__next__
# result, errorno, type, data: the first fields of evaio_req
_read_header = unpacker(struct.Struct("@qiiP"))
_tls = threading.local()
# What a callback returns to stop evaio_poll when Python code raised.
STOP = 0x7E7A10


def _trampoline(req):
    rec = None
    try:
        res, err, _type, key = _read_header(req)
        rec = pending.pop(key)
        return rec[0](req, res, err, rec)
    except (KeyboardInterrupt, SystemExit) as e:
        _tls.exc = e  # for whoever polls, at once
        return STOP
    except BaseException as e:  # noqa: B902 -- handed to whoever polls
        fail = getattr(rec[1], "set_exception", None) if rec else None
        if fail is not None and not rec[1].done():
            fail(e)  # an asyncio future: the exception goes to its awaiter
            return 0
        _tls.exc = e
        return STOP


TRAMPOLINE_C = N.CALLBACK(_trampoline)
TRAMPOLINE = ctypes.cast(TRAMPOLINE_C, ctypes.c_void_p).value


def raise_stashed():
    """Raises the exception a callback raised during the last poll on this thread."""
    e = getattr(_tls, "exc", None)
    if e is not None:
        _tls.exc = None
        raise e


# -- contexts --------------------------------------------------------------------

class Context:
    """An evaio context: its own worker threads, result queue, poll fd and
    limits.  Context() makes a new one (evaio_ctx_new); default_context()
    is the library's default one.  Every operation OP is a method
    ctx.OP(args..., callback, ...): see help(evaio.Context.stat)."""

    def __init__(self, _ptr=None):
        owned = _ptr is None
        if owned:
            _ptr = N.ctx_new()
            if not _ptr:
                raise oserror(ctypes.get_errno())
        self._ptr = _ptr
        self._owned = owned
        self._owner = None  # "evaio.aio" for a loop's context: only it frees it
        self._depth = 0  # callbacks of this context running (for wait from a callback)
        if owned:
            self._finalizer = weakref.finalize(self, _free_quietly, _ptr)
            self._finalizer.atexit = False

    def __repr__(self):
        state = "freed" if self._ptr is None else f"{self.nreqs()} outstanding"
        return f"<evaio.Context {'default' if not self._owned else hex(self._ptr or 0)}, {state}>"

    def _check(self):
        if self._ptr is None:
            raise ValueError("this evaio context has been freed")
        return self._ptr

    # delivering results
    def poll(self):
        """Runs waiting callbacks (evaio_ctx_poll).  Returns 0 when no result
        is left waiting, -1 when max_poll_reqs or max_poll_time stopped it
        while results still wait, or the first non-zero value a callback
        returned; raises what a callback raised."""
        r = N.ctx_poll(self._check())
        if r == STOP:
            raise_stashed()
        if r == -1 and ctypes.get_errno() != 11:  # EAGAIN
            raise oserror(ctypes.get_errno())
        return r

    def poll_fd(self):
        """The descriptor that is readable exactly while results wait."""
        return N.ctx_poll_fd(self._check())

    fileno = poll_fd

    def wait(self, timeout=None):
        """Polls until no request is outstanding (called from a callback:
        until only running callbacks are), blocking in poll(2) on the poll
        fd in between, so signals (Ctrl-C) interrupt it.  Returns 0, or the
        first non-zero value a callback returned; raises TimeoutError when
        `timeout` seconds pass first."""
        ptr = self._check()
        deadline = None if timeout is None else _time_mod.monotonic() + timeout
        poller = None
        while True:
            r = self.poll()
            if r == -1:
                continue
            if r:
                return r
            if N.COUNTERS["nreqs"](ptr) <= self._depth:
                return 0
            if poller is None:
                poller = select.poll()
                poller.register(N.ctx_poll_fd(ptr), select.POLLIN)
            if deadline is None:
                poller.poll()
            else:
                left = deadline - _time_mod.monotonic()
                if left <= 0 or not poller.poll(left * 1000):
                    if not N.COUNTERS["npending"](ptr):
                        raise TimeoutError(f"{N.COUNTERS['nreqs'](ptr)} evaio requests still outstanding")

    def free(self):
        """Shuts the context down and frees it (evaio_ctx_free): queued
        requests are cancelled (ECANCELED), executing ones awaited, and
        every outstanding callback runs here, on the calling thread (an
        exception one raises is raised after).  OSError EBUSY from inside
        one of its callbacks.  The default context, and those evaio.aio
        made for event loops (see evaio.aio.close_loop), cannot be freed
        here."""
        if not self._owned:
            raise ValueError("the default evaio context cannot be freed")
        if self._owner is not None:
            raise ValueError(f"this evaio context belongs to {self._owner}")
        self._free()

    def _free(self):
        if self._ptr is None:
            return
        r = N.ctx_free(self._ptr)
        err = ctypes.get_errno()
        if r == 0:
            self._finalizer.detach()
            self._ptr = None
        raise_stashed()
        if r < 0:
            raise oserror(err)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._ptr is not None:
            self.wait()
            if self._owned and self._owner is None:
                self.free()

    # settings and counters
    def set_max_poll_reqs(self, n):
        """At most n callbacks per poll (0: no limit)."""
        N.SETTINGS["max_poll_reqs"](self._check(), n)

    def set_max_poll_time(self, seconds):
        """At most this long per poll, checked after each callback (0: no limit)."""
        N.SETTINGS["max_poll_time"](self._check(), seconds)

    def set_min_parallel(self, n):
        N.SETTINGS["min_parallel"](self._check(), n)

    def set_max_parallel(self, n):
        N.SETTINGS["max_parallel"](self._check(), n)

    def set_max_idle(self, n):
        N.SETTINGS["max_idle"](self._check(), n)

    def set_idle_timeout(self, seconds):
        N.SETTINGS["idle_timeout"](self._check(), seconds)

    def set_max_running(self, n):
        N.SETTINGS["max_running"](self._check(), n)

    def nreqs(self):
        """Requests outstanding: callback not yet run."""
        return N.COUNTERS["nreqs"](self._check())

    def nready(self):
        """Requests queued, not started."""
        return N.COUNTERS["nready"](self._check())

    def npending(self):
        """Requests done whose callback has not run."""
        return N.COUNTERS["npending"](self._check())

    def nthreads(self):
        """Worker threads alive."""
        return N.COUNTERS["nthreads"](self._check())

    def group(self, callback=None):
        """A group (evaio_ctx_grp): a request that completes after all its
        members; see Group."""
        return Group(self, callback)


def _free_quietly(ptr):
    # Only requests without a callback (a handle's release) can still be
    # out: evaio_ctx_free waits for them.
    try:
        N.ctx_free(ptr)
    except Exception:  # noqa: BLE001 -- a finalizer has nobody to tell
        pass


_default = None


def default_context():
    """The library's default context (evaio_default_ctx), the one the
    module-level functions (evaio.stat, evaio.poll, ...) use."""
    global _default
    if _default is None:
        ptr = N.default_ctx()
        if not ptr:
            raise oserror(ctypes.get_errno())
        _default = Context(ptr)
    return _default


# -- requests --------------------------------------------------------------------

class Request:
    """A request of the callback layer, returned by ctx.OP(...) and handed
    to its callback once it completed.

    In the callback: `result` and `errno` are the C request's; `cancelled`
    says whether evaio_cancel was called in its flight; `value()` returns
    the converted value (os.stat_result for stat, bytes for read, ...) or
    raises the OSError the os module would; `outputs` holds every output
    (and library-supplied struct or buffer) by name; `error` is the OSError
    or None.  Until then, `cancel()` cancels it."""

    __slots__ = ("op", "ctx", "callback", "filename", "filename2", "keep", "as_bytes", "result", "errno",
                 "cancelled", "error", "outputs", "_value", "_ptr", "_done", "__weakref__")

    def __init__(self, ctx, op, callback, filename, filename2, keep, as_bytes):
        self.op = op
        self.ctx = ctx
        self.callback = callback
        self.filename = filename
        self.filename2 = filename2
        self.keep = keep
        self.as_bytes = as_bytes
        self.result = None
        self.errno = None
        self.cancelled = False
        self.error = None
        self.outputs = None
        self._value = None
        self._ptr = None
        self._done = False

    def __repr__(self):
        state = "in flight" if not self._done else f"result={self.result} errno={self.errno}"
        return f"<evaio.Request {self.op} {state}>"

    @property
    def done(self):
        """Whether its callback has run."""
        return self._done

    def value(self):
        """The converted value, or raises the request's error."""
        if not self._done:
            raise RuntimeError("the request has not completed")
        if self.error is not None:
            raise self.error
        return self._value

    def cancel(self):
        """evaio_cancel: True when the request will not execute (its
        callback reports ECANCELED), False when it was already executing or
        done (the callback sees the real result)."""
        if self._done or self._ptr is None:
            return False
        return N.cancel(self._ptr) == 1


def finish_request(r, req, res, err, value, outputs, error):
    """Fills a Request from its C request and runs its callback."""
    r.result = res
    r.errno = err
    r.cancelled = bool(N.req_cancelled(req))
    r.error = error
    r._value = value
    r.outputs = outputs
    r._done = True
    r.keep = None
    cb = r.callback
    if cb is None:
        return 0
    ctx = r.ctx
    ctx._depth += 1
    try:
        ret = cb(r)
    finally:
        ctx._depth -= 1
    return ret if ret.__class__ is int else 0


# -- handles ---------------------------------------------------------------------

class _Handle:
    __slots__ = ("_ptr", "ctx", "as_bytes", "_finalizer", "__weakref__")
    release_op = None

    def __init__(self, ctx, ptr, as_bytes=False):
        self._ptr = ptr
        self.ctx = ctx
        self.as_bytes = as_bytes
        self._finalizer = weakref.finalize(self, release, ctx, self.release_op, ptr)
        self._finalizer.atexit = False

    def __repr__(self):
        return f"<evaio.{type(self).__name__} {'closed' if self._ptr is None else hex(self._ptr)}>"

    @property
    def closed(self):
        return self._ptr is None

    def _get(self):
        if self._ptr is None:
            raise ValueError(f"operation on a closed {type(self).__name__}")
        return self._ptr

    def _take(self):
        """Hands the handle to the op that releases it."""
        ptr = self._get()
        self._ptr = None
        self._finalizer.detach()
        return ptr

    def close(self):
        """Releases the handle with a request nobody waits for; requests in
        flight that use it keep it open until they complete."""
        if self._ptr is not None:
            release(self.ctx, self.release_op, self._take())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class WorkingDirectory(_Handle):
    """A working-directory handle (evaio_wd) from wd_open: pass it as wd= to
    the operations with path arguments; release it with close(), the
    wd_close operation, or by dropping it."""
    __slots__ = ()
    release_op = "wd_close"

    def fileno(self):
        """Its directory descriptor (O_PATH): do not close it."""
        return N.wd_fd(self._get())


class DirStream(_Handle):
    """A directory stream (evaio_dir) from opendir, for readdir_batch;
    release it with close(), the closedir operation, or by dropping it."""
    __slots__ = ()
    release_op = "closedir"


HANDLES = {"new_wd": WorkingDirectory, "new_dir": DirStream, "wd": WorkingDirectory, "dir": DirStream}


def release(ctx, op, ptr):
    """Submits the releasing op of a handle (wd_close, closedir) with no callback."""
    if ctx._ptr is None or op not in N.OP_FUNCTIONS:
        return
    fn = N.OP_FUNCTIONS[op]
    if len(fn.argtypes) == 6:  # an op with an _at form: ctx, wd, handle, pri, cb, data
        fn(ctx._ptr, None, ptr, 0, None, None)
    else:
        fn(ctx._ptr, ptr, 0, None, None)


def handle(h, kind, take=False):
    """wd, dir arguments: the handle's pointer (None passes NULL: EFAULT)."""
    if h is None:
        return None
    if not isinstance(h, HANDLES[kind]):
        raise TypeError(f"a {HANDLES[kind].__name__} is required, not {type(h).__name__}")
    return h._take() if take else h._get()


def wd_pointer(wd):
    """The wd= keyword: a WorkingDirectory or None (the current directory)."""
    if wd is None:
        return None
    if not isinstance(wd, WorkingDirectory):
        raise TypeError(f"wd must be a WorkingDirectory, not {type(wd).__name__}")
    return wd._get()


# -- groups ----------------------------------------------------------------------

_groups = {}  # group request pointer -> Group, while in flight (for the feeder)


def _feed_trampoline(grp):
    g = _groups.get(grp)
    if g is None or g._feeder is None:
        return
    try:
        g._feeder(g)
    except BaseException as e:  # noqa: B902 -- handed to whoever polls
        _tls.exc = e


FEED_C = N.FEEDER(_feed_trampoline)
FEED = ctypes.cast(FEED_C, ctypes.c_void_p).value


class Group(Request):
    """A group (evaio_ctx_grp): completes after all its members.  add()
    members (requests in flight of the same context), set a feeder that
    add()s members while fewer than limit() are outstanding, cancel() it
    (its members too).  Its callback gets the group; set_result() sets the
    result and errno it reports (both 0 by default)."""

    __slots__ = ("_feeder",)

    def __init__(self, ctx, callback=None):
        super().__init__(ctx, "group", callback, None, None, None, False)
        self._feeder = None
        key = next_key()
        pending[key] = (_group_done, self)
        ptr = N.ctx_grp(ctx._check(), TRAMPOLINE, key)
        if not ptr:
            del pending[key]
            raise oserror(ctypes.get_errno())
        self._ptr = ptr
        _groups[ptr] = self

    def add(self, request):
        """Adds a request in flight (evaio_grp_add)."""
        if self._done:
            raise ValueError("the group has completed")
        if request._done or request._ptr is None:
            raise ValueError("the request is not in flight")
        if N.grp_add(self._ptr, request._ptr) < 0:
            raise oserror(ctypes.get_errno())
        return request

    def limit(self, n):
        """Feed while fewer than n members are outstanding (0 pauses)."""
        if not self._done:
            N.grp_limit(self._ptr, n)

    def feed(self, feeder):
        """feeder(group) adds members; a call that adds none ends feeding.
        None removes it.  Called at once, then as members finish."""
        if self._done:
            return
        self._feeder = feeder
        N.grp_feed(self._ptr, FEED if feeder is not None else None)
        raise_stashed()

    def outstanding(self):
        """Members whose callback has not run."""
        return 0 if self._done else N.grp_outstanding(self._ptr)

    def set_result(self, result, errno=0):
        """The result and errno the group's callback reports."""
        if not self._done:
            r = N.Req.from_address(self._ptr)
            r.result = result
            r.errorno = errno


def _group_done(req, res, err, rec):
    g = rec[1]
    _groups.pop(g._ptr, None)
    g._feeder = None
    return finish_request(g, req, res, err, res, {}, oserror(err) if res < 0 else None)

"""evaio: asynchronous file I/O on worker threads, for Python.

A binding (ctypes, standard library only) of libevaio, built from the
library's operation table (spec/ops.toml): every operation of the spec is
here, generated, in two layers.

Callbacks (the C API's style):

    import evaio
    ctx = evaio.Context()                # or evaio.default_context()
    def done(req):
        print(req.value())               # os.stat_result, or raises OSError
    ctx.stat("/etc/hostname", done)
    ctx.wait()                           # or ctx.poll() when ctx.poll_fd() is readable

asyncio (see evaio.aio):

    import evaio.aio
    st = await evaio.aio.stat("/etc/hostname")

The module-level functions (evaio.stat, evaio.poll, evaio.wait, ...) use
the default context.  evaio.OPS is the operation table; evaio.OP_STAT and
the like are the operation numbers, and evaio.h's constants are here without
their EVAIO_ prefix (evaio.READDIR_DENTS).  The library is found through
EVAIO_LIBRARY, the build or install that made this package, its install
prefix, or the dynamic linker (see evaio._native); LIBRARY_PATH says which.
"""

from . import _build, _core
from ._constants import *  # noqa: F401,F403 -- evaio.h's constants
from ._convert import UTIME_NOW, UTIME_OMIT, DirEntry  # noqa: F401
from ._core import Context, DirStream, Group, Request, WorkingDirectory, default_context  # noqa: F401
from ._native import LIBRARY_PATH  # noqa: F401
from ._ops import OPS, RESULTS, TYPES  # noqa: F401

_layer = _build.Layer("callback", {})


class _Method:
    """Context.OP: the method is made from the table on first use."""

    def __init__(self, name):
        self.name = name

    def __get__(self, obj, cls=None):
        f = _layer.get(self.name)
        setattr(Context, self.name, f)
        return f if obj is None else f.__get__(obj, cls)


for _op in OPS:
    if hasattr(Context, _op.name):
        raise ImportError(f"evaio: operation {_op.name!r} clashes with a method of Context")
    setattr(Context, _op.name, _Method(_op.name))
    globals()[f"OP_{_op.name.upper()}"] = _op.id
del _op

OP_NAMES = tuple(op.name for op in OPS)
OP_COUNT = len(OPS)


def op(name):
    """The table entry of an operation: evaio.op("stat").args, ..."""
    for o in OPS:
        if o.name == name:
            return o
    raise KeyError(name)


def poll():
    """default_context().poll()"""
    return default_context().poll()


def poll_fd():
    """default_context().poll_fd()"""
    return default_context().poll_fd()


def wait(timeout=None):
    """default_context().wait()"""
    return default_context().wait(timeout)


def nreqs():
    """default_context().nreqs()"""
    return default_context().nreqs()


def __getattr__(name):
    # evaio.stat(...) and the other operations: on the default context,
    # which is created on first use.
    if name in OP_NAMES:
        return getattr(default_context(), name)
    raise AttributeError(f"module 'evaio' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(OP_NAMES))

"""Finding and loading libevaio, the ctypes mirror of evaio_req, and the
prototypes of the runtime's functions and of every operation's wrapper.

Where the library comes from, first found wins:

1. the environment variable EVAIO_LIBRARY (a path to libevaio.so);
2. this copy's _config.LIBRARY: the build tree's copy of the package names
   the build's library, an installed copy the installed library;
3. the prefix this package is installed in, and the interpreter's prefixes:
   PREFIX/lib, lib64, lib/<multiarch> (where `cmake --install` puts it);
4. ctypes.util.find_library("evaio"): the system's library path.

Two handles on the one library: calls that never block go through a PyDLL
(the GIL stays held, which saves releasing and taking it again around every
submission and lets evaio_poll run the Python callbacks without a GIL round
trip each); calls that may block (wait, ctx_free) through a CDLL, which
releases it.
"""

import ctypes
import ctypes.util
import os
import sys
import sysconfig
from ctypes import CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_int, c_int64, c_size_t, c_uint, c_ulong, \
    c_void_p

from . import _config
from ._ops import OPS, op_args

if sys.platform == "darwin":
    SONAME = "libevaio.0.dylib"
else:
    SONAME = "libevaio.so.0"


class _GrpState(Structure):
    _fields_ = [("members", c_void_p), ("feed", c_void_p), ("nmembers", c_uint), ("limit", c_uint),
                ("nadded", c_ulong), ("blocking", c_uint), ("flags", c_int)]


class Req(Structure):
    """evaio_req (runtime/include/evaio.h): the public fields, the runtime's
    private ones (only for the layout), then the arguments of every op."""
    _fields_ = [
        ("result", c_int64), ("errorno", c_int), ("type", c_int), ("data", c_void_p), ("cb", c_void_p),
        ("pri_", c_int), ("state_", c_int), ("flags_", c_int), ("cancelled_", c_int),
        ("next_", c_void_p), ("prev_", c_void_p), ("ctx_", c_void_p), ("owned_", c_void_p), ("wd_", c_void_p),
        ("grp_", c_void_p), ("grp_next_", c_void_p), ("grp_prev_", c_void_p),
        ("grp_state_", _GrpState),
        ("args", op_args),
    ]


ARGS_OFFSET = Req.args.offset

# int cb(evaio_req *), void feed(evaio_req *grp), int64_t fn(evaio_req *)
CALLBACK = CFUNCTYPE(c_int, c_void_p)
FEEDER = CFUNCTYPE(None, c_void_p)
EXEC_FN = CFUNCTYPE(c_int64, c_void_p, use_errno=True)


def _prefixes():
    """Prefixes to look in: the one this package is installed under (the
    folder above lib/ or lib64/ in its path), then the interpreter's."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parts = here.split(os.sep)
    for i in range(len(parts) - 1, 0, -1):
        if parts[i] in ("lib", "lib64"):
            yield os.sep.join(parts[:i]) or os.sep
            break
    yield sys.prefix
    yield sys.base_prefix


def candidates():
    """(how, path or name) pairs in the order they are tried."""
    env = os.environ.get("EVAIO_LIBRARY")
    if env:
        yield "EVAIO_LIBRARY", env
        return
    if _config.LIBRARY:
        yield "recorded by the build or install", _config.LIBRARY
    multiarch = sysconfig.get_config_var("MULTIARCH")
    seen = set()
    for prefix in _prefixes():
        for libdir in ["lib", "lib64"] + ([os.path.join("lib", multiarch)] if multiarch else []):
            path = os.path.join(prefix, libdir, SONAME)
            if path not in seen:
                seen.add(path)
                yield "install prefix", path
    found = ctypes.util.find_library("evaio")
    if found:
        yield "find_library", found


def _load():
    tried = []
    for how, path in candidates():
        if os.sep in path and not os.path.exists(path):
            if how in ("EVAIO_LIBRARY", "recorded by the build or install"):
                tried.append(f"{how}: {path} does not exist")
            continue
        try:
            return path, ctypes.PyDLL(path, use_errno=True), ctypes.CDLL(path, use_errno=True)
        except OSError as e:
            tried.append(f"{how}: {e}")
    raise ImportError("evaio: cannot find libevaio (set EVAIO_LIBRARY to the path of libevaio.so, or install "
                      "the library where this package or the dynamic linker finds it)"
                      + "".join(f"\n  {t}" for t in tried))


LIBRARY_PATH, lib, blocking = _load()


def _proto(handle, name, restype, *argtypes):
    f = getattr(handle, name)
    f.restype = restype
    f.argtypes = argtypes
    return f


ctx_new = _proto(lib, "evaio_ctx_new", c_void_p)
ctx_free = _proto(blocking, "evaio_ctx_free", c_int, c_void_p)
default_ctx = _proto(lib, "evaio_default_ctx", c_void_p)
ctx_poll = _proto(lib, "evaio_ctx_poll", c_int, c_void_p)
ctx_poll_fd = _proto(lib, "evaio_ctx_poll_fd", c_int, c_void_p)
ctx_wait = _proto(blocking, "evaio_ctx_wait", c_int, c_void_p)
cancel = _proto(lib, "evaio_cancel", c_int, c_void_p)
req_cancelled = _proto(lib, "evaio_req_cancelled", c_int, c_void_p)
req_size = _proto(lib, "evaio_req_size", c_size_t)
op_name = _proto(lib, "evaio_op_name", c_char_p, c_int)
wd_fd = _proto(lib, "evaio_wd_fd", c_int, c_void_p)
ctx_grp = _proto(lib, "evaio_ctx_grp", c_void_p, c_void_p, c_void_p, c_void_p)
grp_add = _proto(lib, "evaio_grp_add", c_int, c_void_p, c_void_p)
grp_feed = _proto(lib, "evaio_grp_feed", None, c_void_p, c_void_p)
grp_limit = _proto(lib, "evaio_grp_limit", None, c_void_p, c_uint)
grp_outstanding = _proto(lib, "evaio_grp_outstanding", c_uint, c_void_p)
SETTINGS = {
    "max_poll_reqs": _proto(lib, "evaio_ctx_set_max_poll_reqs", None, c_void_p, c_uint),
    "max_poll_time": _proto(lib, "evaio_ctx_set_max_poll_time", None, c_void_p, c_double),
    "min_parallel": _proto(lib, "evaio_ctx_set_min_parallel", None, c_void_p, c_uint),
    "max_parallel": _proto(lib, "evaio_ctx_set_max_parallel", None, c_void_p, c_uint),
    "max_idle": _proto(lib, "evaio_ctx_set_max_idle", None, c_void_p, c_uint),
    "idle_timeout": _proto(lib, "evaio_ctx_set_idle_timeout", None, c_void_p, c_double),
    "max_running": _proto(lib, "evaio_ctx_set_max_running", None, c_void_p, c_uint),
}
COUNTERS = {name: _proto(lib, f"evaio_ctx_{name}", c_uint, c_void_p)
            for name in ("nreqs", "nready", "npending", "nthreads")}

if req_size() != ctypes.sizeof(Req):
    raise ImportError(f"evaio: {LIBRARY_PATH} has sizeof(evaio_req) = {req_size()}, this package expects "
                      f"{ctypes.sizeof(Req)}: the library and the package come from different versions")


def _op_function(op):
    """The wrapper that submits op on a context, with its arguments' ctypes
    types: evaio_ctx_OP_at(ctx, wd, args..., pri, cb, data) for an op with
    path arguments, evaio_ctx_OP(ctx, args..., pri, cb, data) otherwise.
    The callback goes in as a plain address."""
    pre = [c_void_p, c_void_p] if op.resolves else [c_void_p]
    params = [op.struct._fields_[i][1] for i in range(len(op.args))]
    name = f"evaio_ctx_{op.name}_at" if op.resolves else f"evaio_ctx_{op.name}"
    return _proto(lib, name, c_void_p, *pre, *params, c_int, c_void_p, c_void_p)


OP_FUNCTIONS = {op.name: _op_function(op) for op in OPS}

__all__ = ["LIBRARY_PATH", "Req", "ARGS_OFFSET", "CALLBACK", "FEEDER", "EXEC_FN", "OP_FUNCTIONS", "POINTER"]

"""Conversions between Python values and evaio's semantic types, one
function per type (never per operation): what a Python argument becomes in
C, and what an output or a library-supplied struct becomes in Python.
_build.py decides from the spec's table which of them an operation uses.

Arguments (Python -> C):
  fd, offset, length, count, flags, mode, int, uint, ulong, intptr, uid, gid,
  dev, seconds   int (float for seconds), converted by ctypes
  path, string   str, bytes or os.PathLike, encoded with os.fsencode; an
                 embedded NUL byte raises ValueError, as in the os module
  time           seconds as an int or float, or (sec, nsec); UTIME_NOW, UTIME_OMIT
  function       a Python callable run on a worker thread (or a C function's address)
  address        an int, a ctypes object or a writable buffer (mmap, bytearray)
  wd, dir        a WorkingDirectory / DirStream handle from wd_open / opendir
  buffer_in      a bytes-like object; its size is the op's `length` argument
  buffer_out     None (the library allocates `length` bytes) or a writable
  buffer_opt     buffer of at least `length` bytes
  iovec          a sequence of bytes-like objects; their number is the `count`
  out_struct     never passed: the library supplies it

Outputs (C -> Python):
  out_struct     struct stat -> os.stat_result, struct statvfs ->
                 os.statvfs_result, struct statx -> StatxResult, others ->
                 a namedtuple of the mirror's fields
  buffer_out     bytes (when the library allocated it), else the byte count
  names          list of str (bytes when the op's path was bytes, like os.listdir)
  text           str (or bytes, as for names)
  bytes          bytes
  array          list of the struct's conversion (struct evaio_dirent -> DirEntry)
  flags_out, count_out   int
  new_wd, new_dir        WorkingDirectory, DirStream

Errors: OSError(errno, strerror, filename[, filename2]) with the path
arguments as the caller passed them, which the os module would name;
OSError picks the subclass (FileNotFoundError, ...) from the errno.
"""

import collections
import ctypes
import math
import operator
import os
import struct
import sys
from ctypes import c_char, c_void_p, sizeof, string_at

from . import _ctypes_types as T

_fsencode = os.fsencode
_ENCODING = sys.getfilesystemencoding()
_ERRORS = sys.getfilesystemencodeerrors()


# -- arguments ----------------------------------------------------------------

def path(p):
    """path, string: str, bytes or PathLike -> bytes without NUL."""
    b = p.encode(_ENCODING, _ERRORS) if p.__class__ is str else _fsencode(p)
    if b"\0" in b:
        raise ValueError("embedded null byte")
    return b


UTIME_NOW = (0, T.UTIME_NOW_NSEC)
UTIME_OMIT = (0, T.UTIME_OMIT_NSEC)


def time(t):
    """time: seconds (int or float) or (sec, nsec) -> struct timespec."""
    if isinstance(t, tuple):
        sec, nsec = t
    elif isinstance(t, int):
        sec, nsec = t, 0
    elif isinstance(t, float):
        sec = math.floor(t)
        nsec = int(round((t - sec) * 1e9))
        if nsec >= 1_000_000_000:
            sec, nsec = sec + 1, nsec - 1_000_000_000
    else:
        raise TypeError(f"a time must be seconds (int or float) or (sec, nsec), not {type(t).__name__}")
    return T.Timespec(sec, nsec)


def _writable(b):
    """A ctypes view of a writable buffer (no copy), and its size."""
    mv = memoryview(b)
    if mv.readonly:
        raise TypeError(f"a writable bytes-like object is required, not {type(b).__name__}")
    return (c_char * mv.nbytes).from_buffer(mv), mv.nbytes


def buffer_in(b):
    """buffer_in: bytes-like -> (what ctypes passes as the pointer, size).
    bytes go in as they are; other read-only buffers are copied."""
    if b.__class__ is bytes:
        return b, len(b)
    mv = memoryview(b)
    if mv.readonly:
        data = mv.tobytes()
        return data, len(data)
    return (c_char * mv.nbytes).from_buffer(mv), mv.nbytes


def buffer_out(b, length):
    """buffer_out, buffer_opt: None, or a writable buffer of at least `length` bytes."""
    if b is None:
        return None
    view, size = _writable(b)
    if size < length:
        raise ValueError(f"the buffer holds {size} bytes, less than the length {length}")
    return view


def iovec(bufs):
    """iovec: a sequence of bytes-like objects -> (struct iovec array, count,
    what must stay alive).  The spec does not say whether the op reads or
    writes them, so a read-only buffer is copied (a write sends the copy; a
    read would fill the copy) and a writable one is used in place."""
    if bufs is None:
        return None, 0, None
    bufs = list(bufs)
    arr = (T.Iovec * len(bufs))()
    keep = [arr]
    for i, b in enumerate(bufs):
        mv = memoryview(b)
        view = ctypes.create_string_buffer(mv.tobytes(), mv.nbytes) if mv.readonly else \
            (c_char * mv.nbytes).from_buffer(mv)
        keep.append(view)
        arr[i].iov_base = ctypes.addressof(view)
        arr[i].iov_len = mv.nbytes
    return arr, len(bufs), keep


def address(a):
    """address: int, ctypes object or buffer -> (address, what must stay alive)."""
    if a is None or isinstance(a, int):
        return a, None
    if isinstance(a, ctypes._SimpleCData) or isinstance(a, (ctypes.Structure, ctypes.Union, ctypes.Array)):
        return ctypes.addressof(a), a
    if isinstance(a, bytes):
        return ctypes.cast(ctypes.c_char_p(a), c_void_p).value, a
    view, _ = _writable(a)
    return ctypes.addressof(view), view


class _FunctionBox:
    """A Python callable made into an evaio_exec_fn.  It runs on a worker
    thread (taking the GIL); its int return value becomes the request's
    result.  An exception fails the request (an OSError with its errno, any
    other with EIO) and is raised again where the result is delivered."""
    __slots__ = ("fn", "cfn", "exc")

    def __init__(self, fn):
        self.fn = fn
        self.exc = None
        self.cfn = EXEC_FN(self._run)

    def _run(self, req):
        try:
            r = self.fn()
            return 0 if r is None else int(r)
        except BaseException as e:  # noqa: B902 -- carried to the result
            self.exc = e
            ctypes.set_errno(e.errno if isinstance(e, OSError) and e.errno else 5)  # EIO
            return -1


EXEC_FN = ctypes.CFUNCTYPE(ctypes.c_int64, c_void_p, use_errno=True)


def function(f):
    """function: a callable, a ctypes function or an address -> (address, box or None)."""
    if f is None or isinstance(f, int):
        return f, None
    if isinstance(f, ctypes._CFuncPtr):
        return ctypes.cast(f, c_void_p).value, f
    if not callable(f):
        raise TypeError(f"a function is required, not {type(f).__name__}")
    box = _FunctionBox(f)
    return ctypes.cast(box.cfn, c_void_p).value, box


# -- reading C memory ------------------------------------------------------------

# The process's memory as one buffer, so that struct.unpack_from reads a C
# struct where it is, without a ctypes call or a bytes object per read
# (several times faster than ctypes.string_at).  Only addresses the library
# handed over are read.  Where sys.maxsize cannot span the address space
# (32-bit), reads go through string_at.
if sizeof(c_void_p) == 8:
    MEM = memoryview((c_char * sys.maxsize).from_address(0)).cast("B")
else:
    MEM = None


def unpacker(st):
    """addr -> tuple for a struct.Struct, reading C memory in place."""
    if MEM is not None:
        unpack_from = st.unpack_from
        return lambda addr: unpack_from(MEM, addr)
    unpack, size = st.unpack, st.size
    return lambda addr: unpack(string_at(addr, size))


def _flatten(cls, base=0, prefix=""):
    """(dotted name, absolute offset, struct code) of every scalar in a
    ctypes Structure, nested structs and arrays included."""
    out = []
    for name, ftype, *_ in cls._fields_:
        off = base + getattr(cls, name).offset
        full = prefix + name
        if issubclass(ftype, (ctypes.Structure, ctypes.Union)):
            out += _flatten(ftype, off, full + ".")
        elif issubclass(ftype, ctypes.Array):
            size = sizeof(ftype._type_)
            for i in range(ftype._length_):
                if issubclass(ftype._type_, (ctypes.Structure, ctypes.Union)):
                    out += _flatten(ftype._type_, off + i * size, f"{full}[{i}].")
                else:
                    out.append((f"{full}[{i}]", off + i * size, _code(ftype._type_)))
        else:
            out.append((full, off, _code(ftype)))
    return out


def _code(ctype):
    """The struct module's code of a ctypes scalar (pointers of any kind: P)."""
    code = ctype._type_
    if isinstance(code, str) and code in "bBhHiIlLqQnNfdP?c":
        return code
    return "P"


class Reader:
    """Reads the named fields of a C struct at an address, in place, with one
    struct.unpack_from: Reader(Stat, ["st_mode", "st_atim.tv_sec"]).read(address)
    -> tuple, in the order asked for."""
    __slots__ = ("size", "read", "names")

    def __init__(self, cls, names=None):
        fields = {n: (off, code) for n, off, code in _flatten(cls)}
        names = [n for n in fields if not n.split(".")[-1].startswith("_")] if names is None else list(names)
        fmt, pos = "@", 0
        for n in sorted(names, key=lambda n: fields[n][0]):
            off, code = fields[n]
            fmt += "x" * (off - pos) + code
            pos = off + struct.calcsize("@" + code)
        s = struct.Struct(fmt + "x" * (sizeof(cls) - pos))
        assert s.size == sizeof(cls), (cls, s.size, sizeof(cls))
        order = sorted(names, key=lambda n: fields[n][0])
        self.size = s.size
        self.names = order
        # The fields in the order asked for.
        index = [order.index(n) for n in names]
        read = unpacker(s)
        if index == list(range(len(index))):
            self.read = read
        elif len(index) == 1:
            self.read = lambda addr, i=index[0]: (read(addr)[i],)
        else:
            get = operator.itemgetter(*index)
            self.read = lambda addr: get(read(addr))


def c_string(addr, as_bytes=False):
    """A NUL-terminated string at addr, as str (or bytes)."""
    b = string_at(addr)
    return b if as_bytes else b.decode(_ENCODING, _ERRORS)


def decode(b, as_bytes):
    return b if as_bytes else b.decode(_ENCODING, _ERRORS)


# -- outputs ------------------------------------------------------------------

def names(addr, result, result_kind, as_bytes):
    """names: NUL-terminated names one after another.  How many: a `size`
    result counts bytes, a `count` result names; a list also ends at an empty
    name (names are never empty; ops with several lists end each so)."""
    if not addr:
        return []
    if result_kind == "size":
        parts = string_at(addr, result).split(b"\0")
        out = []
        for p in parts:
            if not p:
                break
            out.append(p)
    else:
        out = []
        limit = result if result_kind == "count" else sys.maxsize
        while len(out) < limit:
            b = string_at(addr)
            if not b:
                break
            out.append(b)
            addr += len(b) + 1
    return out if as_bytes else [b.decode(_ENCODING, _ERRORS) for b in out]


def text(addr, result, result_kind, as_bytes):
    """text: one string; a `length` result is its length."""
    if not addr:
        return None
    b = string_at(addr, result) if result_kind == "length" else string_at(addr)
    return decode(b, as_bytes)


def bytes_(addr, result):
    """bytes: `result` bytes."""
    return string_at(addr, result) if addr else b""


def _make_stat():
    """struct stat -> os.stat_result, filled as os.stat fills it: the integer
    seconds in the unnamed fields 7..9, float seconds in st_atime..., and
    nanoseconds in st_atime_ns...; fields Linux does not have stay None."""
    if T.Stat is None:
        return None
    probe = os.stat_result(range(os.stat_result.n_fields))
    pos = {name: getattr(probe, name) for name in dir(probe) if name.startswith("st_")}
    ints = ["st_mode", "st_ino", "st_dev", "st_nlink", "st_uid", "st_gid", "st_size", "st_blksize", "st_blocks",
            "st_rdev"]
    times = [f"st_{t}tim.tv_{p}" for t in "amc" for p in ("sec", "nsec")]
    reader = Reader(T.Stat, ints + times)
    n, read, stat_result = os.stat_result.n_fields, reader.read, os.stat_result
    int_pos = [pos[f] for f in ints]
    time_pos = [(7 + i, pos[f"st_{t}time"], pos[f"st_{t}time_ns"]) for i, t in enumerate("amc")]

    if (int_pos == [0, 1, 2, 3, 4, 5, 6, 16, 17, 18] and time_pos == [(7, 10, 13), (8, 11, 14), (9, 12, 15)]
            and n == 19):
        # CPython's layout on Linux: one tuple, no loop.
        def to_stat_result(addr):
            (mode, ino, dev, nlink, uid, gid, size_, blksize, blocks, rdev,
             a, an, m, mn, c, cn) = read(addr)
            return stat_result((mode, ino, dev, nlink, uid, gid, size_, a, m, c,
                                a + an * 1e-9, m + mn * 1e-9, c + cn * 1e-9,
                                a * 1_000_000_000 + an, m * 1_000_000_000 + mn, c * 1_000_000_000 + cn,
                                blksize, blocks, rdev))
        return to_stat_result

    def to_stat_result(addr):  # noqa: F811 -- the general form
        v = read(addr)
        out = [None] * n
        for i, p in enumerate(int_pos):
            out[p] = v[i]
        for i, (p_int, p_float, p_ns) in enumerate(time_pos):
            sec, nsec = v[10 + 2 * i], v[11 + 2 * i]
            out[p_int], out[p_float], out[p_ns] = sec, sec + nsec * 1e-9, sec * 1_000_000_000 + nsec
        return stat_result(out)
    return to_stat_result


def _make_statvfs():
    fields = ["f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail", "f_files", "f_ffree", "f_favail", "f_flag",
              "f_namemax"]
    has_fsid = os.statvfs_result.n_fields > len(fields)
    reader = Reader(T.Statvfs, fields + (["f_fsid"] if has_fsid else []))

    def to_statvfs_result(addr):
        return os.statvfs_result(reader.read(addr))
    return to_statvfs_result


def _namedtuple_converter(cls, typename):
    """A struct's public fields as a namedtuple; a nested struct with
    tv_sec/tv_nsec (a timestamp) becomes float seconds plus NAME_ns."""
    flat = [n for n, _, _ in _flatten(cls) if not any(p.startswith("_") for p in n.split("."))]
    groups, names = {}, []
    for n in flat:
        head, _, tail = n.partition(".")
        if tail in ("tv_sec", "tv_nsec"):
            if head not in groups:
                groups[head] = []
                names += [head, head + "_ns"]
            groups[head].append(n)
        elif not tail:
            names.append(n)
    reader = Reader(cls, flat)
    nt = collections.namedtuple(typename, names)
    idx = {n: i for i, n in enumerate(flat)}
    plan = []
    for name in names:
        if name in groups:
            plan.append(("sec", idx[name + ".tv_sec"], idx[name + ".tv_nsec"]))
        elif name[:-3] in groups and name.endswith("_ns"):
            plan.append(("ns", idx[name[:-3] + ".tv_sec"], idx[name[:-3] + ".tv_nsec"]))
        else:
            plan.append(("v", idx[name], None))

    def convert(addr, as_bytes=False):
        v = reader.read(addr)
        return nt._make(v[a] if k == "v" else v[a] + v[b] * 1e-9 if k == "sec" else v[a] * 1_000_000_000 + v[b]
                        for k, a, b in plan)
    convert.type = nt
    return convert


DirEntry = collections.namedtuple("DirEntry", "name ino type")
DirEntry.__doc__ = "An entry of readdir or readdir_batch with READDIR_DENTS: name, inode number, DT_* type."
_dirent = Reader(T.Dirent, ["name", "ino", "type"])


def _dirent_convert(addr, as_bytes=False):
    name, ino, typ = _dirent.read(addr)
    return DirEntry(c_string(name, as_bytes), ino, typ)


def _struct_converters():
    out = {"struct evaio_dirent": _dirent_convert}
    stat = _make_stat()
    if stat:
        out["struct stat"] = lambda addr, as_bytes=False: stat(addr)
        out["struct stat"].fast = stat
    if T.LINUX:
        out["struct statvfs"] = (lambda f: lambda addr, as_bytes=False: f(addr))(_make_statvfs())
        out["struct statx"] = _namedtuple_converter(T.Statx, "StatxResult")
        out["struct fiemap_extent"] = _namedtuple_converter(T.FiemapExtent, "FiemapExtent")
    return out


STRUCT_CONVERTERS = _struct_converters()


def struct_converter(struct_type):
    """addr -> Python value for a struct the spec names; the address itself
    for a struct this module has no mirror of (valid only in the callback)."""
    return STRUCT_CONVERTERS.get(struct_type, lambda addr, as_bytes=False: addr)


def stat_fast(struct_type):
    """A one-argument converter for out_struct results (the hot path)."""
    conv = struct_converter(struct_type)
    return getattr(conv, "fast", None) or (lambda addr: conv(addr))


def array(addr, n, struct_type, as_bytes):
    """array: `n` structs."""
    if not addr or n <= 0:
        return []
    cls = T.STRUCTS.get(struct_type)
    conv = struct_converter(struct_type)
    if cls is None:
        return [addr]
    size = sizeof(cls)
    return [conv(addr + i * size, as_bytes) for i in range(n)]


# -- errors ----------------------------------------------------------------------

_strerror = os.strerror


def _name(f):
    return f if f is None or f.__class__ in (str, bytes) else os.fspath(f)


def oserror(err, filename=None, filename2=None):
    """OSError as the os module makes it: the subclass for the errno, and the
    path arguments as the caller passed them (os.fspath of a PathLike)."""
    filename, filename2 = _name(filename), _name(filename2)
    if filename2 is not None:
        return OSError(err, _strerror(err), filename, None, filename2)
    if filename is not None:
        return OSError(err, _strerror(err), filename)
    return OSError(err, _strerror(err))

"""Every operation of the spec, through both layers.

EveryOpTest is generated from the table: for each op in evaio.OPS it makes
a call from the op's Python signature, with for each argument a value
chosen by its semantic type so that the call reaches the library and fails
there (a path under a regular file: ENOTDIR; a closed descriptor: EBADF; a
missing handle: EFAULT), or succeeds for ops without such arguments; both
layers must agree.  A new op in the spec gets its case without an edit here.

The Scenarios classes then check the results of the main families against
the os module, once per layer.
"""

import ctypes
import errno
import fcntl
import importlib.util
import inspect
import mmap
import os
import stat as stat_mod
import unittest

import evaio
import evaio.aio
from evaio import _build
from support import BAD_FD, LAYERS, AioLayer, CallbackLayer, TempDirCase, os_error, outcome, same_error

MISSING = ("file", "missingXXXXXX")  # under a regular file; ends like a mkstemp pattern


def provoking_value(arg_type, tmp, page, index):
    """A value of a semantic type that makes the call fail in the library,
    and is otherwise valid (int 1 is SEEK_CUR, LOCK_SH, F_GETFD, ...)."""
    return {
        "fd": BAD_FD - index,  # distinct: dup3 refuses equal descriptors first
        "path": os.path.join(tmp, *MISSING),
        "string": "user.evaio-test",
        "offset": 0, "length": 16, "count": 1, "flags": 0, "mode": 0, "int": 1, "uint": 0, "ulong": 0,
        "intptr": 0, "uid": -1, "gid": -1, "dev": 0, "time": 0, "seconds": 0.001,
        "function": lambda: 0,
        "address": page,
        "wd": None, "dir": None,
        "buffer_in": b"x" * 16, "buffer_out": None, "buffer_opt": None,
        "iovec": [bytearray(16)],
    }[arg_type]


def provoking_call(op, tmp, page):
    """(args, expected errno or None, expected filename) for one op, from
    its aio signature: the positional parameters before the keywords."""
    types = {a.name: a.type for a in op.args}
    params = [p for p in inspect.signature(getattr(evaio.aio, op.name)).parameters.values()
              if p.kind == p.POSITIONAL_OR_KEYWORD and p.default is p.empty]
    args = [provoking_value(types[p.name], tmp, page, i) for i, p in enumerate(params)]
    present = set(types[p.name] for p in params)
    shape = _build.SHAPES[op.name]
    filename = args[[p.name for p in params].index(shape.filenames[0])] if shape.filenames else None
    if "path" in present:
        return args, errno.ENOTDIR, filename
    if "fd" in present:
        return args, errno.EBADF, None
    if present & {"wd", "dir"}:
        return args, errno.EFAULT, None
    return args, None, None


class EveryOpTest(TempDirCase):
    def setUp(self):
        super().setUp()
        self.make_file(MISSING[0], b"data")
        self.page = mmap.mmap(-1, mmap.PAGESIZE)
        self.addCleanup(self.page.close)

    def test_every_op_has_both_layers(self):
        self.assertEqual(len(evaio.OPS), evaio.OP_COUNT)
        for op in evaio.OPS:
            self.assertTrue(callable(getattr(evaio.Context, op.name, None)), op.name)
            self.assertTrue(callable(getattr(evaio.aio, op.name, None)), op.name)
            self.assertEqual(getattr(evaio, f"OP_{op.name.upper()}"), op.id)
            self.assertIn(op.summary, getattr(evaio.aio, op.name).__doc__)

    def test_every_op_reaches_the_library(self):
        layers = [cls() for cls in LAYERS]
        try:
            for op in evaio.OPS:
                with self.subTest(op=op.name):
                    args, want, filename = provoking_call(op, self.tmp, self.page)
                    results = [outcome(layer.call, op.name, *args) for layer in layers]
                    for layer, (kind, value) in zip(layers, results):
                        if want is not None:
                            self.assertEqual(kind, "error", f"{layer.name}: {op.name}{tuple(args)} gave {value!r}")
                            self.assertEqual(value.errno, want, f"{layer.name}: {value!r}")
                            self.assertEqual(value.filename, filename, layer.name)
                            self.assertEqual(type(value), type(OSError(want, "")))
                    (k1, v1), (k2, v2) = results
                    self.assertEqual(k1, k2, results)
                    if k1 == "error":
                        self.assertEqual((v1.errno, v1.filename, v1.filename2), (v2.errno, v2.filename, v2.filename2))
                    elif op.name != "mkdtemp":
                        self.assertEqual(v1, v2)
        finally:
            for layer in layers:
                layer.close()


class AnySpecTest(unittest.TestCase):
    def test_the_full_fixture_builds(self):
        """gen/tests/fixtures/good_full.toml uses every semantic type, result
        kind and output type: the table the generator makes of it builds
        both layers' functions (compiled, not run: the library has other ops)."""
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        path = os.path.join(root, "gen", "tests", "expected", "good_full", "python", "evaio_ops.py")
        spec = importlib.util.spec_from_file_location("evaio._ops_good_full", path)
        table = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(table)
        used = {a.type for op in table.OPS for a in op.args + op.outputs}
        self.assertEqual(used, set(table.TYPES))
        for op in table.OPS:
            with self.subTest(op=op.name):
                shape = _build.Shape(op)
                compile(shape.callback_source(), f"<{op.name} callback>", "exec")
                compile(shape.aio_source(), f"<{op.name} aio>", "exec")
                self.assertTrue(shape.doc("aio"))


class Scenarios:
    """Success paths of the main families, checked against the os module;
    run once per layer (CallbackScenarios, AioScenarios)."""

    layer_class = None

    def setUp(self):
        super().setUp()
        self.layer = self.layer_class()
        self.addCleanup(self.layer.close)
        self.call = self.layer.call

    def assert_same_stat(self, ours, theirs):
        self.assertIsInstance(ours, os.stat_result)
        for f in ("st_mode", "st_ino", "st_dev", "st_nlink", "st_uid", "st_gid", "st_size", "st_atime", "st_mtime",
                  "st_ctime", "st_atime_ns", "st_mtime_ns", "st_ctime_ns", "st_blksize", "st_blocks", "st_rdev"):
            self.assertEqual(getattr(ours, f), getattr(theirs, f), f)
        self.assertEqual(tuple(ours), tuple(theirs))

    # -- status --------------------------------------------------------------

    def test_stat_lstat_fstat(self):
        f = self.make_file("f", b"hello")
        os.symlink("f", self.path("link"))
        os.utime(f, ns=(1_500_000_000_123_456_789, 1_600_000_000_987_654_321))
        self.assert_same_stat(self.call("stat", f), os.stat(f))
        self.assert_same_stat(self.call("stat", self.path("link")), os.stat(self.path("link")))
        self.assert_same_stat(self.call("lstat", self.path("link")), os.lstat(self.path("link")))
        self.assert_same_stat(self.call("stat", os.fsencode(f)), os.stat(f))
        fd = os.open(f, os.O_RDONLY)
        try:
            self.assert_same_stat(self.call("fstat", fd), os.fstat(fd))
        finally:
            os.close(fd)
        full = self.call("stat", f, full=True) if self.layer.name == "aio" else None
        if full is not None:
            self.assertEqual(full.result, 0)
            self.assert_same_stat(full.buf, os.stat(f))

    def test_errors_like_os(self):
        missing = self.path("missing")
        f = self.make_file("f")
        os.mkdir(self.path("d"))
        self.make_file("d/x")
        cases = [
            (("stat", missing), (os.stat, missing)),
            (("lstat", os.fsencode(missing)), (os.lstat, os.fsencode(missing))),
            (("open", missing, os.O_RDONLY, 0), (os.open, missing, os.O_RDONLY, 0)),
            (("mkdir", self.path("d"), 0o755), (os.mkdir, self.path("d"), 0o755)),
            (("rmdir", self.path("d")), (os.rmdir, self.path("d"))),
            (("unlink", missing), (os.unlink, missing)),
            (("rename", missing, self.path("n")), (os.rename, missing, self.path("n"))),
            (("link", missing, self.path("n")), (os.link, missing, self.path("n"))),
            (("symlink", "t", f), (os.symlink, "t", f)),
            (("readlink", f), (os.readlink, f)),
            (("chmod", missing, 0o600), (os.chmod, missing, 0o600)),
            (("truncate", missing, 0), (os.truncate, missing, 0)),
            (("readdir", missing), (os.listdir, missing)),
            (("readdir", f), (os.listdir, f)),
            (("statvfs", missing), (os.statvfs, missing)),
            (("fstat", BAD_FD), (os.fstat, BAD_FD)),
            (("close", BAD_FD), (os.close, BAD_FD)),
            (("fsync", BAD_FD), (os.fsync, BAD_FD)),
        ]
        for (op, *args), (fn, *os_args) in cases:
            with self.subTest(op=op):
                kind, ours = outcome(self.call, op, *args)
                self.assertEqual(kind, "error", ours)
                same_error(self, ours, os_error(fn, *os_args))
        # A path with a NUL byte, and a wrong type, fail in Python as in os.
        with self.assertRaisesRegex(ValueError, "embedded null byte"):
            self.call("stat", "a\0b")
        with self.assertRaises(TypeError):
            self.call("stat", 42)

    # -- descriptors -------------------------------------------------------------

    def test_open_write_read_close(self):
        p = self.path("f")
        fd = self.call("open", p, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
        self.assertIsInstance(fd, int)
        try:
            self.assertEqual(stat_mod.S_IMODE(os.fstat(fd).st_mode), 0o600)
            self.assertEqual(self.call("write", fd, 0, b"hello world"), 11)
            self.assertEqual(self.call("write", fd, 6, bytearray(b"WORLD")), 5)
            self.assertEqual(self.call("write", fd, -1, memoryview(b"!!")), 2)  # at the file position (0)
            self.assertEqual(self.call("read", fd, 0, 100), b"!!llo WORLD")
            self.assertEqual(self.call("read", fd, 3, 4), b"lo W")
            self.assertEqual(self.call("read", fd, 100, 10), b"")
            buf = bytearray(8)
            self.assertEqual(self.call("read", fd, 2, 5, buf=buf), 5)
            self.assertEqual(bytes(buf), b"llo W\0\0\0")
            with self.assertRaises(ValueError):
                self.call("read", fd, 0, 100, buf=bytearray(10))  # smaller than length
            with self.assertRaises(TypeError):
                self.call("read", fd, 0, 4, buf=b"read-only")
            self.assertEqual(self.call("seek", fd, 0, os.SEEK_END), 11)
            self.assertEqual(self.call("ftruncate", fd, 4), None)
            self.assertEqual(os.fstat(fd).st_size, 4)
            self.assertIsNone(self.call("fsync", fd))
            self.assertIsNone(self.call("fdatasync", fd))
        finally:
            self.assertIsNone(self.call("close", fd))
        self.assertEqual(os_error(os.fstat, fd).errno, errno.EBADF)

    def test_vectors_and_copies(self):
        src = self.make_file("src", b"abcdefghij")
        dst = self.path("dst")
        a = os.open(src, os.O_RDWR)
        b = os.open(dst, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            bufs = [bytearray(3), bytearray(4)]
            self.assertEqual(self.call("readv", a, 1, bufs), 7)
            self.assertEqual(bufs, [bytearray(b"bcd"), bytearray(b"efgh")])
            self.assertEqual(self.call("writev", b, 0, [b"12", bytearray(b"345")]), 5)
            self.assertEqual(os.pread(b, 10, 0), b"12345")
            self.assertEqual(self.call("sendfile", b, a, 0, 3), 3)  # at b's position
            self.assertEqual(self.call("copy_file_range", a, 5, b, 10, 5, 0), 5)
            self.assertEqual(os.pread(b, 20, 0), b"abc45\0\0\0\0\0fghij")
            c = self.call("dup2", a, 200)
            self.assertEqual(c, 200)
            self.assertTrue(fcntl.fcntl(200, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)
            os.close(200)
            self.assertEqual(self.call("dup3", a, 201, os.O_CLOEXEC), 201)
            os.close(201)
            self.assertEqual(self.call("fcntl", a, fcntl.F_GETFL, 0) & os.O_ACCMODE, os.O_RDWR)
            n = ctypes.c_int(-1)
            self.assertEqual(self.call("ioctl", a, 0x541B, ctypes.addressof(n)), 0)  # FIONREAD
            self.assertEqual(n.value, 10)
            self.assertIsNone(self.call("flock", a, fcntl.LOCK_EX))
            self.assertIsNone(self.call("flock", a, fcntl.LOCK_UN))
            self.assertIsNone(self.call("fadvise", a, 0, 0, os.POSIX_FADV_SEQUENTIAL))
            self.assertIsNone(self.call("readahead", a, 0, 10))
            self.assertIsNone(self.call("sync_file_range", a, 0, 0, 0))
            kind, v = outcome(self.call, "fallocate", b, 0, 0, 4096)
            self.assertTrue(kind == "ok" or v.errno == errno.EOPNOTSUPP, v)
            kind, v = outcome(self.call, "fiemap", a, 0, 10, 0)
            self.assertTrue(kind == "ok" and isinstance(v, list) or v.errno == errno.EOPNOTSUPP, v)
            self.assertIsNone(self.call("syncfs", a))
        finally:
            os.close(a)
            os.close(b)

    def test_fd_metadata(self):
        f = self.make_file("f", b"x")
        fd = os.open(f, os.O_RDWR)
        try:
            self.assertIsNone(self.call("fchmod", fd, 0o640))
            self.assertEqual(stat_mod.S_IMODE(os.stat(f).st_mode), 0o640)
            self.assertIsNone(self.call("fchown", fd, -1, -1))
            self.assertIsNone(self.call("futime", fd, (1000, 5), 2000.25))
            st = os.stat(f)
            self.assertEqual((st.st_atime_ns, st.st_mtime_ns), (1000 * 10**9 + 5, 2000 * 10**9 + 250_000_000))
            self.assertIsNone(self.call("futime", fd, evaio.UTIME_OMIT, evaio.UTIME_NOW))
            self.assertEqual(os.stat(f).st_atime_ns, 1000 * 10**9 + 5)
            vfs = self.call("fstatvfs", fd)
            self.assertIsInstance(vfs, os.statvfs_result)
            theirs = os.fstatvfs(fd)
            for field in ("f_bsize", "f_frsize", "f_blocks", "f_files", "f_flag", "f_namemax", "f_fsid"):
                self.assertEqual(getattr(vfs, field), getattr(theirs, field), field)
        finally:
            os.close(fd)

    # -- paths ---------------------------------------------------------------------

    def test_directories(self):
        d = self.path("d")
        self.assertIsNone(self.call("mkdir", d, 0o750))
        self.assertEqual(stat_mod.S_IMODE(os.stat(d).st_mode) & 0o750, 0o750)
        for name in ("b", "a", "é"):
            self.make_file(os.path.join("d", name))
        os.mkdir(os.path.join(d, "sub"))
        self.assertEqual(sorted(self.call("readdir", d)), sorted(os.listdir(d)))
        self.assertEqual(sorted(self.call("readdir", os.fsencode(d))), sorted(os.listdir(os.fsencode(d))))
        self.assertEqual(self.call("readdir", self.tmp + "/d/sub"), [])
        firsts = self.call("readdir", d, evaio.READDIR_DIRS_FIRST)
        self.assertEqual(firsts[0], "sub")
        if self.layer.name == "aio":
            full = self.call("readdir", d, evaio.READDIR_DENTS, full=True)
            self.assertEqual(full.result, 4)
            types = {e.name: e.type for e in full.dents}
            self.assertEqual(types["sub"], evaio.DT_DIR)
            self.assertEqual(types["a"], evaio.DT_REG)
            self.assertEqual({e.name: e.ino for e in full.dents}["a"], os.stat(os.path.join(d, "a")).st_ino)
        dirs, nondirs = self.call("scandir", d, 4)
        self.assertEqual((dirs, sorted(nondirs)), (["sub"], ["a", "b", "é"]))
        self.assertIsNone(self.call("rename", os.path.join(d, "a"), os.path.join(d, "c")))
        self.assertIsNone(self.call("unlink", os.path.join(d, "c")))
        self.assertIsNone(self.call("rmdir", os.path.join(d, "sub")))
        self.assertEqual(sorted(os.listdir(d)), ["b", "é"])
        self.assertIsNone(self.call("mkpath", self.path("p", "q", "r"), 0o755))
        self.assertTrue(os.path.isdir(self.path("p", "q", "r")))
        self.assertIsNone(self.call("rmtree", self.path("p")))
        self.assertFalse(os.path.exists(self.path("p")))
        # A directory stream, in batches.
        ds = self.call("opendir", d)
        self.assertIsInstance(ds, evaio.DirStream)
        names = []
        while True:
            batch = self.call("readdir_batch", ds, 1)
            if not batch:
                break
            names += batch
        self.assertEqual(sorted(names), ["b", "é"])
        self.assertIsNone(self.call("closedir", ds))
        self.assertTrue(ds.closed)
        with self.assertRaises(ValueError):
            self.call("readdir_batch", ds, 1)

    def test_links_and_names(self):
        f = self.make_file("f", b"data")
        self.assertIsNone(self.call("symlink", "f", self.path("s")))
        self.assertEqual(self.call("readlink", self.path("s")), os.readlink(self.path("s")))
        self.assertEqual(self.call("readlink", os.fsencode(self.path("s"))), b"f")
        self.assertEqual(self.call("realpath", self.path("s")), os.path.realpath(self.path("s")))
        self.assertIsNone(self.call("link", f, self.path("h")))
        self.assertEqual(os.stat(self.path("h")).st_ino, os.stat(f).st_ino)
        self.assertIsNone(self.call("rename2", self.path("h"), self.path("h2"), 0))
        e = self.call_error("rename2", f, self.path("h2"), evaio.RENAME_NOREPLACE)
        self.assertEqual((e.errno, e.filename, e.filename2), (errno.EEXIST, f, self.path("h2")))
        self.assertIsNone(self.call("access", f, os.R_OK | os.W_OK))
        self.assertEqual(self.call_error("access", self.path("nope"), os.F_OK).errno, errno.ENOENT)
        dt = self.call("mkdtemp", self.path("tXXXXXX"))
        self.assertTrue(os.path.isdir(dt) and os.path.basename(dt).startswith("t"))
        fd, name = self.call("mkstemp", self.path("sXXXXXX"))
        try:
            self.assertEqual(os.fstat(fd).st_ino, os.stat(name).st_ino)
        finally:
            os.close(fd)
        self.assertIsNone(self.call("mknod", self.path("fifo"), stat_mod.S_IFIFO | 0o600, 0))
        self.assertTrue(stat_mod.S_ISFIFO(os.stat(self.path("fifo")).st_mode))

    def test_path_metadata(self):
        f = self.make_file("f", b"0123456789")
        os.symlink("f", self.path("s"))
        self.assertIsNone(self.call("chmod", f, 0o604))
        self.assertEqual(stat_mod.S_IMODE(os.stat(f).st_mode), 0o604)
        self.assertIsNone(self.call("chown", f, -1, -1))
        self.assertIsNone(self.call("lchown", self.path("s"), -1, -1))
        self.assertIsNone(self.call("truncate", f, 3))
        self.assertEqual(os.stat(f).st_size, 3)
        self.assertIsNone(self.call("utime", f, 10, (20, 30)))
        self.assertEqual((os.stat(f).st_atime_ns, os.stat(f).st_mtime_ns), (10 * 10**9, 20 * 10**9 + 30))
        self.assertIsNone(self.call("lutime", self.path("s"), 5, 6))
        self.assertEqual(os.lstat(self.path("s")).st_mtime_ns, 6 * 10**9)
        self.assertEqual(os.stat(f).st_mtime_ns, 20 * 10**9 + 30)
        vfs = self.call("statvfs", self.tmp)
        theirs = os.statvfs(self.tmp)
        for field in ("f_bsize", "f_frsize", "f_blocks", "f_files", "f_flag", "f_namemax"):
            self.assertEqual(getattr(vfs, field), getattr(theirs, field), field)
        sx = self.call("statx", f, 0, 0xFFF)
        st = os.stat(f)
        self.assertEqual((sx.stx_size, sx.stx_ino, sx.stx_mode, sx.stx_mtime_ns), (st.st_size, st.st_ino,
                                                                                  st.st_mode, st.st_mtime_ns))
        fd = self.call("openat2", f, os.O_RDONLY, 0, evaio.RESOLVE_NO_SYMLINKS)
        os.close(fd)
        self.assertEqual(self.call_error("openat2", self.path("s"), os.O_RDONLY, 0,
                                         evaio.RESOLVE_NO_SYMLINKS).errno, errno.ELOOP)

    def test_xattrs_like_os(self):
        f = self.make_file("f")
        try:
            os.setxattr(f, "user.probe", b"1")
            supported = True
        except OSError as e:
            supported = False
            want = e.errno
        if not supported:  # the filesystem has no user xattrs: the same error as os
            self.assertEqual(self.call_error("setxattr", f, "user.a", b"v").errno, want)
            return
        self.assertIsNone(self.call("setxattr", f, "user.a", b"value"))
        self.assertIsNone(self.call("setxattr", f, "user.b", bytearray(b"xy"), evaio.XATTR_CREATE))
        self.assertEqual(self.call("getxattr", f, "user.a", 100), b"value")
        self.assertEqual(sorted(self.call("listxattr", f)), sorted(os.listxattr(f)))
        same_error(self, self.call_error("getxattr", f, "user.none", 10), os_error(os.getxattr, f, "user.none"))
        self.assertIsNone(self.call("removexattr", f, "user.a"))
        self.assertEqual(sorted(self.call("llistxattr", f)), ["user.b", "user.probe"])
        self.assertEqual(self.call("lgetxattr", f, "user.b", 10), b"xy")
        self.assertIsNone(self.call("lsetxattr", f, "user.c", b"c"))
        self.assertIsNone(self.call("lremovexattr", f, "user.c"))
        fd = os.open(f, os.O_RDWR)
        try:
            self.assertIsNone(self.call("fsetxattr", fd, "user.d", b"dd"))
            self.assertEqual(self.call("fgetxattr", fd, "user.d", 2), b"dd")
            self.assertIn("user.d", self.call("flistxattr", fd))
            self.assertIsNone(self.call("fremovexattr", fd, "user.d"))
        finally:
            os.close(fd)

    def test_composites_and_working_directories(self):
        f = self.make_file("f", b"x" * 70000)
        self.assertEqual(self.call("slurp", f, 0, 0), b"x" * 70000)
        self.assertEqual(self.call("slurp", f, 10, 5), b"xxxxx")
        self.assertIsNone(self.call("copy", f, self.path("g"), 0))
        with open(self.path("g"), "rb") as g:
            self.assertEqual(g.read(), b"x" * 70000)
        self.assertIsNone(self.call("move", self.path("g"), self.path("h"), 0))
        self.assertFalse(os.path.exists(self.path("g")))
        self.assertIsNone(self.call("pathsync", self.path("h")))
        os.mkdir(self.path("d"))
        self.make_file("d/in", b"inside")
        wd = self.call("wd_open", self.path("d"))
        self.assertIsInstance(wd, evaio.WorkingDirectory)
        try:
            self.assertEqual(os.fstat(wd.fileno()).st_ino, os.stat(self.path("d")).st_ino)
            self.assert_same_stat(self.call("stat", "in", wd=wd), os.stat(self.path("d", "in")))
            self.assertEqual(self.call("readdir", ".", wd=wd), ["in"])
            self.assertIsNone(self.call("rename", "in", "out", wd=wd))
            self.assertTrue(os.path.exists(self.path("d", "out")))
        finally:
            self.assertIsNone(self.call("wd_close", wd))
        self.assertTrue(wd.closed)
        with self.assertRaises(ValueError):
            self.call("stat", "out", wd=wd)

    # -- the rest ----------------------------------------------------------------

    def test_misc(self):
        self.assertIsNone(self.call("nop"))
        self.assertIsNone(self.call("busy", 0.01))
        # custom's result kind is int: its value is None, its result the function's.
        self.assertIsNone(self.call("custom", lambda: 0))
        self.assertEqual(self.layer.result("custom", lambda: 42), 42)

        def fails():
            raise FileExistsError(errno.EEXIST, "exists")
        with self.assertRaises(FileExistsError):
            self.call("custom", fails)
        self.assertIsNone(self.call("sync"))

    def test_memory(self):
        with mmap.mmap(-1, 2 * mmap.PAGESIZE) as m:
            self.assertIsNone(self.call("mtouch", m, len(m), evaio.MTOUCH_WRITE))
            self.assertIsNone(self.call("madvise", m, len(m), mmap.MADV_NORMAL))
            self.assertIsNone(self.call("msync", m, len(m), 4))  # MS_SYNC
            kind, v = outcome(self.call, "mlock", m, len(m))
            self.assertTrue(kind == "ok" or v.errno in (errno.EPERM, errno.ENOMEM, errno.EAGAIN), v)
            self.assertEqual(self.call_error("mlockall", 0).errno, errno.EINVAL)
            self.assertEqual(self.call_error("msync", m, len(m), 0x7000).errno, errno.EINVAL)

    def call_error(self, op, *args, **kw):
        kind, v = outcome(self.call, op, *args, **kw)
        self.assertEqual(kind, "error", f"{op}{args} gave {v!r}")
        return v


class CallbackScenarios(Scenarios, TempDirCase):
    layer_class = CallbackLayer


class AioScenarios(Scenarios, TempDirCase):
    layer_class = AioLayer


if __name__ == "__main__":
    unittest.main()

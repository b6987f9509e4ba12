"""ctypes mirrors of the C types evaio's API uses that are not evaio's own:
the platform's typedefs (mode_t, uid_t, ...), struct timespec and struct
iovec (argument types), and the structs operations fill in (struct stat,
struct statvfs, struct statx, struct fiemap_extent) plus evaio.h's struct
evaio_dirent.

Hand-written, per platform: the C library decides these layouts.  The
layout test (tests/python/test_layout.py) compiles a C program printing
sizeof and offsetof of every field declared here and compares.  Fields whose
name starts with an underscore are padding that C does not name.
"""

import platform
import sys
from ctypes import (Structure, c_int, c_int32, c_int64, c_long, c_size_t, c_ssize_t, c_ubyte,
                    c_uint16, c_uint32, c_uint64, c_ulong, c_void_p, sizeof)

LINUX = sys.platform.startswith("linux")
MACHINE = platform.machine().lower()

intptr_t = c_ssize_t
if sys.platform == "darwin":
    mode_t, uid_t, gid_t, dev_t = c_uint16, c_uint32, c_uint32, c_int32
elif sys.platform.startswith("freebsd"):
    mode_t, uid_t, gid_t, dev_t = c_uint16, c_uint32, c_uint32, c_uint64
else:  # Linux (glibc and musl)
    mode_t, uid_t, gid_t, dev_t = c_uint32, c_uint32, c_uint32, c_uint64
time_t = c_int64 if sizeof(c_long) == 4 and LINUX else c_long


class Timespec(Structure):
    """struct timespec"""
    _fields_ = [("tv_sec", time_t), ("tv_nsec", c_long)]


class Iovec(Structure):
    """struct iovec"""
    _fields_ = [("iov_base", c_void_p), ("iov_len", c_size_t)]


# struct stat: the kernel's layout, which glibc and musl use as is on 64-bit
# Linux.  x86_64 has its own; aarch64, riscv64, loongarch64 and the other
# newer ports share asm-generic's.
if LINUX and MACHINE in ("x86_64", "amd64"):
    class Stat(Structure):
        """struct stat (Linux x86_64)"""
        _fields_ = [
            ("st_dev", c_uint64), ("st_ino", c_uint64), ("st_nlink", c_uint64),
            ("st_mode", c_uint32), ("st_uid", c_uint32), ("st_gid", c_uint32), ("_pad0", c_int),
            ("st_rdev", c_uint64), ("st_size", c_int64), ("st_blksize", c_int64), ("st_blocks", c_int64),
            ("st_atim", Timespec), ("st_mtim", Timespec), ("st_ctim", Timespec),
            ("_reserved", c_int64 * 3),
        ]
elif LINUX and sizeof(c_void_p) == 8:
    class Stat(Structure):
        """struct stat (64-bit Linux, asm-generic layout)"""
        _fields_ = [
            ("st_dev", c_uint64), ("st_ino", c_uint64), ("st_mode", c_uint32), ("st_nlink", c_uint32),
            ("st_uid", c_uint32), ("st_gid", c_uint32), ("st_rdev", c_uint64), ("_pad1", c_uint64),
            ("st_size", c_int64), ("st_blksize", c_int32), ("_pad2", c_int32), ("st_blocks", c_int64),
            ("st_atim", Timespec), ("st_mtim", Timespec), ("st_ctim", Timespec),
            ("_unused", c_int32 * 2),
        ]
else:
    Stat = None  # not known here: stat results are not converted (see _convert.py)


class Statvfs(Structure):
    """struct statvfs (glibc and musl, 64-bit)"""
    _fields_ = [
        ("f_bsize", c_ulong), ("f_frsize", c_ulong),
        ("f_blocks", c_uint64), ("f_bfree", c_uint64), ("f_bavail", c_uint64),
        ("f_files", c_uint64), ("f_ffree", c_uint64), ("f_favail", c_uint64),
        ("f_fsid", c_ulong), ("f_flag", c_ulong), ("f_namemax", c_ulong),
        ("_spare", c_int * 6),
    ]


class StatxTimestamp(Structure):
    """struct statx_timestamp"""
    _fields_ = [("tv_sec", c_int64), ("tv_nsec", c_uint32), ("_reserved", c_int32)]


class Statx(Structure):
    """struct statx (Linux; fixed by the kernel ABI, 256 bytes)"""
    _fields_ = [
        ("stx_mask", c_uint32), ("stx_blksize", c_uint32), ("stx_attributes", c_uint64),
        ("stx_nlink", c_uint32), ("stx_uid", c_uint32), ("stx_gid", c_uint32), ("stx_mode", c_uint16),
        ("_spare0", c_uint16), ("stx_ino", c_uint64), ("stx_size", c_uint64), ("stx_blocks", c_uint64),
        ("stx_attributes_mask", c_uint64),
        ("stx_atime", StatxTimestamp), ("stx_btime", StatxTimestamp),
        ("stx_ctime", StatxTimestamp), ("stx_mtime", StatxTimestamp),
        ("stx_rdev_major", c_uint32), ("stx_rdev_minor", c_uint32),
        ("stx_dev_major", c_uint32), ("stx_dev_minor", c_uint32),
        ("_spare2", c_uint64 * 14),
    ]


class FiemapExtent(Structure):
    """struct fiemap_extent (<linux/fiemap.h>)"""
    _fields_ = [
        ("fe_logical", c_uint64), ("fe_physical", c_uint64), ("fe_length", c_uint64),
        ("_reserved64", c_uint64 * 2), ("fe_flags", c_uint32), ("_reserved", c_uint32 * 3),
    ]


class Dirent(Structure):
    """struct evaio_dirent (evaio.h)"""
    _fields_ = [("name", c_void_p), ("ino", c_uint64), ("type", c_ubyte)]


# Structs named by the spec (`ctype` of out_struct and array arguments) and
# their mirrors; a struct missing here is handed over as its address.
STRUCTS = {
    "struct stat": Stat,
    "struct statvfs": Statvfs,
    "struct statx": Statx,
    "struct fiemap_extent": FiemapExtent,
    "struct evaio_dirent": Dirent,
}

# utimensat's special nanosecond values, for the `time` arguments.
if LINUX:
    UTIME_NOW_NSEC, UTIME_OMIT_NSEC = (1 << 30) - 1, (1 << 30) - 2
else:
    UTIME_NOW_NSEC, UTIME_OMIT_NSEC = -1, -2

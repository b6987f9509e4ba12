"""The binding's ctypes mirrors have the C compiler's layout, and its
constants the header's values.

A C program is written from the mirrors themselves (evaio_req, every
struct evaio_OP_args and their union, and the system structs), compiled
with the C compiler CMake found (EVAIO_CC, EVAIO_INCLUDE), and prints
sizeof, alignment and, for each field, offsetof and sizeof; every number
must match ctypes'.  A second program prints every integer EVAIO_ macro
of evaio.h and op_types.h, which must equal evaio's constants.
"""

import ctypes
import os
import re
import subprocess
import tempfile
import unittest

import evaio
from evaio import _ctypes_types as T
from evaio import _native as N
from evaio import _ops

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CC = os.environ.get("EVAIO_CC", "cc")
INCLUDES = os.environ.get("EVAIO_INCLUDE", f"{ROOT}/runtime/include:{ROOT}/generated/include").split(os.pathsep)
PRELUDE = """#define _GNU_SOURCE 1
#define _FILE_OFFSET_BITS 64
#include <evaio.h>
#include <linux/fiemap.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
"""


def compile_and_run(test, source):
    with tempfile.TemporaryDirectory(prefix="evaio-layout-") as tmp:
        c = os.path.join(tmp, "layout.c")
        exe = os.path.join(tmp, "layout")
        with open(c, "w") as f:
            f.write(source)
        cmd = [CC, "-std=c11", "-o", exe, c] + [f"-I{d}" for d in INCLUDES if d]
        r = subprocess.run(cmd, capture_output=True, text=True)
        test.assertEqual(r.returncode, 0, f"{' '.join(cmd)} failed:\n{r.stderr}\n{source}")
        r = subprocess.run([exe], capture_output=True, text=True, check=True)
        return r.stdout


def mirrors():
    """(C type, mirror, C field path prefix) of everything mirrored."""
    out = [("evaio_req", N.Req), ("union evaio_op_args", _ops.op_args), ("struct timespec", T.Timespec),
           ("struct iovec", T.Iovec), ("struct statvfs", T.Statvfs), ("struct statx", T.Statx),
           ("struct statx_timestamp", T.StatxTimestamp), ("struct fiemap_extent", T.FiemapExtent),
           ("struct evaio_dirent", T.Dirent)]
    if T.Stat is not None:
        out.append(("struct stat", T.Stat))
    out += [(f"struct evaio_{op.name}_args", op.struct) for op in _ops.OPS]
    return out


def fields(cls, prefix=""):
    """(C member designator, offset, size) of the named fields, nested ones too."""
    for name, ftype, *_ in cls._fields_:
        if name.startswith("_") or (name == "unused_" and len(cls._fields_) == 1):
            continue  # padding the C declaration does not name
        desc = getattr(cls, name)
        yield prefix + name, desc.offset, desc.size
        if isinstance(ftype, type) and issubclass(ftype, (ctypes.Structure, ctypes.Union)) and ftype not in (
                _ops.op_args,):
            for sub, off, size in fields(ftype, prefix + name + "."):
                yield sub, desc.offset + off, size


class LayoutTest(unittest.TestCase):
    def test_mirrors_match_the_compiler(self):
        lines, expected = [], []
        for ctype, cls in mirrors():
            lines.append(f'printf("{ctype} size %zu align %zu\\n", sizeof({ctype}), alignof({ctype}));')
            expected.append(f"{ctype} size {ctypes.sizeof(cls)} align {ctypes.alignment(cls)}")
            for member, off, size in fields(cls):
                lines.append(f'printf("{ctype} .{member} %zu %zu\\n", offsetof({ctype}, {member}), '
                             f'sizeof((({ctype} *)0)->{member}));')
                expected.append(f"{ctype} .{member} {off} {size}")
        source = PRELUDE + "int main(void)\n{\n    " + "\n    ".join(lines) + "\n    return 0;\n}\n"
        got = compile_and_run(self, source).splitlines()
        self.assertEqual(len(got), len(expected))
        bad = [f"C: {g}\n   ctypes: {e}" for g, e in zip(got, expected) if g != e]
        self.assertFalse(bad, "layouts differ:\n" + "\n".join(bad))
        # Every op's mirror has the spec's fields, in order.
        for op in _ops.OPS:
            names = [f[0] for f in op.struct._fields_]
            self.assertEqual(names, [a.name for a in op.args + op.outputs] or ["unused_"], op.name)
        self.assertEqual(ctypes.sizeof(N.Req), N.req_size())

    def test_every_spec_struct_has_a_mirror(self):
        named = {a.struct_type for op in _ops.OPS for a in op.args + op.outputs if a.struct_type}
        self.assertEqual(named - {k for k, v in T.STRUCTS.items() if v is not None}, set())

    def test_constants_match_the_header(self):
        macros = []
        for header in ("runtime/include/evaio.h", "generated/include/evaio/op_types.h"):
            with open(os.path.join(ROOT, header)) as f:
                for line in f:
                    m = re.match(r"#define EVAIO_([A-Z0-9_]+)\s+(\S.*?)\s*(/\*.*)?$", line)
                    if m and m.group(1) not in ("H", "API", "OP_TYPES_H", "BUILDING") and \
                            not m.group(1).startswith("HAVE_"):
                        macros.append(m.group(1))
        for op in _ops.OPS:
            macros.append(f"OP_{op.name.upper()}")
        self.assertIn("READDIR_DENTS", macros)
        self.assertIn("OP_STAT", macros)
        lines = [f'printf("{m} %lld\\n", (long long)(EVAIO_{m}));' for m in macros]
        lines += ['printf("UTIME_NOW %lld\\n", (long long)UTIME_NOW);',
                  'printf("UTIME_OMIT %lld\\n", (long long)UTIME_OMIT);']
        source = PRELUDE + "int main(void)\n{\n    " + "\n    ".join(lines) + "\n    return 0;\n}\n"
        got = dict(line.split() for line in compile_and_run(self, source).splitlines())
        for m in macros:
            with self.subTest(macro=m):
                self.assertTrue(hasattr(evaio, m), f"evaio.{m} is missing (EVAIO_{m} in the header)")
                self.assertEqual(getattr(evaio, m), int(got[m]))
        self.assertEqual(evaio.UTIME_NOW, (0, int(got["UTIME_NOW"])))
        self.assertEqual(evaio.UTIME_OMIT, (0, int(got["UTIME_OMIT"])))


if __name__ == "__main__":
    unittest.main()

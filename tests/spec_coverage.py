#!/usr/bin/env python3
"""Fails when an operation in spec/ops.toml has no per-operation test.

An operation NAME counts as tested when `evaio_NAME(` or `evaio_NAME_init(`
appears in the code (not the comments or strings) of some tests/test_ops_*.c.
Exit status: 0 when every operation is covered, 1 listing the ones that are
not (or when the spec or the tests cannot be read), 77 (skip) when this
Python has no tomllib, unless EVAIO_TEST_NO_SKIP=1 makes that a failure.

    spec_coverage.py [--spec spec/ops.toml] [--tests DIR]
    spec_coverage.py --self-test     # checks this checker on made-up inputs

Python 3 standard library only.
"""

import argparse
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SKIP = 77


def load_toml(path):
    try:
        import tomllib
    except ModuleNotFoundError:
        msg = "spec_coverage: tomllib needs Python 3.11 or later (this is %s)" % sys.version.split()[0]
        print(msg, file=sys.stderr)
        sys.exit(1 if os.environ.get("EVAIO_TEST_NO_SKIP") == "1" else SKIP)
    with open(path, "rb") as f:
        return tomllib.load(f)


def op_names(spec_path):
    spec = load_toml(spec_path)
    ops = spec.get("op")
    if not isinstance(ops, list) or not ops:
        raise ValueError("%s: no [[op]] entries" % spec_path)
    names = []
    for i, op in enumerate(ops):
        name = op.get("name") if isinstance(op, dict) else None
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError("%s: op #%d has no valid name" % (spec_path, i + 1))
        names.append(name)
    return names


# C comments, string and character literals, in one pass so that "/*" inside
# a string or a quote inside a comment is not misread.
_C_TOKENS = re.compile(
    r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)


def strip_c(text):
    def blank(m):
        s = m.group(0)
        if s.startswith("/"):
            return " " if s.startswith("/*") else ""
        return '""' if s.startswith('"') else "' '"
    return _C_TOKENS.sub(blank, text)


def test_sources(tests_dir):
    files = sorted(f for f in os.listdir(tests_dir)
                   if f.startswith("test_ops_") and f.endswith(".c"))
    if not files:
        raise ValueError("%s: no test_ops_*.c files" % tests_dir)
    code = {}
    for f in files:
        with open(os.path.join(tests_dir, f), encoding="utf-8", errors="replace") as fh:
            code[f] = strip_c(fh.read())
    return code


def missing_ops(names, code):
    """The names with neither evaio_NAME( nor evaio_NAME_init( in any code."""
    missing = []
    for name in names:
        pat = re.compile(r"\bevaio_%s(?:_init)?\s*\(" % re.escape(name))
        if not any(pat.search(text) for text in code.values()):
            missing.append(name)
    return missing


def check(spec_path, tests_dir):
    try:
        names = op_names(spec_path)
        code = test_sources(tests_dir)
    except (OSError, ValueError) as e:
        print("spec_coverage: %s" % e, file=sys.stderr)
        return 1
    except Exception as e:  # a malformed spec: tomllib.TOMLDecodeError
        print("spec_coverage: %s: %s" % (spec_path, e), file=sys.stderr)
        return 1
    missing = missing_ops(names, code)
    if missing:
        print("spec_coverage: operations in %s with no test in %s/test_ops_*.c "
              "(expected a call to evaio_NAME( or evaio_NAME_init():" % (spec_path, tests_dir),
              file=sys.stderr)
        for name in missing:
            print("  %s" % name, file=sys.stderr)
        return 1
    print("spec_coverage: all %d operations have tests (%s)" % (len(names), ", ".join(sorted(code))))
    return 0


def self_test():
    """The checker finds what is missing, and ignores comments and strings."""
    with tempfile.TemporaryDirectory() as d:
        spec = os.path.join(d, "ops.toml")
        tests = os.path.join(d, "tests")
        os.mkdir(tests)
        with open(spec, "w") as f:
            for n in ["alpha", "beta", "gamma", "delta", "eps", "zeta"]:
                f.write('[[op]]\nname = "%s"\nid = 1\n\n' % n)
        with open(os.path.join(tests, "test_ops_one.c"), "w") as f:
            f.write('void t(void) { evaio_alpha(0, cb, 0); evaio_beta_init (&r, cb, 0); }\n'
                    '/* evaio_gamma( in a comment */\n'
                    '// evaio_delta(\n'
                    'const char *s = "evaio_eps(";\n'
                    'void u(void) { my_evaio_zeta(1); evaio_ctx_zeta(0); }\n')
        with open(os.path.join(tests, "other.c"), "w") as f:
            f.write("evaio_gamma(0);\n")  # not a test_ops_*.c file
        names = op_names(spec)
        got = missing_ops(names, test_sources(tests))
        want = ["gamma", "delta", "eps", "zeta"]
        if got != want:
            print("spec_coverage self-test: missing %r, expected %r" % (got, want), file=sys.stderr)
            return 1
        if check(spec, tests) != 1:
            print("spec_coverage self-test: a missing op did not fail", file=sys.stderr)
            return 1
        with open(os.path.join(tests, "test_ops_two.c"), "w") as f:
            f.write("x = evaio_gamma(); evaio_delta_init(r); evaio_eps( ); evaio_zeta_init(q);\n")
        if check(spec, tests) != 0:
            print("spec_coverage self-test: full coverage did not pass", file=sys.stderr)
            return 1
        os.remove(os.path.join(tests, "test_ops_one.c"))
        os.remove(os.path.join(tests, "test_ops_two.c"))
        if check(spec, tests) != 1:
            print("spec_coverage self-test: no test files did not fail", file=sys.stderr)
            return 1
    print("spec_coverage self-test: ok")
    return 0


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spec", default=os.path.join(ROOT, "spec", "ops.toml"))
    ap.add_argument("--tests", default=HERE, help="directory holding test_ops_*.c")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    return check(args.spec, args.tests)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

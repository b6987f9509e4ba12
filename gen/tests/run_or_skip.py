#!/usr/bin/env python3
"""Runs a generator test with this interpreter, or skips it when the generator cannot run.

    python3 gen/tests/run_or_skip.py ARGS...

runs `python3 ARGS...` (the same interpreter) and exits with its status.  The
generator needs Python >= 3.11 (for tomllib) and jinja2; when either is
missing this exits 77, which ctest reports as a skip -- unless the environment
has EVAIO_TEST_NO_SKIP=1 (CI sets it), where it exits 1 instead: a skip must
never hide a missing install.

Kept free of newer syntax so that an old interpreter gets to say why it skips.
"""

import importlib
import os
import platform
import subprocess
import sys

SKIP = 77


def missing():
    """What this interpreter lacks to run the generator, or None."""
    if sys.version_info < (3, 11):
        return ("Python >= 3.11 (the generator reads TOML with tomllib); %s is Python %s"
                % (sys.executable, platform.python_version()))
    try:
        importlib.import_module("jinja2")
    except ImportError:
        return ("the jinja2 module for %s: install python3-jinja2 "
                "(Debian/Ubuntu: apt-get install python3-jinja2; elsewhere: python3 -m pip install jinja2)"
                % sys.executable)
    return None


def no_skip():
    return os.environ.get("EVAIO_TEST_NO_SKIP", "") not in ("", "0")


def main(argv):
    if not argv:
        print("usage: run_or_skip.py ARGS...  (runs python3 ARGS...)", file=sys.stderr)
        return 2
    why = missing()
    if why:
        if no_skip():
            print("FAIL: missing %s (EVAIO_TEST_NO_SKIP is set, so this is not a skip)" % why, file=sys.stderr)
            return 1
        print("skipped: missing %s" % why, file=sys.stderr)
        return SKIP
    return subprocess.call([sys.executable] + argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

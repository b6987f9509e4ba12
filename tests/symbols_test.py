#!/usr/bin/env python3
"""symbols: the dynamic symbols libevaio.so exports are exactly the functions
the public headers declare with EVAIO_API - nothing missing (a declared
function users cannot link), nothing extra (an internal symbol leaking into
the ABI).

usage: symbols_test.py NM LIBRARY HEADER...
exit: 0 pass, 1 fail, 77 skip (nm missing; a failure under EVAIO_TEST_NO_SKIP=1).
"""
import os
import re
import shutil
import subprocess
import sys


def skip(why):
    if os.environ.get("EVAIO_TEST_NO_SKIP") == "1":
        sys.exit(f"FAIL: {why} (and EVAIO_TEST_NO_SKIP=1)")
    print(f"skipped: {why}", file=sys.stderr)
    sys.exit(77)


def declared(path):
    """Names of the functions declared with EVAIO_API in a header."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)  # comments
    text = re.sub(r"//[^\n]*", " ", text)
    text = text.replace("\\\n", " ")  # line continuations
    text = re.sub(r"^[ \t]*#[^\n]*", " ", text, flags=re.M)  # the #define EVAIO_API itself
    names = re.findall(r"\bEVAIO_API\b[^;{(]*?\b([A-Za-z_]\w*)\s*\(", text)
    # Every EVAIO_API must have yielded a name, or the pattern missed one.
    uses = len(re.findall(r"\bEVAIO_API\b", text))
    if uses != len(names):
        sys.exit(f"FAIL: {path}: {uses} uses of EVAIO_API but {len(names)} declarations parsed")
    return names


def exported(nm, library):
    """Defined dynamic symbols of a shared library: {name: nm type letter}."""
    try:
        out = subprocess.run([nm, "-D", "--defined-only", library], check=True,
                             capture_output=True, text=True).stdout
    except subprocess.CalledProcessError as e:
        sys.exit(f"FAIL: {nm} -D --defined-only {library}: {e.stderr.strip()}")
    symbols = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            symbols[fields[2].split("@")[0]] = fields[1]
    return symbols


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: symbols_test.py NM LIBRARY HEADER...")
    nm, library, headers = sys.argv[1], sys.argv[2], sys.argv[3:]
    if not shutil.which(nm):
        skip(f"nm ({nm}) is not installed")

    want = {}
    for header in headers:
        for name in declared(header):
            if name in want:
                print(f"note: {name} declared in both {want[name]} and {header}")
            want[name] = header
    if "evaio_poll" not in want:
        sys.exit("FAIL: the headers' parse found no evaio_poll: wrong headers?")
    have = exported(nm, library)

    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    not_code = sorted(n for n in set(want) & set(have) if have[n] not in "TtWi")
    for name in missing:
        print(f"FAIL: declared in {want[name]} but not exported: {name}")
    for name in extra:
        print(f"FAIL: exported but not declared with EVAIO_API: {name} ({have[name]})")
    for name in not_code:
        print(f"FAIL: declared as a function but exported as type {have[name]}: {name}")
    if missing or extra or not_code:
        return 1
    print(f"{len(want)} EVAIO_API functions, all exported, nothing else exported")
    return 0


if __name__ == "__main__":
    sys.exit(main())

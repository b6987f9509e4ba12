#!/usr/bin/env python3
"""python_install: the Python package finds libevaio the documented ways,
and installs the two documented ways, offline.

  1. EVAIO_LIBRARY wins, and a wrong one is reported;
  2. the build tree's copy (BUILD/python) finds the build's library;
  3. `cmake --install BUILD --prefix P` installs the package where the
     interpreter's layout puts it, recording P's library; with the record
     removed it still finds the library from its own prefix;
  4. `pip install --no-build-isolation --no-index` of bindings/python into
     a venv (--system-site-packages --without-pip, so pip, setuptools and
     wheel are the system's): works with EVAIO_LIBRARY, and without it once
     the library is installed into the venv's prefix.

usage: install_test.py BUILD_DIR SOURCE_DIR CMAKE
exit: 0 pass, 1 fail, 77 skip (no interpreter with pip, setuptools and
wheel; under EVAIO_TEST_NO_SKIP=1 that fails instead).
"""

import os
import shutil
import subprocess
import sys
import tempfile

build, src, cmake = (os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3])
no_skip = os.environ.get("EVAIO_TEST_NO_SKIP", "") not in ("", "0")
failures = []
SNIPPET = """
import asyncio, os, sys, evaio, evaio.aio
print(evaio.LIBRARY_PATH)
async def main():
    st = await evaio.aio.stat(sys.argv[1])
    assert st == os.stat(sys.argv[1]), st
    names = await evaio.aio.readdir(os.path.dirname(sys.argv[1]))
    assert os.path.basename(sys.argv[1]) in names
asyncio.run(main())
got = []
evaio.lstat(sys.argv[1], got.append)
evaio.wait()
assert got[0].value() == os.lstat(sys.argv[1])
"""
PROBE = os.path.join(src, "README.md")


def step(text):
    print(f"\n== {text}", flush=True)


def fail(text):
    print(f"FAIL: {text}", file=sys.stderr, flush=True)
    failures.append(text)


def env_without(*names, **extra):
    env = {k: v for k, v in os.environ.items() if k not in names and k != "PYTHONPATH"}
    env.update(extra)
    return env


def run_snippet(python, env, cwd, expect_library=None, label=""):
    """Runs SNIPPET; returns the library path it loaded, or None."""
    r = subprocess.run([python, "-c", SNIPPET, PROBE], env=env, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"{label}: the snippet failed:\n{r.stdout}{r.stderr}")
        return None
    lib = r.stdout.splitlines()[0]
    print(f"{label}: loaded {lib}")
    if expect_library and os.path.realpath(lib) != os.path.realpath(expect_library):
        fail(f"{label}: loaded {lib}, expected {expect_library}")
    return lib


def library_in(prefix):
    for root, _dirs, files in os.walk(prefix):
        if "libevaio.so.0" in files and "pkgconfig" not in root:
            return os.path.join(root, "libevaio.so.0")
    return None


def package_in(prefix):
    for root, dirs, files in os.walk(prefix):
        if os.path.basename(root) == "evaio" and "__init__.py" in files and "_ops.py" in files:
            return os.path.dirname(root)
    return None


def pip_python():
    """An interpreter that has pip, setuptools, wheel and venv."""
    seen = []
    for candidate in (sys.executable, "/usr/bin/python3", shutil.which("python3")):
        if not candidate or not os.path.exists(candidate) or candidate in seen:
            continue
        seen.append(candidate)
        r = subprocess.run([candidate, "-c", "import setuptools, pip, wheel, venv"], capture_output=True)
        if r.returncode == 0:
            return candidate, seen
    return None, seen


with tempfile.TemporaryDirectory(prefix="evaio-pyinstall-") as tmp:
    elsewhere = os.path.join(tmp, "cwd")
    os.mkdir(elsewhere)
    build_lib = os.path.join(build, "libevaio.so")

    step("EVAIO_LIBRARY wins")
    pkg = os.path.join(src, "bindings", "python")
    run_snippet(sys.executable, env_without(PYTHONPATH=pkg, EVAIO_LIBRARY=build_lib), elsewhere, build_lib,
                "EVAIO_LIBRARY")
    r = subprocess.run([sys.executable, "-c", "import evaio"], capture_output=True, text=True, cwd=elsewhere,
                       env=env_without(PYTHONPATH=pkg, EVAIO_LIBRARY=os.path.join(tmp, "nope.so")))
    if r.returncode == 0 or "EVAIO_LIBRARY" not in r.stderr or "nope.so" not in r.stderr:
        fail(f"a missing EVAIO_LIBRARY is not reported:\n{r.stderr}")
    else:
        print("a wrong EVAIO_LIBRARY is reported: " + r.stderr.strip().splitlines()[-1])

    step("the build tree's copy finds the build's library")
    run_snippet(sys.executable, env_without("EVAIO_LIBRARY", PYTHONPATH=os.path.join(build, "python")), elsewhere,
                build_lib, "build tree")

    step(f"cmake --install {build} --prefix PREFIX")
    prefix = os.path.join(tmp, "prefix")
    r = subprocess.run([cmake, "--install", build, "--prefix", prefix], capture_output=True, text=True)
    if r.returncode:
        fail(f"cmake --install failed:\n{r.stdout}{r.stderr}")
    else:
        site = package_in(prefix)
        lib = library_in(prefix)
        if not site or not lib:
            fail(f"no package ({site}) or library ({lib}) under {prefix}")
        else:
            print(f"package in {os.path.relpath(site, prefix)}, library {os.path.relpath(lib, prefix)}")
            env = env_without("EVAIO_LIBRARY", PYTHONPATH=site)
            run_snippet(sys.executable, env, elsewhere, lib, "installed, recorded path")
            with open(os.path.join(site, "evaio", "_config.py"), "w") as f:
                f.write("LIBRARY = None\n")
            run_snippet(sys.executable, env, elsewhere, lib, "installed, found from its prefix")

    step("pip install --no-build-isolation into a venv")
    python, tried = pip_python()
    if python is None:
        msg = f"no interpreter with pip, setuptools, wheel and venv among {tried}"
        if no_skip:
            fail(msg + " (and EVAIO_TEST_NO_SKIP=1): install python3-pip python3-setuptools python3-wheel "
                       "python3-venv")
        else:
            print(f"skipped: {msg}", file=sys.stderr)
            if not failures:
                sys.exit(77)
    else:
        venv = os.path.join(tmp, "venv")
        copy = os.path.join(tmp, "src")
        shutil.copytree(pkg, copy, symlinks=False, ignore=shutil.ignore_patterns("build", "*.egg-info"))
        cmds = [[python, "-m", "venv", "--system-site-packages", "--without-pip", venv],
                [os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--no-build-isolation", "--no-index",
                 "--no-deps", "--disable-pip-version-check", copy]]
        for cmd in cmds:
            print(" ".join(cmd))
            r = subprocess.run(cmd, capture_output=True, text=True, cwd=elsewhere, env=env_without())
            if r.returncode:
                fail(f"{' '.join(cmd)} failed:\n{r.stdout}{r.stderr}")
                break
        else:
            vpy = os.path.join(venv, "bin", "python")
            run_snippet(vpy, env_without(EVAIO_LIBRARY=build_lib), elsewhere, build_lib, "pip, EVAIO_LIBRARY")
            r = subprocess.run([cmake, "--install", build, "--prefix", venv, "--component", "Unspecified"],
                               capture_output=True, text=True)
            if r.returncode:
                fail(f"cmake --install into the venv failed:\n{r.stdout}{r.stderr}")
            else:
                run_snippet(vpy, env_without("EVAIO_LIBRARY"), elsewhere, library_in(venv),
                            "pip, library in the venv's prefix")
        if os.path.exists(os.path.join(pkg, "build")) or os.path.exists(os.path.join(pkg, "evaio.egg-info")):
            fail("pip wrote into the source tree")

print()
if failures:
    print(f"{len(failures)} check(s) failed", file=sys.stderr)
    sys.exit(1)
print("all Python install checks passed")

#!/bin/sh
# install_consumers: installs a build tree into a temporary prefix and builds
# tests/consumer/consumer.c against the installed copy the ways a user would:
#   (a) pkg-config evaio + cc, run with LD_LIBRARY_PATH;
#   (b) CMake find_package(evaio) + evaio::evaio (shared);
#   (c) CMake evaio::evaio_static (libevaio.a linked in, no libevaio.so needed).
# Also checks the installed files, the shared library's soname, and that it
# exports only evaio_ symbols (and libevaio.a defines only evaio_* globals).
#
# usage: install_test.sh BUILD_DIR SOURCE_DIR [CONFIG]
# environment (set by tests/install.cmake): CMAKE, CC, CFLAGS,
#   CMAKE_GENERATOR, EVAIO_MAKE_PROGRAM, EVAIO_VERSION, NM;
#   EVAIO_TEST_NO_SKIP=1 turns a skip for a missing tool into a failure;
#   EVAIO_TEST_KEEP=1 keeps the temporary directory.
# exit: 0 pass, 1 fail, 77 skip.
set -u

if [ $# -lt 2 ]; then
    echo "usage: $0 BUILD_DIR SOURCE_DIR [CONFIG]" >&2
    exit 1
fi
build=$1
src=$2
config=${3:-}
: "${CMAKE:=cmake}" "${CC:=cc}" "${CFLAGS:=}" "${NM:=nm}" "${EVAIO_VERSION:=0.1.0}"
major=${EVAIO_VERSION%%.*}

failures=0
step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; failures=$((failures + 1)); }
die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
skip() {
    if [ "${EVAIO_TEST_NO_SKIP:-0}" = 1 ]; then
        die "$1 (and EVAIO_TEST_NO_SKIP=1)"
    fi
    printf 'skipped: %s\n' "$1" >&2
    exit 77
}
have() { command -v "$1" >/dev/null 2>&1; }

have pkg-config || skip "pkg-config is not installed"
have "$NM" || skip "nm ($NM) is not installed"
if have readelf; then
    dynamic() { readelf -d "$1"; }
elif have objdump; then
    dynamic() { objdump -p "$1"; }
else
    skip "neither readelf nor objdump is installed"
fi
# The DT_NEEDED / DT_SONAME names of an ELF file, one a line.
needed() { dynamic "$1" | sed -n 's/.*NEEDED[^[]*\[\(.*\)\].*/\1/p; s/^ *NEEDED  *\([^ ]*\)$/\1/p'; }
soname() { dynamic "$1" | sed -n 's/.*SONAME[^[]*\[\(.*\)\].*/\1/p; s/^ *SONAME  *\([^ ]*\)$/\1/p'; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/evaio-install-XXXXXX") || die "mktemp failed"
if [ "${EVAIO_TEST_KEEP:-0}" = 1 ]; then
    echo "keeping $tmp"
else
    trap 'rm -rf "$tmp"' EXIT
fi
prefix=$tmp/prefix
probe=$src/tests/consumer/consumer.c # an existing file for the consumer to stat

step "cmake --install $build --prefix $prefix"
"$CMAKE" --install "$build" --prefix "$prefix" ${config:+--config "$config"} ||
    die "cmake --install failed"

# GNUInstallDirs picks lib, lib64 or lib/<multiarch>: find the .pc file.
pc=$(find "$prefix" -name evaio.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || die "no evaio.pc installed under $prefix"
pcdir=$(dirname "$pc")
libdir=$(dirname "$pcdir")
echo "libdir: $libdir"

step "installed files"
for f in include/evaio.h include/evaio/op_types.h include/evaio/op_api.h; do
    [ -f "$prefix/$f" ] || fail "missing $prefix/$f"
done
cmp -s "$prefix/include/evaio.h" "$src/runtime/include/evaio.h" ||
    fail "installed evaio.h differs from runtime/include/evaio.h"
for f in libevaio.so.$EVAIO_VERSION libevaio.a cmake/evaio/evaioConfig.cmake \
         cmake/evaio/evaioConfigVersion.cmake cmake/evaio/evaioTargets.cmake; do
    [ -f "$libdir/$f" ] || fail "missing $libdir/$f"
done
[ "$(readlink "$libdir/libevaio.so.$major")" = "libevaio.so.$EVAIO_VERSION" ] ||
    fail "libevaio.so.$major is not a symlink to libevaio.so.$EVAIO_VERSION"
[ "$(readlink "$libdir/libevaio.so")" = "libevaio.so.$major" ] ||
    fail "libevaio.so is not a symlink to libevaio.so.$major"
(cd "$prefix" && find . -type f -o -type l | sort)

step "man pages"
mandir=$prefix/share/man
for page in evaio evaio_readdir evaio_read evaio_wd_open evaio_readdir_init evaio_ctx_stat_at; do
    [ -f "$mandir/man3/$page.3" ] || fail "missing $mandir/man3/$page.3"
done
if have man; then
    # What `man 3 evaio_readdir` shows once the prefix is on MANPATH; an alias
    # name shows the same page.
    for page in evaio_readdir evaio_readdir_init; do
        MANPATH=$mandir MANWIDTH=100 man 3 "$page" 2>"$tmp/man.err" > "$tmp/man.out" ||
            fail "man 3 $page failed: $(cat "$tmp/man.err")"
        grep -q "evaio_readdir_init(evaio_req \*req" "$tmp/man.out" ||
            fail "man 3 $page does not show evaio_readdir's synopsis"
    done
    echo "man 3 evaio_readdir: ok"
elif [ "$EVAIO_TEST_NO_SKIP" = 1 ]; then
    fail "man is not installed, so man 3 evaio_readdir cannot be checked"
else
    echo "man not installed: only the files were checked"
fi

step "soname and exported symbols"
got=$(soname "$libdir/libevaio.so")
[ "$got" = "libevaio.so.$major" ] || fail "soname is '$got', want libevaio.so.$major"
echo "soname: $got"
"$NM" -D --defined-only "$libdir/libevaio.so" > "$tmp/dynsyms" || fail "nm -D failed"
stray=$(awk 'NF >= 3 { print $3 }' "$tmp/dynsyms" | grep -v '^evaio_[A-Za-z0-9]')
[ -z "$stray" ] || fail "exported symbols outside evaio_ (or internal evaio__):
$stray"
echo "exported: $(wc -l < "$tmp/dynsyms") symbols"
# A static link puts every global of libevaio.a in the program's namespace.
"$NM" -g --defined-only "$libdir/libevaio.a" 2>/dev/null |
    awk 'NF >= 3 { print $3 }' | grep -v '^evaio_' > "$tmp/stray-static"
[ -s "$tmp/stray-static" ] && fail "libevaio.a defines globals outside evaio_:
$(cat "$tmp/stray-static")"

step "(a) pkg-config + cc"
PKG_CONFIG_PATH=$pcdir
export PKG_CONFIG_PATH
pc_version=$(pkg-config --modversion evaio) || fail "pkg-config cannot read evaio.pc"
[ "$pc_version" = "$EVAIO_VERSION" ] || fail "pkg-config version '$pc_version', want $EVAIO_VERSION"
pc_inc=$(pkg-config --variable=includedir evaio)
pc_lib=$(pkg-config --variable=libdir evaio)
echo "evaio.pc: includedir=$pc_inc libdir=$pc_lib"
if [ ! -f "$pc_inc/evaio.h" ] || [ ! -f "$pc_lib/libevaio.so" ]; then
    # Compiling anyway could silently pick up another installed evaio.
    fail "evaio.pc points outside the install prefix $prefix (includedir=$pc_inc,
      libdir=$pc_lib): its prefix was fixed at configure time, so the package
      is not relocatable with cmake --install --prefix"
else
    flags=$(pkg-config --cflags --libs evaio)
    echo "$CC $CFLAGS consumer.c $flags"
    # shellcheck disable=SC2086 # word splitting of the flags is intended
    if $CC $CFLAGS -std=c11 -Wall -Wextra -pedantic -Werror "$src/tests/consumer/consumer.c" \
        $flags -o "$tmp/consumer_pc"; then
        LD_LIBRARY_PATH=$pc_lib "$tmp/consumer_pc" "$probe" || fail "consumer (pkg-config) failed"
        if have ldd; then
            LD_LIBRARY_PATH=$pc_lib ldd "$tmp/consumer_pc" | grep -F "$pc_lib/libevaio.so.$major" >/dev/null ||
                fail "consumer (pkg-config) does not load $pc_lib/libevaio.so.$major"
        fi
    else
        fail "compiling the consumer with pkg-config's flags failed"
    fi
fi

step "(b, c) CMake find_package(evaio): evaio::evaio and evaio::evaio_static"
cbuild=$tmp/cmake-consumer
if "$CMAKE" -S "$src/tests/consumer" -B "$cbuild" \
        -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
        ${config:+-DCMAKE_BUILD_TYPE="$config"} \
        ${EVAIO_MAKE_PROGRAM:+-DCMAKE_MAKE_PROGRAM="$EVAIO_MAKE_PROGRAM"} &&
    "$CMAKE" --build "$cbuild" ${config:+--config "$config"}; then
    found=$(sed -n 's/^evaio_DIR:[A-Z]*=//p' "$cbuild/CMakeCache.txt")
    [ "$(cd "$found" 2>/dev/null && pwd -P)" = "$(cd "$libdir/cmake/evaio" && pwd -P)" ] ||
        fail "find_package found evaio in '$found', not in $libdir/cmake/evaio"

    "$cbuild/bin/consumer" "$probe" || fail "consumer (CMake, shared) failed"
    needed "$cbuild/bin/consumer" | grep -qx "libevaio.so.$major" ||
        fail "consumer (CMake, shared) does not need libevaio.so.$major"
    if have ldd; then
        ldd "$cbuild/bin/consumer" | grep -F "$libdir/libevaio.so.$major" >/dev/null ||
            fail "consumer (CMake, shared) does not load $libdir/libevaio.so.$major"
    fi

    "$cbuild/bin/consumer_static" "$probe" || fail "consumer (CMake, static) failed"
    if needed "$cbuild/bin/consumer_static" | grep -q libevaio; then
        fail "consumer_static still needs libevaio.so"
    fi
else
    fail "configuring or building the CMake consumer failed"
fi

echo
if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all install checks passed"
exit 0

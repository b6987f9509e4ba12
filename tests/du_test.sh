#!/bin/sh
# evaio-du's totals equal `du -s --apparent-size -B1` and `find DIR | wc -l`
# on a generated tree of files, subdirectories, symlinks, hard links, a FIFO
# and an unreadable directory (reported, not fatal: exit status 1, as du's).
#   du_test.sh EVAIO_DU
# As root, every tool runs as nobody, so the unreadable directory is one.
set -eu
du_tool=$1
fail() { echo "FAIL: $*" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'chmod -R u+rwx "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
tree=$tmp/tree
mkdir -p "$tree/a/b/c" "$tree/d" "$tree/locked"
printf '' > "$tree/empty"
printf 'x' > "$tree/one"
head -c 4097 /dev/zero > "$tree/a/page"
head -c 100000 /dev/zero > "$tree/a/b/big"
for i in 1 2 3 4 5 6 7 8 9 10; do printf "$i" > "$tree/a/b/c/f$i"; done
ln "$tree/a/b/big" "$tree/d/big-hardlink"     # counted once in bytes, twice in entries
ln -s ../one "$tree/d/link-file"
ln -s ../a "$tree/d/link-dir"                 # never followed
ln -s /nonexistent "$tree/d/dangling"
mkfifo "$tree/d/fifo"
printf 'hidden' > "$tree/locked/inside"
chmod 000 "$tree/locked"

if [ "$(id -u)" = 0 ]; then
    as() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
else
    as() { "$@"; }
fi

check() { # check DIR EXPECTED_STATUS
    dir=$1 want=$2
    set +e
    as du -s --apparent-size -B1 "$dir" > "$tmp/du.out" 2>/dev/null; du_status=$?
    find_n=$(as find "$dir" 2>/dev/null | wc -l)
    as "$du_tool" --no-progress "$dir" > "$tmp/bytes.out" 2> "$tmp/bytes.err"; bytes_status=$?
    as "$du_tool" --no-progress --entries -j 3 "$dir" > "$tmp/entries.out" 2>/dev/null; entries_status=$?
    set -e
    want_bytes=$(cut -f1 "$tmp/du.out")
    got_bytes=$(cut -f1 "$tmp/bytes.out")
    got_entries=$(cut -f1 "$tmp/entries.out")
    echo "$dir: du $want_bytes bytes (status $du_status), find $find_n entries; evaio-du $got_bytes bytes, $got_entries entries (status $bytes_status)"
    [ "$du_status" = "$want" ] || fail "du exited $du_status, the test expected $want"
    [ "$got_bytes" = "$want_bytes" ] || fail "evaio-du says $got_bytes bytes, du says $want_bytes"
    [ "$got_entries" = "$find_n" ] || fail "evaio-du --entries says $got_entries, find | wc -l says $find_n"
    [ "$bytes_status" = "$want" ] && [ "$entries_status" = "$want" ] ||
        fail "evaio-du exited $bytes_status/$entries_status, du $du_status"
    [ "$(cut -f2 "$tmp/bytes.out")" = "$dir" ] || fail "evaio-du does not name $dir as du does"
}

check "$tree" 1
grep -q "cannot read directory '$tree/locked'" "$tmp/bytes.err" ||
    fail "the unreadable directory was not reported: $(cat "$tmp/bytes.err")"
check "$tree/a" 0
[ ! -s "$tmp/bytes.err" ] || fail "errors on a readable tree: $(cat "$tmp/bytes.err")"

# No argument: the current directory, printed as "." like du.
got=$(cd "$tree/a" && as "$du_tool" --no-progress)
want=$(cd "$tree/a" && as du -s --apparent-size -B1)
[ "$got" = "$want" ] || fail "in the current directory: evaio-du '$got', du '$want'"

# A file as the root, and a missing root.
got=$(as "$du_tool" --no-progress "$tree/a/b/big" | cut -f1)
[ "$got" = 100000 ] || fail "a file as the root: $got"
if as "$du_tool" --no-progress "$tree/missing" > /dev/null 2>&1; then fail "a missing root succeeded"; fi

# --help and bad usage.
"$du_tool" --help | grep -q "usage: evaio-du" || fail "--help prints no usage"
set +e
"$du_tool" --jobs 0 . > /dev/null 2>&1; [ $? = 2 ] || fail "--jobs 0 is not a usage error"
"$du_tool" --bogus > /dev/null 2>&1; [ $? = 2 ] || fail "an unknown option is not a usage error"
set -e
echo "ok"

#!/bin/sh
# Runs test programs under valgrind's memcheck: any memory error, any
# definitely lost block, or a descriptor left open at exit that the program
# did not inherit fails the run.
#
#   tests/valgrind.sh PROGRAM...       (ctest's `valgrind` test passes the core ones)
#
# Leaks: only "definitely lost" counts (--errors-for-leak-kinds=definite).
# The default context and its worker threads live until the process exits,
# so their memory (thread stacks and TLS among it) shows as "possibly lost"
# or "still reachable", which is by design and not reported.
# Descriptors: valgrind 3.19 reports open descriptors at exit
# (--track-fds=yes) but does not count them as errors; this script fails on
# any that was not inherited, except the default context's poll fd (an
# eventfd, or a pipe's two ends where there is no eventfd), which lives
# until exit like the context.
# valgrind.supp beside this script holds the suppressions, each with why.
# A program that skips itself under valgrind (exit 77: test_ops_path2, as
# valgrind 3.19 does not know openat2) is reported and does not fail the
# run; EVAIO_TEST_NO_SKIP is not passed on to the programs, since such a
# skip is valgrind's limit, not a missing install.
# Exit status: 0 clean, 1 a finding (the log is printed), 77 (skip) without
# valgrind, unless EVAIO_TEST_NO_SKIP=1 (as in CI) makes that a failure.
set -u

if ! command -v valgrind >/dev/null 2>&1; then
  if [ "${EVAIO_TEST_NO_SKIP:-0}" != "0" ] && [ -n "${EVAIO_TEST_NO_SKIP:-}" ]; then
    echo "valgrind.sh: valgrind is not installed (apt-get install valgrind); cannot skip under EVAIO_TEST_NO_SKIP" >&2
    exit 1
  fi
  echo "valgrind.sh: skipped: valgrind is not installed" >&2
  exit 77
fi
if [ $# -eq 0 ]; then
  echo "usage: $0 PROGRAM..." >&2
  exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
logdir=$(mktemp -d "${TMPDIR:-/tmp}/evaio-valgrind-XXXXXX")
trap 'rm -rf "$logdir"' EXIT
failed=0
for prog in "$@"; do
  name=$(basename "$prog")
  log="$logdir/$name.log"
  start=$(date +%s)
  env -u EVAIO_TEST_NO_SKIP valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite --track-fds=yes --num-callers=30 --suppressions="$here/valgrind.supp" \
    --log-file="$log" \
    "$prog" >"$logdir/$name.out" 2>&1
  rc=$?
  # Descriptors open at exit: valgrind prints a block per descriptor,
  # "Open file descriptor N: WHAT" then "<inherited from parent>" or the
  # stack that opened it, up to an empty "==PID==" line.  Not counted: the
  # inherited ones, and the default context's poll fd (opened under
  # evaio_default_ctx).
  leaked=$(awk '
    function flush() {
      if (head != "" && !inherited && !(block ~ /evaio_default_ctx/)) print head
      head = ""; block = ""; inherited = 0
    }
    { line = $0; sub(/^==[0-9]+== ?/, "", line) }
    line ~ /^Open (file descriptor|AF_UNIX socket|AF_INET socket|AF_INET6 socket) [0-9]+:/ { flush(); head = line; next }
    head != "" && line ~ /^ *$/ { flush(); next }
    head != "" && line ~ /<inherited from parent>/ { inherited = 1 }
    head != "" { block = block "\n" line }
    END { flush() }' "$log")
  if [ $rc -eq 77 ] && [ -z "$leaked" ]; then
    echo "== $name: the program skipped itself ($(($(date +%s) - start)) s)"
  elif [ $rc -ne 0 ] || [ -n "$leaked" ]; then
    failed=1
    echo "== $name: FAILED (exit status $rc$([ $rc -eq 99 ] && echo ': valgrind found errors'), $(($(date +%s) - start)) s)"
    [ -n "$leaked" ] && printf 'descriptors open at exit that the program did not inherit:\n%s\n' "$leaked"
    echo "-- valgrind log:"
    cat "$log"
    echo "-- program output (last 30 lines):"
    tail -n 30 "$logdir/$name.out"
  else
    echo "== $name: clean ($(($(date +%s) - start)) s)"
  fi
done
exit $failed

#!/bin/sh
# evaio-du against du -s and find on a warm tree, interleaved, medians of
# wall-clock seconds and their ratios (run by hand):
#   bench/du_bench.sh [DIR (default /usr)] [REPS (default 7)] [EVAIO_DU]
set -eu
dir=${1:-/usr}
reps=${2:-7}
tool=${3:-build/default/tools/evaio-du}
[ -x "$tool" ] || { echo "build first: cmake --workflow --preset build" >&2; exit 2; }

secs() { # secs CMD...: wall-clock seconds of one run, output discarded
    s=$(date +%s.%N)
    "$@" > /dev/null 2>&1 || true
    e=$(date +%s.%N)
    awk -v s="$s" -v e="$e" 'BEGIN { printf "%.4f\n", e - s }'
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# Warm the cache, and check the three agree.
want=$(du -s --apparent-size -B1 "$dir" 2>/dev/null | cut -f1)
got=$("$tool" --no-progress "$dir" 2>/dev/null | cut -f1)
n_find=$(find "$dir" 2>/dev/null | wc -l)
n_got=$("$tool" --no-progress --entries "$dir" 2>/dev/null | cut -f1)
echo "$dir: du $want bytes, evaio-du $got bytes; find $n_find entries, evaio-du $n_got entries"

: > /tmp/du_bench.evaio; : > /tmp/du_bench.du; : > /tmp/du_bench.find; : > /tmp/du_bench.evaio1
i=0
while [ $i -lt "$reps" ]; do
    secs "$tool" --no-progress "$dir" >> /tmp/du_bench.evaio
    secs du -s --apparent-size -B1 "$dir" >> /tmp/du_bench.du
    secs find "$dir" >> /tmp/du_bench.find
    secs "$tool" --no-progress -t 1 "$dir" >> /tmp/du_bench.evaio1
    i=$((i + 1))
done
e=$(median < /tmp/du_bench.evaio); e1=$(median < /tmp/du_bench.evaio1)
d=$(median < /tmp/du_bench.du); f=$(median < /tmp/du_bench.find)
printf '%-28s %10s %12s %12s\n' "median of $reps (s)" seconds "vs du -s" "vs find"
for row in "evaio-du (4 threads):$e" "evaio-du (1 thread):$e1" "du -s --apparent-size:$d" "find | wc -l:$f"; do
    name=${row%%:*}; t=${row##*:}
    awk -v n="$name" -v t="$t" -v d="$d" -v f="$f" 'BEGIN { printf "%-28s %10.3f %11.2fx %11.2fx\n", n, t, d / t, f / t }'
done
echo "(ratios: how many times faster than du / find; above 1 is faster)"

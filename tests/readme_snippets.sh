#!/bin/sh
# The C examples in README.md must compile against the real header, so the
# front door cannot drift from the API.  Each ```c block is checked on its
# own, with evaio.h (and the usual libc headers) included first.
#   readme_snippets.sh CC README INCLUDE_DIR...
set -eu
cc=$1 readme=$2
shift 2
incs=
for d in "$@"; do incs="$incs -I$d"; done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

awk -v dir="$tmp" '
  /^```c$/ { n++; file = sprintf("%s/snippet%d.c", dir, n); inside = 1; next }
  /^```/   { inside = 0; next }
  inside   { print > file }
' "$readme"

count=0 failed=0
for f in "$tmp"/snippet*.c; do
  [ -e "$f" ] || break
  count=$((count + 1))
  # shellcheck disable=SC2086
  if ! "$cc" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -fsyntax-only $incs \
      -include evaio.h -include stdio.h -include string.h "$f"; then
    echo "README.md C block $(basename "$f" .c | tr -dc 0-9) does not compile:" >&2
    cat -n "$f" >&2
    failed=$((failed + 1))
  fi
done
[ "$count" -gt 0 ] || { echo "no \`\`\`c blocks found in $readme" >&2; exit 1; }
echo "$count README C blocks checked, $failed failed"
[ "$failed" -eq 0 ]

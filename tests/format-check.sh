#!/usr/bin/env bash
# Formatting is mechanical: every C file must match .clang-format. Prints TAP.
cd "$(dirname "$0")/.." || exit 1
n=0
bad=0
for f in broker/*.[ch] adapters/*.[ch] tools/*.c tools/*/*.[ch] tests/*.c tests/unit/*.[ch] tests/fuzz/*.c; do
  [ -e "$f" ] || continue
  n=$((n + 1))
  if clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "ok $n - $f is formatted"
  else
    bad=$((bad + 1))
    echo "not ok $n - $f differs from clang-format (run clang-format -i $f)"
  fi
done
echo "1..$n"
[ $bad -eq 0 ]

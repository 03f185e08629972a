#!/usr/bin/env bash
# Smoke test of tools/replay: runs the real replay on the committed data (the
# first 1500 jobs, every policy) and checks the CSV has one row per policy with
# 0 violations and the SVG is a whole document. Prints TAP.
set -u
replay=${1:?usage: smoke.sh PATH-TO-REPLAY}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }

"$replay" --jobs 1500 --csv "$dir/r.csv" --svg "$dir/r.svg" --check >"$dir/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then ok "replay --check exits 0"; else notok "replay exited $rc"; fi
sed 's/^/# /' "$dir/out"

policies=$("$replay" --help | sed -n 's/^policies: //p')
np=$(echo "$policies" | wc -w)
if [ "$np" -ge 5 ]; then ok "$np policies listed"; else notok "only $np policies listed"; fi
rows=$(($(wc -l <"$dir/r.csv") - 1))
if [ "$rows" -eq "$np" ]; then ok "csv has $rows rows"; else notok "csv has $rows rows, want $np"; fi
vcol=$(head -1 "$dir/r.csv" | tr ',' '\n' | grep -nx violations | cut -d: -f1)
jcol=$(head -1 "$dir/r.csv" | tr ',' '\n' | grep -nx jobs | cut -d: -f1)
if [ -n "$vcol" ] && [ -n "$jcol" ]; then ok "csv names the violations and jobs columns"; else notok "csv header lacks violations or jobs"; fi
for p in $policies; do
  row=$(awk -F, -v p="$p" 'NR > 1 && $1 == p' "$dir/r.csv")
  if [ -z "$row" ]; then
    notok "csv has no row for $p"
    continue
  fi
  viol=$(echo "$row" | cut -d, -f"${vcol:-1}")
  jobs=$(echo "$row" | cut -d, -f"${jcol:-1}")
  if [ "$viol" = "0" ]; then ok "$p: 0 violations"; else notok "$p: violations $viol"; fi
  if [ "$jobs" = "1500" ]; then ok "$p: 1500 jobs replayed"; else notok "$p: jobs $jobs"; fi
done
if head -c 5 "$dir/r.svg" | grep -q '<?xml' && tail -1 "$dir/r.svg" | grep -qx '</svg>'; then
  ok "svg is a whole document"
else
  notok "svg is incomplete"
fi
if command -v xmllint >/dev/null; then
  if xmllint --noout "$dir/r.svg" 2>/dev/null; then ok "svg is well-formed XML"; else notok "svg is not well-formed"; fi
fi
echo "1..$n"
exit $fail

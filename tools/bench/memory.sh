#!/usr/bin/env bash
# memory.sh — benchmark (not a test) of brokerd's memory and start-up with a large inventory
# (issue 5): RSS (VmRSS, VmHWM from /proc) after start-up and after a warm dry run, and start-up
# time (process start to the port file being written), with MEM_CENTERS centers x MEM_POOLS pools.
#
# The reference, measured in the same run: the same brokerd binary on an empty database (migrated,
# with the built-in catalog and regions and one tenant token, no centers). It runs the same start-up
# path (SQLite open and migrations check, catalog, regions, inventory load, listener, feed
# scheduler), so the ratio isolates what the centers and pools cost. nghttpd idle is printed for
# context only (an HTTP/2 server holding nothing).
#
# The centers are not registered through the API (about a minute per 1,000 with curl): brokerd
# creates and migrates a database once, is stopped, and the centers, their push feeds and pools
# are inserted with the sqlite3 CLI into that database; GET /v1/centers then checks that brokerd
# sees them all. Start-ups alternate empty / full MEM_STARTS times; the medians are reported.
#
# Usage: tools/bench/memory.sh [BUILD_DIR]      (default: build)
# Environment: MEM_CENTERS (10000), MEM_POOLS (4, at most 8), MEM_STARTS (3), MEM_KEEP=1 keeps
# the temp dir. Needs: sqlite3, curl, jq, python3; nghttpd optional.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
BROKERD=$BUILD/brokerd
CENTERS=${MEM_CENTERS:-10000}
POOLS=${MEM_POOLS:-4}
STARTS=${MEM_STARTS:-3}
ADMIN="bench-admin-token-$$-0123456789abcdef"

for tool in sqlite3 curl jq python3; do
  command -v "$tool" >/dev/null || { echo "memory.sh: $tool is not installed" >&2; exit 2; }
done
[ -x "$BROKERD" ] || { echo "memory.sh: no $BROKERD (build first: ninja -C $BUILD)" >&2; exit 2; }
if [ "$POOLS" -lt 1 ] || [ "$POOLS" -gt 8 ]; then echo "memory.sh: MEM_POOLS must be 1..8" >&2; exit 2; fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/suanwang-memory.XXXXXX")
PID=""
NGHTTPD_PID=""
stop() { # stops the brokerd started last
  [ -n "$PID" ] || return 0
  kill -TERM "$PID" 2>/dev/null || true
  timeout 30 tail --pid="$PID" -f /dev/null || kill -KILL "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=""
}
cleanup() {
  set +e
  stop
  if [ -n "$NGHTTPD_PID" ]; then kill "$NGHTTPD_PID" 2>/dev/null; wait "$NGHTTPD_PID" 2>/dev/null; fi
  if [ "${MEM_KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; } # PID FIELD
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Starts brokerd on DB and waits for the port file; sets PID and URL, prints the start-up ms.
start() { # DB LOG
  rm -f "$WORK/port"
  local t0 t1
  t0=$(now_ns)
  SUANWANG_ADMIN_TOKEN="$ADMIN" "$BROKERD" --listen 127.0.0.1:0 --db "$1" \
    --port-file "$WORK/port" >"$2" 2>&1 &
  PID=$!
  while [ ! -s "$WORK/port" ]; do
    kill -0 "$PID" 2>/dev/null || { echo "memory.sh: brokerd exited:" >&2; cat "$2" >&2; exit 1; }
    [ $(($(now_ns) - t0)) -lt 120000000000 ] || { echo "memory.sh: brokerd start timed out" >&2; exit 1; }
    sleep 0.002
  done
  t1=$(now_ns)
  URL="http://127.0.0.1:$(cat "$WORK/port")"
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", (b - a) / 1e6 }'
}
api() { # METHOD PATH BODY TOKEN
  curl -sS --http2-prior-knowledge -X "$1" -H "Authorization: Bearer $4" \
    -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$URL$2"
}

echo "== memory and start-up: brokerd with $CENTERS centers x $POOLS pools vs brokerd on an empty database"

# Two databases created and migrated by brokerd itself, each with a tenant token.
for db in empty full; do
  start "$WORK/$db.db" "$WORK/create-$db.log" >/dev/null
  api POST /v1/tokens '{"role":"tenant","subject":"bench-tenant"}' "$ADMIN" | jq -r .token >"$WORK/$db.token"
  stop
done

# The inventory, written straight into the full database: one push feed per center, POOLS pools
# per center (distinct catalog models), every feed fresh, plenty of free cards.
t0=$(now_ns)
NOW_MS=$(($(date +%s) * 1000))
sqlite3 "$WORK/full.db" <<EOF
PRAGMA foreign_keys = ON;
BEGIN;
CREATE TEMP TABLE n AS WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $CENTERS)
  SELECT i FROM n;
CREATE TEMP TABLE r AS SELECT ROW_NUMBER() OVER (ORDER BY id) - 1 AS j, id FROM regions;
CREATE TEMP TABLE m(j, model, price);
INSERT INTO m VALUES (0, 'H800', 25.0), (1, 'A100', 10.5), (2, 'H20', 12.0), (3, 'Ascend910B', 9.5),
  (4, 'MLU370-X8', 3.2), (5, 'L40S', 4.8), (6, 'A800', 11.0), (7, 'BR100', 9.0);
CREATE TEMP TABLE k AS SELECT j AS k FROM m WHERE j < $POOLS;
INSERT INTO centers (id, name, operator, region, status, labels, staleness_s, created_at, updated_at)
  SELECT printf('mem-%06d', i), printf('memory bench center %d', i), 'bench-op',
         (SELECT id FROM r WHERE j = i % (SELECT COUNT(*) FROM r)), 'active',
         CASE WHEN i % 5 = 0 THEN '{"tier":"gold"}' ELSE '{}' END, 86400, $NOW_MS, $NOW_MS
  FROM n;
INSERT INTO feeds (center, idx, adapter, mode, interval_s, last_success, pools_seen)
  SELECT printf('mem-%06d', i), 0, 'native', 'push', 60, $NOW_MS, $POOLS FROM n;
CREATE TEMP TABLE p AS
  SELECT printf('mem-%06d', i) AS center, m.model AS model,
         512 << ((i * 7 + k * 3) % 4) AS total, m.price * (0.8 + ((i * 31 + k * 17) % 50) / 100.0) AS price,
         i, k
  FROM n CROSS JOIN k JOIN m ON m.j = (i + 2 * k) % 8;
INSERT INTO feed_pools (center, idx, model, has_counts, total, free, largest_block, has_price, price,
                        currency, observed_at)
  SELECT center, 0, model, 1, total, total / 2 + (i * 13 + k) % (total / 2), 8, 1, round(price, 2),
         'CNY', $NOW_MS FROM p;
INSERT INTO pools (center, model, total, free, largest_block, price, currency, observed_at)
  SELECT center, model, total, free, largest_block, price, currency, observed_at FROM feed_pools;
COMMIT;
EOF
echo "  inserted with sqlite3 in $(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s; database $(du -sh "$WORK/full.db" | cut -f1)"

# Start-ups, alternating, so a burst of load elsewhere hits both.
: >"$WORK/up-empty"
: >"$WORK/up-full"
for _ in $(seq 1 "$STARTS"); do
  for db in empty full; do
    start "$WORK/$db.db" "$WORK/$db.log" >>"$WORK/up-$db"
    stop
  done
done

QUOTE='{"precision":"bf16","cards":8,"hours":24,"origin":"cn-shanghai","dry_run":true}'
declare -A UP RSS0 RSS1 RSS2 HWM FIRST WARM
timed_dry() { # TOKEN OUT: a dry run, prints curl's total time in s
  curl -sS --http2-prior-knowledge -o "$2" -w '%{time_total}' -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' --data-binary "$QUOTE" "$URL/v1/placements"
}
for db in empty full; do
  UP[$db]=$(median <"$WORK/up-$db")
  start "$WORK/$db.db" "$WORK/$db.log" >/dev/null
  sleep 0.5 # let start-up finish whatever follows the port file
  RSS0[$db]=$(status_kb "$PID" VmRSS)
  tok=$(cat "$WORK/$db.token")
  # The first dry run pays for what start-up left lazy (the first decision on a new inventory
  # also stores its routing inputs); the second is the warm one.
  FIRST[$db]=$(timed_dry "$tok" "$WORK/dry-$db-1.json")
  RSS1[$db]=$(status_kb "$PID" VmRSS)
  WARM[$db]=$(timed_dry "$tok" "$WORK/dry-$db.json")
  RSS2[$db]=$(status_kb "$PID" VmRSS)
  HWM[$db]=$(status_kb "$PID" VmHWM)
  if [ "$db" = full ]; then
    api GET /v1/centers "" "$tok" >"$WORK/centers.json"
    jq -r '"  brokerd shows \(.centers | length) centers, \([.centers[].pools[]] | length) pools, \([.centers[].pools[].free] | add) free cards"' "$WORK/centers.json"
    n=$(jq '.centers | length' "$WORK/centers.json")
    [ "$n" = "$CENTERS" ] || { echo "memory.sh: brokerd shows $n centers, not $CENTERS" >&2; exit 1; }
  fi
  echo "  $db: dry run answers $(jq -c '{state: (.state // .title // .type), pieces: [(.pieces // [])[] | {center, model, cards}]}' "$WORK/dry-$db.json" 2>/dev/null || head -c 200 "$WORK/dry-$db.json")"
  stop
done

NG_RSS="-"
if command -v nghttpd >/dev/null; then
  mkdir -p "$WORK/www"
  cp "$WORK/dry-full.json" "$WORK/www/quote.json"
  NPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  nghttpd --no-tls -d "$WORK/www" "$NPORT" >"$WORK/nghttpd.log" 2>&1 &
  NGHTTPD_PID=$!
  for _ in $(seq 1 100); do
    curl -s --http2-prior-knowledge -o /dev/null "http://127.0.0.1:$NPORT/quote.json" && break
    sleep 0.05
  done
  NG_RSS=$(status_kb "$NGHTTPD_PID" VmRSS)
  kill "$NGHTTPD_PID"; wait "$NGHTTPD_PID" 2>/dev/null || true
  NGHTTPD_PID=""
fi

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
row() { printf '  %-38s %10s %10s %8s\n' "$1" "$2" "$3" "$4"; }
NP=$((CENTERS * POOLS))
echo
echo "== results (MiB, ms; ratio full / empty)"
row "" "empty db" "$CENTERS x $POOLS" ratio
row "start-up to port file (median ms)" "${UP[empty]}" "${UP[full]}" "$(ratio "${UP[full]}" "${UP[empty]}")"
row "VmRSS after start-up" "$(mib "${RSS0[empty]}")" "$(mib "${RSS0[full]}")" "$(ratio "${RSS0[full]}" "${RSS0[empty]}")"
row "VmRSS after the first dry run" "$(mib "${RSS1[empty]}")" "$(mib "${RSS1[full]}")" "$(ratio "${RSS1[full]}" "${RSS1[empty]}")"
row "VmRSS after a warm dry run" "$(mib "${RSS2[empty]}")" "$(mib "${RSS2[full]}")" "$(ratio "${RSS2[full]}" "${RSS2[empty]}")"
row "VmHWM (peak RSS) at the end" "$(mib "${HWM[empty]}")" "$(mib "${HWM[full]}")" "$(ratio "${HWM[full]}" "${HWM[empty]}")"
row "first dry run (ms, curl total)" "$(ms "${FIRST[empty]}")" "$(ms "${FIRST[full]}")" "$(ratio "${FIRST[full]}" "${FIRST[empty]}")"
row "warm dry run (ms, curl total)" "$(ms "${WARM[empty]}")" "$(ms "${WARM[full]}")" "$(ratio "${WARM[full]}" "${WARM[empty]}")"
echo "  per pool: $(awk -v a="${RSS2[full]}" -v b="${RSS2[empty]}" -v n="$NP" 'BEGIN { printf "%.0f", (a - b) * 1024 / n }') bytes of RSS after a warm dry run, $(awk -v a="${HWM[full]}" -v b="${HWM[empty]}" -v n="$NP" 'BEGIN { printf "%.0f", (a - b) * 1024 / n }') of peak RSS, above the empty database ($NP pools)"
echo "  start-up runs (ms): empty $(tr '\n' ' ' <"$WORK/up-empty")| full $(tr '\n' ' ' <"$WORK/up-full")"
echo "  context: nghttpd idle VmRSS $( [ "$NG_RSS" = - ] && echo - || echo "$(mib "$NG_RSS") MiB")"
echo "command: MEM_CENTERS=$CENTERS MEM_POOLS=$POOLS MEM_STARTS=$STARTS tools/bench/memory.sh $BUILD"

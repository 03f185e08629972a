#!/usr/bin/env bash
# placements.sh — benchmark of POST /v1/placements against the transport ceiling (SPEC §7,
# issue 3). Not a test: it prints numbers and ratios, and fails only if it cannot run.
#
# In one run on one machine:
#   1. brokerd on a fresh temp database with 1,000 centers registered through the API, each
#      with a native push feed of 1-3 pools (plenty of capacity: no request is refused);
#   2. nghttpd --no-tls serving a small static JSON file (about the size of a quote);
#   3. h2load with the same client settings against
#        nghttpd          POST the same body to the static file (nghttpd ignores it),
#        dry runs         POST /v1/placements {"dry_run":true}: route + record the decision,
#        durable holds    POST /v1/placements: route + decision + hold in one transaction,
#                         committed (WAL, synchronous=FULL) before the answer. Hold-only: every
#                         hold is 1 card and the 1,000 centers have ~1.5 million free cards, so
#                         nothing is refused;
#        hold+release     BENCH_PAIRS (3000) holds, then their releases (see below);
#   and prints req/s for each and the ratios (issue 3 goal: dry runs >= 0.5 x nghttpd,
#   durable holds >= 0.25 x nghttpd).
#
# Usage: tools/bench/placements.sh [BUILD_DIR]     (default: build)
# Environment: BENCH_CLIENTS (10), BENCH_STREAMS (10), BENCH_SECONDS (10, per h2load run,
# after BENCH_WARMUP 2 s), BENCH_CENTERS (1000), BENCH_PERF=1 to also record a perf profile
# of brokerd during each broker run (perf report text next to the numbers), BENCH_KEEP=1 to keep
# the temp dir (database, logs, perf data).
# Needs: h2load, nghttpd (nghttp2-client, nghttp2-server), curl, jq, python3.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
BROKERD=$BUILD/brokerd
CLIENTS=${BENCH_CLIENTS:-10}
STREAMS=${BENCH_STREAMS:-10}
SECONDS_RUN=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
CENTERS=${BENCH_CENTERS:-1000}

for tool in h2load nghttpd curl jq python3 sqlite3; do
  command -v "$tool" >/dev/null || { echo "placements.sh: $tool is not installed" >&2; exit 2; }
done
[ -x "$BROKERD" ] || { echo "placements.sh: no $BROKERD (build first: ninja -C $BUILD)" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/suanwang-bench.XXXXXX")
BROKER_PID=""
NGHTTPD_PID=""
cleanup() {
  set +e
  if [ -n "$BROKER_PID" ]; then
    kill "$BROKER_PID" 2>/dev/null
    timeout 30 tail --pid="$BROKER_PID" -f /dev/null || {
      echo "brokerd did not exit within 30 s of SIGTERM; killing it" >&2
      kill -KILL "$BROKER_PID"
    }
    wait "$BROKER_PID" 2>/dev/null
  fi
  if [ -n "$NGHTTPD_PID" ]; then
    kill "$NGHTTPD_PID" 2>/dev/null
    wait "$NGHTTPD_PID" 2>/dev/null
  fi
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ADMIN="bench-admin-token-$$-0123456789abcdef"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

echo "== machine"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "nproc:   $(nproc)"
echo "cpu:     $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "kernel:  $(uname -sr)"
echo "memory:  $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min; other work shares this machine)"
echo "tmp fs:  $(df -T "$WORK" | awk 'NR == 2 { print $2 " on " $1 }')"
echo "h2load:  $(h2load --version | head -n 1)"
echo "brokerd: $BROKERD ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown))"

# ---- brokerd with 1,000 centers -------------------------------------------------------------
echo
echo "== setup: brokerd, $CENTERS centers with pushed native feeds"
SUANWANG_ADMIN_TOKEN="$ADMIN" "$BROKERD" --listen 127.0.0.1:0 --db "$WORK/bench.db" \
  --port-file "$WORK/port" >"$WORK/brokerd.log" 2>&1 &
BROKER_PID=$!
for _ in $(seq 1 200); do [ -s "$WORK/port" ] && break; sleep 0.05; done
[ -s "$WORK/port" ] || { echo "brokerd did not start:"; cat "$WORK/brokerd.log"; exit 1; }
URL="http://127.0.0.1:$(cat "$WORK/port")"
api() { # METHOD PATH BODY TOKEN
  curl -sS --http2-prior-knowledge -X "$1" -H "Authorization: Bearer $4" \
    -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$URL$2"
}
OP=$(api POST /v1/tokens '{"role":"operator","subject":"bench-op"}' "$ADMIN" | jq -r .token)
TEN=$(api POST /v1/tokens '{"role":"tenant","subject":"bench-tenant"}' "$ADMIN" | jq -r .token)
REGIONS=$(api GET /v1/regions "" "$TEN" | jq -r '[.regions[].id] | join(",")')

# Register the centers and push their feeds, 8 curl processes at a time (curl 7.88 cannot
# reuse an h2 prior-knowledge connection for a second transfer, so -K/--parallel is out).
t0=$(date +%s.%N)
python3 - "$CENTERS" "$REGIONS" "$URL" "$OP" <<'EOF'
import collections, concurrent.futures, json, random, subprocess, sys
n, regions, url, op = int(sys.argv[1]), sys.argv[2].split(","), sys.argv[3], sys.argv[4]
models = [("H800", 28.5), ("A100", 9.8), ("H20", 12.0), ("Ascend910B", 8.0), ("MLU370-X8", 5.5),
          ("L40S", 6.0), ("A800", 11.0), ("C500", 7.0)]
def post(path, body):
    p = subprocess.run(["curl", "-s", "--http2-prior-knowledge", "-o", "/dev/null", "-w",
                        "%{http_code}", "-H", "Authorization: Bearer " + op, "-H",
                        "Content-Type: application/json", "--data-binary", json.dumps(body),
                        url + path], capture_output=True, text=True)
    return p.stdout or "000"
def center(i):
    cid = "bench-%04d" % i
    r = random.Random(i)
    pools = []
    for model, price in r.sample(models, r.randint(1, 3)):
        total = r.choice([512, 1024, 2048])
        free = total // 2 + r.randint(0, total // 2)
        pools.append({"model": model, "total": total, "free": free, "largest_block": free,
                      "price_per_card_hour": round(price * r.uniform(0.8, 1.3), 2)})
    a = post("/v1/centers", {"id": cid, "name": "bench center %d" % i, "operator": "bench-op",
                             "region": regions[i % len(regions)], "status": "active",
                             "labels": {}, "staleness_s": 86400,
                             "feeds": [{"adapter": "native", "mode": "push"}]})
    b = post("/v1/centers/%s/feed" % cid, {"center": cid, "pools": pools})
    return a, b
with concurrent.futures.ThreadPoolExecutor(8) as ex:
    res = list(ex.map(center, range(n)))
print("  POST /v1/centers:", dict(collections.Counter(a for a, _ in res)))
print("  POST feed:       ", dict(collections.Counter(b for _, b in res)))
EOF
echo "  setup took $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
api GET /v1/centers "" "$TEN" | jq -r '"  centers: \(.centers | length), pools: \([.centers[].pools[]] | length), free cards: \([.centers[].pools[].free] | add)"'

QUOTE='{"precision":"bf16","cards":1,"hours":1,"origin":"cn-shanghai","dry_run":true}'
HOLD='{"precision":"bf16","cards":1,"hours":1,"origin":"cn-shanghai","hold_seconds":3600}'
printf '%s' "$QUOTE" >"$WORK/quote.json"
printf '%s' "$HOLD" >"$WORK/hold.json"
echo "  a dry run answers: $(api POST /v1/placements "$QUOTE" "$TEN" | jq -c '{state, pieces: [.pieces[] | {center, model, cards}]}')"
# The static file nghttpd serves: a real quote, so both answers are about the same size.
mkdir -p "$WORK/www"
api POST /v1/placements "$QUOTE" "$TEN" >"$WORK/www/quote.json"
echo "  static file: $(wc -c <"$WORK/www/quote.json") bytes (a quote)"

# ---- nghttpd --------------------------------------------------------------------------------
NPORT=$(free_port)
nghttpd --no-tls -d "$WORK/www" "$NPORT" >"$WORK/nghttpd.log" 2>&1 &
NGHTTPD_PID=$!
for _ in $(seq 1 100); do
  curl -s --http2-prior-knowledge -o /dev/null "http://127.0.0.1:$NPORT/quote.json" && break
  sleep 0.05
done

H2LOAD_ARGS=(-c "$CLIENTS" -m "$STREAMS" -t 1 -D "$SECONDS_RUN" --warm-up-time "$WARMUP")
declare -A RPS
run() { # NAME URL BODY-FILE [extra h2load args]
  local name=$1 url=$2 body=$3
  shift 3
  local cmd=(h2load "${H2LOAD_ARGS[@]}" -d "$body" -H 'content-type: application/json' "$@" "$url")
  echo
  echo "== $name"
  echo "\$ ${cmd[*]//$TEN/\$TENANT_TOKEN}"
  if [ "${BENCH_PERF:-0}" = 1 ] && [ "$name" != nghttpd ]; then
    perf record -F 299 --call-graph dwarf,16384 -o "$WORK/perf-$name.data" -p "$BROKER_PID" -- \
      sleep $((WARMUP + SECONDS_RUN)) >/dev/null 2>&1 &
    local perf_pid=$!
  fi
  timeout $((WARMUP + SECONDS_RUN + 60)) "${cmd[@]}" >"$WORK/h2load-$name.txt" 2>&1 || true
  grep -E '^(finished in|requests:|status codes:)' "$WORK/h2load-$name.txt" | sed 's/^/  /'
  RPS[$name]=$(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' "$WORK/h2load-$name.txt")
  if [ -n "${perf_pid:-}" ]; then
    wait "$perf_pid" || true
    echo "  perf (brokerd, self time, top 20):"
    timeout 300 perf report -i "$WORK/perf-$name.data" --no-children --no-inline -g none \
      --stdio --sort dso,symbol 2>/dev/null >"$WORK/perf-$name.txt" || true
    grep -E '^ +[0-9]' "$WORK/perf-$name.txt" | sed -n '1,20s/^/    /p'
    echo "  perf (brokerd, inclusive time, named functions, top 40):"
    timeout 300 perf report -i "$WORK/perf-$name.data" --children --no-inline -g none \
      --stdio --sort symbol 2>/dev/null >"$WORK/perf-$name-children.txt" || true
    grep -E '^ +[0-9]' "$WORK/perf-$name-children.txt" | grep -v '\] 0x' | sed -n '1,40s/^/    /p'
    unset perf_pid
  fi
}
run nghttpd "http://127.0.0.1:$NPORT/quote.json" "$WORK/quote.json"
# brokerd's own ceiling: the same HTTP/2 server answering GET /healthz (one database read; no
# token, routing or record), so the figures below split into transport and the work of a placement.
H2LOAD_GET=(h2load "${H2LOAD_ARGS[@]}")
echo
echo "== healthz"
echo "\$ ${H2LOAD_GET[*]} $URL/healthz"
timeout $((WARMUP + SECONDS_RUN + 60)) "${H2LOAD_GET[@]}" "$URL/healthz" >"$WORK/h2load-healthz.txt" 2>&1 || true
grep -E '^(finished in|requests:|status codes:)' "$WORK/h2load-healthz.txt" | sed 's/^/  /'
RPS[healthz]=$(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' "$WORK/h2load-healthz.txt")
run dry-run "$URL/v1/placements" "$WORK/quote.json" -H "authorization: Bearer $TEN"
run hold "$URL/v1/placements" "$WORK/hold.json" -H "authorization: Bearer $TEN"

# Durable holds and their releases: N holds, then the same N placements released, each
# release a durable state change too. h2load cannot chain a request on an answer, so the two
# are separate runs: the holds with the same settings as above, the releases with -i (one URI
# per placement) over one connection with the same number of streams in flight (with -i every
# client walks the list from its start, so more clients would release the same placements).
PAIRS=${BENCH_PAIRS:-3000}
echo
echo "== hold+release ($PAIRS of each)"
h2load -c "$CLIENTS" -m "$STREAMS" -t 1 -n "$PAIRS" -d "$WORK/hold.json" \
  -H 'content-type: application/json' -H "authorization: Bearer $TEN" "$URL/v1/placements" \
  >"$WORK/h2load-pair-hold.txt" 2>&1 || true
sqlite3 "$WORK/bench.db" "SELECT id FROM placements WHERE state = 'held' ORDER BY created_at DESC LIMIT $PAIRS" |
  sed "s|^|$URL/v1/placements/|; s|\$|/release|" >"$WORK/release-urls.txt"
printf '{}' >"$WORK/empty.json"
h2load -c 1 -m $((CLIENTS * STREAMS)) -t 1 -n "$(wc -l <"$WORK/release-urls.txt")" \
  -i "$WORK/release-urls.txt" -d "$WORK/empty.json" -H 'content-type: application/json' \
  -H "authorization: Bearer $TEN" >"$WORK/h2load-pair-release.txt" 2>&1 || true
secs() { sed -n 's/^finished in \([0-9.]*\)\(m*s\),.*/\1 \2/p' "$1" | awk '{ print ($2 == "ms") ? $1 / 1000 : $1 }'; }
t_hold=$(secs "$WORK/h2load-pair-hold.txt")
t_rel=$(secs "$WORK/h2load-pair-release.txt")
for f in pair-hold pair-release; do
  grep -E '^(finished in|requests:|status codes:)' "$WORK/h2load-$f.txt" | sed "s/^/  $f: /"
done
echo "\$ h2load -c $CLIENTS -m $STREAMS -t 1 -n $PAIRS -d hold.json … /v1/placements; h2load -c 1 -m $((CLIENTS * STREAMS)) -t 1 -n $PAIRS -i release-urls.txt -d empty.json"
if [ -n "$t_hold" ] && [ -n "$t_rel" ]; then
  RPS[pair]=$(awk -v n="$PAIRS" -v a="$t_hold" -v b="$t_rel" 'BEGIN { printf "%.2f", 2 * n / (a + b) }')
  echo "  $PAIRS holds in ${t_hold} s, their releases in ${t_rel} s: ${RPS[pair]} req/s over both"
fi

echo
echo "== after the runs"
api GET /v1/centers "" "$TEN" | jq -r '"  held cards: \([.centers[].pools[].held] | add), decisions recorded: see brokerd log"'
echo "  database: $(du -sh "$WORK"/bench.db* | awk '{ printf "%s %s  ", $2, $1 }')"

echo
echo "== results (req/s; ratio to nghttpd; goal)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.5f", a / b }'; }
n=${RPS[nghttpd]:-0}
printf '  %-14s %12s\n' nghttpd "$n"
if [ -n "$n" ] && [ "$n" != 0 ]; then
  printf '  %-14s %12s  %6s x  (goal >= 0.5)\n' "dry runs" "${RPS[dry-run]:-?}" "$(ratio "${RPS[dry-run]:-0}" "$n")"
  printf '  %-14s %12s  %6s x  (goal >= 0.25)\n' "durable holds" "${RPS[hold]:-?}" "$(ratio "${RPS[hold]:-0}" "$n")"
  printf '  %-14s %12s  %6s x  (goal >= 0.25)\n' "hold+release" "${RPS[pair]:-?}" "$(ratio "${RPS[pair]:-0}" "$n")"
  printf '  %-14s %12s  %6s x  (brokerd GET /healthz: its HTTP/2 ceiling)\n' "healthz" "${RPS[healthz]:-?}" "$(ratio "${RPS[healthz]:-0}" "$n")"
fi
h=${RPS[healthz]:-0}
if [ -n "$h" ] && [ "$h" != 0 ]; then
  printf '  %-14s %12s  %6s x of brokerd /healthz\n' "dry/healthz" "${RPS[dry-run]:-?}" "$(ratio "${RPS[dry-run]:-0}" "$h")"
  printf '  %-14s %12s  %6s x of brokerd /healthz\n' "holds/healthz" "${RPS[hold]:-?}" "$(ratio "${RPS[hold]:-0}" "$h")"
fi

#!/usr/bin/env bash
# Benchmark (not a test): feed ingestion of many centers from the demo feed server
# over HTTP/2, next to h2load fetching the same documents from the same server in
# the same run. Prints the time until every center has pools, the steady-state
# polls/s and brokerd's CPU share, h2load's time for the same documents, and the
# ratio (goal: brokerd within 2x of h2load, on one core).
#   tools/bench/ingest.sh [BUILD_DIR] [CENTERS] [STEADY_SECONDS]
set -euo pipefail
trap 'echo "ingest.sh: \"$BASH_COMMAND\" failed (exit $?) at line $LINENO" >&2' ERR
cd "$(dirname "$0")/../.."
B=${1:-build}
N=${2:-1000}
STEADY=${3:-20}
W=$(mktemp -d /tmp/suanwang-bench.XXXXXX)
ADMIN="bench-admin-token-0123456789"
trap 'kill $FS $BD 2>/dev/null || true; wait 2>/dev/null; rm -rf "$W"' EXIT
FS=""
BD=""

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
now_ms() { date +%s%3N; }

# TLS=1: the feeds are https:// (h2 over TLS with ALPN; libcurl multiplexes them over the
# connections it keeps), with a certificate made here and trusted through feed_ca_file;
# otherwise h2c with prior knowledge (brokerd's own HTTP/2 client: one connection, many streams).
TLS=${TLS:-0}
FS_TLS=()
SCHEME=http
CURL_H2=(--http2-prior-knowledge)
H2C=true
CA_JSON=""
if [ "$TLS" = 1 ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$W/key.pem" -out "$W/cert.pem" >/dev/null 2>&1
  FS_TLS=(--tls-cert "$W/cert.pem" --tls-key "$W/key.pem")
  SCHEME=https
  CURL_H2=(--http2 --cacert "$W/cert.pem")
  H2C=false
  CA_JSON=",\"feed_ca_file\":\"$W/cert.pem\""
fi
"$B/feedserver" --no-demo --centers "$N" --pools 4 "${FS_TLS[@]}" --port-file "$W/fs.port" 2>"$W/fs.log" &
FS=$!
for _ in $(seq 100); do [ -s "$W/fs.port" ] && break; sleep 0.05; done
FP=$(cat "$W/fs.port")

# Register the centers (pull feeds every INTERVAL s) on a first run of brokerd.
INTERVAL=5
SUANWANG_ADMIN_TOKEN=$ADMIN "$B/brokerd" --db "$W/b.db" --listen 127.0.0.1:0 \
  --port-file "$W/bd.port" 2>"$W/bd0.log" &
BD=$!
for _ in $(seq 100); do [ -s "$W/bd.port" ] && break; sleep 0.05; done
P=$(cat "$W/bd.port")
curl -s "${CURL_H2[@]}" "$SCHEME://127.0.0.1:$FP/centers" >"$W/centers.json"
jq -c --arg fp "$FP" --argjson iv "$INTERVAL" --arg scheme "$SCHEME" --argjson h2c "$H2C" '.centers[] | {id, name: .id, operator: "bench",
  region, feeds: [{adapter: "native", url: ($scheme + "://127.0.0.1:" + $fp + .native), h2c: $h2c,
  interval_s: $iv}]}' "$W/centers.json" >"$W/bodies.jsonl"
while read -r body; do
  curl -s -o /dev/null --http2-prior-knowledge -H "Authorization: Bearer $ADMIN" \
    -d "$body" "http://127.0.0.1:$P/v1/centers"
done <"$W/bodies.jsonl"
kill -TERM $BD; wait $BD || true
# reset_db: every center without pools and never polled, as before a first start.
reset_db() {
  sqlite3 "$W/b.db" "DELETE FROM feed_pools; DELETE FROM pools; UPDATE feeds SET last_success = NULL;"
}
reset_db

# Cold start: time from process start until every center has its pools, read from the line
# brokerd logs (with its time stamp) once the first poll of every pull feed has ended, so that
# watching for it costs brokerd nothing; the database must then hold the pools of all N
# centers. SPREAD (seconds, default 0 here) is feed_first_poll_spread_s: how far the first
# polls are spread (brokerd's default is 1 s, so a restart does not hit every center in the
# same instant).
SPREAD=${SPREAD:-0}
printf '{"feed_first_poll_spread_s":%s%s}' "$SPREAD" "$CA_JSON" >"$W/cfg.json"
READY="every pull feed has been polled once"
# RUNS cold starts (5 unless set), each from an empty inventory and each followed at once by
# h2load fetching the same documents from the same feed server (brokerd stopped), so that each
# pair shares the machine's conditions of the moment; the medians and the median of the pairs'
# ratios are reported.
RUNS=${RUNS:-5}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
jq -r --arg fp "$FP" --arg scheme "$SCHEME" '.centers[] | $scheme + "://127.0.0.1:" + $fp + .native' "$W/centers.json" >"$W/urls.txt"
T_INGEST=()
T_FEEDS=()
H2MS=()
H2WALL=()
R_WALL=()
R_COLD=()
R_FEEDS=()
# settle: before each timed run, the previous step's writes (the database reset, brokerd's
# checkpoint at exit) go to the disk, so that neither side is timed while the kernel writes
# them back.
settle() {
  sync
  sleep 0.3
}
# cold_start: starts brokerd on the emptied inventory and waits for its ready line (in $line).
cold_start() {
  # The log is emptied here, before the new brokerd starts: the redirection below opens it
  # in the child, and until then the wait would read the previous run's ready line.
  rm -f "$W/bd.port"
  : >"$W/bd.log"
  t0=$(now_ms)
  SUANWANG_ADMIN_TOKEN=$ADMIN "$B/brokerd" --db "$W/b.db" --listen 127.0.0.1:0 \
    --config "$W/cfg.json" --port-file "$W/bd.port" 2>"$W/bd.log" &
  BD=$!
  # The wait does not poll: tail follows the log (through inotify on a local file system), so
  # it takes no CPU from brokerd and the feed server while they work, as a loop running grep
  # every 10 ms did on these two cores. tail ends with brokerd (--pid).
  if ! timeout --foreground 120 grep -q -m1 "$READY" < <(exec tail -n +1 -f --pid=$BD "$W/bd.log"); then
    kill -0 $BD 2>/dev/null && { echo "timed out waiting for: $READY"; exit 1; }
    echo "brokerd exited:"
    cat "$W/bd.log"
    exit 1
  fi
  line=$(grep -m1 "$READY" "$W/bd.log")
}
for run in $(seq "$RUNS"); do
  reset_db
  settle
  cold_start
  t_cold=$(($(date -d "${line%% *}" +%s%3N) - t0))
  t_feeds=$(echo "$line" | sed -n 's/.* \([0-9]*\) ms after the scheduler started.*/\1/p')
  have=$(sqlite3 "$W/b.db" "SELECT COUNT(DISTINCT center) FROM pools")
  failed=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
  if [ "$have" -ne "$N" ] || [ "$failed" != 0 ]; then
    echo "brokerd was ready with $have of $N centers holding pools ($failed feeds failed)"
    exit 1
  fi
  kill -TERM $BD; wait $BD || true
  BD=""
  settle
  h0=$(now_ms)
  h2out=$(h2load -i "$W/urls.txt" -n "$N" -c 10 -m 10 2>&1)
  h2wall=$(($(now_ms) - h0))
  h2ms=$(echo "$h2out" | sed -n 's/^finished in \([0-9.]*\)\(m*s\),.*/\1 \2/p' | awk '{ if ($2 == "ms") print $1; else print $1 * 1000 }')
  h2ok=$(echo "$h2out" | sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p')
  [ "$h2ok" = "$N" ] || { echo "h2load: only $h2ok of $N documents"; exit 1; }
  T_INGEST+=("$t_cold")
  T_FEEDS+=("$t_feeds")
  H2MS+=("$h2ms")
  H2WALL+=("$h2wall")
  R_COLD+=("$(echo "scale=3; $t_cold / $h2ms" | bc)")
  R_WALL+=("$(echo "scale=3; $t_cold / $h2wall" | bc)")
  R_FEEDS+=("$(echo "scale=3; $t_feeds / $h2ms" | bc)")
done
t_ingest=$(printf '%s\n' "${T_INGEST[@]}" | median)
t_feeds=$(printf '%s\n' "${T_FEEDS[@]}" | median)
h2ms=$(printf '%s\n' "${H2MS[@]}" | median)
r_cold=$(printf '%s\n' "${R_COLD[@]}" | median)
r_feeds=$(printf '%s\n' "${R_FEEDS[@]}" | median)
h2wall=$(printf '%s\n' "${H2WALL[@]}" | median)
r_wall=$(printf '%s\n' "${R_WALL[@]}" | median)

# Steady state: one more start, then polls per second (documents the feed server served in the
# window) and brokerd's CPU share over STEADY seconds.
reset_db
cold_start
served() { curl -s "${CURL_H2[@]}" "$SCHEME://127.0.0.1:$FP/stats" | jq .served; }
c0=$(ticks $BD)
n0=$(served)
sleep "$STEADY"
c1=$(ticks $BD)
n1=$(served)
hz=$(getconf CLK_TCK)
cpu=$(echo "scale=1; 100 * ($c1 - $c0) / $hz / $STEADY" | bc)
polls=$(echo "scale=1; ($n1 - $n0) / $STEADY" | bc)
kill -TERM $BD; wait $BD || true
BD=""
kill -TERM $FS; wait $FS || true
FS=""
echo "== feed ingestion: $N centers x 4 pools over $([ "$TLS" = 1 ] && echo "h2 with TLS" || echo h2c) from tools/feedserver"
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "brokerd: cold start to all $N centers with pools: ${t_ingest} ms, median of $RUNS: ${T_INGEST[*]} (feed_first_poll_spread_s=$SPREAD; includes start-up)"
echo "brokerd: of which ingestion (first poll started to every pool stored): ${t_feeds} ms, median of $RUNS: ${T_FEEDS[*]}"
echo "brokerd: steady state ${STEADY}s with interval_s=$INTERVAL: $polls polls/s, CPU ${cpu}% of one core"
echo "h2load:  $N documents in ${h2ms} ms, median of $RUNS: ${H2MS[*]} (h2load -i urls -n $N -c 10 -m 10, each after a cold start)"
echo "ratio (brokerd cold ingest / h2load, reused connections): $(echo "scale=2; $t_ingest / $h2ms" | bc)"
echo "ratio (brokerd ingestion alone / h2load, reused connections): $(echo "scale=2; $t_feeds / $h2ms" | bc)"
echo "h2load from process start to exit (as brokerd's cold start, which includes its own): ${h2wall} ms, median of $RUNS: ${H2WALL[*]}"
echo "ratio, paired (median of the $RUNS runs' own ratios): cold ingest $r_cold (${R_COLD[*]}), ingestion alone $r_feeds (${R_FEEDS[*]})"
echo "ratio, paired, both from process start (brokerd cold / h2load process): $r_wall (${R_WALL[*]})"
# The goal's comparison: each side timed from its own start (brokerd: exec to all pools stored;
# h2load: exec to all documents fetched), so that neither's start-up is left out.
worst=$(printf '%s\n' "${R_WALL[@]}" | sort -n | tail -n 1)
verdict=$(echo "$r_wall < 2" | bc)
echo "goal (within 2x of h2load's time, each timed from its own start): $r_wall, median of $RUNS pairs ($([ "$verdict" = 1 ] && echo met || echo "not met"); worst pair $worst)"
echo "command: TLS=$TLS SPREAD=$SPREAD RUNS=$RUNS tools/bench/ingest.sh $B $N $STEADY"

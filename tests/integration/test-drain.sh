#!/usr/bin/env bash
# SIGTERM drains (issue 3): brokerd sends GOAWAY, refuses new connections, finishes every
# stream it started (each processed request gets its complete answer, and nothing is processed
# unanswered), gives up on stalled streams at its deadline and exits 0. Its log has one line
# per request with the stream id and never a token.
# Run A: h2load durable holds + a slow upload + an idle connection + a stalled upload, SIGTERM.
# Run B: h2load alone, SIGTERM: the daemon is gone as soon as the clients are.
. "$(dirname "$0")/lib.sh"

H2RAW="$(dirname "$0")/h2raw.py"
for tool in python3 h2load jq; do
  if ! command -v "$tool" >/dev/null; then
    echo "1..0 # SKIP $tool is not installed"
    exit 0
  fi
done

# h2stat FILE FIELD: the count in front of FIELD in h2load's "requests:"/"status codes:" lines.
h2stat() {
  sed -n 's/^requests: //p; s/^status codes: //p' "$1" | tr ',' '\n' |
    awk -v f="$2" '$2 == f { print $1 }' | head -n 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
le() { awk -v x="$1" -v y="$2" 'BEGIN { exit !(x <= y) }'; } # le X Y: X <= Y

start_broker || { ok 1 "brokerd starts"; done_testing; }
PORT=$(cat "$WORK/port")
OP=$(token operator op1)
TEN=$(token tenant acme)
BOGUS="bogus-token-$$-never-issued-0123456789"
expect POST /v1/centers "$(center_doc sh-1 cn-shanghai)" "$OP" 201 "register sh-1"
expect POST /v1/centers/sh-1/feed "$(feed_doc sh-1 H800:100000:100000:28.5)" "$OP" 200 \
  "push a feed with plenty of capacity"
expect GET /v1/centers "" "$BOGUS" 401 "an unknown token is refused (and must not be logged)"
HOLD='{"precision":"bf16","cards":1,"hours":1,"origin":"cn-shanghai","hold_seconds":3600}'
printf '%s' "$HOLD" >"$WORK/hold.json"

# ---- run A -------------------------------------------------------------------------------
H2RAW_READY="$WORK/idle.ready" timeout 40 python3 "$H2RAW" 127.0.0.1 "$PORT" idle 30 \
  >"$WORK/idle.json" 2>&1 &
IDLE=$!
H2RAW_READY="$WORK/stall.ready" timeout 40 python3 "$H2RAW" 127.0.0.1 "$PORT" stall \
  /v1/placements "$TEN" 30 >"$WORK/stall.json" 2>&1 &
STALL=$!
for _ in $(seq 1 100); do
  [ -e "$WORK/idle.ready" ] && [ -e "$WORK/stall.ready" ] && break
  sleep 0.1
done
ok "$([ -e "$WORK/idle.ready" ] && [ -e "$WORK/stall.ready" ]; echo $?)" \
  "run A: an idle connection and a stalled upload are established"
timeout 60 h2load -n 20000 -c 10 -m 10 -d "$WORK/hold.json" -H "authorization: Bearer $TEN" \
  -H 'content-type: application/json' "$URL/v1/placements" >"$WORK/h2load-a.txt" 2>&1 &
H2LOAD=$!
# A hold whose body arrives in two parts, SIGTERM in between. On a loaded machine curl may
# take a while to connect, so the first part goes out once curl's connection is up (seen with
# ss), the test waits for that, sends SIGTERM half a second later, and the rest follows a
# second after the first part.
curl_connected() {
  ss -Htnp state established "( dport = :$PORT )" 2>/dev/null | grep -q '"curl"'
}
(
  {
    for _ in $(seq 1 200); do curl_connected && break; sleep 0.05; done
    printf '%s' "${HOLD:0:30}"
    : >"$WORK/slow.started"
    sleep 1
    printf '%s' "${HOLD:30}"
  } |
    curl -s --http2-prior-knowledge --max-time 20 -X POST -T - -o "$WORK/slow.json" \
      -w '%{http_code}' -H "Authorization: Bearer $TEN" -H 'Content-Type: application/json' \
      "$URL/v1/placements" >"$WORK/slow.status" 2>"$WORK/slow.err"
) &
SLOW=$!
for _ in $(seq 1 200); do [ -e "$WORK/slow.started" ] && break; sleep 0.05; done
sleep 0.5
T0=$(now)
kill -TERM "$BROKER_PID"
# New connections, every 0.2 s from 0.3 s after SIGTERM, for as long as the daemon drains.
sleep 0.3
: >"$WORK/newconn.txt"
while kill -0 "$BROKER_PID" 2>/dev/null; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --http2-prior-knowledge --max-time 3 \
    "$URL/healthz" 2>/dev/null)
  echo "$? ${code:-000}" >>"$WORK/newconn.txt"
  sleep 0.2
done
wait "$BROKER_PID"
rc=$?
elapsed=$(since "$T0")
BROKER_PID=""
echo "# run A: brokerd exited with $rc, ${elapsed}s after SIGTERM"
ok "$rc" "run A: brokerd exits 0 after SIGTERM"
ok "$(le "$elapsed" 16; echo $?)" \
  "run A: it exits by its drain deadline (10 s; the stalled upload holds it that long)"
wait "$H2LOAD" "$SLOW" "$IDLE" "$STALL"

n_new=$(wc -l <"$WORK/newconn.txt")
n_refused=$(awk '$1 == 7' "$WORK/newconn.txt" | wc -l)
n_served=$(awk '$2 != "000"' "$WORK/newconn.txt" | wc -l)
echo "# new connections tried while draining: $n_new, refused (curl exit 7): $n_refused, answered: $n_served"
ok "$([ "$n_new" -ge 1 ] && [ "$n_served" -eq 0 ] && [ "$n_refused" -ge 1 ]; echo $?)" \
  "run A: new connections after SIGTERM are refused, none is served"

sed -n '/^requests:/p;/^status codes:/p' "$WORK/h2load-a.txt" | sed 's/^/# run A h2load: /'
total=$(h2stat "$WORK/h2load-a.txt" total)
started=$(h2stat "$WORK/h2load-a.txt" started)
done_=$(h2stat "$WORK/h2load-a.txt" "done")
errored=$(h2stat "$WORK/h2load-a.txt" errored)
s2=$(h2stat "$WORK/h2load-a.txt" 2xx)
s4=$(h2stat "$WORK/h2load-a.txt" 4xx)
s5=$(h2stat "$WORK/h2load-a.txt" 5xx)
ok "$([ -n "$started" ] && [ "$started" -gt 0 ] && [ "$started" -lt "$total" ]; echo $?)" \
  "run A: SIGTERM came while h2load was running ($started of $total started)"
# h2load counts a request as started when it hands it to its HTTP/2 library, not when the
# request is sent. When answers and the shutdown notice arrive in one read, h2load hands over
# a new request for each answer before its library sees the GOAWAY, which then never sends
# them (a client may not open streams after GOAWAY). Those end failed on the client's side
# without reaching brokerd: at most one per free stream slot, -c 10 x -m 10 = 100. That
# brokerd processed no request it did not answer is checked from its log and its database
# below. Every stream is done, none got a 4xx/5xx, and the never-sent ones are errored.
unsent_ok() { # total started done errored 2xx 4xx 5xx
  [ -n "$2" ] && [ "$3" = "$2" ] && [ "$6" = 0 ] && [ "$7" = 0 ] &&
    [ "$5" -le "$2" ] && [ $(($2 - $5)) -le 100 ] && [ "$4" = $(($1 - $5)) ]
}
echo "# run A: started $started, answered 2xx $s2, handed over but never sent: $((started - s2))"
ok "$(unsent_ok "$total" "$started" "$done_" "$errored" "$s2" "$s4" "$s5"; echo $?)" \
  "run A: every stream h2load sent got its complete 2xx answer (none reset, none refused)"
ok "$([ "$(cat "$WORK/slow.status")" = 201 ] && jq -e '.state == "held"' "$WORK/slow.json" >/dev/null; echo $?)" \
  "run A: a hold whose body was still arriving at SIGTERM is answered 201"
SLOW_ID=$(jq -r .id "$WORK/slow.json" 2>/dev/null)
out=$(cat "$WORK/idle.json")
echo "# idle connection: $out"
ok "$(printf '%s' "$out" | jq -e '(.goaways | length) >= 1 and .goaways[0].error_code == 0 and .closed_after != null' >/dev/null; echo $?)" \
  "run A: an idle connection gets GOAWAY(NO_ERROR) and is closed"
ok "$(printf '%s' "$out" | jq -e '.goaways[0].last_stream_id == 2147483647 and (.goaways | length) >= 2 and .goaways[-1].last_stream_id == 0' >/dev/null; echo $?)" \
  "run A: first the shutdown notice (last stream 2^31-1), then the final GOAWAY"
out=$(cat "$WORK/stall.json")
echo "# stalled upload: $out"
ok "$(printf '%s' "$out" | jq -e '(.goaways | length) >= 1 and .closed_after != null' >/dev/null; echo $?)" \
  "run A: a stalled upload gets GOAWAY and is closed at the deadline"

# Every acknowledged hold is in the database, and no hold exists that was not acknowledged.
start_broker || { ok 1 "brokerd restarts"; done_testing; }
req GET "/v1/centers/sh-1" "" "$TEN"
held=$(jqv '.pools[0].held')
echo "# after restart: held = $held; acknowledged: $s2 (h2load) + 1 (slow upload)"
ok "$([ "$held" = $((s2 + 1)) ]; echo $?)" \
  "run A: the held cards after restart equal the acknowledged holds exactly"
expect GET "/v1/placements/$SLOW_ID" "" "$TEN" 200 "run A: the slow upload's hold is there" \
  '.state == "held"'

# The request log of run A: one line per answered request, each with its stream id.
n_post=$(grep -c 'POST /v1/placements 201 ' "$WORK/brokerd.log")
n_post_nostream=$(grep 'POST /v1/placements' "$WORK/brokerd.log" | grep -vc ' stream=[0-9][0-9]* ')
echo "# log lines for created holds: $n_post (answers: $s2 + 1)"
ok "$([ "$n_post" = $((s2 + 1)) ] && [ "$n_post_nostream" = 0 ]; echo $?)" \
  "run A: one log line with stream= per hold answered, no more"

# ---- run B: h2load alone -----------------------------------------------------------------
timeout 60 h2load -n 20000 -c 10 -m 10 -d "$WORK/hold.json" -H "authorization: Bearer $TEN" \
  -H 'content-type: application/json' "$URL/v1/placements" >"$WORK/h2load-b.txt" 2>&1 &
H2LOAD=$!
sleep 1
T0=$(now)
kill -TERM "$BROKER_PID"
wait "$BROKER_PID"
rc=$?
elapsed=$(since "$T0")
BROKER_PID=""
wait "$H2LOAD"
echo "# run B: brokerd exited with $rc, ${elapsed}s after SIGTERM"
ok "$rc" "run B: brokerd exits 0"
ok "$(le "$elapsed" 6; echo $?)" \
  "run B: with only well-behaved clients it exits soon after the grace period (<= 6 s)"
sed -n '/^requests:/p;/^status codes:/p' "$WORK/h2load-b.txt" | sed 's/^/# run B h2load: /'
total=$(h2stat "$WORK/h2load-b.txt" total)
started=$(h2stat "$WORK/h2load-b.txt" started)
ok "$(unsent_ok "$total" "$started" "$(h2stat "$WORK/h2load-b.txt" "done")" \
  "$(h2stat "$WORK/h2load-b.txt" errored)" "$(h2stat "$WORK/h2load-b.txt" 2xx)" \
  "$(h2stat "$WORK/h2load-b.txt" 4xx)" "$(h2stat "$WORK/h2load-b.txt" 5xx)"; echo $?)" \
  "run B: every stream h2load sent got its complete 2xx answer"
s2b=$(h2stat "$WORK/h2load-b.txt" 2xx)
start_broker || { ok 1 "brokerd restarts"; done_testing; }
req GET "/v1/centers/sh-1" "" "$TEN"
ok "$([ "$(jqv '.pools[0].held')" = $((s2 + 1 + s2b)) ]; echo $?)" \
  "run B: held cards after restart = every acknowledged hold ($((s2 + 1 + s2b)))"
stop_broker
ok $? "SIGTERM on an idle daemon: exit 0"

# ---- the log never holds a token -----------------------------------------------------------
leaks=0
for t in "$ADMIN" "$OP" "$TEN" "$BOGUS"; do
  grep -qF -- "$t" "$WORK/brokerd.log" && leaks=$((leaks + 1))
  # a token's tail alone would be a leak too
  grep -qF -- "${t: -12}" "$WORK/brokerd.log" && leaks=$((leaks + 1))
done
ok "$([ "$leaks" = 0 ]; echo $?)" "the log contains no token (admin, operator, tenant, unknown)"
n_lines=$(grep -c ' stream=' "$WORK/brokerd.log")
echo "# request log lines: $n_lines"
done_testing

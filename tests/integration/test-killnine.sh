#!/usr/bin/env bash
# kill -9 under load loses no acknowledged change (issue 3, "Durability"; SPEC §3, §7).
# Ten rounds: a client (killnine.py, four workers, curl over HTTP/2) makes holds, confirms and
# releases as fast as it can and logs every acknowledged answer; after a random 0.2-1.5 s
# brokerd gets SIGKILL; it restarts on the same database and killnine.py checks that every
# acknowledged placement is there in its acknowledged state (or the state of the one request
# that was in flight for it), that lost hold answers resolve through their Idempotency-Key,
# that no placement exists that nobody asked for, and that the pool's held, confirmed_unseen
# and available match the placements exactly, never negative and never over the free cards.
. "$(dirname "$0")/lib.sh"

ROUNDS=${KILLNINE_ROUNDS:-10}
FREE=120
CLIENT="$(dirname "$0")/killnine.py"

for tool in python3 jq curl; do
  if ! command -v "$tool" >/dev/null; then
    echo "1..0 # SKIP $tool is not installed"
    exit 0
  fi
done

start_broker || { ok 1 "brokerd starts"; done_testing; }
OP=$(token operator op1)
expect POST /v1/centers "$(center_doc sh-1 cn-shanghai)" "$OP" 201 "register sh-1"
expect POST /v1/centers/sh-1/feed "$(feed_doc sh-1 H800:256:$FREE:28.5)" "$OP" 200 \
  "sh-1 has $FREE free H800"

declare -a TOKENS=()
total_acks=0
for round in $(seq 1 "$ROUNDS"); do
  # A tenant per round keeps each tenant's placement list short (the list stops at 1000).
  tok=$(token tenant "acme-r$round")
  [ -n "$tok" ] || { ok 1 "round $round: a tenant token"; break; }
  TOKENS+=("$round=$tok")
  timeout 120 python3 "$CLIENT" drive "$URL" "$WORK/acks.jsonl" "$round" "${TOKENS[@]}" \
    2>"$WORK/drive.err" &
  driver=$!
  delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.2 + 1.3 * r / 32767 }')
  sleep "$delay"
  pid=$BROKER_PID
  kill9_broker
  wait "$driver"
  drc=$?
  acks=$(grep -c '"ev": "ack"' "$WORK/acks.jsonl")
  echo "# round $round: SIGKILL after ${delay}s (pid $pid), $((acks - total_acks)) acknowledged answers"
  total_acks=$acks
  ok "$([ "$drc" -eq 0 ] && [ ! -s "$WORK/drive.err" ]; echo $?)" \
    "round $round: the client stopped cleanly at the kill"
  [ -s "$WORK/drive.err" ] && sed 's/^/# /' "$WORK/drive.err" | head -20
  start_broker || { ok 1 "round $round: brokerd restarts on the same database"; break; }
  expect GET /healthz "" "" 200 "round $round: restarted, database ok" '.database == "ok"'
  timeout 120 python3 "$CLIENT" check "$URL" sh-1 "$FREE" "$WORK/acks.jsonl" "${TOKENS[@]}" \
    >"$WORK/check.txt" 2>&1
  rc=$?
  sed 's/^/# /' "$WORK/check.txt" | head -40
  ok $rc "round $round: every acknowledged change survived; held/confirmed/available exact"
done

ok "$([ "$total_acks" -ge $((ROUNDS * 5)) ]; echo $?)" \
  "the load made progress ($total_acks acknowledged answers in $ROUNDS rounds)"
holds=$(grep '"ev": "ack"' "$WORK/acks.jsonl" | grep -c '"op": "hold"')
confirms=$(grep '"ev": "ack"' "$WORK/acks.jsonl" | grep -c '"op": "confirm"')
releases=$(grep '"ev": "ack"' "$WORK/acks.jsonl" | grep -c '"op": "release"')
nacks=$(grep -c '"ev": "nack"' "$WORK/acks.jsonl")
echo "# acknowledged: $holds holds, $confirms confirms, $releases releases; $nacks refused (409)"
ok "$([ "$holds" -gt 0 ] && [ "$confirms" -gt 0 ] && [ "$releases" -gt 0 ]; echo $?)" \
  "holds, confirms and releases were all acknowledged at some point"
stop_broker
ok $? "SIGTERM stops the daemon with status 0"
done_testing

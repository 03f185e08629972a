#!/usr/bin/env bash
# A crash loop (issue 6): 100 times, brokerd gets SIGKILL at a random moment while a client
# (killnine.py, four workers) makes holds, confirms and releases, and restarts on the same
# database. After every restart killnine.py checks that every acknowledged transition is there
# in its acknowledged state (or that of the one request in flight for it), that lost hold
# answers resolve through their Idempotency-Key, that no placement exists that nobody asked
# for, and that the pool's held, confirmed_unseen and available match the placements exactly
# (available = free - held - confirmed_unseen, held + confirmed never above free). Rounds are
# short (a kill 0.1-0.6 s into the load, at most KILLNINE_MAX_HOLDS holds) so that the loop
# stays within minutes under sanitizers; a tenant serves ten rounds, so a check lists at most
# ten tenants. CRASHLOOP_ROUNDS overrides the count.
. "$(dirname "$0")/lib.sh"

ROUNDS=${CRASHLOOP_ROUNDS:-100}
FREE=120
CLIENT="$(dirname "$0")/killnine.py"
export KILLNINE_MAX_HOLDS=${KILLNINE_MAX_HOLDS:-60}

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
tok=""
total_acks=0
failed_rounds=0
started=$SECONDS
for round in $(seq 1 "$ROUNDS"); do
  if [ $(((round - 1) % 10)) -eq 0 ]; then
    tok=$(token tenant "loop-$(((round - 1) / 10))")
    [ -n "$tok" ] || { ok 1 "round $round: a tenant token"; break; }
  fi
  TOKENS+=("$round=$tok")
  timeout 60 python3 "$CLIENT" drive "$URL" "$WORK/acks.jsonl" "$round" "${TOKENS[@]}" \
    2>"$WORK/drive.err" &
  driver=$!
  delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.3f", 0.1 + 0.5 * r / 32767 }')
  sleep "$delay"
  kill9_broker
  wait "$driver"
  drc=$?
  acks=$(grep -c '"ev": "ack"' "$WORK/acks.jsonl")
  good=0
  if [ "$drc" -ne 0 ] || [ -s "$WORK/drive.err" ]; then
    good=1
    echo "# round $round: the client did not stop cleanly ($drc)"
    sed 's/^/# /' "$WORK/drive.err" | head -10
  fi
  if ! start_broker; then
    ok 1 "round $round: brokerd restarts on the same database"
    break
  fi
  timeout 60 python3 "$CLIENT" check "$URL" sh-1 "$FREE" "$WORK/acks.jsonl" "${TOKENS[@]}" \
    >"$WORK/check.txt" 2>&1 || good=1
  if [ "$good" -ne 0 ] || [ $((round % 10)) -eq 0 ]; then
    echo "# round $round: SIGKILL after ${delay}s, $((acks - total_acks)) acknowledged answers"
    sed 's/^/# /' "$WORK/check.txt" | head -30
  fi
  total_acks=$acks
  ok $good "round $round: restarted; every acknowledged transition is there, capacity exact"
  [ "$good" -eq 0 ] || failed_rounds=$((failed_rounds + 1))
  [ "$failed_rounds" -lt 5 ] || { echo "# five failed rounds: stopping"; break; }
done
echo "# $ROUNDS rounds in $((SECONDS - started)) s"

holds=$(grep '"ev": "ack"' "$WORK/acks.jsonl" | grep -c '"op": "hold"')
confirms=$(grep '"ev": "ack"' "$WORK/acks.jsonl" | grep -c '"op": "confirm"')
releases=$(grep '"ev": "ack"' "$WORK/acks.jsonl" | grep -c '"op": "release"')
echo "# acknowledged: $holds holds, $confirms confirms, $releases releases"
ok "$([ "$holds" -gt 0 ] && [ "$confirms" -gt 0 ] && [ "$releases" -gt 0 ]; echo $?)" \
  "holds, confirms and releases were all acknowledged"
ok "$([ "$total_acks" -ge "$ROUNDS" ]; echo $?)" \
  "the load made progress ($total_acks acknowledged answers in $ROUNDS rounds)"
expect GET /healthz "" "" 200 "after the last restart the database is ok" '.database == "ok"'
stop_broker
ok $? "SIGTERM stops the daemon with status 0"
done_testing

#!/usr/bin/env bash
# brokerd --demo: the demo centers, their feeds and a routed request with its
# explanation, as a new user sees them.
. "$(dirname "$0")/lib.sh"

start_broker --demo || { ok 1 "brokerd --demo starts"; done_testing; }
TEN=$(token tenant demo-tenant)
expect GET /v1/centers "" "$TEN" 200 "18 demo centers with pools" \
  '(.centers | length) == 18 and ([.centers[] | select((.pools | length) > 0)] | length) == 18'
expect GET /v1/centers "" "$TEN" 200 "mixed NVIDIA and domestic accelerators, fresh feeds" \
  '([.centers[].pools[] | select(.domestic)] | length) > 5 and ([.centers[].pools[] | select(.vendor == "NVIDIA")] | length) > 5 and ([.centers[] | select(.stale)] | length) == 0'
expect GET /v1/centers/sh-lingang-aidc "" "$TEN" 200 "SenseTime Lingang AIDC is in Shanghai" \
  '.region == "cn-shanghai" and .operator == "sensetime"'

out=$(SUANWANG_TOKEN=$TEN "$BROKERCTL" route --precision bf16 --pflops 20 --hours 72 \
  --origin cn-shanghai --min-memory-gib 64)
ok $? "brokerctl routes a request on the demo"
DC=$(echo "$out" | awk '/^decision/ {print $2; exit}')
ok "$(echo "$DC" | grep -q '^dc_'; echo $?)" "the quote names its decision"
exp=$(SUANWANG_TOKEN=$TEN "$BROKERCTL" explain "$DC")
ok "$(echo "$exp" | grep -q 'Runner-up' && echo "$exp" | grep -q 'center_inactive' && echo "$exp" | grep -q 'memory_too_small'; echo $?)" \
  "the explanation names the runner-up and the rejections (draining/disabled centers, small cards)"
expect GET "/v1/decisions/$DC" "" "$TEN" 200 "every demo pool is a candidate" \
  '(.candidates | length) == ([.candidates[]] | length) and (.candidates | length) >= 40 and .outcome == "quoted"'
stop_broker
ok $? "clean stop"

# A second start on the same file keeps the demo centers without duplicating them.
start_broker --demo
expect GET /v1/centers "" "$TEN" 200 "restart with --demo keeps 18 centers" '(.centers | length) == 18'
stop_broker
done_testing

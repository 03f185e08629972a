#!/usr/bin/env bash
# The end-to-end slice over real HTTP/2: an operator registers a center and
# pushes its capacity, a tenant routes (quote, then hold), sees the hold in the
# center's availability, explains the decision with brokerctl, releases; then
# the daemon restarts on the same file and everything is still there; a hold
# survives a restart and expires on time.
. "$(dirname "$0")/lib.sh"

start_broker || { ok 1 "brokerd starts"; done_testing; }
expect GET /healthz "" "" 200 "healthz answers over h2c" '.status == "ok"'

OP=$(token operator op1)
TEN=$(token tenant acme)
ok "$([ -n "$OP" ] && [ -n "$TEN" ]; echo $?)" "admin issues operator and tenant tokens"

expect POST /v1/centers "$(center_doc sh-1 cn-shanghai)" "$OP" 201 "operator registers sh-1" \
  '.id == "sh-1" and .region == "cn-shanghai" and (.pools | length) == 0'
expect POST /v1/centers "$(center_doc bj-1 cn-beijing)" "$OP" 201 "operator registers bj-1"
expect POST /v1/centers/sh-1/feed "$(feed_doc sh-1 H800:256:128:28.5 A100:64:64:9.8)" "$OP" 200 \
  "push a native feed to sh-1" '.pools == 2'
expect POST /v1/centers/bj-1/feed "$(feed_doc bj-1 Ascend910B:512:400:8.0)" "$OP" 200 \
  "push a native feed to bj-1"
expect GET /v1/centers/sh-1 "" "$TEN" 200 "the center shows its pools and feed health" \
  '(.pools | map(.model) | sort) == ["A100","H800"] and .feeds[0].last_success != null and .feeds[0].last_error == null and .stale == false'

# 64 bf16 cards for 72 h from Shanghai: H800 28.5 x 64 x 72 = 131328; Ascend 8 x 64 x 72 = 36864
# but Beijing is 28.6 ms away. Cost-only weights pick Beijing; latency-heavy weights pick Shanghai.
Q='{"precision":"bf16","cards":64,"hours":72,"origin":"cn-shanghai","dry_run":true,"weights":{"cost":1}}'
expect POST /v1/placements "$Q" "$TEN" 200 "a dry run quotes the cheapest pool" \
  '.state == "quote" and .pieces[0].center == "bj-1" and .pieces[0].model == "Ascend910B" and .list_total == 36864 and .effective_total == 36864'
Q='{"precision":"bf16","cards":64,"hours":72,"origin":"cn-shanghai","dry_run":true,"weights":{"latency":1}}'
expect POST /v1/placements "$Q" "$TEN" 200 "latency-only weights pick the nearest center" \
  '.pieces[0].center == "sh-1" and .pieces[0].rtt_ms == 1'

H='{"precision":"bf16","cards":100,"hours":10,"origin":"cn-shanghai","max_latency_ms":5,"hold_seconds":600}'
expect POST /v1/placements "$H" "$TEN" 201 "a hold is created" \
  '.state == "held" and .pieces[0].center == "sh-1" and .pieces[0].model == "H800" and .pieces[0].cards == 100 and (.id | startswith("pl_"))'
PL=$(jqv .id)
DC=$(jqv .decision_id)
expect GET /v1/centers/sh-1 "" "$TEN" 200 "the hold is subtracted from availability" \
  '(.pools[] | select(.model == "H800") | .held == 100 and .available == 28)'
expect POST /v1/placements "$H" "$TEN" 409 "the same request no longer fits (28 H800 left)" \
  '.decision_id != null and .reasons.insufficient_capacity >= 1'
expect GET "/v1/placements/$PL" "" "$TEN" 200 "the placement reads back" '.state == "held"'
expect GET "/v1/decisions/$DC" "" "$TEN" 200 "the decision has every candidate" \
  '(.candidates | length) == 3 and ([.candidates[] | select(.verdict == "chosen")] | length) == 1 and ([.candidates[] | select(.reason == "latency_exceeds")] | length) == 1 and ([.candidates[] | select(.reason == "precision_unsupported")] | length) == 0'

out=$("$BROKERCTL" --token "$TEN" explain "$DC")
ok "$(echo "$out" | grep -q '^\*  *sh-1 *H800' && echo "$out" | grep -q 'latency_exceeds'; echo $?)" \
  "brokerctl explain marks the choice and shows the rejection"

expect POST "/v1/placements/$PL/release" "{}" "$TEN" 200 "release" '.state == "released" and .ended_at != null'
expect GET /v1/centers/sh-1 "" "$TEN" 200 "released cards are available again" \
  '(.pools[] | select(.model == "H800") | .available == 128)'
expect POST "/v1/placements/$PL/release" "{}" "$TEN" 409 "a released placement cannot be released again"

expect GET "/v1/decisions?limit=10" "" "$TEN" 200 "decisions are listed newest first" \
  '(.decisions | length) == 4 and .decisions[0].outcome == "unplaceable"'

# A hold that lives across a restart, and a short one that expires.
expect POST /v1/placements '{"precision":"bf16","cards":8,"hours":1,"origin":"cn-shanghai","hold_seconds":3600}' \
  "$TEN" 201 "a long hold"
LONG=$(jqv .id)
expect POST /v1/placements '{"precision":"bf16","cards":4,"hours":1,"origin":"cn-beijing","hold_seconds":2}' \
  "$TEN" 201 "a two-second hold"
SHORT=$(jqv .id)

stop_broker
ok $? "SIGTERM stops the daemon with status 0"
start_broker
expect GET /v1/centers "" "$TEN" 200 "after restart: centers and pools are still there" \
  '(.centers | length) == 2 and ([.centers[].pools[]] | length) == 3'
expect GET "/v1/placements/$PL" "" "$TEN" 200 "after restart: the released placement" '.state == "released"'
expect GET "/v1/placements/$LONG" "" "$TEN" 200 "after restart: the hold is still held" '.state == "held"'
expect GET "/v1/decisions/$DC" "" "$TEN" 200 "after restart: the decision record" '.id == "'"$DC"'"'
sleep 2.5
expect GET "/v1/placements/$SHORT" "" "$TEN" 200 "the short hold expired" '.state == "expired"'
expect POST "/v1/placements/$SHORT/confirm" "{}" "$TEN" 409 "an expired hold cannot be confirmed"
expect POST "/v1/placements/$LONG/confirm" "{}" "$TEN" 200 "a live hold is confirmed" '.state == "confirmed"'

# kill -9 right after an acknowledged hold: it is on disk.
expect POST /v1/placements '{"precision":"bf16","cards":2,"hours":1,"origin":"cn-shanghai"}' "$TEN" 201 "another hold"
K=$(jqv .id)
kill9_broker
start_broker
expect GET "/v1/placements/$K" "" "$TEN" 200 "a hold acknowledged before kill -9 survives" '.state == "held"'
stop_broker
ok $? "clean stop"
done_testing

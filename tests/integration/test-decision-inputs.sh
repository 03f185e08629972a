#!/usr/bin/env bash
# A decision keeps its summary and its routing inputs by reference (the epoch
# of centers and pools it was routed on, its seq among decisions, the vouchers
# it saw); its candidates are routed again when the record is read. This test
# drives one pool through every kind of change (holds, a confirm that draws a
# voucher, a newer feed, an expiry, a release, a restart) with a dry run after
# each, and checks that every decision, read back later, shows the pool as it
# was at that moment: the expected numbers are worked out by hand below.
. "$(dirname "$0")/lib.sh"

start_broker || { ok 1 "brokerd starts"; done_testing; }
OP=$(token operator op1)
TEN=$(token tenant acme)
req POST /v1/centers "$(center_doc sh-1 cn-shanghai)" "$OP"
req POST /v1/centers "$(center_doc bj-1 cn-beijing)" "$OP"
req POST /v1/centers/sh-1/feed "$(feed_doc sh-1 H800:100:100:28.5)" "$OP"
req POST /v1/centers/bj-1/feed "$(feed_doc bj-1 Ascend910B:200:200:8)" "$OP"
# 50% up to a balance of 100 CNY: 10 H800 cards for 1 h list at 285, so the balance caps it.
req POST /v1/vouchers '{"id":"V-1","issuer":"sh-eitc","tenant":"acme","rate":0.5,"amount":100,"valid_until":"2099-01-01T00:00:00Z"}' "$ADMIN"
ok "$([ "$STATUS" = 201 ]; echo $?)" "setup: two centers, their feeds, a voucher of 100 CNY"

QUOTE='{"precision":"bf16","cards":10,"hours":1,"origin":"cn-shanghai","dry_run":true,"weights":{"latency":1},"vouchers":["V-1"]}'
declare -a IDS WANT_AVAIL WANT_SUBSIDY SNAP
# quote EXPECTED-AVAILABLE EXPECTED-SUBSIDY DESCRIPTION: a dry run, checked at once.
quote() {
  req POST /v1/placements "$QUOTE" "$TEN"
  local id
  id=$(jqv .decision_id)
  IDS+=("$id")
  WANT_AVAIL+=("$1")
  WANT_SUBSIDY+=("$2")
  req GET "/v1/decisions/$id" "" "$TEN"
  SNAP+=("$(jqv '[.candidates[] | {center, model, available, subsidy, score, verdict}] | tojson')")
  jqt '.inputs.verified == true and (.candidates | length) == 2 and
       (.candidates[] | select(.center == "sh-1") | .available == '"$1"' and
        ((.subsidy - '"$2"') | if . < 0 then -. else . end) < 0.01)'
  ok $? "$3: sh-1 H800 available $1, subsidy $2"
}

quote 100 100 "fresh pools"
H='{"precision":"bf16","cards":10,"hours":1,"origin":"cn-shanghai","weights":{"latency":1},"vouchers":["V-1"],"hold_seconds":600}'
req POST /v1/placements "$H" "$TEN"
PL1=$(jqv .id)
ok "$([ "$STATUS" = 201 ]; echo $?)" "hold 10 cards on sh-1"
HOLD_DC=$(jqv .decision_id)
req GET "/v1/decisions/$HOLD_DC" "" "$TEN"
ok "$(jqt '.inputs.verified == true and (.candidates[] | select(.center == "sh-1") | .available == 100 and .verdict == "chosen")'; echo $?)" \
  "the hold's own decision saw the pool before the hold (100)"
quote 90 100 "after the hold: 100 - 10 held"
req POST "/v1/placements/$PL1/confirm" "{}" "$TEN"
ok "$([ "$STATUS" = 200 ]; echo $?)" "confirm draws the voucher (100 of 142.5)"
# Confirmed after the feed's observed_at, so still subtracted; the voucher is spent.
quote 90 0 "after the confirm: 100 - 10 confirmed but unseen by the feed; balance 0"
sleep 0.01
req POST /v1/centers/sh-1/feed "$(feed_doc sh-1 H800:100:90:28.5)" "$OP"
quote 90 0 "a newer feed says 90 free: the confirmed cards are in it now"
req POST /v1/placements '{"precision":"bf16","cards":5,"hours":1,"origin":"cn-shanghai","weights":{"latency":1},"hold_seconds":1}' "$TEN"
ok "$([ "$STATUS" = 201 ]; echo $?)" "a 1-second hold of 5 cards"
quote 85 0 "during the short hold: 90 - 5"
sleep 1.5
quote 90 0 "after it expired"
req POST "/v1/placements/$PL1/release" "{}" "$TEN"
ok "$([ "$STATUS" = 200 ]; echo $?)" "release the confirmed placement (refunds the unused hours pro rata)"
req GET /v1/vouchers/V-1 "" "$TEN"
REFUNDED=$(jqv .balance)
# The feed still says 90 free until the center reports again; the refund is back in the voucher.
quote 90 "$REFUNDED" "after the release: the feed's 90, the refunded balance $REFUNDED"

stop_broker
start_broker || { ok 1 "brokerd restarts"; done_testing; }
same=0
for i in "${!IDS[@]}"; do
  req GET "/v1/decisions/${IDS[$i]}" "" "$TEN"
  got=$(jqv '[.candidates[] | {center, model, available, subsidy, score, verdict}] | tojson')
  if [ "$got" != "${SNAP[$i]}" ] || ! jqt '.inputs.verified == true'; then
    same=1
    echo "# ${IDS[$i]}: was ${SNAP[$i]}, now $got"
  fi
done
ok $same "after a restart every decision routes again to the same candidates (${#IDS[@]} decisions)"

# The record keeps the whole shape: summary members plus candidates and inputs.
req GET "/v1/decisions/${IDS[0]}" "" "$TEN"
ok "$(jqt '.inputs.epoch >= 1 and .inputs.seq >= 1 and .chosen[0].center == "sh-1" and (.candidates[] | select(.center == "bj-1") | .verdict == "eligible")'; echo $?)" \
  "a record read back has its inputs, choice and every candidate"
req GET "/v1/decisions?limit=50" "" "$TEN"
ok "$(jqt '(.decisions | length) == '"$((${#IDS[@]} + 2))"' and all(.decisions[]; has("candidates") | not)'; echo $?)" \
  "the list shows summaries of all $((${#IDS[@]} + 2)) decisions"

# A damaged epoch does not break reading: the summary comes back, candidates null, the error named.
stop_broker
sqlite3 "$DB" "UPDATE epochs SET base = '{\"version\":99}'"
start_broker || { ok 1 "brokerd restarts"; done_testing; }
req GET "/v1/decisions/${IDS[0]}" "" "$TEN"
ok "$(jqt '.candidates == null and (.inputs.error | length) > 0 and .chosen[0].center == "sh-1"'; echo $?)" \
  "an unreadable epoch: the summary, candidates null, inputs.error says why"
done_testing

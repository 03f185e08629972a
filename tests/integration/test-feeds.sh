#!/usr/bin/env bash
# Pull feeds against hostile servers: each center's feed answers well once and
# then misbehaves (syntax error, wrong types, negative or absurd numbers, ten
# times the size cap, a truncated body, an HTML page, HTTP 500, a hang, a
# trickle, an endless body). Every one keeps its last good snapshot and shows
# the error; a well-behaved center keeps polling fresh; the API stays fast.
. "$(dirname "$0")/lib.sh"

python3 "$(dirname "$0")/hostile_feed_server.py" "$WORK/feedport" &
FEEDSRV=$!
trap 'kill $FEEDSRV 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 100); do [ -s "$WORK/feedport" ] && break; sleep 0.05; done
FP=$(cat "$WORK/feedport")
printf '{"max_feed_bytes":1048576,"feed_timeout_s":2}' >"$WORK/config.json"
start_broker --config "$WORK/config.json" || { ok 1 "brokerd starts"; done_testing; }

MODES="syntax types negative absurd huge truncated html status500 hang trickle endless empty"
register() { # id url
  req POST /v1/centers "{\"id\":\"$1\",\"name\":\"$1\",\"operator\":\"op1\",\"region\":\"cn-guiyang\",\"staleness_s\":3600,\"feeds\":[{\"adapter\":\"native\",\"url\":\"$2\",\"interval_s\":1}]}" "$ADMIN"
  [ "$STATUS" = 201 ]
}
register good "http://127.0.0.1:$FP/good/good"
ok $? "a well-behaved pull center registers"
for m in $MODES; do
  register "bad-$m" "http://127.0.0.1:$FP/seq/$m/bad-$m"
  ok $? "center bad-$m registers"
done

# Polls run every second, backing off after failures; give them time for the good
# first answer and at least one bad one (the hang and trickle cases take the 2 s limit).
sleep 6

# The API answers promptly while transfers hang and trickle: the loop never blocks.
t0=$(date +%s%N)
req GET /healthz
t1=$(date +%s%N)
ok "$([ "$STATUS" = 200 ] && [ $(((t1 - t0) / 1000000)) -lt 1000 ]; echo $?)" \
  "healthz answers within a second while feeds misbehave"

req GET /v1/centers "" "$ADMIN"
CENTERS=$BODY
for m in $MODES; do
  BODY=$(printf '%s' "$CENTERS" | jq -c ".centers[] | select(.id == \"bad-$m\")")
  jqt '(.pools | length) == 1 and .pools[0].model == "H800" and .pools[0].free == 40'
  ok $? "bad-$m keeps its last good snapshot (H800 40 free)"
  jqt '.feeds[0].last_error != null and .feeds[0].last_success != null'
  ok $? "bad-$m shows its error: $(jqv .feeds[0].last_error | head -c 120)"
done
BODY=$(printf '%s' "$CENTERS" | jq -c '.centers[] | select(.id == "good")')
jqt '.feeds[0].last_error == null and .feeds[0].age_s < 3 and (.pools | length) == 1'
ok $? "the good center is fresh and error-free"

# Error messages say what was wrong.
msg() { printf '%s' "$CENTERS" | jq -r ".centers[] | select(.id == \"bad-$1\") | .feeds[0].last_error"; }
ok "$(msg status500 | grep -q 'HTTP 500'; echo $?)" "HTTP 500 is named"
ok "$(msg huge | grep -qi 'cap\|size\|large\|exceed'; echo $?)" "the size cap is named"
ok "$(msg hang | grep -qi 'time'; echo $?)" "the hang is a timeout"
ok "$(msg trickle | grep -qi 'time'; echo $?)" "the trickle is a timeout"
ok "$(msg negative | grep -q '/pools/0/free'; echo $?)" "the negative count names its field"
ok "$(msg types | grep -q '/pools/0/total'; echo $?)" "the wrong type names its field"

# Routing still uses the good snapshots: 5 cards of H800 from Guiyang.
TEN=$(token tenant acme)
expect POST /v1/placements '{"precision":"bf16","cards":5,"hours":1,"origin":"cn-guiyang","dry_run":true}' \
  "$TEN" 200 "routing works from the last good snapshots" '.pieces[0].model == "H800"'

# A capacity feed without prices: its pools cannot be routed, and the feed says why.
DATA=$(cd "$(dirname "$0")/../data" && pwd)
req POST /v1/centers "{\"id\":\"k8s-noprice\",\"name\":\"k\",\"operator\":\"op1\",\"region\":\"cn-guiyang\",\"feeds\":[{\"adapter\":\"kubernetes\",\"url\":\"file://$DATA/kubernetes/nodelist-gpu.json\",\"interval_s\":1}]}" "$ADMIN"
ok "$([ "$STATUS" = 201 ]; echo $?)" "an admin registers a file:// Kubernetes feed without prices"
for _ in $(seq 1 60); do
  req GET /v1/centers/k8s-noprice "" "$ADMIN"
  jqt '.feeds[0].last_success != null' && break
  sleep 0.1
done
jqt '(.pools | length) == 0 and (.feeds[0].warning | test("no price for"))'
ok $? "unpriced pools are not routable and the feed warns: $(jqv .feeds[0].warning | head -c 100)"

# Two native pull feeds of one center: a model's counts and price come from the lower feed
# that has them, whichever feed was polled last; a model only the higher feed has is kept.
# In two-a the higher feed polls every second, in two-b the lower one does.
printf '{"pools":[{"model":"H800","total":8,"free":3,"price_per_card_hour":9}]}' >"$WORK/low.json"
printf '{"pools":[{"model":"H800","total":100,"free":90,"price_per_card_hour":7},{"model":"A100","total":16,"free":5,"price_per_card_hour":4}]}' >"$WORK/high.json"
two_feeds() { # id low-interval high-interval
  req POST /v1/centers "{\"id\":\"$1\",\"name\":\"t\",\"operator\":\"op1\",\"region\":\"cn-guiyang\",\"feeds\":[{\"adapter\":\"native\",\"url\":\"file://$WORK/low.json\",\"interval_s\":$2},{\"adapter\":\"native\",\"url\":\"file://$WORK/high.json\",\"interval_s\":$3}]}" "$ADMIN"
  ok "$([ "$STATUS" = 201 ]; echo $?)" "center $1 with two native pull feeds registers"
}
two_feeds two-a 3600 1
two_feeds two-b 1 3600
for c in two-a two-b; do
  for _ in $(seq 1 60); do
    req GET "/v1/centers/$c" "" "$ADMIN"
    jqt '.feeds[0].last_success != null and .feeds[1].last_success != null' && break
    sleep 0.1
  done
done
sleep 2.5 # the one-second feeds polled again
for c in two-a two-b; do
  req GET "/v1/centers/$c" "" "$ADMIN"
  jqt '(.pools | length) == 2 and (.pools[] | select(.model == "H800") | .free == 3 and .price_per_card_hour == 9) and (.pools[] | select(.model == "A100") | .free == 5)'
  ok $? "$c: H800 from the lower feed, A100 from the higher: $(jqv .pools | jq -c 'map({model, free, price_per_card_hour})')"
done

# A center's only feed keeps its snapshot as the center's pools alone (feeds.in_pools). When a
# second feed is added, that snapshot goes back into feed_pools first: the new feed's poll then
# merges with it, though the first feed (hourly) does not poll again.
one_doc() { # feeds...
  printf '{"id":"one-then-two","name":"t","operator":"op1","region":"cn-guiyang","feeds":[%s]}' "$1"
}
HIGH="{\"adapter\":\"native\",\"url\":\"file://$WORK/high.json\",\"interval_s\":3600}"
LOW="{\"adapter\":\"native\",\"url\":\"file://$WORK/low.json\",\"interval_s\":1}"
req POST /v1/centers "$(one_doc "$HIGH")" "$ADMIN"
ok "$([ "$STATUS" = 201 ]; echo $?)" "center one-then-two with one feed registers"
for _ in $(seq 1 60); do
  req GET /v1/centers/one-then-two "" "$ADMIN"
  jqt '.feeds[0].last_success != null and (.pools | length) == 2' && break
  sleep 0.1
done
ok "$([ "$(sqlite3 "$DB" "SELECT in_pools FROM feeds WHERE center = 'one-then-two';
  SELECT COUNT(*) FROM feed_pools WHERE center = 'one-then-two'")" = "$(printf '1\n0')" ]; echo $?)" \
  "its only feed's snapshot is kept as its pools, not in feed_pools"
req PUT /v1/centers/one-then-two "$(one_doc "$HIGH,$LOW")" "$ADMIN"
ok "$([ "$STATUS" = 200 ]; echo $?)" "a second feed is added"
ok "$([ "$(sqlite3 "$DB" "SELECT SUM(in_pools) FROM feeds WHERE center = 'one-then-two';
  SELECT COUNT(*) FROM feed_pools WHERE center = 'one-then-two' AND idx = 0")" = "$(printf '0\n2')" ]; echo $?)" \
  "the first feed's snapshot is back in feed_pools"
for _ in $(seq 1 60); do
  req GET /v1/centers/one-then-two "" "$ADMIN"
  jqt '.feeds[1].last_success != null' && break
  sleep 0.1
done
jqt '(.pools | length) == 2 and (.pools[] | select(.model == "H800") | .free == 90 and .price_per_card_hour == 7) and (.pools[] | select(.model == "A100") | .free == 5)'
ok $? "the new feed's poll merges with the first's snapshot: $(jqv .pools | jq -c 'map({model, free, price_per_card_hour})')"

# Readiness: every feed known at start has been polled once by now.
expect GET /healthz "" "" 200 "healthz: the feeds are ready" \
  '.status == "ok" and .feeds.ready == true and .feeds.pending_first_polls == 0'
req GET /metrics
ok "$(printf '%s\n' "$BODY" | grep -qx 'suanwang_feeds_ready 1' &&
  printf '%s\n' "$BODY" | grep -qx 'suanwang_feeds_pending_first_polls 0'; echo $?)" \
  "metrics: suanwang_feeds_ready 1, no first poll pending"

stop_broker
ok $? "SIGTERM stops the daemon with status 0 while transfers are in flight"

# After a restart the hanging feed's first poll lasts until the timeout: not ready until
# it ends (failed), and healthz stays 200 meanwhile.
printf '{"max_feed_bytes":1048576,"feed_timeout_s":6,"feed_first_poll_spread_s":0}' >"$WORK/config.json"
start_broker --config "$WORK/config.json" || { ok 1 "brokerd restarts"; done_testing; }
expect GET /healthz "" "" 200 "healthz right after a restart: first polls pending" \
  '.status == "ok" and .feeds.ready == false and .feeds.pending_first_polls >= 1'
req GET /metrics
ok "$(printf '%s\n' "$BODY" | grep -qx 'suanwang_feeds_ready 0' &&
  printf '%s\n' "$BODY" | grep -Eqx 'suanwang_feeds_pending_first_polls [1-9][0-9]*'; echo $?)" \
  "metrics: suanwang_feeds_ready 0 while first polls are pending"
for _ in $(seq 1 200); do
  req GET /healthz
  jqt '.feeds.ready' && break
  sleep 0.1
done
jqt '.feeds.ready == true and .feeds.pending_first_polls == 0'
ok $? "healthz: ready once the hanging feed's first poll has timed out"
grep -q "every pull feed has been polled once: $(($(printf '%s' "$MODES" | wc -w) + 8)) feeds" "$WORK/brokerd.log"
ok $? "the readiness line counts every pull feed"

kill $FEEDSRV 2>/dev/null
stop_broker
ok $? "SIGTERM stops the daemon with status 0 while transfers are in flight"
done_testing

#!/usr/bin/env bash
# GET /metrics after a known sequence: three centers (one never fed, one whose
# last push failed), four holds (one confirmed, one released, one expired, one
# still held), a quote and a 409. The scrape must be valid Prometheus text
# (0.0.4): every line a comment or `name{labels} value`, HELP and TYPE once per
# family and before its samples; the decision histogram cumulative with
# _count = the decisions made; the gauges and counters equal to what was
# done here by hand.
. "$(dirname "$0")/lib.sh"

start_broker || { ok 1 "brokerd starts"; done_testing; }

OP=$(token operator op1)
TEN=$(token tenant acme)
expect POST /v1/centers "$(center_doc sh-1 cn-shanghai)" "$OP" 201 "center sh-1"
expect POST /v1/centers "$(center_doc bj-1 cn-beijing)" "$OP" 201 "center bj-1"
expect POST /v1/centers "$(center_doc gz-1 cn-guangzhou)" "$OP" 201 "center gz-1 (never fed)"
expect POST /v1/centers/sh-1/feed "$(feed_doc sh-1 H800:256:128:28.5)" "$OP" 200 "push sh-1"
expect POST /v1/centers/bj-1/feed "$(feed_doc bj-1 Ascend910B:512:400:8.0)" "$OP" 200 "push bj-1"
expect POST /v1/centers/bj-1/feed '{"pools":[{"model":"H800","total":1,"free":2,"price_per_card_hour":1}]}' \
  "$OP" 400 "a bad push to bj-1 is refused and recorded as its feed's error"

# Four holds on sh-1 (max_latency_ms 5 keeps them in Shanghai): 4 + 6 + 8 + 2 cards.
hold() { # CARDS HOLD-SECONDS: sets PL to the new placement's id
  expect POST /v1/placements "{\"precision\":\"bf16\",\"cards\":$1,\"hours\":1,\"origin\":\"cn-shanghai\",\"max_latency_ms\":5,\"hold_seconds\":$2}" \
    "$TEN" 201 "hold $1 cards for $2 s" '.state == "held"'
  PL=$(jqv .id)
}
hold 4 600; A=$PL
hold 6 600; B=$PL
hold 8 600; C=$PL
hold 2 1; D=$PL
ok "$([ -n "$A" ] && [ -n "$B" ] && [ -n "$C" ] && [ -n "$D" ]; echo $?)" "four placement ids"
expect POST "/v1/placements/$A/confirm" "{}" "$TEN" 200 "confirm A (4 cards)" '.state == "confirmed"'
expect POST "/v1/placements/$B/release" "{}" "$TEN" 200 "release B (6 cards)" '.state == "released"'
expect POST /v1/placements '{"precision":"bf16","cards":16,"hours":1,"origin":"cn-shanghai","dry_run":true}' \
  "$TEN" 200 "a quote" '.state == "quote"'
expect POST /v1/placements '{"precision":"bf16","cards":100000,"hours":1,"origin":"cn-shanghai"}' \
  "$TEN" 409 "a request nothing fits"
expect GET /v1/nowhere "" "$TEN" 404 "an unknown path"
sleep 1.3 # D's hold runs out

: >"$WORK/headers"
req GET /metrics "" "" -D "$WORK/headers"
M="$BODY"
printf '%s\n' "$M" >"$WORK/metrics.txt"
ok "$([ "$STATUS" = 200 ]; echo $?)" "GET /metrics answers 200 without a token"
ok "$(tr -d '\r' <"$WORK/headers" | grep -qiE '^content-type: *text/plain; *version=0\.0\.4'; echo $?)" \
  "content type text/plain; version=0.0.4"

# ---- the exposition format ------------------------------------------------------------------

NAME='[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL='[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"'
VALUE='(-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|[+-]Inf|NaN)'
bad=$(grep -vE "^(# (HELP|TYPE) $NAME .+|$NAME(\{$LABEL(,$LABEL)*\})? $VALUE)\$" "$WORK/metrics.txt")
ok "$([ -z "$bad" ]; echo $?)" "every line is a HELP/TYPE comment or name{labels} value"
[ -z "$bad" ] || echo "$bad" | head -5 | sed 's/^/# bad line: /'
bad=$(grep -E '^# TYPE ' "$WORK/metrics.txt" | awk '$4 !~ /^(counter|gauge|histogram|summary|untyped)$/')
ok "$([ -z "$bad" ]; echo $?)" "every TYPE is a known metric type"
dups=$(grep -E '^# (TYPE|HELP) ' "$WORK/metrics.txt" | awk '{print $2, $3}' | sort | uniq -d)
ok "$([ -z "$dups" ]; echo $?)" "HELP and TYPE appear once per family"
# Each sample's family (a histogram's _bucket/_sum/_count belong to it) has HELP and TYPE before it.
orphans=$(awk '
  /^# TYPE / { type[$3] = $4; next }
  /^# HELP / { help[$3] = 1; next }
  /^#/ { next }
  { name = $0; sub(/[{ ].*/, "", name); fam = name
    if (!(fam in type)) { base = fam; sub(/_(bucket|sum|count)$/, "", base); if (type[base] == "histogram") fam = base }
    if (!(fam in type) || !(fam in help)) print name }' "$WORK/metrics.txt" | sort -u)
ok "$([ -z "$orphans" ]; echo $?)" "every sample's family has HELP and TYPE before it"
[ -z "$orphans" ] || echo "$orphans" | sed 's/^/# no HELP or TYPE: /'
for fam in suanwang_requests_total:counter suanwang_decision_seconds:histogram suanwang_placements:gauge \
  suanwang_cards_held:gauge suanwang_cards_confirmed:gauge suanwang_feed_age_seconds:gauge \
  suanwang_feed_errors:gauge suanwang_centers:gauge suanwang_pools:gauge suanwang_decisions_total:counter; do
  grep -qx "# TYPE ${fam%%:*} ${fam##*:}" "$WORK/metrics.txt"
  ok $? "family ${fam%%:*} is a ${fam##*:}"
done

# v SERIES: the value of one series, written exactly as in the exposition.
v() { awk -v k="$1" '$1 == k { print $2 }' "$WORK/metrics.txt"; }
is() { # SERIES WANT
  local got
  got=$(v "$1")
  [ "$got" = "$2" ]
  ok $? "$1 = $2${got:+ (got $got)}${got:-" (absent)"}"
}

# ---- the decision histogram -----------------------------------------------------------------

# Decisions made: 4 holds, the quote and the 409 (the broker's own list says the same).
req GET "/v1/decisions?limit=100" "" "$ADMIN"
NDEC=$(jqv '.decisions | length')
ok "$([ "$NDEC" = 6 ]; echo $?)" "six decisions are recorded (got $NDEC)"
is suanwang_decision_seconds_count 6
is 'suanwang_decision_seconds_bucket{le="+Inf"}' 6
grep -E '^suanwang_decision_seconds_bucket\{le="[^"]+"\} ' "$WORK/metrics.txt" |
  sed -E 's/^.*le="([^"]+)"\} (.*)$/\1 \2/' >"$WORK/buckets"
awk 'BEGIN { prev_le = -1; prev = 0; bad = 0 }
  { le = ($1 == "+Inf") ? 1e300 : $1 + 0
    if (le <= prev_le || $2 + 0 < prev) bad = 1
    prev_le = le; prev = $2 + 0 }
  END { exit bad || NR < 2 }' "$WORK/buckets"
ok $? "buckets: le increasing, counts cumulative (non-decreasing), ending in +Inf"
ok "$(head -1 "$WORK/buckets" | grep -q '^0.0001 ' && grep -q '^1 ' "$WORK/buckets"; echo $?)" \
  "buckets run from 0.0001 s to 1 s"
ok "$(awk '{ exit !($1 > 0 && $1 < 6) }' <<<"$(v suanwang_decision_seconds_sum)"; echo $?)" \
  "_sum is positive seconds ($(v suanwang_decision_seconds_sum))"
is 'suanwang_decisions_total{outcome="placed"}' 4
is 'suanwang_decisions_total{outcome="quoted"}' 1
is 'suanwang_decisions_total{outcome="unplaceable"}' 1
is 'suanwang_decisions_total{outcome="over_quota"}' 0

# ---- gauges, as made by hand ----------------------------------------------------------------

is 'suanwang_placements{state="held"}' 1
is 'suanwang_placements{state="confirmed"}' 1
is 'suanwang_placements{state="released"}' 1
is 'suanwang_placements{state="expired"}' 1
is suanwang_cards_held 8
is suanwang_cards_confirmed 4
is suanwang_centers 3
is suanwang_pools 2
AGE=$(v 'suanwang_feed_age_seconds{center="sh-1",feed="0",adapter="native"}')
ok "$(awk -v a="$AGE" 'BEGIN { exit !(a != "" && a >= 0 && a < 120) }'; echo $?)" \
  "sh-1's feed age is a few seconds ($AGE)"
ok "$(v 'suanwang_feed_age_seconds{center="bj-1",feed="0",adapter="native"}' | grep -q .; echo $?)" \
  "bj-1's feed has an age: it succeeded before it failed"
ok "$(! grep -q 'suanwang_feed_age_seconds{center="gz-1"' "$WORK/metrics.txt"; echo $?)" \
  "gz-1's feed has no age: it never succeeded"
is 'suanwang_feed_errors{center="sh-1",feed="0",adapter="native"}' 0
is 'suanwang_feed_errors{center="bj-1",feed="0",adapter="native"}' 1
is 'suanwang_feed_errors{center="gz-1",feed="0",adapter="native"}' 0

# ---- request counters -----------------------------------------------------------------------

is 'suanwang_requests_total{method="POST",route="/v1/placements",code="201"}' 4
is 'suanwang_requests_total{method="POST",route="/v1/placements",code="200"}' 1
is 'suanwang_requests_total{method="POST",route="/v1/placements",code="409"}' 1
is 'suanwang_requests_total{method="POST",route="/v1/placements/{}/confirm",code="200"}' 1
is 'suanwang_requests_total{method="POST",route="/v1/placements/{}/release",code="200"}' 1
is 'suanwang_requests_total{method="POST",route="/v1/centers/{}/feed",code="200"}' 2
is 'suanwang_requests_total{method="POST",route="/v1/centers/{}/feed",code="400"}' 1
is 'suanwang_requests_total{method="POST",route="/v1/centers",code="201"}' 3
is 'suanwang_requests_total{method="any",route="unmatched",code="404"}' 1
ok "$(! grep -q 'route="/metrics"' "$WORK/metrics.txt"; echo $?)" "a scrape is counted after it is answered"
req GET /metrics
printf '%s\n' "$BODY" >"$WORK/metrics.txt"
is 'suanwang_requests_total{method="GET",route="/metrics",code="200"}' 1

# A confirmed placement released: cards_confirmed goes back down; the held one stays.
expect POST "/v1/placements/$A/release" "{}" "$TEN" 200 "release A"
req GET /metrics
printf '%s\n' "$BODY" >"$WORK/metrics.txt"
is suanwang_cards_confirmed 0
is suanwang_cards_held 8
is 'suanwang_placements{state="released"}' 2

done_testing

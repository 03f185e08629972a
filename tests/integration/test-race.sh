#!/usr/bin/env bash
# Many clients race for the last cards of one pool and get exactly the cards that exist
# (issue 3, "Concurrency"): 250 concurrent HTTP/2 streams on one connection for 100 cards,
# then 250 requests over 50 separate connections for 60 cards in 3-card holds, then 50
# concurrent creates with one Idempotency-Key (one connection, then ten). Statuses come
# from h2load's summary and the daemon's request log; the capacity is checked through the API.
# Needs h2load and nghttp (package nghttp2-client).
. "$(dirname "$0")/lib.sh"

for tool in h2load nghttp jq; do
  if ! command -v "$tool" >/dev/null; then
    echo "1..0 # SKIP $tool is not installed"
    exit 0
  fi
done

# h2load's summary: "requests: 250 total, 250 started, 250 done, 100 succeeded, 150 failed,
# 0 errored, 0 timeout" and "status codes: 100 2xx, 0 3xx, 150 4xx, 0 5xx".
# h2stat FILE FIELD: prints the count in front of FIELD (e.g. "done", "2xx").
h2stat() {
  sed -n 's/^requests: //p; s/^status codes: //p' "$1" | tr ',' '\n' |
    awk -v f="$2" '$2 == f { print $1 }' | head -n 1
}

# The placements of the tenant, by state and card count, from the API.
placements() {
  req GET "/v1/placements?limit=1000" "" "$TEN"
  printf '%s' "$BODY" >"$WORK/placements.json"
}

# The race wants 250 concurrent streams on one connection: more than the default limit of 128.
cat >"$WORK/config.json" <<'EOF'
{"max_streams": 300, "max_connections": 200}
EOF
start_broker --config "$WORK/config.json" || { ok 1 "brokerd starts"; done_testing; }
OP=$(token operator op1)
TEN=$(token tenant acme)
ok "$([ -n "$OP" ] && [ -n "$TEN" ]; echo $?)" "admin issues operator and tenant tokens"
expect POST /v1/centers "$(center_doc sh-1 cn-shanghai)" "$OP" 201 "register sh-1"
expect POST /v1/centers/sh-1/feed "$(feed_doc sh-1 H800:128:100:28.5)" "$OP" 200 \
  "sh-1 has exactly 100 free H800"
expect GET /v1/centers/sh-1 "" "$TEN" 200 "100 cards available before the race" \
  '.pools[0].available == 100 and .pools[0].held == 0'
req GET /healthz
nghttp -nv "$URL/healthz" >"$WORK/settings.txt" 2>&1
ok "$(grep -q 'SETTINGS_MAX_CONCURRENT_STREAMS(0x03):300' "$WORK/settings.txt"; echo $?)" \
  "the server advertises 300 concurrent streams (from the config file)"

# ---- (a) 250 concurrent streams on ONE connection, 1-card holds, 100 cards ----------------
printf '{"precision":"bf16","cards":1,"hours":1,"origin":"cn-shanghai","hold_seconds":3600}' \
  >"$WORK/hold1.json"
lines_before=$(wc -l <"$WORK/brokerd.log")
timeout 120 h2load -n 250 -c 1 -m 250 -d "$WORK/hold1.json" -H "authorization: Bearer $TEN" \
  -H 'content-type: application/json' "$URL/v1/placements" >"$WORK/h2load-a.txt" 2>&1
rc=$?
sed -n '/^requests:/p;/^status codes:/p' "$WORK/h2load-a.txt" | sed 's/^/# (a) /'
ok $rc "(a) h2load ran 250 streams on one connection"
ok "$([ "$(h2stat "$WORK/h2load-a.txt" "done")" = 250 ] && [ "$(h2stat "$WORK/h2load-a.txt" errored)" = 0 ]; echo $?)" \
  "(a) all 250 requests done, none errored"
ok "$([ "$(h2stat "$WORK/h2load-a.txt" 2xx)" = 100 ]; echo $?)" "(a) exactly 100 got a 2xx"
ok "$([ "$(h2stat "$WORK/h2load-a.txt" 4xx)" = 150 ] && [ "$(h2stat "$WORK/h2load-a.txt" 5xx)" = 0 ]; echo $?)" \
  "(a) the other 150 got a 4xx, no 5xx"
tail -n +"$((lines_before + 1))" "$WORK/brokerd.log" | grep 'POST /v1/placements ' >"$WORK/log-a.txt"
ok "$([ "$(grep -c ' POST /v1/placements 201 ' "$WORK/log-a.txt")" = 100 ] &&
      [ "$(grep -c ' POST /v1/placements 409 ' "$WORK/log-a.txt")" = 150 ]; echo $?)" \
  "(a) the request log has 100 x 201 and 150 x 409"
ok "$([ "$(grep -o 'peer=[^ ]*' "$WORK/log-a.txt" | sort -u | wc -l)" = 1 ]; echo $?)" \
  "(a) all 250 came over one connection"
expect GET /v1/centers/sh-1 "" "$TEN" 200 "(a) held == 100 and available == 0 exactly" \
  '.pools[0].held == 100 and .pools[0].available == 0 and .pools[0].confirmed_unseen == 0'
placements
ok "$(jq -e '([.placements[] | select(.state == "held")] | length) == 100 and
             ([.placements[] | select(.state == "held") | .pieces[].cards] | add) == 100 and
             ([.placements[].id] | unique | length) == 100' "$WORK/placements.json" >/dev/null; echo $?)" \
  "(a) exactly 100 held placements of one card each, distinct ids"

# ---- (b) release all; 250 requests over 50 connections for 60 cards in 3-card holds ----
released=0
for id in $(jq -r '.placements[] | select(.state == "held") | .id' "$WORK/placements.json"); do
  req POST "/v1/placements/$id/release" "{}" "$TEN"
  [ "$STATUS" = 200 ] && released=$((released + 1))
done
ok "$([ "$released" = 100 ]; echo $?)" "(b) all 100 holds released ($released)"
expect POST /v1/centers/sh-1/feed "$(feed_doc sh-1 H800:128:60:28.5)" "$OP" 200 \
  "(b) a new feed leaves 60 free cards"
expect GET /v1/centers/sh-1 "" "$TEN" 200 "(b) 60 available, nothing held" \
  '.pools[0].held == 0 and .pools[0].available == 60'
printf '{"precision":"bf16","cards":3,"hours":1,"origin":"cn-shanghai","hold_seconds":3600}' \
  >"$WORK/hold3.json"
lines_before=$(wc -l <"$WORK/brokerd.log")
timeout 120 h2load -n 250 -c 50 -m 5 -d "$WORK/hold3.json" -H "authorization: Bearer $TEN" \
  -H 'content-type: application/json' "$URL/v1/placements" >"$WORK/h2load-b.txt" 2>&1
rc=$?
sed -n '/^requests:/p;/^status codes:/p' "$WORK/h2load-b.txt" | sed 's/^/# (b) /'
ok $rc "(b) h2load ran 250 requests over 50 connections"
ok "$([ "$(h2stat "$WORK/h2load-b.txt" "done")" = 250 ] && [ "$(h2stat "$WORK/h2load-b.txt" errored)" = 0 ]; echo $?)" \
  "(b) all 250 done, none errored"
ok "$([ "$(h2stat "$WORK/h2load-b.txt" 2xx)" = 20 ] && [ "$(h2stat "$WORK/h2load-b.txt" 4xx)" = 230 ]; echo $?)" \
  "(b) exactly 20 holds succeeded, 230 refused"
tail -n +"$((lines_before + 1))" "$WORK/brokerd.log" | grep 'POST /v1/placements ' >"$WORK/log-b.txt"
ok "$([ "$(grep -c ' 201 ' "$WORK/log-b.txt")" = 20 ] && [ "$(grep -c ' 409 ' "$WORK/log-b.txt")" = 230 ] &&
      [ "$(grep -o 'peer=[^ ]*' "$WORK/log-b.txt" | sort -u | wc -l)" = 50 ]; echo $?)" \
  "(b) the log has 20 x 201 and 230 x 409 from 50 connections"
expect GET /v1/centers/sh-1 "" "$TEN" 200 "(b) held == 60 and available == 0 exactly" \
  '.pools[0].held == 60 and .pools[0].available == 0'
placements
ok "$(jq -e '([.placements[] | select(.state == "held")] | length) == 20 and
             ([.placements[] | select(.state == "held") | .pieces[].cards] | add) == 60' \
      "$WORK/placements.json" >/dev/null; echo $?)" "(b) 20 held placements of 3 cards"

# ---- (c) 50 concurrent creates with one Idempotency-Key --------------------------------
for id in $(jq -r '.placements[] | select(.state == "held") | .id' "$WORK/placements.json"); do
  req POST "/v1/placements/$id/release" "{}" "$TEN"
done
expect GET /v1/centers/sh-1 "" "$TEN" 200 "(c) all released again" '.pools[0].held == 0'
# nghttp sends each distinct URI as a concurrent stream on one connection; the query only
# makes the URIs distinct (nghttp drops repeats).
uris=()
for i in $(seq 1 50); do uris+=("$URL/v1/placements?n=$i"); done
lines_before=$(wc -l <"$WORK/brokerd.log")
timeout 60 nghttp -d "$WORK/hold3.json" -H "authorization: Bearer $TEN" \
  -H 'content-type: application/json' -H 'idempotency-key: race-key-one-connection' \
  "${uris[@]}" >"$WORK/idem1.json" 2>"$WORK/nghttp.err"
ok $? "(c) nghttp sent 50 concurrent creates with one key on one connection"
ok "$(jq -s -e 'length == 50 and ([.[].id] | unique | length) == 1 and (.[0].id | startswith("pl_"))' \
      "$WORK/idem1.json" >/dev/null; echo $?)" "(c) all 50 answers carry the same placement id"
tail -n +"$((lines_before + 1))" "$WORK/brokerd.log" | grep 'POST /v1/placements?n=' >"$WORK/log-c.txt"
ok "$([ "$(grep -c ' 201 ' "$WORK/log-c.txt")" = 1 ] && [ "$(grep -c ' 200 ' "$WORK/log-c.txt")" = 49 ]; echo $?)" \
  "(c) one 201 (created) and 49 x 200 (replayed) in the log"
timeout 60 h2load -n 50 -c 10 -m 5 -d "$WORK/hold3.json" -H "authorization: Bearer $TEN" \
  -H 'content-type: application/json' -H 'idempotency-key: race-key-ten-connections' \
  "$URL/v1/placements" >"$WORK/h2load-c.txt" 2>&1
sed -n '/^requests:/p;/^status codes:/p' "$WORK/h2load-c.txt" | sed 's/^/# (c) /'
ok "$([ "$(h2stat "$WORK/h2load-c.txt" 2xx)" = 50 ] && [ "$(h2stat "$WORK/h2load-c.txt" errored)" = 0 ]; echo $?)" \
  "(c) 50 creates with another key over 10 connections all answered 2xx"
expect GET /v1/centers/sh-1 "" "$TEN" 200 "(c) the two keys hold 2 x 3 cards, no more" \
  '.pools[0].held == 6 and .pools[0].available == 54'
placements
ok "$(jq -e '[.placements[] | select(.state == "held")] | length == 2' "$WORK/placements.json" \
      >/dev/null; echo $?)" "(c) exactly two held placements exist"

stop_broker
ok $? "SIGTERM stops the daemon with status 0"
done_testing

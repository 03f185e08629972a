#!/usr/bin/env bash
# Bad input over real HTTP/2 (SPEC §4, §7 "bad input gets a clear error, never a crash, and
# nothing is lost"): every malformed, mistyped, out-of-range, oversized, unauthenticated or
# unauthorised request gets a 4xx application/problem+json answer with type, title, status,
# detail and, for a bad field, the exact JSON pointer of the field; a tenant never learns of
# another tenant's objects (404, not 403); a refused feed leaves the last good snapshot and
# shows the error; and after all of it the daemon is up, its earlier data intact, and it
# stops cleanly on SIGTERM.
. "$(dirname "$0")/lib.sh"

# problem METHOD PATH BODY TOKEN WANT-STATUS POINTER DESCRIPTION [extra curl args...]
# POINTER: "" = no pointer check; "none" = the answer must carry no pointer; "a|b" = either.
problem() {
  local method=$1 path=$2 body=$3 tok=$4 want=$5 ptr=$6 desc=$7
  shift 7
  req "$method" "$path" "$body" "$tok" -D "$WORK/hdr" "$@"
  local good=0
  [ "$STATUS" = "$want" ] || good=1
  grep -qi '^content-type: *application/problem+json' "$WORK/hdr" || good=1
  printf '%s' "$BODY" | jq -e --argjson s "$want" \
    '(.type | type == "string" and length > 0) and (.title | type == "string" and length > 0)
     and .status == $s and (.detail | type == "string" and length > 0)' >/dev/null 2>&1 || good=1
  case "$ptr" in
    "") ;;
    none) printf '%s' "$BODY" | jq -e 'has("pointer") | not' >/dev/null 2>&1 || good=1 ;;
    *) printf '%s' "$BODY" | jq -e --arg p "$ptr" '(.pointer // "none") as $x | ($p | split("|")) | index([$x]) != null' \
         >/dev/null 2>&1 || good=1 ;;
  esac
  ok $good "$desc"
}

# raw_status ARGS...: the HTTP status curl sees (h2 prior knowledge), body in $WORK/raw.
raw_status() {
  curl -s --http2-prior-knowledge --max-time 20 -o "$WORK/raw" -w '%{http_code}' "$@" 2>/dev/null \
    || echo "-failed"
}

# pad_to FILE SIZE JSON: writes JSON followed by spaces so FILE is exactly SIZE bytes.
pad_to() {
  python3 - "$1" "$2" "$3" <<'PY'
import sys
path, size, doc = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
assert len(doc) <= size
open(path, "wb").write(doc + b" " * (size - len(doc)))
PY
}

start_broker || { ok 1 "brokerd starts"; done_testing; }
expect GET /healthz "" "" 200 "healthz answers" '.status == "ok"'

# ---- good data first: it must survive everything below ----
OP1=$(token operator op1)
OP2=$(token operator op2)
TA=$(token tenant acme)
TB=$(token tenant beta)
ok "$([ -n "$OP1" ] && [ -n "$OP2" ] && [ -n "$TA" ] && [ -n "$TB" ]; echo $?)" \
  "the bootstrap admin token issues operator and tenant tokens"

NOW_MINUS_1M=$(date -u -d '-1 minute' +%Y-%m-%dT%H:%M:%SZ)
expect POST /v1/centers "$(center_doc sh-1 cn-shanghai)" "$OP1" 201 "op1 registers sh-1"
GOOD_FEED=$(printf '{"center":"sh-1","observed_at":"%s","pools":[{"model":"H800","total":256,"free":128,"largest_block":64,"price_per_card_hour":28.5}]}' "$NOW_MINUS_1M")
expect POST /v1/centers/sh-1/feed "$GOOD_FEED" "$OP1" 200 "op1 pushes a good feed to sh-1" '.pools == 1'
PULL_CENTER='{"id":"pull-1","name":"pull only","operator":"op1","region":"cn-beijing","feeds":[{"adapter":"native","mode":"pull","url":"http://127.0.0.1:9/feed.json","interval_s":3600}]}'
expect POST /v1/centers "$PULL_CENTER" "$OP1" 201 "op1 registers pull-1 with only a pull feed"

H='{"precision":"bf16","cards":8,"hours":2,"origin":"cn-shanghai","hold_seconds":3600}'
expect POST /v1/placements "$H" "$TA" 201 "tenant acme holds 8 H800" '.state == "held"'
PL_A=$(jqv .id)
DC_A=$(jqv .decision_id)
expect POST /v1/placements "$H" "$TB" 201 "tenant beta holds 8 H800" '.state == "held"'
PL_B=$(jqv .id)
expect POST /v1/vouchers '{"id":"V-ACME-1","issuer":"sh-eitc","tenant":"acme","rate":0.1,"amount":1000,"valid_until":"2099-01-01T00:00:00Z"}' \
  "$ADMIN" 201 "admin issues a voucher to acme"

count_decisions() { req GET "/v1/decisions?limit=1000" "" "$1"; jqv '.decisions | length'; }
count_placements() { req GET "/v1/placements?limit=1000" "" "$1"; jqv '.placements | length'; }
DEC_BEFORE=$(count_decisions "$TA")
PLC_BEFORE=$(count_placements "$TA")

# ---- POST /v1/placements: bad bodies ----
P=/v1/placements
Q='"precision":"bf16","hours":1,"origin":"cn-shanghai","dry_run":true'
problem POST $P '{"precision":"bf16",' "$TA" 400 none "malformed JSON -> 400 without a pointer"
problem POST $P '{"precision":"bf16"} x' "$TA" 400 none "trailing garbage after the object -> 400"
problem POST $P '[1,2,3]' "$TA" 400 none "a JSON array -> 400"
problem POST $P '"hello"' "$TA" 400 none "a JSON string -> 400"
problem POST $P '' "$TA" 400 none "an empty body -> 400"
problem POST $P "{$Q,\"cards\":\"64\"}" "$TA" 400 /cards 'cards "64" (a string) -> /cards'
problem POST $P '{"precision":"bf16","cards":1,"hours":true,"origin":"cn-shanghai"}' "$TA" 400 /hours \
  'hours true -> /hours'
problem POST $P '{"precision":"bf16","cards":1,"hours":1,"origin":5}' "$TA" 400 /origin 'origin 5 -> /origin'
problem POST $P "{$Q,\"cards\":1,\"gang\":\"yes\"}" "$TA" 400 /gang 'gang "yes" -> /gang'
problem POST $P "{$Q,\"cards\":1,\"weights\":[]}" "$TA" 400 /weights 'weights [] -> /weights'
problem POST $P "{$Q,\"cards\":1,\"weights\":{\"cost\":-1}}" "$TA" 400 /weights/cost \
  'a negative weight -> /weights/cost'
problem POST $P "{$Q,\"cards\":1,\"weights\":{\"cost\":0,\"latency\":0}}" "$TA" 400 /weights \
  'all-zero weights -> /weights'
problem POST $P "{$Q,\"cards\":1,\"colour\":\"red\"}" "$TA" 400 /colour 'an unknown field -> /colour'
problem POST $P '{"precision":"fp4","cards":1,"hours":1,"origin":"cn-shanghai"}' "$TA" 400 /precision \
  'unknown precision "fp4" -> /precision'
problem POST $P '{"cards":1,"hours":1,"origin":"cn-shanghai"}' "$TA" 400 /precision 'no precision -> /precision'
for c in -8 0 1.5 1e12 1e400 -1e400; do
  problem POST $P "{$Q,\"cards\":$c}" "$TA" 400 /cards "cards $c -> /cards"
done
problem POST $P '{"precision":"bf16","cards":1,"hours":1e9,"origin":"cn-shanghai"}' "$TA" 400 /hours \
  'hours 1e9 -> /hours'
problem POST $P '{"precision":"bf16","cards":1,"hours":-1,"origin":"cn-shanghai"}' "$TA" 400 /hours \
  'negative hours -> /hours'
problem POST $P '{"precision":"bf16","cards":1,"origin":"cn-shanghai"}' "$TA" 400 /hours 'missing hours -> /hours'
problem POST $P "{$Q,\"cards\":4,\"pflops\":1}" "$TA" 400 /cards 'both cards and pflops -> /cards'
problem POST $P "{$Q}" "$TA" 400 /cards 'neither cards nor pflops -> /cards'
problem POST $P '{"precision":"bf16","cards":1,"hours":1,"origin":"cn-atlantis"}' "$TA" 400 /origin \
  'unknown origin region -> /origin'
problem POST $P "{$Q,\"cards\":1,\"regions_allowed\":[\"cn-shanghai\",5]}" "$TA" 400 /regions_allowed/1 \
  'regions_allowed with a non-string -> /regions_allowed/1'
problem POST $P "{$Q,\"cards\":1,\"labels\":{\"tier\":{\"nested\":\"x\"}}}" "$TA" 400 /labels/tier \
  'labels with a nested object -> /labels/tier'
problem POST $P "{$Q,\"cards\":1,\"vouchers\":[\"NO-SUCH\"]}" "$TA" 400 /vouchers/0 \
  'an unknown voucher id -> /vouchers/0'
problem POST $P "{$Q,\"cards\":1,\"vouchers\":[\"V-ACME-1\"]}" "$TB" 400 /vouchers/0 \
  "another tenant's voucher is an unknown voucher -> /vouchers/0"
python3 -c 'import sys; sys.stdout.write("[" * 5000)' >"$WORK/deep1"
problem POST $P "@$WORK/deep1" "$TA" 400 none '5000 nested "[" -> 400, not a crash'
python3 -c 'import sys; sys.stdout.write("{\"labels\":" + "{\"a\":" * 5000 + "1" + "}" * 5001)' >"$WORK/deep2"
problem POST $P "@$WORK/deep2" "$TA" 400 "" '5000 nested objects under labels -> 400, not a crash'
printf '{"precision":"bf16","cards":1,"hours":1,"origin":"cn-shang\\u0001hai"}' >"$WORK/ctl1"
problem POST $P "@$WORK/ctl1" "$TA" 400 /origin 'an escaped control character in origin -> /origin'
printf '{"precision":"bf16","cards":1,"hours":1,"origin":"cn-shanghai","dry_run":true,"labels":{"k":"a\001b"}}' >"$WORK/ctl2"
problem POST $P "@$WORK/ctl2" "$TA" 400 /labels/k 'a raw control byte in a label value -> /labels/k'
problem POST $P "{$Q,\"cards\":1}" "$TA" 400 none 'Idempotency-Key longer than 128 bytes -> 400' \
  -H "Idempotency-Key: $(head -c 200 /dev/zero | tr '\0' k)"

DEC_AFTER=$(count_decisions "$TA")
PLC_AFTER=$(count_placements "$TA")
ok "$([ -n "$DEC_BEFORE" ] && [ "$DEC_BEFORE" = "$DEC_AFTER" ] && [ "$PLC_BEFORE" = "$PLC_AFTER" ]; echo $?)" \
  "refused requests record no decision and hold nothing ($DEC_BEFORE/$DEC_AFTER decisions, $PLC_BEFORE/$PLC_AFTER placements)"

# Strings must be valid UTF-8 without control characters (JSON is UTF-8, RFC 8259 §8.1).
printf '{"precision":"bf16","cards":1,"hours":1,"origin":"cn-shanghai","dry_run":true,"labels":{"k":"\xff\xfe"}}' >"$WORK/utf8"
problem POST $P "@$WORK/utf8" "$TA" 400 "/labels/k|none" 'invalid UTF-8 in a label value -> 400'
printf '{"precision":"bf16","cards":1,"hours":1,"origin":"cn-shanghai\\u0000evil","dry_run":true}' >"$WORK/nul"
problem POST $P "@$WORK/nul" "$TA" 400 /origin 'a \u0000 inside origin is refused, not silently truncated -> /origin'

# ---- size limits ----
pad_to "$WORK/b64k" 65536 "{$Q,\"cards\":1}"
req POST $P "@$WORK/b64k" "$TA"
ok "$([ "$STATUS" = 200 ]; echo $?)" "a placement body of exactly 64 KiB is accepted"
pad_to "$WORK/b64k1" 65537 "{$Q,\"cards\":1}"
problem POST $P "@$WORK/b64k1" "$TA" 413 "" "a placement body of 64 KiB + 1 -> 413"
python3 -c 'import sys; sys.stdout.write("{\"pad\":\"" + "x" * 300000 + "\"}")' >"$WORK/b300k"
problem POST $P "@$WORK/b300k" "$TA" 413 "" "a 300 KB placement body -> 413"
# The connection that got the 413 keeps serving: nghttp sends the oversized POST and a second
# request as two streams on one connection; both get their own answer and nothing resets it.
# (curl 7.88 cannot reuse a prior-knowledge h2 connection at all, even against nghttpd.)
out=$(nghttp -v -t 10 -H "authorization: Bearer $TA" -H 'content-type: application/json' \
        -d "$WORK/b300k" "$URL$P" "$URL/healthz" 2>&1)
rc=$?
st=$(printf '%s\n' "$out" | sed -n 's/.*recv (stream_id=[0-9]*) :status: \([0-9]*\).*/\1/p' | sort | tr '\n' ' ')
ok "$([ $rc -eq 0 ] && [ "$st" = "405 413 " ] && ! printf '%s' "$out" | grep -q 'recv \(RST_STREAM\|GOAWAY\)'; echo $?)" \
  "a 413 does not break its connection: a second stream on it is answered (statuses: $st)"
expect GET /healthz "" "" 200 "after the 413s a new connection is served"

FEED_1M=$(printf '{"center":"sh-1","pools":[{"model":"H800","total":256,"free":120,"largest_block":64,"price_per_card_hour":28.5}]}')
pad_to "$WORK/f1m" 1048576 "$FEED_1M"
req POST /v1/centers/sh-1/feed "@$WORK/f1m" "$OP1"
ok "$([ "$STATUS" = 200 ] && jqt '.pools == 1'; echo $?)" "a feed push of exactly 1 MiB is accepted"
pad_to "$WORK/f1m1" 1048577 "$FEED_1M"
problem POST /v1/centers/sh-1/feed "@$WORK/f1m1" "$OP1" 413 "" "a feed push of 1 MiB + 1 -> 413"
python3 -c 'import sys; sys.stdout.write("{\"pad\":\"" + "x" * 3000000 + "\"}")' >"$WORK/f3m"
problem POST /v1/centers/sh-1/feed "@$WORK/f3m" "$OP1" 413 "" "a 3 MB feed push -> 413"
expect GET /v1/centers/sh-1 "" "$TA" 200 "sh-1 shows the 1 MiB feed's snapshot (free 120)" \
  '.pools | length == 1 and .[0].model == "H800" and .[0].free == 120 and .[0].total == 256'

# ---- authentication ----
problem GET /v1/centers "" "" 401 "" "no Authorization header -> 401"
ok "$(grep -qi '^www-authenticate: *Bearer' "$WORK/hdr"; echo $?)" "the 401 carries WWW-Authenticate: Bearer"
problem GET /v1/centers "" "" 401 "" '"Authorization: Basic x" -> 401' -H 'Authorization: Basic eDp5'
problem GET /v1/centers "" "" 401 "" '"Authorization: Bearer" with no token -> 401' -H 'Authorization: Bearer'
problem GET /v1/centers "" "" 401 "" '"Authorization: Bearer abc def" (two words) -> 401' -H 'Authorization: Bearer abc def'
problem GET /v1/centers "" "" 401 "" '"Authorization: Token abc" -> 401' -H 'Authorization: Token abc'
problem GET /v1/centers "" "not-a-real-token-0123456789abcdef" 401 "" "an unknown token -> 401"
problem POST $P "{$Q,\"cards\":1}" "" 401 "" "POST /v1/placements without a token -> 401"
problem GET /v1/centers "" "$(head -c 400 /dev/zero | tr '\0' t)" 401 "" "a 400-byte token -> 401"
expect GET /v1/centers "" "$ADMIN" 200 "SUANWANG_ADMIN_TOKEN is accepted" '.centers | length == 2'

# ---- roles ----
problem POST /v1/centers "$(center_doc t-1 cn-shanghai)" "$TA" 403 "" "tenant POST /v1/centers -> 403"
problem POST /v1/tokens '{"role":"admin","subject":"mallory"}' "$TA" 403 "" "tenant POST /v1/tokens -> 403"
problem POST /v1/tokens '{"role":"operator","subject":"op9"}' "$OP1" 403 "" "operator POST /v1/tokens -> 403"
problem POST /v1/vouchers '{"id":"V-X","issuer":"x","tenant":"acme","rate":0.5,"amount":1,"valid_until":"2099-01-01T00:00:00Z"}' \
  "$TA" 403 "" "tenant POST /v1/vouchers -> 403"
problem POST $P "{$Q,\"cards\":1}" "$OP1" 403 "" "operator POST /v1/placements -> 403"
problem POST $P "{$Q,\"cards\":1}" "$ADMIN" 403 "" "admin POST /v1/placements -> 403 (placements are made by tenants)"
problem PUT /v1/centers/sh-1 "$(center_doc sh-1 cn-shanghai draining | sed 's/"op1"/"op2"/')" "$OP2" 403 "" \
  "op2 updating op1's sh-1 -> 403"
problem DELETE /v1/centers/sh-1 "" "$OP2" 403 "" "op2 deleting op1's sh-1 -> 403"
problem POST /v1/centers/sh-1/feed "$(feed_doc sh-1 H800:256:0:1)" "$OP2" 403 "" "op2 pushing to op1's sh-1 -> 403"
problem DELETE /v1/centers/sh-1 "" "$TA" 403 "" "tenant deleting sh-1 -> 403"
problem POST /v1/centers "$(center_doc op2-fake cn-shanghai)" "$OP2" 403 /operator \
  "op2 registering a center under operator op1 -> 403 /operator"
expect GET /v1/centers/op2-fake "" "$ADMIN" 404 "the refused center was not created"
expect GET /v1/centers/sh-1 "" "$OP2" 200 "sh-1 is unchanged by op2's attempts" \
  '.operator == "op1" and .status == "active" and .pools[0].free == 120'
problem GET "/v1/placements/$PL_A" "" "$TB" 404 "" "tenant beta reading acme's placement -> 404"
problem GET "/v1/decisions/$DC_A" "" "$TB" 404 "" "tenant beta reading acme's decision -> 404"
problem GET /v1/vouchers/V-ACME-1 "" "$TB" 404 "" "tenant beta reading acme's voucher -> 404"
problem POST "/v1/placements/$PL_A/release" "{}" "$TB" 404 "" "tenant beta releasing acme's placement -> 404"
problem POST "/v1/placements/$PL_A/confirm" "{}" "$TB" 404 "" "tenant beta confirming acme's placement -> 404"
expect GET "/v1/placements/$PL_A" "" "$TA" 200 "acme's placement is still held" '.state == "held"'
expect GET /v1/placements "" "$TB" 200 "beta's placement list holds only beta's placement" \
  "(.placements | map(.id)) == [\"$PL_B\"] and all(.placements[]; .tenant == \"beta\")"
expect GET /v1/placements "" "$TA" 200 "acme's placement list holds acme's, not beta's" \
  "(.placements | map(.id) | index(\"$PL_A\") != null and index(\"$PL_B\") == null) and all(.placements[]; .tenant == \"acme\")"
expect GET "/v1/decisions?limit=1000" "" "$TB" 200 "beta's decision list holds only beta's decisions" \
  "(.decisions | length) >= 1 and all(.decisions[]; .tenant == \"beta\") and (.decisions | map(.id) | index(\"$DC_A\") == null)"
expect GET /v1/vouchers "" "$TB" 200 "beta's voucher list does not show acme's voucher" \
  '(.vouchers | map(.id) | index("V-ACME-1")) == null'

# ---- centers ----
cdoc() { # ID REGION FEEDS-JSON [OPERATOR]
  printf '{"id":"%s","name":"x","operator":"%s","region":"%s","feeds":%s}' "$1" "${4:-op1}" "$2" "$3"
}
problem POST /v1/centers "$(cdoc c-ad cn-shanghai '[{"adapter":"fancy","mode":"push"}]')" "$OP1" 400 \
  /feeds/0/adapter "unknown adapter -> /feeds/0/adapter"
problem POST /v1/centers "$(cdoc c-url cn-shanghai '[{"adapter":"native","mode":"push"},{"adapter":"native","mode":"pull"}]')" \
  "$OP1" 400 /feeds/1/url "pull feed without url (second feed) -> /feeds/1/url"
problem POST /v1/centers "$(cdoc c-url cn-shanghai '[{"adapter":"native","mode":"pull"}]')" "$OP1" 400 \
  /feeds/0/url "pull feed without url -> /feeds/0/url"
problem POST /v1/centers "$(cdoc c-sch cn-shanghai '[{"adapter":"native","url":"ftp://example.com/f.json"}]')" \
  "$OP1" 400 /feeds/0/url "ftp:// url -> /feeds/0/url"
problem POST /v1/centers "$(cdoc c-sch cn-shanghai '[{"adapter":"native","url":"javascript:alert(1)"}]')" \
  "$OP1" 400 /feeds/0/url "javascript: url -> /feeds/0/url"
problem POST /v1/centers "$(cdoc c-mode cn-shanghai '[{"adapter":"native","mode":"both"}]')" "$OP1" 400 \
  /feeds/0/mode "unknown feed mode -> /feeds/0/mode"
problem POST /v1/centers "$(cdoc c-int cn-shanghai '[{"adapter":"native","url":"http://127.0.0.1:9/","interval_s":0}]')" \
  "$OP1" 400 /feeds/0/interval_s "interval_s 0 -> /feeds/0/interval_s"
problem POST /v1/centers "$(cdoc c-reg cn-atlantis '[]')" "$OP1" 400 /region "unknown region -> /region"
problem POST /v1/centers "$(cdoc 'bad id!' cn-shanghai '[]')" "$OP1" 400 /id "id with a space and '!' -> /id"
problem POST /v1/centers "$(cdoc '../etc' cn-shanghai '[]')" "$OP1" 400 /id "id '../etc' -> /id"
problem POST /v1/centers "$(cdoc -lead cn-shanghai '[]')" "$OP1" 400 /id "id starting with '-' -> /id"
problem POST /v1/centers "$(cdoc "$(head -c 65 /dev/zero | tr '\0' a)" cn-shanghai '[]')" "$OP1" 400 /id \
  "a 65-character id -> /id"
problem POST /v1/centers '{"id":"c-st","name":"x","operator":"op1","region":"cn-shanghai","status":"open"}' \
  "$OP1" 400 /status "unknown status -> /status"
problem POST /v1/centers '{"id":"c-lab","name":"x","operator":"op1","region":"cn-shanghai","labels":{"a":1}}' \
  "$OP1" 400 /labels/a "a non-string label value -> /labels/a"
problem POST /v1/centers '{"id":"c-nm","operator":"op1","region":"cn-shanghai"}' "$OP1" 400 /name \
  "missing name -> /name"
problem POST /v1/centers '{"id":"c-f","name":"x","operator":"op1","region":"cn-shanghai","feeds":{}}' \
  "$OP1" 400 /feeds "feeds not an array -> /feeds"
problem POST /v1/centers '{"id":"c-x","name":"x","operator":"op1","region":"cn-shanghai","owner":"me"}' \
  "$OP1" 400 /owner "an unknown field -> /owner"
problem POST /v1/centers '{"id":"c-x",' "$OP1" 400 none "malformed JSON -> 400"
problem POST /v1/centers "$(center_doc sh-1 cn-beijing)" "$OP1" 409 "" "duplicate id sh-1 -> 409"
problem PUT /v1/centers/sh-1 "$(center_doc other cn-shanghai)" "$OP1" 400 /id "PUT with body id 'other' on /sh-1 -> /id"
problem PUT /v1/centers/nope "$(center_doc nope cn-shanghai)" "$OP1" 404 "" "PUT an unknown center -> 404"
problem DELETE /v1/centers/nope "" "$OP1" 404 "" "DELETE an unknown center -> 404"
expect GET /v1/centers "" "$ADMIN" 200 "no refused center was created; sh-1 kept its region" \
  '(.centers | map(.id) | sort) == ["pull-1","sh-1"] and (.centers[] | select(.id == "sh-1") | .region == "cn-shanghai" and .status == "active")'

# ---- feeds ----
F=/v1/centers/sh-1/feed
problem POST $F "$(feed_doc sh-1 H800:256:300:28.5)" "$OP1" 400 /pools/0/free "free > total -> /pools/0/free"
expect GET /v1/centers/sh-1 "" "$OP1" 200 "after free > total: the last good snapshot stays and the error is shown" \
  '(.pools | length) == 1 and .pools[0].free == 120 and .pools[0].total == 256 and (.feeds[0].last_error | type == "string" and contains("/pools/0/free")) and .feeds[0].last_success != null'
problem POST $F "$(feed_doc sh-1 H800:256:-1:28.5)" "$OP1" 400 /pools/0/free "negative free -> /pools/0/free"
problem POST $F '{"center":"sh-1","pools":[{"model":"H800","total":8,"free":8,"largest_block":9,"price_per_card_hour":1}]}' \
  "$OP1" 400 /pools/0/largest_block "largest_block > free -> /pools/0/largest_block"
problem POST $F '{"center":"sh-1","pools":[{"model":"H800","total":8,"free":8,"price_per_card_hour":-2}]}' \
  "$OP1" 400 /pools/0/price_per_card_hour "negative price -> /pools/0/price_per_card_hour"
problem POST $F '{"center":"sh-1","pools":[{"model":"H800","total":"8","free":8,"price_per_card_hour":2}]}' \
  "$OP1" 400 /pools/0/total 'total "8" -> /pools/0/total'
problem POST $F '{"center":"sh-1","pools":[{"model":"H800","total":8,"free":8,"price_per_card_hour":2,"colour":1}]}' \
  "$OP1" 400 /pools/0/colour "an unknown pool field -> /pools/0/colour"
problem POST $F '{"center":"sh-1","pools":[{"model":"H800","total":8,"free":8,"price_per_card_hour":2,"tflops":{"fp4":1}}]}' \
  "$OP1" 400 /pools/0/tflops/fp4 "tflops for an unknown precision -> /pools/0/tflops/fp4"
problem POST $F '{"center":"sh-1"}' "$OP1" 400 /pools "no pools -> /pools"
problem POST $F "$(feed_doc x H800:256:1:28.5)" "$OP1" 400 /center 'a document for center "x" -> /center'
FUT=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
problem POST $F "{\"center\":\"sh-1\",\"observed_at\":\"$FUT\",\"pools\":[{\"model\":\"H800\",\"total\":256,\"free\":1,\"price_per_card_hour\":28.5}]}" \
  "$OP1" 400 /observed_at "an observed_at one day in the future -> /observed_at"
OLD=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)
problem POST $F "{\"center\":\"sh-1\",\"observed_at\":\"$OLD\",\"pools\":[{\"model\":\"H800\",\"total\":256,\"free\":1,\"price_per_card_hour\":28.5}]}" \
  "$OP1" 400 /observed_at "an observed_at older than the held snapshot -> /observed_at"
problem POST $F '{"center":"sh-1","observed_at":"yesterday","pools":[]}' "$OP1" 400 /observed_at \
  "a non-RFC 3339 observed_at -> /observed_at"
problem POST $F '{"center":"sh-1","pools":[{"model":"H800","total":8,"free":8,"price_per_card_hour":2,"currency":"USD"}]}' \
  "$OP1" 400 /pools/0/currency "currency USD with no configured rate -> /pools/0/currency"
problem POST $F '{"center":"sh-1","pools":[{"model":"H800","total":8,"free":8,"price_per_card_hour":2,"currency":"yuan"}]}' \
  "$OP1" 400 /pools/0/currency 'currency "yuan" -> /pools/0/currency'
problem POST $F "$(feed_doc sh-1 A100:8:8:9.8 'NVIDIA A100-SXM4-80GB:8:8:9.8')" "$OP1" 400 /pools/1/model \
  '"A100" and "NVIDIA A100-SXM4-80GB" in one document -> /pools/1/model'
problem POST $F "$(feed_doc sh-1 H800:8:8:1 h800:8:8:1)" "$OP1" 400 /pools/1/model \
  '"H800" twice (case differs) -> /pools/1/model'
problem POST $F '{"center":"sh-1","pools":' "$OP1" 400 none "a malformed feed document -> 400"
problem POST /v1/centers/pull-1/feed "$(feed_doc pull-1 H800:8:8:1)" "$OP1" 409 "" "push to a center with no push feed -> 409"
problem POST /v1/centers/nope/feed "$(feed_doc nope H800:8:8:1)" "$OP1" 404 "" "push to an unknown center -> 404"
expect GET /v1/centers/sh-1 "" "$OP1" 200 "after every refused feed sh-1 still has its last good snapshot" \
  '(.pools | length) == 1 and .pools[0].model == "H800" and .pools[0].free == 120 and .pools[0].total == 256 and .pools[0].price_per_card_hour == 28.5 and (.feeds[0].last_error | type == "string")'

# ---- miscellaneous ----
problem GET /v1/nope "" "$TA" 404 "" "an unknown path -> 404"
problem GET /nope "" "" 404 "" "an unknown path without a token -> 404"
problem DELETE /v1/placements "" "$TA" 405 "" "DELETE /v1/placements -> 405"
problem PUT /healthz "" "" 405 "" "PUT /healthz -> 405"
problem PATCH /v1/centers/sh-1 '{}' "$OP1" 405 "" "PATCH /v1/centers/sh-1 -> 405"
problem GET "/v1/decisions?limit=abc" "" "$TA" 400 "" "GET /v1/decisions?limit=abc -> 400"
problem GET "/v1/decisions?limit=0" "" "$TA" 400 "" "GET /v1/decisions?limit=0 -> 400"
problem GET "/v1/decisions?limit=-5" "" "$TA" 400 "" "GET /v1/decisions?limit=-5 -> 400"
problem GET "/v1/placements?limit=99999999999999999999" "" "$TA" 400 "" "GET /v1/placements?limit=<huge> -> 400"
problem GET "/v1/centers/$(head -c 600 /dev/zero | tr '\0' a)" "" "$TA" 414 "" "a 600-byte path -> 414"

t0=$(date +%s%N)
code=$(curl -s --http1.1 --max-time 5 -o "$WORK/h1" -D "$WORK/h1hdr" -w '%{http_code}' "$URL/healthz" 2>/dev/null)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
ok "$([ "$code" = 426 ] && [ "$ms" -lt 4000 ]; echo $?)" "an HTTP/1.1 client gets 426 promptly (${code}, ${ms} ms)"
ok "$(grep -qi '^content-type: *application/problem+json' "$WORK/h1hdr" && jq -e '.status == 426 and (.detail | length > 0)' "$WORK/h1" >/dev/null; echo $?)" \
  "the 426 is a problem+json document"
code=$(curl -s --http1.1 --max-time 5 -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TA" \
  -H 'Content-Type: application/json' --data-binary "{$Q,\"cards\":1}" "$URL$P" 2>/dev/null)
ok "$([ "$code" = 426 ]; echo $?)" "an HTTP/1.1 POST with a body also gets 426 ($code)"

BIG=$(head -c 20000 /dev/zero | tr '\0' c)
problem GET /healthz "" "" 431 "" "a 20 KB Cookie header -> 431" -H "Cookie: session=$BIG"
problem GET /v1/centers "" "$TA" 431 "" "a 20 KB custom header on an authenticated route -> 431" -H "X-Junk: $BIG"
expect GET /healthz "" "" 200 "after the 431s the daemon serves again"

problem POST /v1/tokens '{"role":"root","subject":"x"}' "$ADMIN" 400 /role 'tokens: role "root" -> /role'
problem POST /v1/tokens '{"role":"tenant","subject":"a b"}' "$ADMIN" 400 /subject 'tokens: subject "a b" -> /subject'
problem POST /v1/tokens '{"role":"tenant"}' "$ADMIN" 400 /subject 'tokens: no subject -> /subject'
VBASE='"id":"V-BAD","issuer":"sh-eitc","tenant":"acme","amount":100,"valid_until":"2099-01-01T00:00:00Z"'
problem POST /v1/vouchers "{$VBASE,\"rate\":2}" "$ADMIN" 400 /rate 'voucher rate 2 -> /rate'
problem POST /v1/vouchers "{$VBASE,\"rate\":0}" "$ADMIN" 400 /rate 'voucher rate 0 -> /rate'
problem POST /v1/vouchers '{"id":"V-BAD","issuer":"sh-eitc","tenant":"acme","rate":0.1,"amount":-1,"valid_until":"2099-01-01T00:00:00Z"}' \
  "$ADMIN" 400 /amount 'voucher amount -1 -> /amount'
problem POST /v1/vouchers '{"id":"V-BAD","issuer":"sh-eitc","tenant":"nobody","rate":0.1,"amount":100,"valid_until":"2099-01-01T00:00:00Z"}' \
  "$ADMIN" 400 /tenant 'voucher for an unknown tenant -> /tenant'
problem POST /v1/vouchers '{"id":"V-BAD","issuer":"sh-eitc","tenant":"acme","rate":0.1,"amount":100,"valid_until":"2001-01-01T00:00:00Z"}' \
  "$ADMIN" 400 /valid_until 'voucher already expired -> /valid_until'
problem POST /v1/vouchers "{\"id\":\"V-ACME-1\",\"issuer\":\"sh-eitc\",\"tenant\":\"acme\",\"rate\":0.1,\"amount\":1,\"valid_until\":\"2099-01-01T00:00:00Z\"}" \
  "$ADMIN" 409 "" 'a duplicate voucher id -> 409'
expect GET /v1/vouchers/V-BAD "" "$ADMIN" 404 "no refused voucher was created"
problem PUT /v1/latency '{"a":"cn-atlantis","b":"cn-beijing","rtt_ms":5}' "$ADMIN" 400 /a 'latency: unknown region a -> /a'
problem PUT /v1/latency '{"a":"cn-shanghai","b":"cn-shanghai","rtt_ms":5}' "$ADMIN" 400 /b 'latency: a == b -> /b'
problem PUT /v1/latency '{"a":"cn-shanghai","b":"cn-beijing","rtt_ms":-1}' "$ADMIN" 400 /rtt_ms 'latency: rtt_ms -1 -> /rtt_ms'
problem PUT /v1/latency '{"a":"cn-shanghai","b":"cn-beijing","rtt_ms":5,"source":"estimated"}' "$ADMIN" 400 /source \
  'latency: source "estimated" -> /source'
problem PUT /v1/latency '{"a":"cn-shanghai","b":"cn-beijing","rtt_ms":5}' "$OP1" 403 "" 'operator PUT /v1/latency -> 403'
problem POST /v1/regions '{"id":"cn-x","city":"X","lat":91,"lon":0}' "$ADMIN" 400 /lat 'region lat 91 -> /lat'
problem POST /v1/regions '{"id":"cn-x","city":"X","lat":0,"lon":0}' "$TA" 403 "" 'tenant POST /v1/regions -> 403'

# ---- the daemon is up and nothing was lost ----
expect GET /healthz "" "" 200 "healthz is still 200" '.status == "ok" and .database == "ok"'
ok "$(kill -0 "$BROKER_PID" 2>/dev/null; echo $?)" "the brokerd process is alive"
expect GET /v1/centers/sh-1 "" "$TA" 200 "sh-1 is intact: operator, region, feed and pool" \
  '.operator == "op1" and .region == "cn-shanghai" and (.feeds | length) == 1 and .feeds[0].mode == "push" and (.pools | length) == 1 and .pools[0].total == 256 and .pools[0].free == 120 and .pools[0].held == 16'
expect GET "/v1/placements/$PL_A" "" "$TA" 200 "acme's placement is intact and still held" \
  ".id == \"$PL_A\" and .state == \"held\" and .pieces[0].center == \"sh-1\" and .pieces[0].cards == 8"
expect GET "/v1/decisions/$DC_A" "" "$TA" 200 "acme's decision record is intact" ".id == \"$DC_A\" and .tenant == \"acme\""
expect GET /v1/vouchers/V-ACME-1 "" "$TA" 200 "acme's voucher is intact" '.balance == 1000'
expect POST "/v1/placements/$PL_A/confirm" "{}" "$TA" 200 "acme can still confirm its placement" '.state == "confirmed"'
req GET /metrics "" ""
ok "$([ "$STATUS" = 200 ] && ! printf '%s' "$BODY" | grep -q 'code="5xx"'; echo $?)" \
  "no request was answered with a 5xx"
ok "$(! grep -qiE 'assert|segfault|sanitizer|abort' "$WORK/brokerd.log"; echo $?)" "the daemon log shows no crash or assertion"
stop_broker
ok $? "SIGTERM stops the daemon with exit status 0"
done_testing

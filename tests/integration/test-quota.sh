#!/usr/bin/env bash
# The per-tenant quota of cards held at once. The config file's
# max_cards_held_per_tenant is the default (0 or absent: none); a tenant's own
# max_cards_held (POST /v1/tenants, PUT /v1/tenants/{id}) overrides it, 0
# meaning none and null meaning the default. Only live holds count: exactly
# the quota is allowed, one card more is a 429 quota-exceeded whose decision
# is recorded; releasing, confirming and expiry free quota; dry runs are not
# limited. Documented shapes are checked against schema/openapi.json.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OPENAPI="$ROOT/schema/openapi.json"

# undeclared SCHEMA: the keys of BODY (and of its "quota" member) that the component schema
# (allOf members merged, $refs by name) does not declare.
undeclared() {
  printf '%s' "$BODY" | jq -r --slurpfile d "$OPENAPI" --arg s "$1" '
    def props($n): $d[0].components.schemas[$n]
      | [., (.allOf // [])[]] | map(if has("$ref") then $d[0].components.schemas[.["$ref"] | split("/") | last] else . end)
      | map(.properties // {}) | add;
    props($s) as $p
    | ((keys[] | select($p[.] == null)),
       (($p.quota["$ref"] // $p.quota.allOf[0]["$ref"] // null) as $r
        | if has("quota") and $r != null
        then (.quota | keys[]) as $k | ($r | split("/") | last) as $q
             | select(props($q)[$k] == null) | "quota/\($k)" else empty end))' 2>&1
}
declared() { # SCHEMA DESCRIPTION: ok when BODY's keys are declared by the schema
  local u
  u=$(undeclared "$1")
  [ -z "$u" ]
  ok $? "$2"
  [ -z "$u" ] || echo "$u" | sed 's/^/# undeclared: /'
}

printf '{"max_cards_held_per_tenant": 10}\n' >"$WORK/quota.json"
start_broker --config "$WORK/quota.json" || { ok 1 "brokerd starts"; done_testing; }

OP=$(token operator op1)
TEN=$(token tenant acme)
expect POST /v1/centers "$(center_doc sh-1 cn-shanghai)" "$OP" 201 "center sh-1"
expect POST /v1/centers/sh-1/feed "$(feed_doc sh-1 H800:512:512:28.5)" "$OP" 200 "512 free H800"

ask() { # CARDS [HOLD-SECONDS] [EXTRA-JSON-MEMBERS]
  printf '{"precision":"bf16","cards":%s,"hours":1,"origin":"cn-shanghai","hold_seconds":%s%s}' \
    "$1" "${2:-600}" "${3:+,$3}"
}

expect GET /v1/tenants/acme "" "$TEN" 200 "a tenant reads itself: the configured default applies" \
  '.id == "acme" and .max_cards_held == null and .effective_max_cards_held == 10 and .cards_held == 0'
declared Tenant "the tenant's keys are declared in openapi.json"

# ---- the boundary under the config default (10) ---------------------------------------------

expect POST /v1/placements "$(ask 6)" "$TEN" 201 "hold 6 of 10"
H6=$(jqv .id)
expect POST /v1/placements "$(ask 4)" "$TEN" 201 "hold 4 more: exactly the quota is allowed"
H4=$(jqv .id)
expect GET /v1/tenants/acme "" "$TEN" 200 "the tenant holds 10 cards" '.cards_held == 10'
expect POST /v1/placements "$(ask 1)" "$TEN" 429 "one card more is a 429" \
  '(.type | endswith("/quota-exceeded")) and .status == 429 and (.decision_id | startswith("dc_")) and .quota.max_cards_held == 10 and .quota.cards_held == 10 and .quota.cards_requested == 1 and .quota.source == "config" and .quota.exceeded == true'
DQ=$(jqv .decision_id)
ok "$(jqt '.detail | test("at most 10 cards") and test("max_cards_held_per_tenant") and test("holds 10") and test("needs 1 more")'; echo $?)" \
  "the detail names the quota, its source, the held cards and the request: $(jqv .detail)"
declared QuotaExceeded "the 429's keys are declared in openapi.json (QuotaExceeded)"
expect GET "/v1/decisions/$DQ" "" "$TEN" 200 "the refused hold's decision is recorded: quoted, with its quota" \
  '.outcome == "quoted" and (has("placement_id") | not) and .quota.exceeded == true and .quota.max_cards_held == 10 and (.explanation | startswith("Over quota")) and (.chosen | length) == 1'
declared Decision "the decision's keys are declared in openapi.json"
expect GET /v1/placements "" "$TEN" 200 "the refused hold made no placement" '(.placements | length) == 2'
expect POST /v1/placements "$(ask 50 600 '"dry_run":true')" "$TEN" 200 "dry runs are not limited" \
  '.state == "quote" and .pieces[0].cards == 50'
expect POST /v1/placements "$(ask 100 600 '"gang":false')" "$TEN" 429 "a split request counts all its cards" \
  '.quota.cards_requested == 100'

# ---- what frees quota -----------------------------------------------------------------------

expect POST "/v1/placements/$H4/release" "{}" "$TEN" 200 "release the 4-card hold"
expect POST /v1/placements "$(ask 5)" "$TEN" 429 "5 more do not fit beside 6" '.quota.cards_held == 6'
expect POST /v1/placements "$(ask 4)" "$TEN" 201 "releasing freed 4 cards of quota"
H4=$(jqv .id)
expect POST "/v1/placements/$H6/confirm" "{}" "$TEN" 200 "confirm the 6-card hold"
expect GET /v1/tenants/acme "" "$TEN" 200 "confirmed cards are not held cards" '.cards_held == 4'
expect POST /v1/placements "$(ask 6 1)" "$TEN" 201 "confirming freed 6 cards (a 1-second hold of 6)"
expect POST /v1/placements "$(ask 1)" "$TEN" 429 "and the quota is full again" '.quota.cards_held == 10'
sleep 1.3
expect POST /v1/placements "$(ask 6)" "$TEN" 201 "the expired hold freed its 6 cards"

# ---- per-tenant overrides -------------------------------------------------------------------

expect POST /v1/tenants '{"id":"beta","name":"Beta Labs","max_cards_held":3}' "$ADMIN" 201 \
  "a tenant created with its own quota" '.max_cards_held == 3 and .effective_max_cards_held == 3 and .cards_held == 0'
declared Tenant "the created tenant's keys are declared in openapi.json"
BETA=$(token tenant beta)
expect GET /v1/tenants/beta "" "$BETA" 200 "the token joined the existing tenant" '.name == "Beta Labs" and .max_cards_held == 3'
expect POST /v1/placements "$(ask 3 1)" "$BETA" 201 "beta holds exactly its 3 (for one second)"
expect POST /v1/placements "$(ask 1)" "$BETA" 429 "beta's fourth card is refused, naming its own quota" \
  '.quota.max_cards_held == 3 and .quota.source == "tenant" and (.detail | test("its max_cards_held"))'
sleep 1.3
expect POST /v1/placements "$(ask 3)" "$BETA" 201 "beta's expired hold freed its quota"

expect PUT /v1/tenants/acme '{"max_cards_held":0}' "$ADMIN" 200 "acme's quota set to 0: none" \
  '.max_cards_held == 0 and .effective_max_cards_held == 0 and .cards_held == 10'
expect POST /v1/placements "$(ask 100)" "$TEN" 201 "acme holds 100 more"
expect PUT /v1/tenants/acme '{"max_cards_held":null,"name":"Acme AI"}' "$ADMIN" 200 \
  "null puts acme back on the default" '.name == "Acme AI" and .max_cards_held == null and .effective_max_cards_held == 10'
expect POST /v1/placements "$(ask 1)" "$TEN" 429 "acme, holding 110, is over the default again" '.quota.cards_held == 110'
expect PUT /v1/tenants/acme '{"max_cards_held":200}' "$ADMIN" 200 "a larger quota for acme" '.effective_max_cards_held == 200'
expect POST /v1/placements "$(ask 90)" "$TEN" 201 "acme fills it exactly: 110 + 90 = 200"
expect POST /v1/placements "$(ask 1)" "$TEN" 429 "and no more" '.quota.max_cards_held == 200 and .quota.source == "tenant"'

# ---- who may, and bad values ----------------------------------------------------------------

expect GET /v1/tenants/beta "" "$TEN" 404 "a tenant does not see another tenant"
expect GET /v1/tenants/nobody "" "$ADMIN" 404 "an unknown tenant"
expect PUT /v1/tenants/acme '{"max_cards_held":1000}' "$TEN" 403 "a tenant may not set its own quota"
expect PUT /v1/tenants/nobody '{"max_cards_held":1}' "$ADMIN" 404 "PUT on an unknown tenant"
expect PUT /v1/tenants/acme '{"max_cards_held":-1}' "$ADMIN" 400 "a negative quota names its field" \
  '.pointer == "/max_cards_held"'
expect POST /v1/tenants '{"id":"gamma","max_cards_held":"ten"}' "$ADMIN" 400 "a quota that is no integer" \
  '.pointer == "/max_cards_held"'
expect PUT /v1/tenants/acme '{"colour":"red"}' "$ADMIN" 400 "an unknown field" '.pointer == "/colour"'
expect POST /v1/tenants '{"id":"beta"}' "$ADMIN" 409 "the tenant exists (and PUT is named)" '.detail | test("PUT")'

req GET /metrics
printf '%s\n' "$BODY" >"$WORK/metrics.txt"
N=$(awk '$1 == "suanwang_decisions_total{outcome=\"over_quota\"}" { print $2 }' "$WORK/metrics.txt")
ok "$([ "$N" = 7 ]; echo $?)" "metrics count 7 decisions refused over quota (got $N)"
N=$(awk '$1 == "suanwang_requests_total{method=\"POST\",route=\"/v1/placements\",code=\"429\"}" { print $2 }' "$WORK/metrics.txt")
ok "$([ "$N" = 7 ]; echo $?)" "metrics count 7 answers 429 (got $N)"

# ---- the config default, and a bad config ---------------------------------------------------

stop_broker
ok $? "clean stop"
start_broker
expect GET /v1/tenants/acme "" "$ADMIN" 200 "after restart: acme's own quota is kept" '.max_cards_held == 200'
expect POST /v1/tenants '{"id":"delta"}' "$ADMIN" 201 "a tenant with no quota of its own" \
  '.max_cards_held == null and .effective_max_cards_held == 0'
DELTA=$(token tenant delta)
expect POST /v1/placements "$(ask 300)" "$DELTA" 201 "without max_cards_held_per_tenant there is no default quota"
stop_broker
ok $? "clean stop"
printf '{"max_cards_held_per_tenant": -5}\n' >"$WORK/bad.json"
"$BROKERD" --config "$WORK/bad.json" --db "$DB" --listen 127.0.0.1:0 >"$WORK/bad.out" 2>&1
rc=$?
ok "$([ $rc -eq 2 ] && grep -q max_cards_held_per_tenant "$WORK/bad.out"; echo $?)" \
  "a negative max_cards_held_per_tenant is a config error naming the key (exit $rc)"

done_testing

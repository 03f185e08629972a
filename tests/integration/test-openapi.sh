#!/usr/bin/env bash
# schema/openapi.json is kept true here. Statically: every (method, pattern)
# row of the route table in broker/api.c is an operation of the document and
# every operation is a row, with the same roles and authentication; every
# request schema declares exactly the fields its C parser accepts. Live: the
# real daemon walks through tokens, a center, a feed, a quote, a hold, a 409,
# a decision, a voucher and the error cases, and each response's status and
# content type are documented and its body matches the documented schema
# (every key declared, every required key present, types, enums, patterns;
# nested objects too). And schema/native-feed.schema.json parses, agrees
# with adapters/native.c and declares every key of the SPEC §4 example.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OPENAPI="$ROOT/schema/openapi.json"
FEED_SCHEMA="$ROOT/schema/native-feed.schema.json"

# ---- the documents parse ------------------------------------------------------------------

jq -e '.openapi == "3.0.3" and (.paths | type) == "object" and (.components.schemas | type) == "object"' \
  "$OPENAPI" >/dev/null 2>&1
ok $? "schema/openapi.json parses and is OpenAPI 3.0.3"
jq -e '."$schema" == "https://json-schema.org/draft/2020-12/schema" and .additionalProperties == false' \
  "$FEED_SCHEMA" >/dev/null 2>&1
ok $? "schema/native-feed.schema.json parses and is JSON Schema 2020-12, closed"

missing=$(jq -r '.components.schemas as $s | ["Placement","Quote","Decision","Candidate","Center","Feed",
    "Pool","Voucher","Region","Latency","Token","Adapter","Problem","PlacementRequest","NativeFeed",
    "CenterRequest","VoucherRequest"][] | select($s[.] == null)' "$OPENAPI" 2>&1)
[ -z "$missing" ]
ok $? "components declare every documented shape${missing:+ (missing: ${missing//$'\n'/ })}"

dangling=$(jq -r '. as $root | [paths(type == "string") as $p | select($p[-1] == "$ref") | getpath($p)]
    | unique[] | select(startswith("#/")) as $r
    | select(($root | getpath($r | ltrimstr("#/") | split("/"))) == null) | $r' "$OPENAPI" 2>&1)
[ -z "$dangling" ]
ok $? "every \$ref of openapi.json resolves${dangling:+ (dangling: ${dangling//$'\n'/ })}"

# ---- the route table and the document's paths agree ---------------------------------------

# Rows of routes[] in broker/api.c as "METHOD PATTERN ROLES" (ROLES: none or admin,operator,tenant).
route_rows() {
  sed -n '/^static const struct route_row routes\[\] = {/,/^};/p' "$ROOT/broker/api.c" |
    sed -nE 's/^[[:space:]]*\{"([A-Z]+)", *"([^"]+)", *[A-Za-z0-9_]+, *([^,]+),.*$/\1 \2 \3/p' |
    while read -r method pattern roles; do
      case "$roles" in
      NO_AUTH) roles=none ;;
      ROLES_ALL) roles=admin,operator,tenant ;;
      *) roles=$(echo "$roles" | grep -oE 'R_[A-Z]+' | sed 's/^R_//' | tr '[:upper:]' '[:lower:]' | sort | paste -sd, -) ;;
      esac
      echo "$method $pattern $roles"
    done
}
ROWS=$(route_rows)
C_ROUTES=$(echo "$ROWS" | awk 'NF { print $1, $2 }' | sort)
DOC_ROUTES=$(jq -r '.paths | to_entries[] | .key as $p | .value | keys[]
    | select(test("^(get|put|post|delete|patch|head|options|trace)$"))
    | "\(ascii_upcase) \($p | gsub("\\{[^}/]*\\}"; "{}"))"' "$OPENAPI" | sort)
[ "$(echo "$C_ROUTES" | grep -c .)" -ge 20 ]
ok $? "the route table of broker/api.c is read ($(echo "$C_ROUTES" | grep -c .) rows)"
undocumented=$(comm -23 <(echo "$C_ROUTES") <(echo "$DOC_ROUTES"))
[ -z "$undocumented" ]
ok $? "every route of broker/api.c is in openapi.json"
[ -z "$undocumented" ] || echo "$undocumented" | sed 's/^/# not in openapi.json: /'
unrouted=$(comm -13 <(echo "$C_ROUTES") <(echo "$DOC_ROUTES"))
[ -z "$unrouted" ]
ok $? "every operation of openapi.json is a route of broker/api.c"
[ -z "$unrouted" ] || echo "$unrouted" | sed 's/^/# not in routes[]: /'

# Path parameters: each {name} of a path is declared (path level or operation level) as in: path.
bad_params=$(
  jq -r '. as $root | .paths | to_entries[] | .key as $p | .value as $item
    | ($item | keys[] | select(test("^(get|put|post|delete|patch)$"))) as $m
    | ([$p | scan("\\{([^}]+)\\}")[0]] | sort) as $want
    | ([($item.parameters // [])[], ($item[$m].parameters // [])[]]
       | map(if has("$ref") then $root.components.parameters[.["$ref"] | ltrimstr("#/components/parameters/")] else . end)
       | map(select(.in == "path" and .required == true) | .name) | sort) as $have
    | select($want != $have) | "\($m | ascii_upcase) \($p): path parameters \($have) for \($want)"' "$OPENAPI")
[ -z "$bad_params" ]
ok $? "every path parameter is declared, required and in: path"
[ -z "$bad_params" ] || echo "$bad_params" | sed 's/^/# /'

# Roles and authentication: x-roles and the description name the route's roles; only the
# unauthenticated routes have `security: []`.
role_errors=""
while read -r method pattern roles; do
  [ -n "$method" ] || continue
  err=$(jq -r --arg m "$method" --arg p "$pattern" --arg roles "$roles" '
      (.paths | to_entries[] | select(.key | gsub("\\{[^}/]*\\}"; "{}") == $p) | .value[$m | ascii_downcase]) as $op
      | select($op != null)
      | ($roles | if . == "none" then [] else split(",") end) as $want
      | (if (($op["x-roles"] // null) | if . == null then null else sort end) != $want
           then "x-roles \($op["x-roles"] | tojson) for \($want | tojson)" else empty end),
        (if $want == [] then
           (if $op.security != [] then "an unauthenticated route needs security: []" else empty end),
           (if ($op.description // "" | test("No authentication")) | not
              then "the description should say: No authentication." else empty end)
         else
           (if $op.security == [] then "an authenticated route has security: []" else empty end),
           ("Roles: " + ($want | join(", "))) as $say
           | (if ($op.description // "" | startswith($say + ".") or startswith($say + " (")) | not
              then "the description should start: \($say)." else empty end)
         end)' "$OPENAPI" 2>&1)
  [ -z "$err" ] || role_errors="$role_errors# $method $pattern: ${err//$'\n'/; }"$'\n'
done <<<"$ROWS"
[ -z "$role_errors" ]
ok $? "each operation states the roles and authentication of its route-table row"
printf '%s' "$role_errors"

# ---- request schemas declare exactly the fields the C parsers accept -------------------------

# c_fields FILE ANCHOR-REGEX: the strings of the first `xxx[] = {...};` array at or after ANCHOR.
c_fields() {
  ANCHOR=$2 awk '
    !found && $0 ~ ENVIRON["ANCHOR"] { found = 1 }
    found && !collecting && index($0, "[] = {") { collecting = 1 }
    collecting { print; if (index($0, "};")) exit }' "$ROOT/$1" | grep -oE '"[^"]*"' | tr -d '"' | sort
}
# schema_fields JQ-PATH-TO-SCHEMA: its property names, and "!open" when it takes unknown fields.
schema_fields() {
  jq -r "$1"' | (.properties // {} | keys[]), (if .additionalProperties == false then empty else "!open" end)' \
    "$OPENAPI" 2>/dev/null | sort
}
check_fields() { # FILE ANCHOR SCHEMA-PATH NAME
  local c s
  c=$(c_fields "$1" "$2")
  s=$(schema_fields "$3")
  [ -n "$c" ] && [ "$c" = "$s" ]
  ok $? "$4 declares exactly the fields $1 accepts there, and no others"
  [ -n "$c" ] && [ "$c" = "$s" ] || diff <(echo "$c") <(echo "$s") | grep '^[<>]' | sed 's/^</# only in C:/; s/^>/# only in the schema:/'
}
S=.components.schemas
check_fields broker/api_admin.c '^void api_tokens_create\(' "$S.TokenRequest" TokenRequest
check_fields broker/api_admin.c '^void api_tenants_create\(' "$S.TenantRequest" TenantRequest
check_fields broker/api_admin.c '^void api_regions_create\(' "$S.RegionRequest" RegionRequest
check_fields broker/api_admin.c '^void api_latency_put\(' "$S.LatencyRequest" LatencyRequest
check_fields broker/api_admin.c '^void api_vouchers_create\(' "$S.VoucherRequest" VoucherRequest
check_fields broker/api_admin.c '^static int parse_eligible\(' "$S.VoucherRequest.properties.eligible" \
  VoucherRequest.eligible
check_fields broker/api_centers.c '^static int parse_center\(' "$S.CenterRequest" CenterRequest
check_fields broker/api_centers.c '^static int parse_feed\(' "$S.FeedConfig" FeedConfig
check_fields broker/request.c 'request_fields\[\] =' "$S.PlacementRequest" PlacementRequest
check_fields broker/request.c 'weight_fields\[\] =' "$S.Weights" Weights
check_fields adapters/native.c 'doc_fields\[\] =' "$S.NativeFeed" NativeFeed
check_fields adapters/native.c 'pool_fields\[\] =' "$S.NativePool" NativePool

# ---- the native feed schema -----------------------------------------------------------------

fields_of() { jq -r "$1 | (.properties // {} | keys[])" "$2" 2>/dev/null | sort | paste -sd' ' -; }
a=$(fields_of '.' "$FEED_SCHEMA")
b=$(fields_of "$S.NativeFeed" "$OPENAPI")
c=$(fields_of '."$defs".pool' "$FEED_SCHEMA")
d=$(fields_of "$S.NativePool" "$OPENAPI")
e=$(fields_of '."$defs".pool.properties.tflops' "$FEED_SCHEMA")
f=$(fields_of "$S.Tflops" "$OPENAPI")
[ -n "$a" ] && [ "$a" = "$b" ] && [ -n "$c" ] && [ "$c" = "$d" ] && [ "$e" = "$f" ] &&
  [ "$e" = "bf16 fp16 fp32 fp64 fp8 int8 tf32" ]
ok $? "native-feed.schema.json and openapi.json's NativeFeed declare the same fields"
[ "$(jq -r '.properties.pools.maxItems' "$FEED_SCHEMA")" = \
  "$(sed -nE 's/^#define ADAPTER_MAX_POOLS ([0-9]+).*/\1/p' "$ROOT/adapters/adapter.h")" ]
ok $? "the feed schema's maxItems is adapters' ADAPTER_MAX_POOLS"

# ---- the schema check, in jq ----------------------------------------------------------------

# errs($root; $schema; $path) over a value prints one line per disagreement: a key the schema
# does not declare, a required key absent, a type, enum or pattern mismatch, no oneOf/anyOf
# alternative matching. A "$ref" is resolved by name from $root (#/components/schemas/NAME,
# #/$defs/NAME); allOf members are merged; objects and arrays are checked all the way down.
JQ_DEFS='
def deref($root): if type == "object" and has("$ref")
  then (.["$ref"] as $r | $root | getpath($r | ltrimstr("#/") | split("/"))
        // error("unresolved \($r)")) | deref($root) else . end;
def flat($root): deref($root) | if has("allOf") then
    reduce (.allOf[] | flat($root)) as $m (del(.allOf);
      .properties = ((.properties // {}) + ($m.properties // {}))
      | .required = ((.required // []) + ($m.required // []))
      | .type = (.type // $m.type))
  else . end;
def jtype: if type == "number" and . == floor then ["number", "integer"] else [type] end;
def typeok($s): ($s.type // null) as $t
  | if $t == null then true
    elif . == null and ($s.nullable // false) then true
    else (jtype) as $have | ([$t] | flatten | map(. as $x | $have | index($x) != null) | any) end;
def errs($root; $schema; $path):
  . as $v | ($schema | flat($root)) as $s | ($s.oneOf // $s.anyOf) as $alts
  | if ($v | typeok($s) | not) then
      "\($path): a \($v | type) where the schema says \($s.type | tojson)\(if $s.nullable then " or null" else "" end)"
    elif $s.enum != null and ($s.enum | index([$v])) == null then
      "\($path): \($v | tojson) is not one of \($s.enum | tojson)"
    elif $s.pattern != null and ($v | type) == "string" and ($v | test($s.pattern) | not) then
      "\($path): \($v | tojson) does not match \($s.pattern)"
    elif $alts != null and ([$alts[] as $a | [$v | errs($root; $a; $path)] | length == 0] | any | not) then
      "\($path): matches no alternative (\([$alts[] as $a | $v | errs($root; $a; $path)] | join("; ")))"
    elif ($v | type) == "object" then
      (if $s.properties != null then $v | keys_unsorted[] | . as $k | select($s.properties | has($k) | not)
         | "\($path)/\($k): not declared in the schema" else empty end),
      (($s.required // [])[] | . as $k | select($v | has($k) | not) | "\($path)/\($k): required but absent"),
      ($v | to_entries[] | .key as $k
         | (($s.properties // {})[$k]
            // (if ($s.additionalProperties | type) == "object" then $s.additionalProperties else null end)) as $ps
         | select($ps != null) | .value | errs($root; $ps; "\($path)/\($k)"))
    elif ($v | type) == "array" and $s.items != null then
      $v | to_entries[] | .key as $i | .value | errs($root; $s.items; "\($path)/\($i)")
    else empty end;
'

# ---- the SPEC §4 example feed has every key declared --------------------------------------

SPEC_FEED='{"center":"sh-lingang-aidc","observed_at":"2026-11-22T01:00:00Z",
 "pools":[{"model":"H800","total":2048,"free":512,"largest_block":8,
           "price_per_card_hour":28.5,"spot_price_per_card_hour":14.0,"currency":"CNY"}]}'
# "a pool may also carry vendor, memory_gib, domestic, tflops {bf16, fp64, ...}"
SPEC_POOL_EXTRA='{"model":"910B","total":512,"free":256,"price_per_card_hour":8.0,
 "vendor":"Huawei","memory_gib":64,"domestic":true,"tflops":{"bf16":280,"fp16":280,"int8":560,"fp64":0}}'
SPEC_FEED_FULL=$(jq -c --argjson p "$SPEC_POOL_EXTRA" '.pools += [$p]' <<<"$SPEC_FEED")
for doc in "$SPEC_FEED" "$SPEC_FEED_FULL"; do
  out=$(jq -n -r --slurpfile s "$FEED_SCHEMA" --argjson v "$doc" "$JQ_DEFS"'$v | errs($s[0]; $s[0]; "")' 2>&1)
  [ -z "$out" ]
  ok $? "the SPEC §4 feed example$([ "$doc" = "$SPEC_FEED" ] || echo ' with vendor, memory_gib, domestic, tflops') fits native-feed.schema.json"
  [ -z "$out" ] || echo "$out" | sed 's/^/# /'
done
out=$(jq -n -r --slurpfile s "$FEED_SCHEMA" "$JQ_DEFS"'
  {"pools":[{"model":"x","total":1,"free":1,"price_per_card_hour":1,"currency":"cny","colour":"red"}],"extra":1}
  | errs($s[0]; $s[0]; "")' 2>&1)
[ "$(echo "$out" | grep -c .)" -eq 3 ]
ok $? "the schema check itself catches undeclared keys and a bad currency"
[ "$(echo "$out" | grep -c .)" -eq 3 ] || echo "$out" | sed 's/^/# /'

# ---- live responses against the document ----------------------------------------------------

# call METHOD PATH [BODY] [TOKEN] [extra curl args]: req, keeping the response headers.
call() {
  local m=$1 p=$2 b=${3:-} t=${4:-}
  shift $(($# < 4 ? $# : 4))
  : >"$WORK/headers"
  req "$m" "$p" "$b" "$t" -D "$WORK/headers" "$@"
}

# doc_check METHOD PATTERN [RESPONSE-NAME]: the last response (STATUS, content type, BODY)
# against the operation's documented responses (or components/responses/RESPONSE-NAME);
# prints one line per disagreement.
doc_check() {
  local ctype
  ctype=$(tr -d '\r' <"$WORK/headers" | sed -nE 's/^content-type:[[:space:]]*([^;[:space:]]+).*$/\1/Ip' | tail -1)
  printf '%s' "$BODY" >"$WORK/live.body"
  case "$ctype" in
  *json)
    if ! jq empty "$WORK/live.body" 2>/dev/null; then
      echo "the $ctype body is not JSON"
      return
    fi ;;
  *) echo null >"$WORK/live.body" ;; # not JSON: only its content type is checked
  esac
  # (No try/catch below: jq 1.6's try also catches errors raised after it, which would hide them.)
  jq -n -r --slurpfile doc "$OPENAPI" --slurpfile v "$WORK/live.body" --arg m "$1" --arg p "$2" \
    --arg rname "${3:-}" --arg st "$STATUS" --arg ct "$ctype" "$JQ_DEFS"'
    $doc[0] as $root
    | (if $rname != "" then null else
         first($root.paths | to_entries[] | select(.key | gsub("\\{[^}/]*\\}"; "{}") == $p)
               | .value[$m | ascii_downcase]) // null end) as $op
    | (if $rname != "" then $root.components.responses[$rname]
       else ($op.responses[$st] // $op.responses.default) end
       | if . != null and has("$ref") then deref($root) else . end) as $resp
    | if $rname == "" and $op == null then "\($m) \($p) is not in the document"
      elif $resp == null then "status \($st) is not documented for \($m) \($p)"
      elif ($resp.content // {} | has($ct) | not) then
        "content type \($ct | tojson) is not documented for \($st) (\($resp.content // {} | keys | join(", ")))"
      elif ($ct | test("json$") | not) then empty
      else $v[0] | errs($root; $resp.content[$ct].schema; "") end' 2>&1
}

# live WANT-STATUS METHOD PATTERN PATH BODY TOKEN DESCRIPTION [JQ-CONDITION] [RESPONSE-NAME]:
# one request; ok when the status is WANT, the condition holds and the document agrees.
live() {
  local want=$1 m=$2 pattern=$3 path=$4 body=$5 tok=$6 what=$7 cond=${8:-} rname=${9:-}
  call "$m" "$path" "$body" "$tok" ${IDEM:+-H "Idempotency-Key: $IDEM"}
  local errors="" good=0
  [ "$STATUS" = "$want" ] || { good=1; errors="status $STATUS, expected $want"; }
  if [ $good -eq 0 ] && [ -n "$cond" ] && ! jqt "$cond"; then
    good=1
    errors="the condition does not hold: $cond"
  fi
  local doc
  doc=$(doc_check "$m" "$pattern" "$rname")
  [ -z "$doc" ] || { good=1; errors="${errors:+$errors$'\n'}$doc"; }
  [ -z "$errors" ] || echo "$errors" | head -n 20 | sed 's/^/# /'
  ok $good "$m $pattern $want: $what"
}

start_broker || { ok 1 "brokerd starts"; done_testing; }

live 200 GET /healthz /healthz "" "" "health" '.status == "ok"'
live 200 GET /metrics /metrics "" "" "metrics in Prometheus text"

live 201 POST /v1/tokens /v1/tokens '{"role":"operator","subject":"sensetime"}' "$ADMIN" "an operator token"
OP=$(jqv .token)
live 201 POST /v1/tokens /v1/tokens '{"role":"tenant","subject":"acme"}' "$ADMIN" "SPEC §4: a tenant token" \
  '.role == "tenant" and .subject == "acme"'
TEN=$(jqv .token)
TEN2=$(token tenant other-lab)
live 400 POST /v1/tokens /v1/tokens '{"role":"root","subject":"x"}' "$ADMIN" "a bad role names its field" \
  '.pointer == "/role"'
live 403 POST /v1/tokens /v1/tokens '{"role":"tenant","subject":"x"}' "$TEN" "a tenant may not issue tokens"
live 401 POST /v1/tokens /v1/tokens '{"role":"tenant","subject":"x"}' "sw_not-a-token" "an unknown token"
BIG=$(printf '{"role":"tenant","subject":"%s"}' "$(head -c 70000 /dev/zero | tr '\0' x)")
live 413 POST /v1/tokens /v1/tokens "$BIG" "$ADMIN" "a body over 64 KiB"

live 201 POST /v1/tenants /v1/tenants '{"id":"beta","name":"Beta Labs"}' "$ADMIN" "a tenant"
live 409 POST /v1/tenants /v1/tenants '{"id":"beta"}' "$ADMIN" "the tenant exists"

live 200 GET /v1/regions /v1/regions "" "$TEN" "the regions" '(.regions | length) > 0'
REGION='{"id":"cn-test-1","city":"Testville","lat":31.0,"lon":121.0,"hub":"yangtze-delta"}'
live 201 POST /v1/regions /v1/regions "$REGION" "$ADMIN" "a new region"
live 200 POST /v1/regions /v1/regions "$REGION" "$ADMIN" "the same region again replaces it"
live 200 GET /v1/latency /v1/latency "" "$OP" "the latency matrix" '(.latency | length) > 0'
live 200 PUT /v1/latency /v1/latency '{"a":"cn-test-1","b":"cn-shanghai","rtt_ms":2.5,"source":"measured","note":"lab"}' \
  "$ADMIN" "SPEC §4: a measured pair" '.a == "cn-shanghai" and .b == "cn-test-1"'
live 400 PUT /v1/latency /v1/latency '{"a":"cn-shanghai","b":"cn-nowhere","rtt_ms":2}' "$ADMIN" \
  "an unknown region names its field" '.pointer == "/b"'
live 200 GET /v1/adapters /v1/adapters "" "$OP" "the adapters" 'any(.adapters[]; .name == "native")'

CENTER='{"id":"sh-lingang-aidc","name":"Lingang AIDC","operator":"sensetime","region":"cn-shanghai",
 "status":"active","labels":{"residency":"shanghai"},"staleness_s":90,
 "feeds":[{"adapter":"native","mode":"push"}]}'
live 201 POST /v1/centers /v1/centers "$CENTER" "$OP" "SPEC §4: an operator registers a center" \
  '.id == "sh-lingang-aidc" and .feeds[0].last_success == null'
live 409 POST /v1/centers /v1/centers "$CENTER" "$OP" "the center exists"
live 403 POST /v1/centers /v1/centers "$(jq -c '.id = "x1" | .operator = "someone-else"' <<<"$CENTER")" "$OP" \
  "an operator registers only under its own name" '.pointer == "/operator"'
live 403 POST /v1/centers /v1/centers "$(jq -c '.id = "x2"' <<<"$CENTER")" "$TEN" "a tenant may not register centers"
live 400 POST /v1/centers /v1/centers "$(jq -c '.id = "x3" | .colour = "red"' <<<"$CENTER")" "$OP" \
  "an unknown field is refused with its pointer" '.pointer == "/colour"'

NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
FEED=$(jq -c --arg now "$NOW" '.observed_at = $now' <<<"$SPEC_FEED_FULL")
live 200 POST /v1/centers/{}/feed /v1/centers/sh-lingang-aidc/feed "$FEED" "$OP" \
  "SPEC §4: push the example feed (with a second pool stating vendor, memory, tflops)" '.pools == 2'
live 400 POST /v1/centers/{}/feed /v1/centers/sh-lingang-aidc/feed '{"pools":[{"model":"H800","total":1,"free":2,"price_per_card_hour":1}]}' \
  "$OP" "free over total is refused with its pointer" '.pointer == "/pools/0/free"'
live 404 POST /v1/centers/{}/feed /v1/centers/nowhere/feed "$FEED" "$OP" "a feed for an unknown center"
live 200 GET /v1/centers/{} /v1/centers/sh-lingang-aidc "" "$TEN" "the center with pools and feed health" \
  '(.pools | length) == 2 and .feeds[0].last_error != null and .stale == false'
live 200 GET /v1/centers /v1/centers "" "$TEN" "the centers" '(.centers | length) == 1'
live 404 GET /v1/centers/{} /v1/centers/nowhere "" "$TEN" "an unknown center"
live 200 PUT /v1/centers/{} /v1/centers/sh-lingang-aidc "$(jq -c 'del(.id) | .labels.grade = "dengbao3"' <<<"$CENTER")" \
  "$OP" "the operator updates its center" '.labels.grade == "dengbao3"'

VOUCHER='{"id":"SH-2026-0001","issuer":"shanghai-eitc","tenant":"acme","rate":0.10,"amount":50000,
 "valid_until":"2099-01-01T00:00:00Z","eligible":{"regions":["cn-shanghai"],"centers":[],"domestic_only":false}}'
live 201 POST /v1/vouchers /v1/vouchers "$VOUCHER" "$ADMIN" "SPEC §4: a voucher" '.balance == 50000'
live 409 POST /v1/vouchers /v1/vouchers "$VOUCHER" "$ADMIN" "the voucher exists"
live 200 GET /v1/vouchers/{} /v1/vouchers/SH-2026-0001 "" "$TEN" "the tenant reads its voucher"
live 404 GET /v1/vouchers/{} /v1/vouchers/SH-2026-0001 "" "$TEN2" "another tenant's voucher does not exist"
live 403 GET /v1/vouchers/{} /v1/vouchers/SH-2026-0001 "" "$OP" "an operator may not read vouchers"
live 200 GET /v1/vouchers /v1/vouchers "" "$TEN" "the tenant's vouchers" '(.vouchers | length) == 1'

# The SPEC §4 request, quoted then held.
ASK='{"precision":"bf16","cards":64,"hours":72,"origin":"cn-shanghai","max_latency_ms":30,
 "max_price_per_card_hour":40,"min_memory_gib":64,"domestic_only":false,"regions_allowed":[],
 "regions_denied":[],"labels":{},"gang":true,"vouchers":["SH-2026-0001"],
 "weights":{"cost":1,"latency":0.5,"balance":0.2},"hold_seconds":300,"dry_run":false}'
live 200 POST /v1/placements /v1/placements "$(jq -c '.dry_run = true' <<<"$ASK")" "$TEN" \
  "SPEC §4: a dry run is a quote" '.state == "quote" and .voucher == "SH-2026-0001"'
DC_QUOTE=$(jqv .decision_id)
IDEM=key-0001 live 201 POST /v1/placements /v1/placements "$ASK" "$TEN" "SPEC §4: a hold" \
  '.state == "held" and (.pieces | length) == 1'
PL=$(jqv .id)
DC_HOLD=$(jqv .decision_id)
IDEM=key-0001 live 200 POST /v1/placements /v1/placements "$ASK" "$TEN" \
  "the same Idempotency-Key and body give the same placement" ".id == \"$PL\""
IDEM=key-0001 live 422 POST /v1/placements /v1/placements "$(jq -c '.hours = 1' <<<"$ASK")" "$TEN" \
  "the same Idempotency-Key with another body"
live 409 POST /v1/placements /v1/placements '{"precision":"bf16","cards":100000,"hours":1,"origin":"cn-shanghai"}' \
  "$TEN" "nothing fits: 409 with the decision" '.decision_id != null and .reasons.insufficient_capacity >= 1'
DC_NONE=$(jqv .decision_id)
live 400 POST /v1/placements /v1/placements '{"precision":"bf16","cards":1,"hours":1,"origin":"cn-nowhere"}' \
  "$TEN" "an unknown origin names its field" '.pointer == "/origin"'
live 400 POST /v1/placements /v1/placements '{"precision":"bf16","cards":1,"pflops":1,"hours":1,"origin":"cn-shanghai"}' \
  "$TEN" "cards and pflops together" '.pointer == "/cards"'
live 403 POST /v1/placements /v1/placements "$ASK" "$ADMIN" "placements are made by tenants"

live 200 GET /v1/decisions/{} "/v1/decisions/$DC_HOLD" "" "$TEN" "the decision of the hold" \
  ".outcome == \"placed\" and .placement_id == \"$PL\" and any(.candidates[]; .verdict == \"chosen\")"
live 200 GET /v1/decisions/{} "/v1/decisions/$DC_QUOTE" "" "$TEN" "the decision of the quote" '.outcome == "quoted"'
live 200 GET /v1/decisions/{} "/v1/decisions/$DC_NONE" "" "$TEN" "the decision of the 409" \
  '.outcome == "unplaceable" and all(.candidates[]; .verdict == "rejected")'
live 404 GET /v1/decisions/{} "/v1/decisions/$DC_HOLD" "" "$TEN2" "another tenant's decision does not exist"
live 200 GET /v1/decisions "/v1/decisions?limit=10" "" "$TEN" "the decisions" '(.decisions | length) == 3'
live 400 GET /v1/decisions "/v1/decisions?limit=0" "" "$TEN" "a bad limit"
live 200 GET /v1/decisions "/v1/decisions" "" "$ADMIN" "an admin sees every decision"

live 200 GET /v1/placements/{} "/v1/placements/$PL" "" "$TEN" "the placement" '.state == "held"'
live 404 GET /v1/placements/{} "/v1/placements/$PL" "" "$TEN2" "another tenant's placement does not exist"
live 200 GET /v1/placements "/v1/placements?limit=5" "" "$TEN" "the placements" '(.placements | length) == 1'
live 200 POST /v1/placements/{}/confirm "/v1/placements/$PL/confirm" "{}" "$TEN" "confirm" \
  '.state == "confirmed" and .confirmed_at != null'
live 409 POST /v1/placements/{}/confirm "/v1/placements/$PL/confirm" "{}" "$TEN" "a confirmed placement cannot be confirmed"
live 200 POST /v1/placements/{}/release "/v1/placements/$PL/release" "{}" "$TEN" "release" \
  '.state == "released" and .ended_at != null'
live 409 POST /v1/placements/{}/release "/v1/placements/$PL/release" "{}" "$TEN" "a released placement cannot be released"
live 200 GET /v1/vouchers/{} /v1/vouchers/SH-2026-0001 "" "$TEN" "the voucher's ledger shows the draw and the refund" \
  '[.ledger[].kind] == ["issue", "draw", "refund"] and .ledger[0].placement == null'
live 404 POST /v1/placements/{}/release "/v1/placements/pl_0000000000000000/release" "{}" "$TEN" "an unknown placement"

live 401 GET /v1/placements /v1/placements "" "" "no token" '.status == 401'
ok "$(grep -qi '^www-authenticate: *Bearer' "$WORK/headers"; echo $?)" "a 401 carries WWW-Authenticate: Bearer"
live 405 PATCH /v1/placements /v1/placements "" "$TEN" "a method the path does not take" '.status == 405' \
  MethodNotAllowed
live 404 GET /v1/nowhere /v1/nowhere "" "$TEN" "an unknown path" '.status == 404' NotFound

live 200 DELETE /v1/centers/{} /v1/centers/sh-lingang-aidc "" "$OP" "the operator deletes its center" '.deleted == true'
live 404 DELETE /v1/centers/{} /v1/centers/sh-lingang-aidc "" "$OP" "a deleted center is gone"

done_testing

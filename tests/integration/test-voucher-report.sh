#!/usr/bin/env bash
# GET /v1/vouchers/report: what each issuer's vouchers did, worked by hand.
# Two issuers, four vouchers, two tenants, three centers at 100 (Shanghai) and
# 8 (Beijing) CNY per card-hour:
#   P1 acme, V1 (sh-eitc, rate 0.5): 12 cards x 2 h split 8 + 4 over sh-1/sh-2 ->
#      list 2400, subsidy 1200 (800 + 400 by piece); confirmed: draws 1200.
#   P2 acme, V1: 4 cards x 0.02 h in Shanghai -> subsidy 4; confirmed, released
#      about 2 s later: refund r2 = 4 x (1 - elapsed_h / 0.02), from its timestamps.
#   P3 beta, V2 (sh-eitc, rate 0.25): 10 cards x 5 h at bj-1 -> subsidy 100; confirmed.
#   P5 beta, V4 (sh-eitc): held and released: draws nothing.
#   P4 acme, V3 (bj-gov, rate 0.1): 5 cards x 10 h at bj-1 -> subsidy 40; confirmed.
# So sh-eitc: 3 vouchers, issued 5700, drawn 1304, refunded r2; bj-gov: 1, 100, 40, 0.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OPENAPI="$ROOT/schema/openapi.json"

start_broker || { ok 1 "brokerd starts"; done_testing; }

OP=$(token operator op1)
ACME=$(token tenant acme)
BETA=$(token tenant beta)
for c in sh-1:cn-shanghai sh-2:cn-shanghai bj-1:cn-beijing; do
  expect POST /v1/centers "$(center_doc "${c%%:*}" "${c##*:}")" "$OP" 201 "center ${c%%:*}"
done
expect POST /v1/centers/sh-1/feed "$(feed_doc sh-1 H800:8:8:100)" "$OP" 200 "8 H800 at sh-1"
expect POST /v1/centers/sh-2/feed "$(feed_doc sh-2 H800:8:8:100)" "$OP" 200 "8 H800 at sh-2"
expect POST /v1/centers/bj-1/feed "$(feed_doc bj-1 Ascend910B:64:64:8)" "$OP" 200 "64 Ascend910B at bj-1"

voucher() { # ID ISSUER TENANT RATE AMOUNT REGION
  expect POST /v1/vouchers "{\"id\":\"$1\",\"issuer\":\"$2\",\"tenant\":\"$3\",\"rate\":$4,\"amount\":$5,\"valid_until\":\"2099-01-01T00:00:00Z\",\"eligible\":{\"regions\":[\"$6\"]}}" \
    "$ADMIN" 201 "voucher $1 from $2 for $3: rate $4, $5 CNY in $6"
}
voucher V1 sh-eitc acme 0.5 5000 cn-shanghai
voucher V2 sh-eitc beta 0.25 500 cn-beijing
voucher V4 sh-eitc beta 0.25 200 cn-beijing
voucher V3 bj-gov acme 0.1 100 cn-beijing
expect POST /v1/vouchers '{"id":"report","issuer":"x","tenant":"acme","rate":0.1,"amount":1,"valid_until":"2099-01-01T00:00:00Z"}' \
  "$ADMIN" 400 "'report' is no voucher id: GET /v1/vouchers/report is the report" '.pointer == "/id"'

place() { # TOKEN CARDS HOURS REGION VOUCHER [GANG]: a hold, confirmed; sets PL
  expect POST /v1/placements "{\"precision\":\"bf16\",\"cards\":$2,\"hours\":$3,\"origin\":\"cn-shanghai\",\"regions_allowed\":[\"$4\"],\"vouchers\":[\"$5\"],\"gang\":${6:-true}}" \
    "$1" 201 "hold $2 cards x $3 h in $4 with $5" ".voucher == \"$5\""
  PL=$(jqv .id)
  PIECES=$BODY
}
near() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d < 1e-5) }'; }

place "$ACME" 12 2 cn-shanghai V1 false
P1=$PL
ok "$(printf '%s' "$PIECES" | jq -e '.list_total == 2400 and .subsidy == 1200 and ([.pieces[] | [.cards, .subsidy]] | sort) == [[4, 400], [8, 800]] and ([.pieces[].center] | sort) == ["sh-1", "sh-2"]' >/dev/null; echo $?)" \
  "P1 is split 8 + 4 over sh-1 and sh-2 with subsidies 800 + 400"
X=$(printf '%s' "$PIECES" | jq -r '.pieces[] | select(.cards == 8) | .center') # 800 drawn here
Y=$(printf '%s' "$PIECES" | jq -r '.pieces[] | select(.cards == 4) | .center') # 400 here, and P2
expect POST "/v1/placements/$P1/confirm" "{}" "$ACME" 200 "confirm P1: draws 1200" '.subsidy == 1200'

place "$ACME" 4 0.02 cn-shanghai V1
P2=$PL
ok "$(printf '%s' "$PIECES" | jq -e --arg y "$Y" '.subsidy == 4 and .pieces[0].center == $y' >/dev/null; echo $?)" \
  "P2 (subsidy 4) goes where P1 left 4 cards: $Y"
expect POST "/v1/placements/$P2/confirm" "{}" "$ACME" 200 "confirm P2: draws 4"
sleep 2
expect POST "/v1/placements/$P2/release" "{}" "$ACME" 200 "release P2 about 2 s into its 72 s" '.state == "released"'
C_MS=$(date -u -d "$(jqv .confirmed_at)" +%s%3N)
E_MS=$(date -u -d "$(jqv .ended_at)" +%s%3N)
R2=$(awk -v c="$C_MS" -v e="$E_MS" 'BEGIN { printf "%.9f", 4 * (1 - (e - c) / 3600000 / 0.02) }')
GOT=$(jqv .subsidy_refunded)
ok "$(near "$GOT" "$R2" && awk -v r="$R2" 'BEGIN { exit !(r > 3.5 && r < 4) }'; echo $?)" \
  "P2's refund is pro rata: 4 x (1 - $((E_MS - C_MS)) ms / 72 s) = $R2 (got $GOT)"
req GET /v1/vouchers/V1 "" "$ADMIN"
ok "$(near "$(jqv '.ledger[-1].amount')" "$R2" && jqt '[.ledger[].kind] == ["issue", "draw", "draw", "refund"]'; echo $?)" \
  "V1's ledger: issue, two draws, the refund"

place "$BETA" 10 5 cn-beijing V2
P3=$PL
expect POST "/v1/placements/$P3/confirm" "{}" "$BETA" 200 "confirm P3: draws 100" '.subsidy == 100'
place "$BETA" 2 1 cn-beijing V4
expect POST "/v1/placements/$PL/release" "{}" "$BETA" 200 "P5 released unconfirmed: draws nothing"
place "$ACME" 5 10 cn-beijing V3
P4=$PL
expect POST "/v1/placements/$P4/confirm" "{}" "$ACME" 200 "confirm P4: draws 40" '.subsidy == 40'
expect POST /v1/placements '{"precision":"bf16","cards":1,"hours":1,"origin":"cn-shanghai","regions_allowed":["cn-beijing"],"vouchers":["V3"],"dry_run":true}' \
  "$ACME" 200 "a quote with V3 draws nothing"

# ---- one issuer ---------------------------------------------------------------------------------

expect GET "/v1/vouchers/report?issuer=sh-eitc" "" "$ADMIN" 200 "sh-eitc's report"
printf '%s' "$BODY" >"$WORK/sh.json"
check() { # DESCRIPTION JQ-CONDITION (over the last report; $r2 is P2's refund)
  printf '%s' "$BODY" | jq -e --argjson r2 "$R2" "$2" >/dev/null 2>&1
  ok $? "$1"
}
check "totals: 3 vouchers, issued 5700, drawn 1200 + 4 + 100 = 1304, refunded r2, balance 5700 - 1304 + r2" \
  'def near($a; $b): ($a - $b) < 1e-5 and ($b - $a) < 1e-5;
   .issuer == "sh-eitc" and .vouchers == 3 and .currency == "CNY" and .issued == 5700
   and near(.drawn; 1304) and near(.refunded; $r2) and near(.balance; 5700 - 1304 + $r2)'
check "tenants: acme 1 voucher, drew 1204 over 2 placements, got r2 back; beta 2 vouchers, drew 100 over 1" \
  'def near($a; $b): ($a - $b) < 1e-5 and ($b - $a) < 1e-5;
   (.tenants | map(.tenant)) == ["acme", "beta"]
   and (.tenants[0] | .vouchers == 1 and near(.drawn; 1204) and near(.refunded; $r2) and .placements == 2)
   and (.tenants[1] | .vouchers == 2 and near(.drawn; 100) and .refunded == 0 and .placements == 1)'
check "centers: bj-1 100 (P3); $X 800 (P1's 8-card piece); $Y 400 + 4 = 404 with r2 back (P1 and P2)" \
  'def near($a; $b): ($a - $b) < 1e-5 and ($b - $a) < 1e-5;
   (.centers | map(.center)) == (["bj-1", "sh-1", "sh-2"])
   and (.centers[] | select(.center == "bj-1") | near(.drawn; 100) and .refunded == 0 and .placements == 1)
   and (.centers[] | select(.center == "'"$X"'") | near(.drawn; 800) and .refunded == 0 and .placements == 1)
   and (.centers[] | select(.center == "'"$Y"'") | near(.drawn; 404) and near(.refunded; $r2) and .placements == 2)'
check "the centers' draws add up to the issuer's" \
  'def near($a; $b): ($a - $b) < 1e-5 and ($b - $a) < 1e-5;
   near([.centers[].drawn] | add; .drawn) and near([.centers[].refunded] | add; .refunded)
   and near([.tenants[].drawn] | add; .drawn)'
# Every key is declared in openapi.json's IssuerReport (and its items' schemas).
undeclared=$(printf '%s' "$BODY" | jq -r --slurpfile d "$OPENAPI" '
  $d[0].components.schemas as $s
  | (keys[] | select($s.IssuerReport.properties[.] == null)),
    (.tenants[] | keys[] | select($s.ReportTenant.properties[.] == null) | "tenants/\(.)"),
    (.centers[] | keys[] | select($s.ReportCenter.properties[.] == null) | "centers/\(.)")' 2>&1)
ok "$([ -z "$undeclared" ]; echo $?)" "the report's keys are declared in openapi.json"
[ -z "$undeclared" ] || echo "$undeclared" | sed 's/^/# undeclared: /'

expect GET "/v1/vouchers/report?issuer=bj-gov" "" "$ADMIN" 200 \
  "bj-gov's report: 1 voucher, issued 100, drawn 40 by acme at bj-1, balance 60" \
  '.vouchers == 1 and .issued == 100 and .drawn == 40 and .refunded == 0 and .balance == 60 and .tenants == [{"tenant":"acme","vouchers":1,"drawn":40,"refunded":0,"placements":1}] and .centers == [{"center":"bj-1","drawn":40,"refunded":0,"placements":1}]'

# ---- every issuer -------------------------------------------------------------------------------

expect GET /v1/vouchers/report "" "$ADMIN" 200 "without issuer: one report per issuer, by id" \
  '(.issuers | map(.issuer)) == ["bj-gov", "sh-eitc"] and .issuers[0].drawn == 40'
ok "$(printf '%s' "$BODY" | jq -e --slurpfile one "$WORK/sh.json" '.issuers[1] == $one[0]' >/dev/null; echo $?)" \
  "the list's sh-eitc entry is the single report"
expect GET "/v1/vouchers/report?issuer=sh%2Deitc" "" "$ADMIN" 200 "the issuer may be percent-encoded" \
  '.issuer == "sh-eitc"'

# ---- who may, and bad queries -------------------------------------------------------------------

expect GET /v1/vouchers/report "" "$ACME" 403 "a tenant may not read the report (it is no voucher id)"
expect GET /v1/vouchers/report "" "$OP" 403 "nor may an operator"
expect GET /v1/vouchers/V1 "" "$ACME" 200 "GET /v1/vouchers/{id} still reads a voucher" '.id == "V1"'
expect GET "/v1/vouchers/report?issuer=nobody" "" "$ADMIN" 404 "an issuer with no voucher"
expect GET "/v1/vouchers/report?issuer=a%20b" "" "$ADMIN" 400 "an issuer that is no id"
expect GET "/v1/vouchers/report?issuer=" "" "$ADMIN" 400 "an empty issuer"
expect GET "/v1/vouchers/report?issuer=%zz" "" "$ADMIN" 400 "a broken percent escape"
expect POST /v1/vouchers/report "{}" "$ADMIN" 405 "the report is read-only"

done_testing

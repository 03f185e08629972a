#!/usr/bin/env bash
# Routing semantics (SPEC §2) through the real HTTP/2 API: every hard filter
# and its exact reject code, the filter order, RTT sources, score terms and
# scores with default and per-request weights, alternatives, the tie order,
# cards from PFLOPS (catalog and stated TFLOPS), vouchers (rate, balance cap,
# eligibility, validity, best-of, ownership), gang=false splits, 409 when
# nothing fits, request validation and dry_run.
#
# Every expected number below is worked out by hand from SPEC §2 and the data
# this test pushes; the arithmetic is in the comments. Each group runs in a
# fresh broker on a fresh database so that "every pool is a candidate" only
# ever means the pools of that group.
. "$(dirname "$0")/lib.sh"

# ---- helpers ---------------------------------------------------------------

# jq prelude: near (|a-b| < 1e-6), cand (the one candidate for center/model),
# rejected (verdict rejected with exactly that code), passes (no reason).
JQDEFS='
def near($a; $b): (($a - $b) | if . < 0 then -. else . end) < 1e-6;
def cand($c; $m): [.candidates[] | select(.center == $c and .model == $m)]
  | if length == 1 then .[0] else error("candidate not unique") end;
def rejected($c; $m; $code): cand($c; $m) | .verdict == "rejected" and .reason == $code;
def passes($c; $m): cand($c; $m)
  | (.verdict == "chosen" or .verdict == "eligible") and .reason == null;
def picks: [.chosen[] | "\(.center)/\(.model)/\(.cards)"];
def pieces: [.pieces[] | "\(.center)/\(.model)/\(.cards)"];
def alts: [.alternatives[] | "\(.center)/\(.model)"];
'

jx() { printf '%s' "$BODY" | jq -e "$JQDEFS $1" >/dev/null 2>&1; }

# is WANT-STATUS DESCRIPTION [JQ]: one check over the current STATUS/BODY.
is() {
  local good=0
  [ "$STATUS" = "$1" ] || good=1
  if [ $good -eq 0 ] && [ -n "${3:-}" ]; then jx "$3" || good=1; fi
  ok $good "$2"
}

# route REQUEST [TOKEN]: POST /v1/placements (response in RS/RB, headers in
# $WORK/headers), then GET the decision it names (DST/DBODY).
route() {
  local tok=${2:-$TEN}
  req POST /v1/placements "$1" "$tok" -D "$WORK/headers"
  RS=$STATUS RB=$BODY
  DCID=$(printf '%s' "$RB" | jq -r '.decision_id // empty' 2>/dev/null)
  DST=none DBODY=""
  if [ -n "$DCID" ]; then
    req GET "/v1/decisions/$DCID" "" "$tok"
    DST=$STATUS DBODY=$BODY
  fi
}
resp() { STATUS=$RS BODY=$RB; is "$@"; }       # resp WANT DESC [JQ]: over the response
dec() { STATUS=$DST BODY=$DBODY; is 200 "$@"; }     # dec DESC JQ: over the decision record
rej() { dec "$1/$2 is rejected with $3${4:+ ($4)}" "rejected(\"$1\"; \"$2\"; \"$3\")"; }
pass() { dec "$1/$2 passes every filter${3:+ ($3)}" "passes(\"$1\"; \"$2\")"; }

SETUP_BAD=0
setup_req() { # METHOD PATH BODY TOKEN WANT
  req "$1" "$2" "$3" "$4"
  if [ "$STATUS" != "$5" ]; then
    SETUP_BAD=$((SETUP_BAD + 1))
    echo "# setup $1 $2 -> $STATUS $(printf '%s' "$BODY" | head -c 300)"
  fi
}
center() { setup_req POST /v1/centers "$(center_doc "$@")" "$OP" 201; } # ID REGION [STATUS LABELS STALENESS]
pool() { # MODEL TOTAL FREE PRICE [EXTRA-JSON-MEMBERS]
  printf '{"model":"%s","total":%s,"free":%s,"price_per_card_hour":%s%s}' "$1" "$2" "$3" "$4" "${5:+,$5}"
}
feed() { # CENTER POOL-JSON...
  local c=$1
  shift
  local IFS=,
  setup_req POST "/v1/centers/$c/feed" "{\"center\":\"$c\",\"pools\":[$*]}" "$OP" 200
}
world_ready() {
  local s=0
  [ "$SETUP_BAD" -eq 0 ] || s=1
  SETUP_BAD=0
  STATUS=setup BODY=""
  ok $s "$1"
}

# fresh: a new broker on a new database, with operator op1 and tenant acme.
fresh() {
  if [ -n "$BROKER_PID" ]; then stop_broker || echo "# brokerd did not stop with status 0"; fi
  rm -f "$DB" "$DB"-*
  start_broker || { ok 1 "brokerd starts"; done_testing; }
  OP=$(token operator op1)
  TEN=$(token tenant acme)
}

center_pool() { # CENTER MODEL JQ-over-the-pool: GET /v1/centers/CENTER, one check input
  req GET "/v1/centers/$1" "" "$TEN"
  jx "[.pools[] | select(.model == \"$2\")] | length == 1 and (.[0] | $3)"
}

# ============================================================================
# 1. Hard filters: every reject code, and the filter order.
# ============================================================================
fresh
# Pools (model:total:free:price), origin cn-shanghai in every request below:
#   f-drain  cn-shanghai draining                       A100 8:8:10
#   f-off    cn-shanghai disabled                       A100 8:8:10
#   f-sh     cn-shanghai residency=shanghai,grade=dengbao3
#                                                       A100 16:16:10, Ascend910B 32:32:6, H800 16:16:30
#   f-bj     cn-beijing  residency=beijing              A100 16:16:8
#   f-wh     cn-wuhu     residency=shanghai             Ascend910B 8:4:5   (only 4 free)
#   f-big    cn-shanghai (no labels)                    A100 16:16:12 stating memory_gib 96,
#                                                       L40S 16:16:4 stating domestic true
#   f-stale  cn-shanghai staleness_s 1                  A100 8:8:10
# Catalog: A100 80 GiB, bf16 312, fp8 0, fp64 19.5, NVIDIA; H800 80 GiB, fp8 1979,
# fp64 1; Ascend910B 64 GiB, domestic, fp8 0, fp64 0; L40S 48 GiB, fp8 733, fp64 0.
# RTT from cn-shanghai: same region 1 (configured), cn-wuhu 4 (configured),
# cn-beijing 28.6 (measured).
center f-drain cn-shanghai draining
center f-off cn-shanghai disabled
center f-sh cn-shanghai active '{"residency":"shanghai","grade":"dengbao3"}'
center f-bj cn-beijing active '{"residency":"beijing"}'
center f-wh cn-wuhu active '{"residency":"shanghai"}'
center f-big cn-shanghai active '{}'
center f-stale cn-shanghai active '{}' 1
feed f-drain "$(pool A100 8 8 10)"
feed f-off "$(pool A100 8 8 10)"
feed f-sh "$(pool A100 16 16 10)" "$(pool Ascend910B 32 32 6)" "$(pool H800 16 16 30)"
feed f-bj "$(pool A100 16 16 8)"
feed f-wh "$(pool Ascend910B 8 4 5)"
feed f-big "$(pool A100 16 16 12 '"memory_gib":96')" "$(pool L40S 16 16 4 '"domestic":true')"
feed f-stale "$(pool A100 8 8 10)"
world_ready "filters: 7 centers with 10 pools registered and fed"

B='"precision":"bf16","cards":8,"hours":1,"origin":"cn-shanghai","dry_run":true'
# Right after its push the 1-second feed is fresh.
route "{$B}"
resp 200 "filters: the base request (8 bf16 cards) is quoted" '.state == "quote"'
dec "filters: every pool is a candidate (10)" '(.candidates | length) == 10'
pass f-stale A100 "its feed is younger than staleness_s 1"
rej f-drain A100 center_inactive "draining"
rej f-off A100 center_inactive "disabled"
dec "f-wh/Ascend910B is rejected with insufficient_capacity, available 4 < 8 cards" \
  'rejected("f-wh"; "Ascend910B"; "insufficient_capacity") and cand("f-wh"; "Ascend910B").available == 4 and cand("f-wh"; "Ascend910B").cards == 8'
dec "filters: the six healthy pools pass (f-sh x3, f-bj, f-big x2)" \
  'passes("f-sh"; "A100") and passes("f-sh"; "Ascend910B") and passes("f-sh"; "H800") and passes("f-bj"; "A100") and passes("f-big"; "A100") and passes("f-big"; "L40S")'

sleep 2.2 # f-stale's feed is now > 1 s old: stale
route "{$B}"
rej f-stale A100 stale_feed "feed older than staleness_s 1"
pass f-sh A100 "a center with the default staleness is not stale"

# region_excluded, by regions_allowed and by regions_denied.
route "{$B,\"regions_allowed\":[\"cn-beijing\"]}"
pass f-bj A100 "regions_allowed [cn-beijing]"
rej f-sh A100 region_excluded "regions_allowed [cn-beijing]"
rej f-big L40S region_excluded "regions_allowed [cn-beijing]"
rej f-drain A100 center_inactive "order: inactive before region_excluded"
rej f-stale A100 stale_feed "order: stale before region_excluded"
rej f-wh Ascend910B region_excluded "order: region before insufficient_capacity"
route "{$B,\"regions_denied\":[\"cn-shanghai\"]}"
rej f-sh H800 region_excluded "regions_denied [cn-shanghai]"
rej f-big A100 region_excluded "regions_denied [cn-shanghai]"
pass f-bj A100 "regions_denied [cn-shanghai]"
rej f-wh Ascend910B insufficient_capacity "cn-wuhu is not denied"

# label_mismatch: all request labels must match (missing key, wrong value, no labels).
route "{$B,\"labels\":{\"residency\":\"shanghai\",\"grade\":\"dengbao3\"}}"
pass f-sh A100 "both labels match"
pass f-sh Ascend910B "both labels match"
rej f-wh Ascend910B label_mismatch "grade missing; order: label before capacity"
rej f-bj A100 label_mismatch "residency=beijing"
rej f-big A100 label_mismatch "no labels"
rej f-off A100 center_inactive "order: inactive before label"
route "{$B,\"labels\":{\"residency\":\"shanghai\"},\"regions_denied\":[\"cn-beijing\"]}"
rej f-bj A100 region_excluded "order: region before label_mismatch"
rej f-wh Ascend910B insufficient_capacity "residency=shanghai alone matches"

# not_domestic: NVIDIA pools fail domestic_only, Ascend910B passes; a pool stating
# "domestic":true passes although its catalog vendor is NVIDIA (stated value wins).
route "{$B,\"domestic_only\":true}"
rej f-sh A100 not_domestic
rej f-sh H800 not_domestic
rej f-bj A100 not_domestic
rej f-big A100 not_domestic
pass f-sh Ascend910B "domestic_only"
pass f-big L40S "stated domestic:true wins over the catalog"
rej f-wh Ascend910B insufficient_capacity "domestic passes, capacity fails"
route "{$B,\"domestic_only\":true,\"labels\":{\"residency\":\"shanghai\"}}"
rej f-bj A100 label_mismatch "order: label before not_domestic"

# precision_unsupported: fp8 on A100 and Ascend910B (0), fp64 on Ascend910B and L40S (0).
P8='"precision":"fp8","cards":8,"hours":1,"origin":"cn-shanghai","dry_run":true'
route "{$P8}"
rej f-sh A100 precision_unsupported "fp8 on A100"
rej f-bj A100 precision_unsupported "fp8 on A100"
rej f-sh Ascend910B precision_unsupported "fp8 on Ascend910B"
pass f-sh H800 "fp8 on H800 (1979)"
pass f-big L40S "fp8 on L40S (733)"
route "{$P8,\"domestic_only\":true}"
rej f-sh A100 not_domestic "order: not_domestic before precision_unsupported"
rej f-sh Ascend910B precision_unsupported "domestic passes, fp8 does not"
pass f-big L40S "fp8 + domestic_only (stated domestic)"
route '{"precision":"fp64","cards":8,"hours":1,"origin":"cn-shanghai","dry_run":true}'
rej f-sh Ascend910B precision_unsupported "fp64 on Ascend910B"
rej f-big L40S precision_unsupported "fp64 on L40S"
pass f-sh A100 "fp64 on A100 (19.5)"

# memory_too_small: min_memory_gib 96 vs A100/H800 80, Ascend910B 64, L40S 48; the f-big
# A100 states memory_gib 96 (stated wins; 96 >= 96 passes).
route "{$B,\"min_memory_gib\":96}"
rej f-sh A100 memory_too_small "80 < 96"
rej f-sh H800 memory_too_small "80 < 96"
rej f-sh Ascend910B memory_too_small "64 < 96"
rej f-big L40S memory_too_small "48 < 96"
pass f-big A100 "stated memory_gib 96 wins over the catalog's 80"
route "{$P8,\"min_memory_gib\":96}"
rej f-sh A100 precision_unsupported "order: precision before memory"
route "{$B,\"min_memory_gib\":96,\"max_latency_ms\":10}"
rej f-bj A100 memory_too_small "order: memory before latency (28.6 > 10 too)"

# latency_exceeds: max_latency_ms 10 vs Beijing 28.6 measured; Shanghai 1, Wuhu 4 pass.
route "{$B,\"max_latency_ms\":10}"
rej f-bj A100 latency_exceeds "28.6 > 10"
dec "f-bj/A100 shows rtt 28.6 measured, f-sh/A100 rtt 1 configured, f-wh rtt 4 configured" \
  'near(cand("f-bj"; "A100").rtt_ms; 28.6) and cand("f-bj"; "A100").rtt_source == "measured" and near(cand("f-sh"; "A100").rtt_ms; 1) and cand("f-sh"; "A100").rtt_source == "configured" and near(cand("f-wh"; "Ascend910B").rtt_ms; 4) and cand("f-wh"; "Ascend910B").rtt_source == "configured"'
route '{"precision":"bf16","cards":20,"hours":1,"origin":"cn-shanghai","dry_run":true,"max_latency_ms":10}'
rej f-bj A100 latency_exceeds "order: latency before capacity (16 free < 20)"
rej f-sh A100 insufficient_capacity "16 free < 20 cards"
pass f-sh Ascend910B "32 free >= 20 cards"

# price_exceeds: max_price_per_card_hour 9 vs list prices 10, 30, 12 (8, 6, 4 pass).
route "{$B,\"max_price_per_card_hour\":9}"
rej f-sh A100 price_exceeds "10 > 9"
rej f-sh H800 price_exceeds "30 > 9"
rej f-big A100 price_exceeds "12 > 9"
dec "max price 9: f-bj/A100 (8), f-sh/Ascend910B (6), f-big/L40S (4) pass" \
  'passes("f-bj"; "A100") and passes("f-sh"; "Ascend910B") and passes("f-big"; "L40S")'
route '{"precision":"bf16","cards":20,"hours":1,"origin":"cn-shanghai","dry_run":true,"max_price_per_card_hour":9}'
rej f-sh A100 insufficient_capacity "order: capacity before price (16 < 20 and 10 > 9)"

# insufficient_capacity from a live hold: available = free - held.
# fp64, 10 cards, label grade=dengbao3, cost only: only f-sh matches; its fp64 pools are
# A100 (10 x 10 x 1 = 100) and H800 (30 x 10 x 1 = 300): A100 is cheaper.
route '{"precision":"fp64","cards":10,"hours":1,"origin":"cn-shanghai","labels":{"grade":"dengbao3"},"weights":{"cost":1,"latency":0,"balance":0},"hold_seconds":600}'
resp 201 "a hold of 10 fp64 cards lands on f-sh/A100" \
  '.state == "held" and pieces == ["f-sh/A100/10"]'
HOLD=$(printf '%s' "$RB" | jq -r .id)
center_pool f-sh A100 '.available == 6'
ok $? "f-sh/A100 shows available 16 - 10 held = 6"
route "{$B}"
dec "with 10 held, f-sh/A100 is insufficient_capacity for 8 cards, available 6" \
  'rejected("f-sh"; "A100"; "insufficient_capacity") and cand("f-sh"; "A100").available == 6'
route '{"precision":"bf16","cards":6,"hours":1,"origin":"cn-shanghai","dry_run":true}'
dec "6 cards fit the 6 still available on f-sh/A100" 'passes("f-sh"; "A100") and cand("f-sh"; "A100").available == 6'
req POST "/v1/placements/$HOLD/release" "{}" "$TEN"
is 200 "the hold is released" '.state == "released"'
route "{$B}"
dec "after the release f-sh/A100 has 16 available again and passes" \
  'passes("f-sh"; "A100") and cand("f-sh"; "A100").available == 16'

# ============================================================================
# 2. Latency: RTT sources and PUT /v1/latency.
# ============================================================================
fresh
# l-sh cn-shanghai, l-bj cn-beijing, l-gy cn-guiyang, l-wh cn-wuhu, l-hz cn-hangzhou;
# each one pool A100 16:16:10. From cn-shanghai: 1 configured (same region), 28.6
# measured, 15 configured, 4 configured; Shanghai-Hangzhou has no entry: estimated.
for c in l-sh:cn-shanghai l-bj:cn-beijing l-gy:cn-guiyang l-wh:cn-wuhu l-hz:cn-hangzhou; do
  center "${c%%:*}" "${c#*:}"
  feed "${c%%:*}" "$(pool A100 16 16 10)"
done
world_ready "latency: 5 centers in 5 regions"
L='"precision":"bf16","cards":8,"hours":1,"origin":"cn-shanghai","dry_run":true'
route "{$L,\"max_latency_ms\":15}"
rej l-bj A100 latency_exceeds "28.6 measured > 15"
dec "max 15: l-gy (15, not exceeding) l-wh (4) and l-sh (1) pass" \
  'passes("l-gy"; "A100") and passes("l-wh"; "A100") and passes("l-sh"; "A100")'
dec "rtt sources: l-bj measured 28.6, l-gy configured 15, l-sh configured 1" \
  'cand("l-bj"; "A100") as $b | cand("l-gy"; "A100") as $g | cand("l-sh"; "A100") as $s | near($b.rtt_ms; 28.6) and $b.rtt_source == "measured" and near($g.rtt_ms; 15) and $g.rtt_source == "configured" and near($s.rtt_ms; 1) and $s.rtt_source == "configured"'
dec "a pair with no entry (Shanghai-Hangzhou) is estimated" \
  'cand("l-hz"; "A100") | .rtt_source == "estimated" and .rtt_ms > 0'
dec "the decision record states the estimate formula" \
  '[.. | strings | select(test("great.circle|haversine"; "i"))] | length > 0'

req PUT /v1/latency '{"a":"cn-beijing","b":"cn-shanghai","rtt_ms":12,"source":"configured"}' "$ADMIN"
is 200 "admin sets Beijing-Shanghai to 12 ms configured"
route "{$L,\"max_latency_ms\":12}"
dec "now l-bj passes max 12 with rtt 12 configured" \
  'passes("l-bj"; "A100") and near(cand("l-bj"; "A100").rtt_ms; 12) and cand("l-bj"; "A100").rtt_source == "configured"'
rej l-gy A100 latency_exceeds "15 > 12"
route '{"precision":"bf16","cards":8,"hours":1,"origin":"cn-beijing","dry_run":true}'
dec "the entry is symmetric: from Beijing, l-sh is 12 ms configured and l-bj 1" \
  'near(cand("l-sh"; "A100").rtt_ms; 12) and cand("l-sh"; "A100").rtt_source == "configured" and near(cand("l-bj"; "A100").rtt_ms; 1)'
req PUT /v1/latency '{"a":"cn-shanghai","b":"cn-hangzhou","rtt_ms":7.5,"source":"measured"}' "$ADMIN"
is 200 "admin sets Shanghai-Hangzhou to 7.5 ms measured"
route "{$L,\"max_latency_ms\":7}"
dec "l-hz is now 7.5 measured and exceeds max 7" \
  'rejected("l-hz"; "A100"; "latency_exceeds") and near(cand("l-hz"; "A100").rtt_ms; 7.5) and cand("l-hz"; "A100").rtt_source == "measured"'
route "{$L,\"max_latency_ms\":7.5}"
pass l-hz A100 "7.5 is not more than max 7.5"
# Latency term = (rtt+1)/(min_rtt+1), min_rtt 1 (l-sh): l-bj (12+1)/2 = 6.5,
# l-hz (7.5+1)/2 = 4.25, l-gy (15+1)/2 = 8, l-wh (4+1)/2 = 2.5, l-sh 1.
route "{$L}"
dec "latency terms: 6.5, 4.25, 8, 2.5, 1" \
  'near(cand("l-bj"; "A100").terms.latency; 6.5) and near(cand("l-hz"; "A100").terms.latency; 4.25) and near(cand("l-gy"; "A100").terms.latency; 8) and near(cand("l-wh"; "A100").terms.latency; 2.5) and near(cand("l-sh"; "A100").terms.latency; 1)'

# ============================================================================
# 3. Scores, terms, choice, alternatives; per-request weights.
# ============================================================================
fresh
# s-sh cn-shanghai: A100 64:16:10, Ascend910B 32:16:7  -> total 96, used 48+16 = 64
# s-bj cn-beijing:  A100 16:16:8                       -> total 16, used 0
# s-gy cn-guiyang:  Ascend910B 40:20:6                 -> total 40, used 20
# s-wh cn-wuhu:     A100 8:8:20                        -> total 8,  used 0
center s-sh cn-shanghai
center s-bj cn-beijing
center s-gy cn-guiyang
center s-wh cn-wuhu
feed s-sh "$(pool A100 64 16 10)" "$(pool Ascend910B 32 16 7)"
feed s-bj "$(pool A100 16 16 8)"
feed s-gy "$(pool Ascend910B 40 20 6)"
feed s-wh "$(pool A100 8 8 20)"
world_ready "scores: 4 centers with 5 pools"
# 8 bf16 cards for 10 h from cn-shanghai:
#   pool           eff = price*8*10   rtt    util_after            cost      latency       balance
#   s-sh/A100      800                1      (64+8)/96 = 0.75      800/480   (1+1)/2 = 1   1.75
#   s-sh/Ascend    560                1      0.75                  560/480   1             1.75
#   s-bj/A100      640                28.6   (0+8)/16 = 0.5        640/480   29.6/2 = 14.8 1.5
#   s-gy/Ascend    480                15     (20+8)/40 = 0.7       1         16/2 = 8      1.7
#   s-wh/A100      1600               4      (0+8)/8 = 1           1600/480  5/2 = 2.5     2
# min_eff 480, min_rtt 1. Default weights 1, 0.5, 0.2:
#   s-sh/A100   5/3  + 0.5  + 0.35 = 2.516667
#   s-sh/Ascend 7/6  + 0.5  + 0.35 = 2.016667   <- chosen
#   s-bj/A100   4/3  + 7.4  + 0.3  = 9.033333
#   s-gy/Ascend 1    + 4    + 0.34 = 5.34
#   s-wh/A100   10/3 + 1.25 + 0.4  = 4.983333
# Rank: s-sh/Ascend, s-sh/A100, s-wh/A100, s-gy/Ascend, s-bj/A100.
S='"precision":"bf16","cards":8,"hours":10,"origin":"cn-shanghai","dry_run":true'
route "{$S}"
resp 200 "scores: quote picks s-sh/Ascend910B, 8 cards, list 560" \
  'pieces == ["s-sh/Ascend910B/8"] and near(.list_total; 560) and near(.effective_total; 560)'
dec "s-sh/A100: terms 5/3, 1, 1.75; score 2.516667" \
  'cand("s-sh"; "A100") | near(.terms.cost; 800/480) and near(.terms.latency; 1) and near(.terms.balance; 1 + 72/96) and near(.score; 800/480 + 0.5*1 + 0.2*1.75)'
dec "s-sh/Ascend910B: terms 7/6, 1, 1.75; score 2.016667; verdict chosen" \
  'cand("s-sh"; "Ascend910B") | .verdict == "chosen" and near(.terms.cost; 560/480) and near(.terms.latency; 1) and near(.terms.balance; 1.75) and near(.score; 560/480 + 0.5 + 0.35)'
dec "s-bj/A100: terms 4/3, 14.8, 1.5; score 9.033333" \
  'cand("s-bj"; "A100") | near(.terms.cost; 640/480) and near(.terms.latency; 29.6/2) and near(.terms.balance; 1 + 8/16) and near(.score; 640/480 + 0.5*14.8 + 0.2*1.5)'
dec "s-gy/Ascend910B: terms 1, 8, 1.7; score 5.34" \
  'cand("s-gy"; "Ascend910B") | near(.terms.cost; 1) and near(.terms.latency; 16/2) and near(.terms.balance; 1 + 28/40) and near(.score; 5.34)'
dec "s-wh/A100: terms 10/3, 2.5, 2; score 4.983333" \
  'cand("s-wh"; "A100") | near(.terms.cost; 1600/480) and near(.terms.latency; 5/2) and near(.terms.balance; 2) and near(.score; 1600/480 + 1.25 + 0.4)'
dec "the record's choice is s-sh/Ascend910B x8" 'picks == ["s-sh/Ascend910B/8"]'
dec "alternatives are the top 3 others by rank: s-sh/A100, s-wh/A100, s-gy/Ascend910B" \
  'alts == ["s-sh/A100", "s-wh/A100", "s-gy/Ascend910B"]'

# All mass on one term picks the argmin of that term.
route "{$S,\"weights\":{\"cost\":1,\"latency\":0,\"balance\":0}}"
resp 200 "cost-only weights pick the cheapest, s-gy/Ascend910B (480)" 'pieces == ["s-gy/Ascend910B/8"]'
dec "cost-only: scores equal the cost term (1 and 5/3)" \
  'near(cand("s-gy"; "Ascend910B").score; 1) and near(cand("s-sh"; "A100").score; 800/480)'
route "{$S,\"weights\":{\"cost\":0,\"latency\":0,\"balance\":1}}"
resp 200 "balance-only weights pick the least used after placement, s-bj/A100 (0.5)" 'pieces == ["s-bj/A100/8"]'
dec "balance-only: s-bj scores 1.5, s-gy 1.7" \
  'near(cand("s-bj"; "A100").score; 1.5) and near(cand("s-gy"; "Ascend910B").score; 1.7)'
# Latency only: both s-sh pools score 1 (rtt 1): the tie goes to the lower effective
# total, Ascend910B (560) before A100 (800).
route "{$S,\"weights\":{\"cost\":0,\"latency\":1,\"balance\":0}}"
resp 200 "latency-only weights pick Shanghai; the s-sh tie goes to the lower effective total" \
  'pieces == ["s-sh/Ascend910B/8"]'
dec "latency-only: the runner-up is s-sh/A100 with the same score 1" \
  'alts[0] == "s-sh/A100" and near(.alternatives[0].score; 1) and near(cand("s-sh"; "Ascend910B").score; 1)'
# Mixed weights cost 5, latency 0.1, balance 0:
#   s-gy 5*1 + 0.1*8 = 5.8; s-sh/Ascend 5*7/6 + 0.1 = 5.933333; s-bj 5*4/3 + 1.48 = 8.146667;
#   s-sh/A100 5*5/3 + 0.1 = 8.433333; s-wh 5*10/3 + 0.25 = 16.916667.
route "{$S,\"weights\":{\"cost\":5,\"latency\":0.1,\"balance\":0}}"
resp 200 "weights cost 5, latency 0.1 pick s-gy/Ascend910B (5.8)" 'pieces == ["s-gy/Ascend910B/8"]'
dec "weights 5/0.1/0: scores 5.8, 5.933333, 8.146667, 8.433333 and alternatives in that order" \
  'near(cand("s-gy"; "Ascend910B").score; 5.8) and near(cand("s-sh"; "Ascend910B").score; 5*560/480 + 0.1) and near(cand("s-bj"; "A100").score; 5*640/480 + 0.1*14.8) and near(cand("s-sh"; "A100").score; 5*800/480 + 0.1) and alts == ["s-sh/Ascend910B", "s-bj/A100", "s-sh/A100"]'
route "{$S,\"weights\":{\"cost\":0,\"latency\":0,\"balance\":0}}"
resp 400 "weights all 0 are a 400 naming /weights" '.status == 400 and .pointer == "/weights"'
route "{$S,\"weights\":{\"cost\":-1,\"latency\":1,\"balance\":0}}"
resp 400 "a negative weight is a 400 naming the weights" '.pointer | startswith("/weights")'

# A hold counts as used in the balance term: hold 8 on s-bj (regions_allowed), then
# s-bj used = 16 - 8 = 8, util_after = (8+8)/16 = 1, balance 2; its score becomes
# 4/3 + 7.4 + 0.4 = 9.133333 and it shows 8 available.
route '{"precision":"bf16","cards":8,"hours":10,"origin":"cn-shanghai","regions_allowed":["cn-beijing"]}'
resp 201 "a hold of 8 on s-bj/A100" 'pieces == ["s-bj/A100/8"]'
route "{$S}"
dec "with 8 held, s-bj/A100: available 8, balance 2, score 9.133333" \
  'cand("s-bj"; "A100") | .available == 8 and near(.terms.balance; 2) and near(.score; 640/480 + 7.4 + 0.4)'

# ============================================================================
# 4. Ties: lower effective total, then lower rtt, then center id, then model name.
# ============================================================================
fresh
# Registered in this order so that pool order is not the tie order.
center t-b cn-hangzhou     # A100 16:16:10
center t-a cn-hangzhou     # A100 16:16:10 (identical to t-b)
center t-m cn-hefei        # A800 16:16:10, A100 16:16:10 (same price, both bf16 312)
center t-p cn-nanjing      # A800 16:16:9,  A100 16:16:10
center t-0far cn-beijing   # A100 16:16:10 (rtt 28.6 from Shanghai)
center t-9near cn-wuhu     # A100 16:16:10 (rtt 4 from Shanghai)
feed t-b "$(pool A100 16 16 10)"
feed t-a "$(pool A100 16 16 10)"
feed t-m "$(pool A800 16 16 10)" "$(pool A100 16 16 10)"
feed t-p "$(pool A800 16 16 9)" "$(pool A100 16 16 10)"
feed t-0far "$(pool A100 16 16 10)"
feed t-9near "$(pool A100 16 16 10)"
world_ready "ties: 6 centers"
T='"precision":"bf16","cards":8,"hours":1,"origin":"cn-shanghai","dry_run":true'
# Hangzhou only: t-a and t-b identical: cost 80/80 = 1, latency 1, util 8/16 -> 1.5:
# score 1 + 0.5 + 0.3 = 1.8 each; eff and rtt equal -> lower center id t-a.
route "{$T,\"regions_allowed\":[\"cn-hangzhou\"]}"
resp 200 "equal score, eff and rtt: the lower center id (t-a) wins" 'pieces == ["t-a/A100/8"]'
dec "t-a and t-b both score 1.8; t-b is the first alternative" \
  'near(cand("t-a"; "A100").score; 1.8) and near(cand("t-b"; "A100").score; 1.8) and alts == ["t-b/A100"]'
# Hefei only: A800 and A100 at t-m, same price: util (0+8)/32 = 0.25, score 1 + 0.5 + 0.25
# = 1.75 each -> model name: A100 before A800.
route "{$T,\"regions_allowed\":[\"cn-hefei\"]}"
resp 200 "equal score in one center: the lower model name (A100) wins" 'pieces == ["t-m/A100/8"]'
dec "t-m A100 and A800 both score 1.75" \
  'near(cand("t-m"; "A100").score; 1.75) and near(cand("t-m"; "A800").score; 1.75)'
# Nanjing only, latency-only weights: both t-p pools score 1; eff A800 9*8 = 72 < A100 80
# -> A800 wins although A100 sorts first by name.
route "{$T,\"regions_allowed\":[\"cn-nanjing\"],\"weights\":{\"cost\":0,\"latency\":1,\"balance\":0}}"
resp 200 "equal score: the lower effective total (t-p/A800, 72) wins over model name" \
  'pieces == ["t-p/A800/8"] and near(.effective_total; 72)'
# Beijing + Wuhu, cost-only weights: both score 80/80 = 1, eff 80 each -> lower rtt:
# t-9near (4) before t-0far (28.6) although t-0far sorts first by id.
route "{$T,\"regions_allowed\":[\"cn-beijing\",\"cn-wuhu\"],\"weights\":{\"cost\":1,\"latency\":0,\"balance\":0}}"
resp 200 "equal score and eff: the lower rtt (t-9near, 4 ms) wins over center id" 'pieces == ["t-9near/A100/8"]'
dec "t-9near and t-0far both score 1" \
  'near(cand("t-9near"; "A100").score; 1) and near(cand("t-0far"; "A100").score; 1) and alts == ["t-0far/A100"]'

# ============================================================================
# 5. pflops: cards per pool = ceil(pflops*1000 / tflops(model, precision)).
# ============================================================================
fresh
# p-sh: A100 (bf16 312, fp16 312), H800 (989.5), Ascend910B (320), L40S stating
# tflops bf16 100 (catalog bf16 362, fp16 362); all 64:64, prices 10, 30, 7, 5.
center p-sh cn-shanghai
feed p-sh "$(pool A100 64 64 10)" "$(pool H800 64 64 30)" "$(pool Ascend910B 64 64 7)" \
  "$(pool L40S 64 64 5 '"tflops":{"bf16":100}')"
world_ready "pflops: one center with 4 pools"
# 1 PFLOPS bf16: A100 ceil(1000/312 = 3.21) = 4; H800 ceil(1000/989.5 = 1.01) = 2;
# Ascend910B ceil(1000/320 = 3.125) = 4; L40S (stated 100) ceil(1000/100) = 10.
# list (1 h): 4*10 = 40, 2*30 = 60, 4*7 = 28, 10*5 = 50.
route '{"precision":"bf16","pflops":1,"hours":1,"origin":"cn-shanghai","dry_run":true}'
dec "1 PFLOPS bf16: cards A100 4, H800 2, Ascend910B 4" \
  'cand("p-sh"; "A100").cards == 4 and cand("p-sh"; "H800").cards == 2 and cand("p-sh"; "Ascend910B").cards == 4'
dec "a pool stating tflops bf16 100 needs ceil(1000/100) = 10 cards (stated wins over 362)" \
  'cand("p-sh"; "L40S").cards == 10'
dec "list totals follow the per-pool cards: 40, 60, 28, 50" \
  'near(cand("p-sh"; "A100").list_total; 40) and near(cand("p-sh"; "H800").list_total; 60) and near(cand("p-sh"; "Ascend910B").list_total; 28) and near(cand("p-sh"; "L40S").list_total; 50)'
resp 200 "1 PFLOPS: the quote is 4 Ascend910B for 28" 'pieces == ["p-sh/Ascend910B/4"] and near(.list_total; 28)'
# 3.2 PFLOPS: A100 ceil(3200/312 = 10.26) = 11; H800 ceil(3.23) = 4; Ascend910B 3200/320 = 10
# exactly -> 10; L40S 3200/100 = 32.
route '{"precision":"bf16","pflops":3.2,"hours":1,"origin":"cn-shanghai","dry_run":true}'
dec "3.2 PFLOPS: A100 11, H800 4, Ascend910B exactly 10, L40S 32" \
  'cand("p-sh"; "A100").cards == 11 and cand("p-sh"; "H800").cards == 4 and cand("p-sh"; "Ascend910B").cards == 10 and cand("p-sh"; "L40S").cards == 32'
# fp16: the L40S states only bf16, so fp16 comes from the catalog: ceil(1000/362 = 2.76) = 3;
# Ascend910B fp16 320 -> 4; A100 fp16 312 -> 4.
route '{"precision":"fp16","pflops":1,"hours":1,"origin":"cn-shanghai","dry_run":true}'
dec "1 PFLOPS fp16: L40S falls back to the catalog's 362 -> 3 cards; A100 4" \
  'cand("p-sh"; "L40S").cards == 3 and cand("p-sh"; "A100").cards == 4'

# ============================================================================
# 6. Vouchers.
# ============================================================================
fresh
TEN2=$(token tenant other)
# v-sh cn-shanghai: A100 32:32:10 (NVIDIA), Ascend910B 32:32:10 (domestic)
# v-bj cn-beijing:  A100 32:32:10
center v-sh cn-shanghai
center v-bj cn-beijing
feed v-sh "$(pool A100 32 32 10)" "$(pool Ascend910B 32 32 10)"
feed v-bj "$(pool A100 32 32 10)"
voucher() { # ID TENANT RATE AMOUNT ELIGIBLE-JSON [VALID_UNTIL [VALID_FROM]]
  local from=""
  [ -n "${7:-}" ] && from=",\"valid_from\":\"$7\""
  printf '{"id":"%s","issuer":"shanghai-eitc","tenant":"%s","rate":%s,"amount":%s,"valid_until":"%s"%s,"eligible":%s}' \
    "$1" "$2" "$3" "$4" "${6:-2099-01-01T00:00:00Z}" "$from" "$5"
}
setup_req POST /v1/vouchers "$(voucher V-REG acme 0.1 100000 '{"regions":["cn-shanghai"]}')" "$ADMIN" 201
setup_req POST /v1/vouchers "$(voucher V-CTR acme 0.3 100000 '{"centers":["v-bj"]}')" "$ADMIN" 201
setup_req POST /v1/vouchers "$(voucher V-DOM acme 0.5 100000 '{"domestic_only":true}')" "$ADMIN" 201
setup_req POST /v1/vouchers "$(voucher V-LOW acme 0.5 50 '{}')" "$ADMIN" 201
setup_req POST /v1/vouchers "$(voucher V-FUT acme 0.4 100000 '{}' 2100-01-01T00:00:00Z 2099-01-01T00:00:00Z)" "$ADMIN" 201
setup_req POST /v1/vouchers "$(voucher V-OTH other 0.5 100000 '{}')" "$ADMIN" 201
world_ready "vouchers: 2 centers, 3 pools, 6 vouchers"
req POST /v1/vouchers "$(voucher V-BAD acme 0.1 100 '{}' 2021-01-01T00:00:00Z 2022-01-01T00:00:00Z)" "$ADMIN"
is 400 "a voucher valid_until before its valid_from is a 400" '.pointer == "/valid_until"'
req POST /v1/vouchers "$(voucher V-NOBODY nobody 0.1 100 '{}')" "$ADMIN"
is 400 "a voucher for a tenant that was never issued a token is a 400" '.pointer == "/tenant"'

# 8 bf16 cards x 10 h: list_total = 10 x 8 x 10 = 800 on every pool.
V='"precision":"bf16","cards":8,"hours":10,"origin":"cn-shanghai","dry_run":true'
# V-REG (rate 0.1, regions [cn-shanghai]): v-sh pools 80 off -> 720; v-bj none -> 800.
route "{$V,\"vouchers\":[\"V-REG\"]}"
dec "V-REG: v-sh pools subsidy 0.1 x 800 = 80, effective 720; v-bj (Beijing) none" \
  'near(cand("v-sh"; "A100").subsidy; 80) and near(cand("v-sh"; "A100").effective_total; 720) and near(cand("v-sh"; "Ascend910B").subsidy; 80) and near(cand("v-bj"; "A100").subsidy; 0) and near(cand("v-bj"; "A100").effective_total; 800)'
# Scores: v-sh pools cost 720/720 = 1, latency 1, util 8/64 -> 1.125: 1 + 0.5 + 0.225 = 1.725
# each (tie -> model name: A100); v-bj cost 800/720, latency 29.6/2 = 14.8, util 8/32 -> 1.25:
# 800/720 + 7.4 + 0.25 = 8.761111.
dec "V-REG: the cost term uses the effective total (v-sh 1.725, v-bj 8.761111)" \
  'near(cand("v-sh"; "A100").score; 1.725) and near(cand("v-bj"; "A100").terms.cost; 800/720) and near(cand("v-bj"; "A100").score; 800/720 + 7.4 + 0.25)'
resp 200 "V-REG quote: v-sh/A100, list 800, subsidy 80, effective 720, voucher V-REG" \
  'pieces == ["v-sh/A100/8"] and near(.list_total; 800) and near(.subsidy; 80) and near(.effective_total; 720) and .voucher == "V-REG"'
route "{$V,\"vouchers\":[\"V-CTR\"]}"
dec "V-CTR (centers [v-bj], 0.3): v-bj subsidy 240, effective 560; v-sh none" \
  'near(cand("v-bj"; "A100").subsidy; 240) and near(cand("v-bj"; "A100").effective_total; 560) and near(cand("v-sh"; "A100").subsidy; 0) and near(cand("v-sh"; "Ascend910B").subsidy; 0)'
route "{$V,\"vouchers\":[\"V-DOM\"]}"
dec "V-DOM (domestic_only, 0.5): Ascend910B subsidy 400; the A100 pools none" \
  'near(cand("v-sh"; "Ascend910B").subsidy; 400) and near(cand("v-sh"; "Ascend910B").effective_total; 400) and near(cand("v-sh"; "A100").subsidy; 0) and near(cand("v-bj"; "A100").subsidy; 0)'
route "{$V,\"vouchers\":[\"V-LOW\"]}"
dec "V-LOW (0.5, balance 50): subsidy min(400, 50) = 50 on every pool, effective 750" \
  '[.candidates[] | near(.subsidy; 50) and near(.effective_total; 750)] | length == 3 and all'
# Both V-REG and V-DOM: per candidate the best applicable one; one voucher per placement.
route "{$V,\"vouchers\":[\"V-REG\",\"V-DOM\"]}"
dec "V-REG + V-DOM: v-sh/A100 gets 80 (V-REG), v-sh/Ascend910B the better 400 (V-DOM)" \
  'near(cand("v-sh"; "A100").subsidy; 80) and near(cand("v-sh"; "Ascend910B").subsidy; 400) and near(cand("v-bj"; "A100").subsidy; 0)'
resp 200 "V-REG + V-DOM quote: v-sh/Ascend910B with V-DOM only, subsidy 400, effective 400" \
  'pieces == ["v-sh/Ascend910B/8"] and .voucher == "V-DOM" and near(.subsidy; 400) and near(.effective_total; 400)'
route "{$V,\"vouchers\":[\"V-FUT\"]}"
dec "a voucher not yet valid (valid_from 2099) gives no subsidy" '[.candidates[] | near(.subsidy; 0)] | length == 3 and all'
resp 200 "not-yet-valid voucher: the quote has no voucher" '.voucher == null and near(.subsidy; 0)'

# Expiry: valid from 2020, valid until 4 s from now; rate 0.4 -> 320 now, nothing later.
UNTIL=$(date -u -d "@$(($(date +%s) + 4))" +%Y-%m-%dT%H:%M:%SZ)
req POST /v1/vouchers "$(voucher V-EXP acme 0.4 100000 '{}' "$UNTIL" 2020-01-01T00:00:00Z)" "$ADMIN"
is 201 "a voucher valid until $UNTIL is created"
route "{$V,\"vouchers\":[\"V-EXP\"]}"
resp 200 "before it expires V-EXP subsidises 0.4 x 800 = 320" '.voucher == "V-EXP" and near(.subsidy; 320)'
sleep 4.5
route "{$V,\"vouchers\":[\"V-EXP\"]}"
dec "after valid_until V-EXP gives no subsidy to any candidate" '[.candidates[] | near(.subsidy; 0) and near(.effective_total; 800)] | length == 3 and all'
resp 200 "expired voucher: the quote has no voucher and effective = list = 800" \
  '.voucher == null and near(.subsidy; 0) and near(.effective_total; 800)'

# Unknown and foreign vouchers: the same 400 at /vouchers/N.
route "{$V,\"vouchers\":[\"NO-SUCH\"]}"
resp 400 "an unknown voucher id is a 400 at /vouchers/0" '.status == 400 and .pointer == "/vouchers/0"'
UNKNOWN_DETAIL=$(printf '%s' "$RB" | jq -r '.detail' | sed 's/NO-SUCH/ID/g')
route "{$V,\"vouchers\":[\"V-REG\",\"NO-SUCH\"]}"
resp 400 "an unknown voucher in second place is a 400 at /vouchers/1" '.pointer == "/vouchers/1"'
route "{$V,\"vouchers\":[\"V-OTH\"]}"
resp 400 "another tenant's voucher is the same 400 at /vouchers/0" '.pointer == "/vouchers/0"'
OTHER_DETAIL=$(printf '%s' "$RB" | jq -r '.detail' | sed 's/V-OTH/ID/g')
STATUS=$RS BODY=$RB
ok "$([ -n "$UNKNOWN_DETAIL" ] && [ "$UNKNOWN_DETAIL" = "$OTHER_DETAIL" ]; echo $?)" \
  "another tenant's voucher is reported exactly like an unknown one (no leak)"
route "{$V,\"vouchers\":[\"V-OTH\"]}" "$TEN2"
resp 200 "its owner can use V-OTH: subsidy 0.5 x 800 = 400" '.voucher == "V-OTH" and near(.subsidy; 400)'

# max_price_per_card_hour is after subsidy: list 10/card-hour.
route "{$V,\"max_price_per_card_hour\":9}"
resp 409 "without a voucher every pool (10 > 9) is price_exceeds: 409" \
  '.reasons == {"price_exceeds": 3}'
route "{$V,\"max_price_per_card_hour\":9,\"vouchers\":[\"V-REG\"]}"
resp 200 "V-REG brings v-sh to 720/80 = 9 per card-hour: it passes max 9" 'pieces == ["v-sh/A100/8"]'
dec "with V-REG: v-sh pools pass max 9, v-bj (10) is price_exceeds" \
  'passes("v-sh"; "A100") and passes("v-sh"; "Ascend910B") and rejected("v-bj"; "A100"; "price_exceeds")'
route "{$V,\"max_price_per_card_hour\":9.5,\"vouchers\":[\"V-LOW\"]}"
dec "V-LOW capped at 50: 750/80 = 9.375 per card-hour passes max 9.5" \
  'passes("v-sh"; "A100") and passes("v-sh"; "Ascend910B") and passes("v-bj"; "A100")'
route "{$V,\"max_price_per_card_hour\":9.3,\"vouchers\":[\"V-LOW\"]}"
resp 409 "V-LOW capped at 50: 9.375 per card-hour exceeds max 9.3 everywhere" \
  '.reasons == {"price_exceeds": 3}'

# ============================================================================
# 7. gang=false splits, nothing fits, validation, dry_run.
# ============================================================================
fresh
# All in cn-shanghai (rtt 1):
#   g-a Ascend910B 8:8:5    g-b A100 16:10:10    g-c H800 16:12:20
center g-a cn-shanghai
center g-b cn-shanghai
center g-c cn-shanghai
feed g-a "$(pool Ascend910B 8 8 5)"
feed g-b "$(pool A100 16 10 10)"
feed g-c "$(pool H800 16 12 20)"
world_ready "split: 3 centers, 30 cards available"
G='"precision":"bf16","hours":1,"origin":"cn-shanghai","dry_run":true'
# Score order: the cost term is price / 5 = 1, 2, 4 (latency equal; balance adds at most
# 0.2 x 1): g-a, g-b, g-c. 24 cards greedily: g-a 8, g-b 10, g-c 6.
# list = 5*8 + 10*10 + 20*6 = 40 + 100 + 120 = 260.
route "{$G,\"cards\":24,\"gang\":false}"
resp 200 "gang=false, 24 cards: pieces g-a/Ascend910B 8, g-b/A100 10, g-c/H800 6; list 260" \
  'pieces == ["g-a/Ascend910B/8", "g-b/A100/10", "g-c/H800/6"] and near(.list_total; 260)'
dec "the record's choice lists the same three pieces" \
  'picks == ["g-a/Ascend910B/8", "g-b/A100/10", "g-c/H800/6"] and ([.candidates[] | select(.verdict == "chosen")] | length) == 3'
route "{$G,\"cards\":30,\"gang\":false}"
resp 200 "gang=false, 30 cards takes all: 8 + 10 + 12" \
  'pieces == ["g-a/Ascend910B/8", "g-b/A100/10", "g-c/H800/12"]'
route "{$G,\"cards\":5,\"gang\":false}"
resp 200 "gang=false, 5 cards fit the best pool whole" 'pieces == ["g-a/Ascend910B/5"]'
route "{$G,\"cards\":12}"
resp 200 "gang defaults to true: 12 cards go whole to the only pool with 12 (g-c)" 'pieces == ["g-c/H800/12"]'
dec "gang: g-a (8) and g-b (10) are insufficient_capacity for 12" \
  'rejected("g-a"; "Ascend910B"; "insufficient_capacity") and rejected("g-b"; "A100"; "insufficient_capacity")'
route "{$G,\"cards\":31,\"gang\":false}"
resp 409 "gang=false, 31 cards with 30 available is a 409" '.status == 409 and (.decision_id | length) > 0'
dec "the short split is recorded with no choice" '.id == "'"$DCID"'" and .chosen == []'

# Nothing fits: 9 domestic cards: g-a (8 < 9) insufficient_capacity, g-b and g-c not_domestic.
route "{$G,\"cards\":9,\"domestic_only\":true}"
resp 409 "nothing fits: 409 with decision_id and the reason counts" \
  '.status == 409 and (.decision_id | startswith("dc_")) and .reasons == {"not_domestic": 2, "insufficient_capacity": 1} and (.title | length) > 0 and (.type | length) > 0 and (.detail | length) > 0'
ok "$(grep -qi '^content-type: *application/problem+json' "$WORK/headers"; echo $?)" \
  "the 409 is application/problem+json"
dec "the unplaceable decision is recorded with every candidate and its reason" \
  '.id == "'"$DCID"'" and .chosen == [] and (.candidates | length) == 3 and rejected("g-a"; "Ascend910B"; "insufficient_capacity") and rejected("g-b"; "A100"; "not_domestic") and rejected("g-c"; "H800"; "not_domestic")'

# Validation: 400 naming the field.
route '{"precision":"bf16","cards":1,"hours":1,"origin":"cn-atlantis"}'
resp 400 "an unknown origin is a 400 at /origin" '.status == 400 and .pointer == "/origin"'
route '{"precision":"fp4","cards":1,"hours":1,"origin":"cn-shanghai"}'
resp 400 "an unknown precision is a 400 at /precision" '.pointer == "/precision"'
route '{"precision":"bf16","cards":1,"pflops":1,"hours":1,"origin":"cn-shanghai"}'
resp 400 "both cards and pflops is a 400 naming one of them" '.pointer == "/cards" or .pointer == "/pflops"'
route '{"precision":"bf16","hours":1,"origin":"cn-shanghai"}'
resp 400 "neither cards nor pflops is a 400 naming one of them" '.pointer == "/cards" or .pointer == "/pflops"'
route '{"precision":"bf16","cards":1,"origin":"cn-shanghai"}'
resp 400 "a missing hours is a 400 at /hours" '.pointer == "/hours"'

# dry_run records the decision and holds nothing.
# fp64 x 6: g-a Ascend910B unsupported; g-b A100 6*10 = 60 vs g-c H800 6*20 = 120: g-b.
center_pool g-b A100 '.available == 10'
ok $? "before: g-b/A100 has 10 available"
F='{"precision":"fp64","cards":6,"hours":1,"origin":"cn-shanghai","dry_run":true}'
route "$F"
resp 200 "dry_run: a quote for g-b/A100 x6" '.state == "quote" and pieces == ["g-b/A100/6"] and .id == null'
dec "dry_run: the decision is recorded" '.id == "'"$DCID"'" and picks == ["g-b/A100/6"]'
center_pool g-b A100 '.available == 10 and .held == 0'
ok $? "dry_run: g-b/A100 still has 10 available, 0 held"
route '{"precision":"fp64","cards":6,"hours":1,"origin":"cn-shanghai"}'
resp 201 "without dry_run the same request holds g-b/A100 x6" '.state == "held" and pieces == ["g-b/A100/6"]'
center_pool g-b A100 '.available == 4 and .held == 6'
ok $? "the hold takes 6: g-b/A100 has 4 available"
# bf16 x 5: g-b has 4 < 5 -> insufficient_capacity; g-a Ascend910B 5*5 = 25 is chosen.
route "{$G,\"cards\":5}"
dec "after the hold g-b/A100 (available 4) is insufficient_capacity for 5; g-a chosen" \
  'rejected("g-b"; "A100"; "insufficient_capacity") and cand("g-b"; "A100").available == 4 and picks == ["g-a/Ascend910B/5"]'

stop_broker
ok $? "brokerd stops with status 0"
done_testing

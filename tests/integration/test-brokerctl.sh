#!/usr/bin/env bash
# brokerctl against the real daemon, driven only through the CLI: an admin
# issues tokens, a tenant, latency and a voucher; an operator registers
# centers and pushes their feeds; a tenant routes (quotes, holds, splits,
# vouchers, filters, weights, PFLOPS, idempotency), explains decisions and
# walks a placement through confirm and release. Exit codes (0/1/2/3/4) are
# checked, and no command but `token` ever prints a token.
. "$(dirname "$0")/lib.sh"

# bc ARGS...: runs brokerctl; sets RC, OUT, ERR (and STATUS/BODY for ok's
# failure report). Every output is kept for the token-leak check at the end
# unless NOLEAK=1 is given (only for `token`, whose job is printing one).
RC=0 OUT="" ERR=""
bc() {
  "$BROKERCTL" "$@" >"$WORK/out" 2>"$WORK/err"
  RC=$?
  OUT=$(cat "$WORK/out")
  ERR=$(cat "$WORK/err")
  STATUS="rc=$RC"
  BODY="stdout: $OUT | stderr: $ERR"
  if [ "${NOLEAK:-0}" != 1 ]; then
    { echo "### brokerctl ${1:-}"; cat "$WORK/out" "$WORK/err"; } >>"$WORK/all-outputs"
  fi
}
# out RE / err RE / any RE: extended regex over stdout, stderr, both.
out() { grep -Eq -- "$1" <<<"$OUT"; }
err() { grep -Eq -- "$1" <<<"$ERR"; }
any() { out "$1" || err "$1"; }
# oj FILTER: jq -e over stdout (for --json).
oj() { printf '%s' "$OUT" | jq -e "$1" >/dev/null 2>&1; }
# check DESCRIPTION CMD...: one TAP line for the status of CMD.
check() {
  local d=$1
  shift
  "$@"
  ok $? "$d"
}
rc_is() { [ "$RC" -eq "$1" ]; }
# field NAME: the value on the "NAME  value" line of a key/value block.
field() { awk -v k="$1" '$1 == k { print $2; exit }' <<<"$OUT"; }
# joined stdout: wrapped prose on one line, runs of blanks squeezed.
joined() { tr '\n' ' ' <<<"$OUT" | tr -s ' '; }

start_broker || { ok 1 "brokerd starts"; done_testing; }
BROKER_URL=$URL
unset SUANWANG_TOKEN

# ---------------------------------------------------------------- admin
export SUANWANG_TOKEN=$ADMIN
bc health
check "health: brokerctl reaches the broker through SUANWANG_URL" eval 'rc_is 0 && out "^status +ok"'

bc tenant acme "Acme AI"
check "tenant: creates tenant acme with its name" eval 'rc_is 0 && out "^id +acme$" && out "^name +Acme AI$"'
bc tenant acme
check "tenant: creating acme again is a server error (exit 1, 409)" eval 'rc_is 1 && err "409"'

NOLEAK=1 bc token operator op1
OP=$OUT
check "token operator op1: stdout is exactly the token (one line, nothing on stderr)" \
  eval 'rc_is 0 && [ -n "$OP" ] && [ "$(wc -l <"$WORK/out")" -eq 1 ] && [ "$(cat "$WORK/out")" = "$OP" ] && [[ "$OP" =~ ^[A-Za-z0-9_.~+/=-]+$ ]] && [ -z "$ERR" ]'
NOLEAK=1 bc --token "$ADMIN" token tenant acme
TEN=$OUT
check "token tenant acme (admin token from --token): stdout is exactly the token" \
  eval 'rc_is 0 && [ -n "$TEN" ] && [ "$TEN" != "$OP" ] && [ "$(wc -l <"$WORK/out")" -eq 1 ] && [[ "$TEN" =~ ^[A-Za-z0-9_.~+/=-]+$ ]] && [ -z "$ERR" ]'

bc regions
check "regions: lists cn-shanghai (Shanghai) and cn-beijing" \
  eval 'rc_is 0 && out "^cn-shanghai +Shanghai" && out "^cn-beijing +Beijing"'

bc set-latency cn-shanghai cn-beijing 28 --source measured
check "set-latency cn-shanghai cn-beijing 28 --source measured" eval 'rc_is 0 && out "28\.0 +measured"'
bc latency
check "latency: the matrix shows the measured 28 ms pair and the shipped Shanghai-Wuhu 4 ms" \
  eval 'rc_is 0 && out "^cn-beijing +cn-shanghai +28\.0 +measured" && out "^cn-shanghai +cn-wuhu +4\.0 "'

cat >"$WORK/voucher.json" <<'EOF'
{"id":"SH-2026-0001","issuer":"shanghai-eitc","tenant":"acme","rate":0.10,"amount":50000,
 "valid_until":"2099-01-01T00:00:00Z","eligible":{"regions":["cn-shanghai"],"centers":[],"domestic_only":false}}
EOF
bc voucher-issue "$WORK/voucher.json"
check "voucher-issue FILE: the voucher with rate 10% and 50,000 balance" \
  eval 'rc_is 0 && out "^id +SH-2026-0001$" && out "^rate +10%" && out "^balance +50,000\.00"'

bc adapters
check "adapters: lists native (push and pull)" eval 'rc_is 0 && out "^native +push"'

# ---------------------------------------------------------------- operator
export SUANWANG_TOKEN=$OP
center_doc sh-1 cn-shanghai active '{"residency":"shanghai"}' >"$WORK/sh-1.json"
center_doc bj-1 cn-beijing >"$WORK/bj-1.json"
center_doc wh-1 cn-wuhu >"$WORK/wh-1.json"
feed_doc sh-1 H800:256:128:28.5 A100:64:64:9.8 >"$WORK/sh-1.feed"
feed_doc bj-1 Ascend910B:512:400:8.0 >"$WORK/bj-1.feed"
feed_doc wh-1 H100:32:32:20.0 >"$WORK/wh-1.feed"

bc register "$WORK/sh-1.json"
check "register FILE (token from SUANWANG_TOKEN): sh-1 in cn-shanghai" \
  eval 'rc_is 0 && out "^id +sh-1$" && out "^region +cn-shanghai$" && out "residency=shanghai"'
SUANWANG_TOKEN="" bc --token "$OP" register "$WORK/bj-1.json"
check "register FILE (token from --token): bj-1" eval 'rc_is 0 && out "^id +bj-1$"'
bc register - <"$WORK/wh-1.json"
check "register - (stdin): wh-1" eval 'rc_is 0 && out "^id +wh-1$"'

bc push sh-1 "$WORK/sh-1.feed"
check "push sh-1 FILE: 2 pools" eval 'rc_is 0 && out "^center +sh-1$" && out "^pools +2$"'
bc push bj-1 "$WORK/bj-1.feed" --token "$OP"
check "push bj-1 FILE (--token after the command): 1 pool" eval 'rc_is 0 && out "^pools +1$"'
bc push wh-1 - <"$WORK/wh-1.feed"
check "push wh-1 - (stdin): 1 pool" eval 'rc_is 0 && out "^pools +1$"'

bc centers
check "centers: sh-1 row has region, status active, 2 pools, 192/320 cards" \
  eval 'rc_is 0 && out "^sh-1 +sh-1 center +op1 +cn-shanghai +active +2 +192/320( |$)"'
check "centers: bj-1 400/512 and wh-1 32/32" \
  eval 'out "^bj-1 +.* +cn-beijing +active +1 +400/512( |$)" && out "^wh-1 +.* +cn-wuhu +active +1 +32/32( |$)"'

bc center sh-1
check "center sh-1: fields and labels" \
  eval 'rc_is 0 && out "^id +sh-1$" && out "^region +cn-shanghai$" && out "^status +active$" && out "^labels +residency=shanghai$" && out "^stale +no$"'
check "center sh-1: pools table has H800 256 total/128 free at 28.50 and A100 64/64 at 9.80" \
  eval 'out "^H800 +NVIDIA +no +256 +128 +0 +128 +128 +28\.50 " && out "^A100 +NVIDIA +no +64 +64 +0 +64 +64 +9\.80 "'
check "center sh-1: feed health says the native push feed is ok with a last success time" \
  eval 'out "^FEEDS$" && out "^0 +native +push +.* ok +20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T"'
bc --json center sh-1
check "center sh-1 --json: pools and feed health as JSON" \
  eval 'rc_is 0 && oj "(.pools | map(.model) | sort) == [\"A100\",\"H800\"] and .feeds[0].last_success != null and .feeds[0].last_error == null"'

bc pools
check "pools: every pool of every center with available/total and price" \
  eval 'rc_is 0 && out "^bj-1 +cn-beijing +Ascend910B +400/512 +8\.00 " && out "^sh-1 +cn-shanghai +H800 +128/256 +28\.50 " && out "^sh-1 +cn-shanghai +A100 +64/64 +9\.80 " && out "^wh-1 +cn-wuhu +H100 +32/32 +20\.00 "'

# update and delete on a scratch center
printf '{"id":"tmp-1","name":"tmp","operator":"op1","region":"cn-wuhu","status":"active","labels":{},"staleness_s":600,"feeds":[{"adapter":"native","mode":"push"}]}' >"$WORK/tmp.json"
printf '{"id":"tmp-1","name":"tmp renamed","operator":"op1","region":"cn-wuhu","status":"draining","labels":{"grade":"dengbao3"},"staleness_s":600,"feeds":[{"adapter":"native","mode":"push"}]}' >"$WORK/tmp2.json"
bc register "$WORK/tmp.json"
check "register tmp-1" rc_is 0
bc update tmp-1 "$WORK/tmp2.json"
check "update ID FILE: name, status and labels replaced" \
  eval 'rc_is 0 && out "^name +tmp renamed$" && out "^status +draining$" && out "^labels +grade=dengbao3$"'
bc centers
check "centers shows tmp-1 draining" eval 'rc_is 0 && out "^tmp-1 +tmp renamed +op1 +cn-wuhu +draining "'
bc delete tmp-1
check "delete ID" rc_is 0
bc center tmp-1
check "center of a deleted center: exit 1 with 404" eval 'rc_is 1 && err "404"'

# ---------------------------------------------------------------- tenant
export SUANWANG_TOKEN=$TEN
R=(--precision bf16 --origin cn-shanghai)

bc route "${R[@]}" --cards 64 --hours 72 --weights cost=1
DC_COST=$(field decision)
check "route (dry run by default): prints quote, the cheapest center bj-1 and an explain hint" \
  eval 'rc_is 0 && out "^state +quote" && out "^bj-1 +Ascend910B +cn-beijing +64 +8\.00 +28\.0$" && out "^list total +36,864\.00 +CNY" && out "^explain: brokerctl explain dc_" && [[ "$DC_COST" == dc_* ]]'
bc route "${R[@]}" --cards 64 --hours 72 --weights cost=1 --dry-run
check "route --dry-run: the same quote" eval 'rc_is 0 && out "^state +quote" && out "^bj-1 +Ascend910B "'

bc route "${R[@]}" --cards 64 --hours 72 --weights latency=1 --json
check "route --json: jq parses it, state quote; --weights latency=1 picks Shanghai (rtt 1, A100 45158.4)" \
  eval 'rc_is 0 && oj ".state == \"quote\" and .pieces[0].center == \"sh-1\" and .pieces[0].model == \"A100\" and .pieces[0].rtt_ms == 1 and .list_total == 45158.4 and (.decision_id | startswith(\"dc_\"))"'

# explain: 16 cards for 10 h from Shanghai within 10 ms. sh-1/A100 (1568 CNY) wins,
# wh-1/H100 (4 ms, 3200 CNY) is the runner-up, sh-1/H800 is eligible, bj-1 (28 ms) is too far.
bc route "${R[@]}" --cards 16 --hours 10 --max-latency-ms 10
DC_LAT=$(field decision)
check "route --max-latency-ms 10: sh-1/A100 for 1,568.00" \
  eval 'rc_is 0 && out "^sh-1 +A100 +cn-shanghai +16 +9\.80 +1\.0$" && out "^list total +1,568\.00 " && [[ "$DC_LAT" == dc_* ]]'
bc explain "$DC_LAT"
check "explain: a table with every candidate (4 pools)" \
  eval 'rc_is 0 && out "^\*? +sh-1 +A100 " && out "^\*? +sh-1 +H800 " && out "^\*? +bj-1 +Ascend910B " && out "^\*? +wh-1 +H100 "'
check "explain: the chosen one (only it) is marked with *" \
  eval 'out "^\* +sh-1 +A100 +cn-shanghai +chosen +16 " && [ "$(grep -c "^\*  " <<<"$OUT")" -eq 1 ]'
check "explain: the far center is rejected with latency_exceeds" \
  eval 'out "^ +bj-1 +Ascend910B +cn-beijing +latency_exceeds " && out "^ +wh-1 +H100 +cn-wuhu +eligible " && out "^ +sh-1 +H800 +cn-shanghai +eligible "'
check "explain: says why the runner-up (wh-1/H100) lost" \
  eval 'joined | grep -Eq "(Runner-up|lost)" && joined | grep -Eq "(Runner-up wh-1/H100|wh-1/H100 [^.]*lost)"'
bc --json explain "$DC_LAT"
check "explain --json: the decision record with its candidates" \
  eval 'rc_is 0 && oj ".id == \"$DC_LAT\" and (.candidates | length) == 4 and ([.candidates[] | select(.reason == \"latency_exceeds\")] | .[0].center) == \"bj-1\""'

bc route "${R[@]}" --cards 64 --hours 72 --weights cost=1 --region-deny cn-beijing
DC_DENY=$(field decision)
check "route --region-deny cn-beijing: the cheapest is now sh-1/A100 (45,158.40)" \
  eval 'rc_is 0 && out "^sh-1 +A100 +cn-shanghai +64 " && ! out "^bj-1 " && out "^list total +45,158\.40 "'
bc explain "$DC_DENY"
check "explain: the denied region is region_excluded" eval 'rc_is 0 && out "^ +bj-1 +Ascend910B +cn-beijing +region_excluded "'

bc route "${R[@]}" --cards 8 --hours 10 --weights cost=1 --label residency=shanghai --json
DC_LABEL=$(printf '%s' "$OUT" | jq -r .decision_id 2>/dev/null)
check "route --label residency=shanghai: only sh-1 matches (A100, 784)" \
  eval 'rc_is 0 && oj ".pieces[0].center == \"sh-1\" and .pieces[0].model == \"A100\" and .list_total == 784"'
bc --json explain "$DC_LABEL"
check "explain: centers without the label are label_mismatch" \
  eval 'rc_is 0 && oj "[.candidates[] | select(.reason == \"label_mismatch\") | .center] | sort == [\"bj-1\",\"wh-1\"]"'

bc route "${R[@]}" --pflops 2 --hours 10 --weights cost=1 --label residency=shanghai --json
check "route --pflops 2: A100 (312 TFLOPS bf16) needs 7 cards, 686 CNY; cheaper than 3 H800" \
  eval 'rc_is 0 && oj ".pieces[0].model == \"A100\" and .pieces[0].cards == 7 and .list_total == 686"'

bc route "${R[@]}" --cards 600 --hours 1 --split --json
check "route --split 600 cards: several pieces summing to 600, each within its pool" \
  eval 'rc_is 0 && oj ".state == \"quote\" and (.pieces | length) >= 2 and ([.pieces[].cards] | add) == 600 and all(.pieces[]; (.center == \"bj-1\" and .cards <= 400) or (.model == \"H800\" and .cards <= 128) or (.model == \"A100\" and .cards <= 64) or (.model == \"H100\" and .cards <= 32))"'
bc route "${R[@]}" --cards 700 --hours 1 --split
check "route --split 700 (624 exist): exit 4 with a decision id" eval 'rc_is 4 && any "dc_[0-9a-f]+"'
check "route --split no-fit: the explanation does not claim that no pools are registered" \
  eval '! any "no pools are registered"'

bc vouchers
check "vouchers: SH-2026-0001 with rate and balance" \
  eval 'rc_is 0 && out "^SH-2026-0001 +shanghai-eitc +acme +10% +50,000\.00 +50,000\.00 "'
bc route "${R[@]}" --cards 10 --hours 10 --weights cost=1 --label residency=shanghai --voucher SH-2026-0001
check "route --voucher: 980 list, 98.00 subsidy, 882.00 effective" \
  eval 'rc_is 0 && out "^list total +980\.00 " && out "^subsidy +98\.00 " && out "^effective total +882\.00 " && out "^voucher +SH-2026-0001$"'
bc hold "${R[@]}" --cards 10 --hours 10 --weights cost=1 --label residency=shanghai --voucher SH-2026-0001
VPL=$(field placement)
check "hold with the voucher: held, subsidy 98.00" eval 'rc_is 0 && out "^state +held" && out "^subsidy +98\.00 " && [[ "$VPL" == pl_* ]]'
bc confirm "$VPL"
check "confirm the voucher placement" eval 'rc_is 0 && out "^state +confirmed"'
bc voucher SH-2026-0001
check "voucher: the confirm drew 98 from the balance (49,902.00)" eval 'rc_is 0 && out "^balance +49,902\.00"'
check "voucher: its ledger shows the 98.00 draw (SPEC 3, 4: GET /v1/vouchers/{id} with ledger)" \
  eval 'out "^LEDGER$" && sed -n "/^LEDGER$/,\$p" <<<"$OUT" | grep -Eq "(^| )-?98(\.00?)?( |$)"'
bc release "$VPL"
check "release the confirmed voucher placement" eval 'rc_is 0 && out "^state +released"'
bc --json voucher SH-2026-0001
check "voucher after release: unused hours refunded pro rata (balance back to ~50,000), ledger has 2 movements" \
  eval 'rc_is 0 && oj ".balance > 49990 and .balance <= 50000 and (.ledger | length) >= 2"'

# nothing fits
bc route "${R[@]}" --cards 5000 --hours 1
DC_NOFIT=$(grep -Eo 'dc_[0-9a-f]+' <<<"$OUT$ERR" | head -1)
check "route for 5000 cards: exit 4, nothing fits, the reasons and a decision id" \
  eval 'rc_is 4 && any "nothing fits|Nothing fits" && any "insufficient_capacity" && [ -n "$DC_NOFIT" ]'
bc explain "$DC_NOFIT"
check "explain the no-fit decision: every candidate insufficient_capacity" \
  eval 'rc_is 0 && [ "$(grep -Ec "^ +[a-z0-9-]+ +[A-Za-z0-9]+ +cn-[a-z]+ +insufficient_capacity " <<<"$OUT")" -eq 4 ]'
bc route "${R[@]}" --cards 8 --hours 1 --label residency=beijing
check "route with a label nobody has: exit 4 with label_mismatch" eval 'rc_is 4 && any "label_mismatch"'

# hold -> placements -> confirm -> release
bc hold "${R[@]}" --cards 100 --hours 10 --max-latency-ms 2 --hold-seconds 600
PL=$(field placement)
check "hold: sh-1/H800 x100 held (28,500.00)" \
  eval 'rc_is 0 && out "^state +held" && out "^sh-1 +H800 .* 100 +28\.50 " && out "^list total +28,500\.00 " && [[ "$PL" == pl_* ]]'
bc center sh-1
check "center sh-1: the hold shows as 100 held, 28 available" eval 'rc_is 0 && out "^H800 +NVIDIA +no +256 +128 +100 +28 "'
bc placements
check "placements lists the hold" eval "rc_is 0 && out '^$PL +held +acme +sh-1/H800'"
bc placement "$PL"
check "placement ID: held, 10 h, bf16" eval "rc_is 0 && out '^placement +$PL\$' && out '^state +held' && out '^hours +10\$' && out '^precision +bf16\$'"
bc confirm "$PL"
check "confirm ID: confirmed" eval 'rc_is 0 && out "^state +confirmed"'
bc release "$PL"
check "release ID: released" eval 'rc_is 0 && out "^state +released"'
bc center sh-1
check "center sh-1: released cards are available again (128)" eval 'rc_is 0 && out "^H800 +NVIDIA +no +256 +128 +0 +128 "'
bc confirm "$PL"
check "confirm a released placement: exit 1 (409)" eval 'rc_is 1 && err "409"'

bc route "${R[@]}" --cards 4 --hours 1 --hold --json
RPL=$(printf '%s' "$OUT" | jq -r .id 2>/dev/null)
check "route --hold --json: a held placement" eval 'rc_is 0 && oj ".state == \"held\" and (.id | startswith(\"pl_\")) and .pieces[0].cards == 4"'
bc release "$RPL"
check "release the route --hold placement" eval 'rc_is 0 && out "^state +released"'

bc hold "${R[@]}" --cards 2 --hours 1 --idempotency-key idem-42 --json
ID1=$(printf '%s' "$OUT" | jq -r .id 2>/dev/null)
bc hold "${R[@]}" --cards 2 --hours 1 --idempotency-key idem-42 --json
ID2=$(printf '%s' "$OUT" | jq -r .id 2>/dev/null)
bc hold "${R[@]}" --cards 2 --hours 1 --json
ID3=$(printf '%s' "$OUT" | jq -r .id 2>/dev/null)
check "--idempotency-key twice gives the same placement; without it a new one" \
  eval '[[ "$ID1" == pl_* ]] && [ "$ID1" = "$ID2" ] && [[ "$ID3" == pl_* ]] && [ "$ID3" != "$ID1" ]'

bc route "${R[@]}" --cards 3 --hours 1
DC_LAST=$(field decision)
bc decisions --limit 5
check "decisions --limit 5: exactly 5 rows, newest (the last route) first" \
  eval 'rc_is 0 && [ "$(grep -c "^dc_" <<<"$OUT")" -eq 5 ] && [ "$(grep "^dc_" <<<"$OUT" | head -1 | awk "{print \$1}")" = "$DC_LAST" ]'

# ---------------------------------------------------------------- exit codes
bc frobnicate
check "unknown command: exit 2" rc_is 2
bc route --cards 4 --hours 1 --origin cn-shanghai
check "route without --precision: exit 2" eval 'rc_is 2 && err "precision"'
bc route --precision bf16 --cards abc --hours 1 --origin cn-shanghai
check "route --cards abc: exit 2" eval 'rc_is 2 && err "cards"'
bc --url http://127.0.0.1:1 centers
check "--url http://127.0.0.1:1: exit 3 (unreachable)" rc_is 3
SUANWANG_URL=http://127.0.0.1:1 bc pools
check "SUANWANG_URL unreachable: exit 3" rc_is 3
SUANWANG_URL=http://127.0.0.1:1 bc --url "$BROKER_URL" pools
check "--url wins over SUANWANG_URL" eval 'rc_is 0 && out "^sh-1 +cn-shanghai +H800 "'
bc center nope
check "center nope: exit 1 with the 404" eval 'rc_is 1 && err "404"'
bc register "$WORK/sh-1.json"
check "a tenant running register: exit 1 (403)" eval 'rc_is 1 && err "403"'
SUANWANG_TOKEN="" bc centers
check "no token: exit 1 (401)" eval 'rc_is 1 && err "401"'
BOGUS="sw_bogus_token_$$_abcdef0123456789"
bc --token "$BOGUS" centers
check "a wrong token: exit 1 (401)" eval 'rc_is 1 && err "401"'
bc --url http://127.0.0.1:1 --token "$TEN" placements
check "unreachable with a token: exit 3" rc_is 3

# ---------------------------------------------------------------- token leaks
leak=0
for t in "$ADMIN" "$OP" "$TEN" "$BOGUS"; do
  grep -Fq -- "$t" "$WORK/all-outputs" && { leak=1; echo "# token printed: ${t:0:8}…"; }
done
STATUS="" BODY=""
ok $leak "no command but token prints a token ($(grep -c '^### ' "$WORK/all-outputs") outputs checked)"

stop_broker
ok $? "clean stop"
done_testing

#!/usr/bin/env bash
# The slurm adapter against a real Slurm 22.05 cluster (slurm-lab.sh: munged,
# slurmctld, slurmd for a100-01, a100-02 with gpu:a100:8 and h100-01 with
# gpu:h100:8, slurmrestd with JWT auth, all on 127.0.0.1). A center pulls
# http://127.0.0.1:PORT/slurm/{version}/nodes every second: the {version}
# probe falls from v0.0.44 to v0.0.38 (22.05 answers 404 above) and stays
# there; a job, a drain, routing on what is left, the recovery; a bad token on
# a second center shows the HTTP error and leaves the first alone; when the
# cluster goes away the center keeps its last snapshot. Skips without Slurm.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live.sh"

missing=""
for c in slurmctld slurmd slurmrestd sbatch munged; do
  command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
jwt=no
for f in /usr/lib/*/slurm-wlm/auth_jwt.so /usr/lib/slurm*/auth_jwt.so /usr/lib*/slurm/auth_jwt.so; do
  [ -e "$f" ] && jwt=yes
done
[ -n "$missing" ] || [ $jwt = yes ] || missing=" auth_jwt.so (slurm-wlm-jwt-plugin)"
if [ -n "$missing" ]; then
  echo "ok 1 - # SKIP slurm packages not installed (missing:$missing; tools/deps.sh --test installs them)"
  echo "1..1"
  exit 0
fi

LAB_SH="$(cd "$(dirname "$0")" && pwd)/slurm-lab.sh"
# Not under $WORK (0700): slurmrestd runs as an unprivileged user and must reach its config.
LAB=$(mktemp -d "${TMPDIR:-/tmp}/suanwang-slurm.XXXXXX")
chmod 755 "$LAB"
lab_down() { bash "$LAB_SH" down "$LAB" >>"$WORK/lab-down.out" 2>&1; }
trap 'lab_down; cleanup; rm -rf "$LAB"' EXIT
trap 'exit 143' TERM INT

# Every wait ends by its own deadline, and all of them by the test's budget,
# so the test ends well inside meson's 180 s even when everything fails.
WAIT_S=${SLURM_LIVE_WAIT_S:-30}
BUDGET_END=$(($(date +%s) + ${SLURM_LIVE_BUDGET_S:-150}))

LOGS_SHOWN=0
show_logs() { # the tails of the Slurm and broker logs as TAP comments, once
  [ "$LOGS_SHOWN" = 0 ] || return 0
  LOGS_SHOWN=1
  bash "$LAB_SH" logs "$LAB" 12 2>&1 | sed 's/^/# /'
  echo "# == brokerd.log"
  tail -n 20 "$WORK/brokerd.log" 2>/dev/null | sed 's/^/# /'
}

center() { # ID TOKEN: a center in cn-guiyang pulling the lab's nodes every second
  printf '{"id":"%s","name":"Slurm lab %s","operator":"op1","region":"cn-guiyang","staleness_s":600,"feeds":[{"adapter":"slurm","url":"%s/slurm/{version}/nodes","interval_s":1,"auth":{"slurm_user":"%s","slurm_token":"%s"},"options":{"price_per_card_hour":{"A100":9.8,"H100":26}}}]}' \
    "$1" "$1" "$REST_URL" "$REST_USER" "$2"
}
# requests per path in slurmrestd's log ("operations_router: [...] GET /slurm/v0.0.38/nodes")
rest_gets() { grep -c "GET /slurm/$1/nodes\$" "$LAB/log/slurmrestd.log" 2>/dev/null; }
s() { timeout -k 2 20 "$@"; } # a Slurm client command, bounded

# --- the cluster --------------------------------------------------------------
if ! timeout -k 5 90 bash "$LAB_SH" up "$LAB" >"$WORK/lab-up.out" 2>&1; then
  sed 's/^/# /' "$WORK/lab-up.out"
  bail "slurm-lab.sh up starts the cluster"
fi
. "$LAB/lab.env"
export SLURM_CONF
check 0 "slurm-lab.sh up: munged, slurmctld, $(echo $NODES | wc -w) slurmd and slurmrestd at $REST_URL ($(tail -n 1 "$WORK/lab-up.out"))"

JWT=$(bash "$LAB_SH" token "$LAB" "$REST_USER" 3600 2>"$WORK/token.err")
[[ $JWT =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]] ||
  bail "scontrol token mints a JWT for $REST_USER: $(head -c 200 "$WORK/token.err")"
check 0 "scontrol token mints a JWT for $REST_USER"

rest() { # VERSION [TOKEN]: prints the HTTP status of GET /slurm/VERSION/nodes
  curl -s -o "$WORK/rest.json" -w '%{http_code}' --max-time 10 \
    -H "X-SLURM-USER-NAME: $REST_USER" -H "X-SLURM-USER-TOKEN: ${2:-$JWT}" "$REST_URL/slurm/$1/nodes"
}
good=0
codes=""
for v in v0.0.44 v0.0.43 v0.0.42 v0.0.41 v0.0.40 v0.0.39; do
  c=$(rest $v)
  codes="$codes $v:$c"
  [ "$c" = 404 ] || good=1
done
c=$(rest v0.0.38)
codes="$codes v0.0.38:$c"
[ "$c" = 200 ] && jq -e '(.nodes | length) == 3' "$WORK/rest.json" >/dev/null 2>&1 || good=1
STATUS=$codes BODY=""
check $good "slurmrestd 22.05 answers 404 for v0.0.44..v0.0.39 and 200 with 3 nodes for v0.0.38"

# --- the broker and the center -------------------------------------------------
start_broker || bail "brokerd starts"
VERSIONS="v0.0.44 v0.0.43 v0.0.42 v0.0.41 v0.0.40 v0.0.39 v0.0.38"
declare -A GETS0 # requests per version before the center exists
for v in $VERSIONS; do GETS0[$v]=$(rest_gets $v); done
expect POST /v1/centers "$(center slurm-gy "$JWT")" "$ADMIN" 201 \
  "a center pulling $REST_URL/slurm/{version}/nodes every second registers"
[ "$STATUS" = 201 ] || bail "the slurm center is registered"

wait_center slurm-gy 'counts("A100"; 16; 16; 8) and counts("H100"; 8; 8; 8)
  and .feeds[0].last_success != null and .feeds[0].last_error == null'
check $? "first poll: A100 total 16 free 16 and H100 total 8 free 8, largest_block 8, feed healthy"
jx 'near(pool("A100").price_per_card_hour; 9.8) and near(pool("H100").price_per_card_hour; 26)
  and pool("A100").currency == "CNY" and (.pools | length) == 2'
check $? "prices from the options: A100 9.8, H100 26 CNY per card-hour; no other pools"
jx '.feeds[0].auth == ["slurm_user", "slurm_token"]' && ! grep -qF "$JWT" "$WORK/brokerd.log" &&
  ! printf '%s' "$BODY" | grep -qF "$JWT"
check $? "the JWT is neither in GET /v1/centers/slurm-gy (auth lists the key names) nor in brokerd.log"

# The probe: one request for each of v0.0.44..v0.0.39, then v0.0.38 on every poll.
end=$(deadline "$WAIT_S")
until [ "$(rest_gets v0.0.38)" -ge $((${GETS0[v0.0.38]} + 4)) ] || [ "$(date +%s)" -ge "$end" ]; do sleep 0.2; done
good=0
seen=""
for v in $VERSIONS; do
  n=$(($(rest_gets $v) - ${GETS0[$v]}))
  seen="$seen $v:$n"
  if [ $v = v0.0.38 ]; then [ $n -ge 4 ] || good=1; else [ $n = 1 ] || good=1; fi
done
STATUS="requests per version:$seen" BODY=""
check $good "the {version} probe tried v0.0.44..v0.0.39 once each and settled on v0.0.38 ($seen )"
req GET /v1/centers/slurm-gy "" "$ADMIN"
jx '.feeds[0].last_error == null and .feeds[0].age_s < 10'
check $? "the feed stays healthy and fresh on v0.0.38 (age $(jqv .feeds[0].age_s) s)"

# --- a job: 3 A100 on a100-01 --------------------------------------------------
JOB=$(s sbatch --parsable --chdir="$LAB/jobs" --output="$LAB/jobs/%j.out" -t 10 \
  -w a100-01 --gres=gpu:a100:3 --wrap 'sleep 300' 2>"$WORK/sbatch.err")
JOB=${JOB%%;*}
STATUS="sbatch: $JOB $(head -c 300 "$WORK/sbatch.err")" BODY=""
[[ $JOB =~ ^[0-9]+$ ]] || bail "sbatch --gres=gpu:a100:3 -w a100-01 submits a job"
check 0 "sbatch --gres=gpu:a100:3 -w a100-01 submits job $JOB"
wait_center slurm-gy 'counts("A100"; 16; 13; 8) and counts("H100"; 8; 8; 8)'
check $? "job running: A100 free 16 -> 13, largest_block stays 8 (a100-02 is idle), H100 untouched"
STATUS=$(s squeue -h -j "$JOB" -o '%T %N' 2>&1) BODY=""
[ "$STATUS" = "RUNNING a100-01" ]
check $? "squeue agrees: job $JOB RUNNING on a100-01"

# --- a drain: a100-02 -----------------------------------------------------------
STATUS=$(s scontrol update nodename=a100-02 state=drain reason=suanwang-test 2>&1) BODY=""
check $? "scontrol drains a100-02"
wait_center slurm-gy 'counts("A100"; 16; 5; 5) and counts("H100"; 8; 8; 8)'
check $? "a100-02 drained: A100 free 5, largest_block 5 (only a100-01's 5), total still 16"

# --- routing on what is left ------------------------------------------------------
TEN=$(token tenant acme)
B='"precision":"bf16","hours":1,"origin":"cn-guiyang","dry_run":true'
req POST /v1/placements "{$B,\"cards\":6,\"max_price_per_card_hour\":12}" "$TEN"
DEC=$(jqv .decision_id)
[ "$STATUS" = 409 ] && jx '.reasons.insufficient_capacity >= 1 and .decision_id != null'
check $? "6 A100 bf16 (price cap 12 leaves H100 out) -> 409 insufficient_capacity"
req GET "/v1/decisions/$DEC" "" "$TEN"
jx 'cand("slurm-gy"; "A100") | .verdict == "rejected" and .reason == "insufficient_capacity" and .available == 5'
check $? "the decision: slurm-gy/A100 rejected insufficient_capacity, available 5"
req POST /v1/placements "{$B,\"cards\":5,\"max_price_per_card_hour\":12}" "$TEN"
[ "$STATUS" = 200 ] && jx '.state == "quote" and pieces == ["slurm-gy/A100/5"] and near(.list_total; 49)'
check $? "5 A100 bf16 -> a quote for slurm-gy/A100 x5, list 49"
req POST /v1/placements "{$B,\"cards\":6}" "$TEN"
[ "$STATUS" = 200 ] && jx '.state == "quote" and pieces == ["slurm-gy/H100/6"]'
check $? "6 cards without the price cap -> a quote for slurm-gy/H100 x6 (8 free)"

# --- recovery -------------------------------------------------------------------------
STATUS=$({ s scancel "$JOB" && s scontrol update nodename=a100-02 state=resume; } 2>&1) BODY=""
check $? "scancel $JOB and scontrol resume a100-02"
wait_center slurm-gy 'counts("A100"; 16; 16; 8) and counts("H100"; 8; 8; 8)'
check $? "back to A100 free 16, largest_block 8"

# --- a wrong token on a second center ----------------------------------------------
expect POST /v1/centers "$(center slurm-badtoken garbage-not-a-jwt)" "$ADMIN" 201 \
  "a second center with slurm_token garbage registers"
wait_center slurm-badtoken '.feeds[0].last_error != null'
check $? "its feed records an error: $(jqv .feeds[0].last_error | head -c 160)"
jx '(.feeds[0].last_error | test("HTTP (401|500)")) and .feeds[0].last_success == null and (.pools | length) == 0'
check $? "the error names the HTTP status (slurmrestd: 500 for a bad token), no pools, never a success"
req GET /v1/centers/slurm-gy "" "$ADMIN"
jx 'counts("A100"; 16; 16; 8) and counts("H100"; 8; 8; 8) and .feeds[0].last_error == null and .feeds[0].age_s < 10'
check $? "the first center is unaffected: healthy, fresh, 16 A100 and 8 H100 free"

# --- the cluster goes away -------------------------------------------------------------
PIDS=$(cat "$LAB"/run/*.pid 2>/dev/null | tr '\n' ' ')
timeout -k 5 60 bash "$LAB_SH" down "$LAB" >"$WORK/lab-down.out" 2>&1
rc=$?
left=""
for p in $PIDS; do
  st=$(ps -o stat= -p "$p" 2>/dev/null) && [[ $st != Z* ]] && left="$left $p"
done
STATUS="rc=$rc left:$left" BODY=$(cat "$WORK/lab-down.out")
[ $rc = 0 ] && [ -z "$left" ]
check $? "slurm-lab.sh down stops all $(echo $PIDS | wc -w) daemons"
wait_center slurm-gy '.feeds[0].last_error != null and counts("A100"; 16; 16; 8)'
check $? "without slurmrestd the feed shows an error ($(jqv .feeds[0].last_error | head -c 100)) and keeps its last snapshot"

stop_broker
check $? "SIGTERM stops brokerd with status 0"
done_testing

# lib.sh — shared helpers for the integration tests (sourced, bash).
#
# Each test starts the real brokerd on 127.0.0.1 (port 0, reported through
# --port-file) with a fresh SQLite file in a temp dir and talks HTTP/2 to it
# with curl --http2-prior-knowledge and brokerctl. Output is TAP.
# Needs: BROKERD and BROKERCTL in the environment (meson passes them).

set -u

: "${BROKERD:?BROKERD must name the brokerd binary}"
: "${BROKERCTL:?BROKERCTL must name the brokerctl binary}"

T_COUNT=0
T_FAILED=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/suanwang-test.XXXXXX")
DB="$WORK/broker.db"
ADMIN="test-admin-token-$$-0123456789"
BROKER_PID=""
URL=""
STATUS=""
BODY=""

cleanup() {
  if [ -n "$BROKER_PID" ] && kill -0 "$BROKER_PID" 2>/dev/null; then
    kill -KILL "$BROKER_PID" 2>/dev/null
    wait "$BROKER_PID" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

ok() { # cond-status description
  T_COUNT=$((T_COUNT + 1))
  if [ "$1" -eq 0 ]; then
    echo "ok $T_COUNT - $2"
  else
    T_FAILED=$((T_FAILED + 1))
    echo "not ok $T_COUNT - $2"
    echo "# status=$STATUS body=$(printf '%s' "$BODY" | head -c 600)"
  fi
}

done_testing() {
  if [ -n "$BROKER_PID" ] && kill -0 "$BROKER_PID" 2>/dev/null; then
    stop_broker
  fi
  ! grep -qE 'runtime error|AddressSanitizer|LeakSanitizer' "$WORK/brokerd.log" 2>/dev/null
  ok $? "brokerd logged no sanitizer report"
  echo "1..$T_COUNT"
  [ "$T_FAILED" -eq 0 ] || echo "# $T_FAILED of $T_COUNT failed"
  [ "$T_FAILED" -eq 0 ]
  exit $?
}

# start_broker [extra brokerd args...]: starts on the test's database, waits for the port.
start_broker() {
  rm -f "$WORK/port"
  SUANWANG_ADMIN_TOKEN="$ADMIN" "$BROKERD" --listen 127.0.0.1:0 --db "$DB" \
    --port-file "$WORK/port" "$@" >>"$WORK/brokerd.log" 2>&1 &
  BROKER_PID=$!
  for _ in $(seq 1 200); do
    [ -s "$WORK/port" ] && break
    if ! kill -0 "$BROKER_PID" 2>/dev/null; then
      echo "# brokerd exited early:"; sed 's/^/# /' "$WORK/brokerd.log"; return 1
    fi
    sleep 0.05
  done
  URL="http://127.0.0.1:$(cat "$WORK/port")"
  export SUANWANG_URL="$URL"
}

# stop_broker: SIGTERM, and the exit status must be 0.
stop_broker() {
  kill -TERM "$BROKER_PID"
  wait "$BROKER_PID"
  local rc=$?
  BROKER_PID=""
  return $rc
}

kill9_broker() {
  kill -KILL "$BROKER_PID"
  wait "$BROKER_PID" 2>/dev/null
  BROKER_PID=""
}

# req METHOD PATH [BODY] [TOKEN] [extra curl args...]: sets STATUS and BODY.
req() {
  local method=$1 path=$2 body=${3:-} token=${4:-}
  shift $(($# < 4 ? $# : 4))
  local args=(-s -S --http2-prior-knowledge -X "$method" -o "$WORK/body" -w '%{http_code}'
              --max-time 20)
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  if [ -n "$body" ]; then
    if [ "${body:0:1}" = "@" ]; then
      args+=(-H 'Content-Type: application/json' --data-binary "$body")
    else
      args+=(-H 'Content-Type: application/json' --data-binary "$body")
    fi
  fi
  STATUS=$(curl "${args[@]}" "$@" "$URL$path" 2>"$WORK/curl.err") || STATUS="curl-failed"
  BODY=$(cat "$WORK/body" 2>/dev/null)
}

# jqt FILTER: true when FILTER over BODY gives true.
jqt() {
  printf '%s' "$BODY" | jq -e "$1" >/dev/null 2>&1
}

# jqv FILTER: prints FILTER over BODY (raw).
jqv() {
  printf '%s' "$BODY" | jq -r "$1" 2>/dev/null
}

# expect METHOD PATH BODY TOKEN WANT-STATUS DESCRIPTION [JQ-CONDITION]
expect() {
  req "$1" "$2" "$3" "$4"
  local good=0
  [ "$STATUS" = "$5" ] || good=1
  if [ $good -eq 0 ] && [ -n "${7:-}" ]; then
    jqt "$7" || good=1
  fi
  ok $good "$6"
}

# token ROLE SUBJECT: prints a new token made with the bootstrap admin token.
token() {
  req POST /v1/tokens "{\"role\":\"$1\",\"subject\":\"$2\"}" "$ADMIN"
  jqv .token
}

# A native feed document with one pool per argument "MODEL:TOTAL:FREE:PRICE".
feed_doc() {
  local center=$1
  shift
  local pools="" sep=""
  for spec in "$@"; do
    IFS=: read -r model total free price <<<"$spec"
    pools="$pools$sep{\"model\":\"$model\",\"total\":$total,\"free\":$free,\"largest_block\":$free,\"price_per_card_hour\":$price}"
    sep=","
  done
  printf '{"center":"%s","pools":[%s]}' "$center" "$pools"
}

# center_doc ID REGION [STATUS] [LABELS-JSON] [STALENESS]: a center with one native push feed.
center_doc() {
  printf '{"id":"%s","name":"%s center","operator":"op1","region":"%s","status":"%s","labels":%s,"staleness_s":%s,"feeds":[{"adapter":"native","mode":"push"}]}' \
    "$1" "$1" "$2" "${3:-active}" "${4:-{\}}" "${5:-600}"
}

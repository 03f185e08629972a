#!/usr/bin/env bash
# Feeds over cleartext HTTP/2 (h2c: true): tools/feedserver serves twenty simulated centers and
# brokerd pulls them all through its own HTTP/2 client, one connection for the server, a stream
# per poll. The feed server restarted on the same port: the polls after it go over a new
# connection and keep succeeding. The feed server gone: every feed records the refused
# connection and keeps its last good pools; brokerd stays up.
. "$(dirname "$0")/lib.sh"

FEEDSERVER="$(dirname "$BROKERD")/feedserver"
command -v jq >/dev/null || { echo "1..0 # SKIP jq is not installed"; exit 0; }
command -v ss >/dev/null || { echo "1..0 # SKIP ss (iproute2) is not installed"; exit 0; }
[ -x "$FEEDSERVER" ] || { echo "1..0 # SKIP no feedserver next to brokerd"; exit 0; }

N=20
start_feedserver() { # [--listen 127.0.0.1:PORT]
  rm -f "$WORK/fs.port"
  "$FEEDSERVER" --no-demo --centers $N --pools 2 --port-file "$WORK/fs.port" "$@" \
    2>>"$WORK/fs.log" &
  FS_PID=$!
  for _ in $(seq 1 100); do [ -s "$WORK/fs.port" ] && break; sleep 0.05; done
  FP=$(cat "$WORK/fs.port" 2>/dev/null)
}
# established: brokerd's connections to the feed server now.
established() { ss -Htn state established "( dport = :$FP )" 2>/dev/null | wc -l; }

start_feedserver
trap 'kill "$FS_PID" 2>/dev/null; cleanup' EXIT
FS_URL="http://127.0.0.1:$FP"
curl -s --http2-prior-knowledge "$FS_URL/centers" >"$WORK/centers.json"
ok "$(jq -e ".centers | length == $N" "$WORK/centers.json" >/dev/null; echo $?)" \
  "feedserver answers over h2c ($N simulated centers)"

start_broker || { ok 1 "brokerd starts"; done_testing; }
OP=$(token operator op1)
TEN=$(token tenant acme)
all=0
while read -r id region path; do
  req POST /v1/centers "$(printf '{"id":"%s","name":"%s","operator":"op1","region":"%s","feeds":[{"adapter":"native","url":"%s%s","h2c":true,"interval_s":1}]}' \
    "$id" "$id" "$region" "$FS_URL" "$path")" "$OP"
  [ "$STATUS" = 201 ] || all=1
done < <(jq -r '.centers[] | "\(.id) \(.region) \(.native)"' "$WORK/centers.json")
ok $all "$N centers registered with h2c native feeds"

# every_center_ok: every center has its 2 pools and its feed's last attempt succeeded.
every_center_ok() {
  req GET /v1/centers "" "$TEN"
  [ "$(jqv "[.centers[] | select((.pools | length) == 2)] | length")" = $N ]
}
for _ in $(seq 1 100); do every_center_ok && break; sleep 0.1; done
ok "$(every_center_ok; echo $?)" "every center has its 2 pools from its h2c feed"
sleep 1.5 # a second round of polls (every second)
expect GET /v1/centers/sim-00007 "" "$TEN" 200 "its feed health shows a success and no error" \
  '.feeds[0].last_success != null and .feeds[0].last_error == null and .stale == false'
conns=$(established)
ok "$([ "$conns" = 1 ]; echo $?)" "$N feeds share one connection to the feed server ($conns established)"

# libcurl is loaded only once a feed needs it: not for h2c feeds, which go through brokerd's own
# HTTP/2 client; a file:// feed then loads it and is polled like any other.
curl_mapped() { grep -c 'libcurl' "/proc/$BROKER_PID/maps" 2>/dev/null; }
ok "$([ "$(curl_mapped)" = 0 ]; echo $?)" "with only h2c feeds brokerd has not loaded libcurl"
# Nor OpenSSL: brokerd loads it only for a TLS listener (or libcurl brings it, below).
ok "$([ "$(grep -c -E 'libssl|libcrypto' "/proc/$BROKER_PID/maps" 2>/dev/null)" = 0 ]; echo $?)" \
  "with a cleartext listener and h2c feeds brokerd has not loaded OpenSSL"
feed_doc file-c1 "H100:16:8:20" >"$WORK/file-c1.json"
req POST /v1/centers "$(printf '{"id":"file-c1","name":"file-c1","operator":"op1","region":"cn-beijing","feeds":[{"adapter":"native","url":"file://%s/file-c1.json","interval_s":1}]}' "$WORK")" "$ADMIN"
ok "$([ "$STATUS" = 201 ]; echo $?)" "a center with a file:// feed is registered (by the admin)"
for _ in $(seq 1 100); do
  req GET /v1/centers/file-c1 "" "$TEN"
  [ "$(jqv '(.pools | length) == 1 and .feeds[0].last_error == null')" = true ] && break
  sleep 0.1
done
ok "$([ "$(jqv '[.pools[0].model, .pools[0].free, .feeds[0].last_error] | tostring')" = '["H100",8,null]' ]; echo $?)" \
  "its pool comes in through libcurl: $(jqv '[.pools[0].model, .pools[0].free, .feeds[0].last_error] | tostring')"
ok "$([ "$(curl_mapped)" -gt 0 ]; echo $?)" "and libcurl is loaded now"
req DELETE /v1/centers/file-c1 "" "$ADMIN"

# The feed server restarts on the same port: the kept connection is gone, the next polls open a
# new one and succeed.
kill "$FS_PID"
wait "$FS_PID" 2>/dev/null
start_feedserver --listen "127.0.0.1:$FP"
ok "$([ -n "$FP" ]; echo $?)" "the feed server is back on port $FP"
t_restart=$(date -u +%Y-%m-%dT%H:%M:%S)
fresh=0
for _ in $(seq 1 60); do
  req GET /v1/centers/sim-00011 "" "$TEN"
  if [ "$(jqv ".feeds[0].last_success > \"$t_restart\" and .feeds[0].last_error == null")" = true ]; then
    fresh=1
    break
  fi
  sleep 0.1
done
ok "$([ $fresh = 1 ]; echo $?)" "after the restart the feed is polled again without an error"
# A poll caught by the restart may have failed (its one retry found the port closed); within a
# few rounds every feed has succeeded again.
for _ in $(seq 1 50); do
  errors=0
  for id in $(jq -r '.centers[].id' "$WORK/centers.json"); do
    req GET "/v1/centers/$id" "" "$TEN"
    [ "$(jqv '.feeds[0].last_error == null and (.pools | length) == 2')" = true ] ||
      errors=$((errors + 1))
  done
  [ $errors = 0 ] && break
  sleep 0.2
done
ok "$([ $errors = 0 ]; echo $?)" "soon no feed shows an error ($errors do)"
conns=$(established)
ok "$([ "$conns" = 1 ]; echo $?)" "the polls share one new connection ($conns established)"

# The feed server goes away: the feeds record the refusal and keep their pools.
kill "$FS_PID"
wait "$FS_PID" 2>/dev/null
failed=0
for _ in $(seq 1 60); do
  req GET /v1/centers/sim-00003 "" "$TEN"
  [ "$(jqv '.feeds[0].last_error // "" | test("connect|refused|closed"; "i")')" = true ] &&
    failed=1 && break
  sleep 0.1
done
ok "$([ $failed = 1 ]; echo $?)" "with the server gone the feed records it: $(jqv '.feeds[0].last_error')"
expect GET /v1/centers/sim-00003 "" "$TEN" 200 "and keeps its last good pools" '(.pools | length) == 2'
expect GET /healthz "" "" 200 "brokerd is still up" '.status == "ok"'
stop_broker

# First polls go in center order. With feed_first_poll_spread_s 0, a restarted brokerd starts
# its feeds' first polls 10 us apart by center id (libev alone runs timers due at one instant
# in no set order), so that their pools reach the store in key order. nghttpd -v shows the
# order the requests came in on the one h2c connection.
NGHTTPD=$(command -v nghttpd || echo /usr/sbin/nghttpd)
if [ -x "$NGHTTPD" ]; then
  DB="$WORK/order.db"
  mkdir -p "$WORK/ng"
  ids=(k07 k02 k11 k04 k09 k01 k12 k05 k10 k03 k08 k06) # registered in this order
  for id in "${ids[@]}"; do feed_doc "$id" "H100:8:4:10" >"$WORK/ng/$id.json"; done
  NGP=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  timeout 120 "$NGHTTPD" --no-tls -v -a 127.0.0.1 -d "$WORK/ng" "$NGP" >"$WORK/ng.log" 2>&1 &
  NG_PID=$!
  trap 'kill "$NG_PID" 2>/dev/null; cleanup' EXIT
  printf '{"feed_first_poll_spread_s":0}' >"$WORK/order.json"
  start_broker --config "$WORK/order.json"
  OP=$(token operator op1)
  TEN=$(token tenant acme)
  for id in "${ids[@]}"; do
    req POST /v1/centers "$(printf '{"id":"%s","name":"%s","operator":"op1","region":"cn-beijing","feeds":[{"adapter":"native","url":"http://127.0.0.1:%s/%s.json","h2c":true,"interval_s":3600}]}' "$id" "$id" "$NGP" "$id")" "$OP"
  done
  have_all() {
    req GET /v1/centers "" "$TEN"
    [ "$(jqv '[.centers[] | select((.pools | length) == 1)] | length')" = ${#ids[@]} ]
  }
  for _ in $(seq 1 100); do have_all && break; sleep 0.1; done
  stop_broker
  seen=$(wc -l <"$WORK/ng.log")
  start_broker --config "$WORK/order.json"
  # The restart's first polls: every pool observed after it.
  for _ in $(seq 1 100); do
    [ "$(tail -n +$((seen + 1)) "$WORK/ng.log" | grep -c ':path: /k')" -ge ${#ids[@]} ] && break
    sleep 0.1
  done
  order=$(tail -n +$((seen + 1)) "$WORK/ng.log" | sed -n 's|.*:path: /\(k[0-9]*\)\.json.*|\1|p' |
    head -${#ids[@]} | tr '\n' ' ')
  want=$(printf '%s\n' "${ids[@]}" | sort | tr '\n' ' ')
  STATUS="" BODY="polled in this order: $order"
  ok "$([ "$order" = "$want" ]; echo $?)" "after a restart the first polls go by center id: $order"
  have_all
  ok $? "and every center has its pool"
  stop_broker
fi
done_testing

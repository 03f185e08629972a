#!/usr/bin/env bash
# Feeds over HTTP/2 with TLS: tools/feedserver serves its simulated centers with a certificate
# the test makes; brokerd trusts it through the feed_ca_file setting and pulls every center's
# pools over https://, multiplexed on the connections libcurl keeps; a broker that does not
# trust the certificate records a certificate error on the feed and has no pools from it.
# Restarted, brokerd says once when the first poll of every pull feed has ended (committed or
# failed), and by then the database holds every center's pools.
. "$(dirname "$0")/lib.sh"

FEEDSERVER="$(dirname "$BROKERD")/feedserver"
for tool in openssl jq; do
  if ! command -v "$tool" >/dev/null; then
    echo "1..0 # SKIP $tool is not installed"
    exit 0
  fi
done
[ -x "$FEEDSERVER" ] || { echo "1..0 # SKIP no feedserver next to brokerd"; exit 0; }

CERT="$WORK/feeds-cert.pem"
KEY="$WORK/feeds-key.pem"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$KEY" -out "$CERT" >"$WORK/openssl.log" 2>&1
ok $? "openssl makes a self-signed certificate for 127.0.0.1"

"$FEEDSERVER" --no-demo --centers 6 --pools 2 --tls-cert "$CERT" --tls-key "$KEY" \
  --port-file "$WORK/fs.port" 2>"$WORK/fs.log" &
FS_PID=$!
trap 'kill "$FS_PID" 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 100); do [ -s "$WORK/fs.port" ] && break; sleep 0.05; done
FP=$(cat "$WORK/fs.port" 2>/dev/null)
FS_URL="https://127.0.0.1:$FP"
curl -s --http2 --cacert "$CERT" "$FS_URL/centers" >"$WORK/centers.json"
ok "$(jq -e '.centers | length == 6' "$WORK/centers.json" >/dev/null; echo $?)" \
  "feedserver answers over h2 with TLS (6 simulated centers)"

printf '{"feed_ca_file":"%s","feed_first_poll_spread_s":0}' "$CERT" >"$WORK/config.json"
start_broker --config "$WORK/config.json" || { ok 1 "brokerd starts"; done_testing; }
OP=$(token operator op1)
TEN=$(token tenant acme)
register() { # CENTER-ID REGION NATIVE-PATH
  req POST /v1/centers "$(printf '{"id":"%s","name":"%s","operator":"op1","region":"%s","feeds":[{"adapter":"native","url":"%s%s","interval_s":2}]}' \
    "$1" "$1" "$2" "$FS_URL" "$3")" "$OP"
}
all=0
while read -r id region path; do
  register "$id" "$region" "$path"
  [ "$STATUS" = 201 ] || all=1
done < <(jq -r '.centers[] | "\(.id) \(.region) \(.native)"' "$WORK/centers.json")
ok $all "six centers registered with https:// native feeds"

have=0
for _ in $(seq 1 100); do
  req GET /v1/centers "" "$TEN"
  have=$(jqv '[.centers[] | select((.pools | length) == 2)] | length')
  [ "$have" = 6 ] && break
  sleep 0.1
done
ok "$([ "$have" = 6 ]; echo $?)" "every center has its 2 pools from the TLS feed ($have of 6)"
expect GET /v1/centers/sim-00000 "" "$TEN" 200 "its feed health shows a success and no error" \
  '.feeds[0].last_success != null and .feeds[0].last_error == null and .stale == false'
# A second round of polls (every 2 s) goes over the kept connections.
sleep 2.5
expect GET /v1/centers/sim-00003 "" "$TEN" 200 "later polls keep succeeding" \
  '.feeds[0].last_error == null and (.pools | length) == 2'
conns=$(ss -Htn state established "( dport = :$FP )" 2>/dev/null | wc -l)
ok "$([ "$conns" -ge 1 ] && [ "$conns" -le 2 ]; echo $?)" \
  "six feeds share the kept connection(s) to the feed server ($conns established)"
stop_broker
READY="every pull feed has been polled once"
ok "$(! grep -q "$READY" "$WORK/brokerd.log"; echo $?)" \
  "feeds registered after start do not make a readiness line"

# wait_ready N: waits for the Nth readiness line of brokerd.log and prints it.
wait_ready() {
  for _ in $(seq 1 200); do
    [ "$(grep -c "$READY" "$WORK/brokerd.log")" -ge "$1" ] && break
    sleep 0.05
  done
  grep "$READY" "$WORK/brokerd.log" | sed -n "$1p"
}

# A cold start on the same centers with their pools gone: ready once all six are back.
if command -v sqlite3 >/dev/null; then
  sqlite3 "$DB" "DELETE FROM feed_pools; DELETE FROM pools; UPDATE feeds SET last_success = NULL"
  # libcurl, which https:// feeds go through, is loaded as the scheduler starts (before the
  # port file is written), not at the first poll in the middle of a round: a start whose first
  # polls are a minute away has it already.
  printf '{"feed_ca_file":"%s","feed_first_poll_spread_s":60}' "$CERT" >"$WORK/later.json"
  start_broker --config "$WORK/later.json" || { ok 1 "brokerd restarts"; done_testing; }
  ok "$([ "$(grep -c libcurl "/proc/$BROKER_PID/maps" 2>/dev/null)" -gt 0 ] &&
    [ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM feeds WHERE last_success IS NOT NULL")" = 0 ]; echo $?)" \
    "with https:// feeds registered and none polled yet, brokerd has libcurl loaded once it listens"
  stop_broker
  : >"$WORK/brokerd.log" # the readiness line counted below is the next start's
  start_broker --config "$WORK/config.json" || { ok 1 "brokerd restarts"; done_testing; }
  line=$(wait_ready 1)
  ok "$([[ "$line" == *"6 feeds, 0 failed"* ]]; echo $?)" "restarted, it says when every feed has been polled: $line"
  ok "$([ "$(sqlite3 "$DB" "SELECT COUNT(*), COUNT(DISTINCT center) FROM pools")" = "12|6" ] &&
    [ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM feeds WHERE last_success IS NULL")" = 0 ]; echo $?)" \
    "by then the database holds the 12 pools of all six centers and every feed's success"
  stop_broker
else
  T_COUNT=$((T_COUNT + 1)); echo "ok $T_COUNT # SKIP no sqlite3 for the cold start"
fi

# A broker without the CA: the feed fails on the certificate and says so.
DB="$WORK/untrusting.db"
start_broker || { ok 1 "a second brokerd starts"; done_testing; }
OP=$(token operator op1)
TEN=$(token tenant acme)
register sim-00000 cn-shanghai /native/sim-00000
for _ in $(seq 1 100); do
  req GET /v1/centers/sim-00000 "" "$TEN"
  [ "$(jqv '.feeds[0].last_error // empty')" != "" ] && break
  sleep 0.1
done
ok "$(jqt '(.feeds[0].last_error | test("certificate|SSL"; "i")) and (.pools | length) == 0'; echo $?)" \
  "without feed_ca_file the self-signed feed fails on its certificate: $(jqv '.feeds[0].last_error')"
stop_broker
n=$(grep -c "$READY" "$WORK/brokerd.log")
start_broker || { ok 1 "the second brokerd restarts"; done_testing; }
line=$(wait_ready $((n + 1)))
ok "$([[ "$line" == *"1 feeds, 1 failed"* ]]; echo $?)" "a failed first poll counts as polled, and is counted: $line"
done_testing

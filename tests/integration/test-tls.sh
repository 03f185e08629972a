#!/usr/bin/env bash
# HTTP/2 over TLS (SPEC §4, §4a): with --tls-cert/--tls-key brokerd speaks TLS 1.2+ with ALPN h2
# on --listen. A self-signed certificate made here is trusted through --cacert; without it curl
# refuses the server. The API works as over h2c (tokens, centers, brokerctl); an HTTP/1.1 client
# over TLS gets a prompt 426, a cleartext h2c client fails cleanly and the daemon stays up; h2load
# gets every answer; a key that does not match the certificate, or only one of the two flags, is
# refused at start with a clear message; SIGTERM stops it with status 0.
. "$(dirname "$0")/lib.sh"

CERT="$WORK/cert.pem"
KEY="$WORK/key.pem"
KEY2="$WORK/other-key.pem"

# req as in lib.sh, but over TLS: ALPN h2 and our certificate as the only trusted CA.
req() {
  local method=$1 path=$2 body=${3:-} token=${4:-}
  shift $(($# < 4 ? $# : 4))
  local args=(-s -S --http2 --cacert "$CERT" -X "$method" -o "$WORK/body" -w '%{http_code}'
              --max-time 20)
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  STATUS=$(curl "${args[@]}" "$@" "$URL$path" 2>"$WORK/curl.err") || STATUS="curl-failed"
  BODY=$(cat "$WORK/body" 2>/dev/null)
}

# start_tls [extra args...]: start_broker with the certificate, then the https URL.
start_tls() {
  start_broker "$@" || return 1
  URL="https://127.0.0.1:$(cat "$WORK/port")"
  export SUANWANG_URL="$URL"
}

# brokerd_fails ARGS...: runs brokerd to completion (it must not start); sets RC and ERR.
brokerd_fails() {
  SUANWANG_ADMIN_TOKEN="$ADMIN" timeout 10 "$BROKERD" --listen 127.0.0.1:0 --db "$WORK/fail.db" \
    "$@" >"$WORK/fail.out" 2>&1
  RC=$?
  ERR=$(cat "$WORK/fail.out")
  STATUS="rc=$RC"
  BODY="$ERR"
}

# ---- the certificate: self-signed for 127.0.0.1, and an unrelated second key ----
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$KEY" -out "$CERT" >"$WORK/openssl.log" 2>&1
ok $? "openssl makes a self-signed certificate for 127.0.0.1"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KEY2" >>"$WORK/openssl.log" 2>&1
ok $? "openssl makes a second, unrelated key"

# ---- refused at start ----
brokerd_fails --tls-cert "$CERT"
ok "$([ "$RC" -eq 2 ] && grep -q -- '--tls-key' <<<"$ERR"; echo $?)" \
  "--tls-cert alone is a usage error (exit 2) naming --tls-key"
brokerd_fails --tls-key "$KEY"
ok "$([ "$RC" -eq 2 ] && grep -q -- '--tls-cert' <<<"$ERR"; echo $?)" \
  "--tls-key alone is a usage error (exit 2) naming --tls-cert"
printf '{"tls_cert":"%s"}' "$CERT" >"$WORK/half.json"
brokerd_fails --config "$WORK/half.json"
ok "$([ "$RC" -eq 2 ] && grep -q 'tls_key' <<<"$ERR"; echo $?)" \
  "a config file with tls_cert but no tls_key is a usage error (exit 2)"
brokerd_fails --tls-cert "$CERT" --tls-key "$KEY2"
ok "$([ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] && grep -q 'does not match the certificate' <<<"$ERR"; echo $?)" \
  "a key that does not match the certificate: exit $RC with a clear message"
brokerd_fails --tls-cert "$WORK/no-such-cert.pem" --tls-key "$KEY"
ok "$([ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] && grep -q 'cannot read the certificate.*no-such-cert.pem' <<<"$ERR"; echo $?)" \
  "a missing certificate file: exit $RC with a clear message"
brokerd_fails --tls-cert "$KEY" --tls-key "$KEY"
ok "$([ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] && grep -q 'cannot load a PEM certificate' <<<"$ERR"; echo $?)" \
  "a key given as the certificate: exit $RC with a clear message"

# ---- serving ----
start_tls --tls-cert "$CERT" --tls-key "$KEY" || { ok 1 "brokerd starts with TLS"; done_testing; }
ok "$(grep -q 'h2 over TLS' "$WORK/brokerd.log"; echo $?)" "brokerd logs that it serves h2 over TLS"
ok "$([ "$(grep -c libssl "/proc/$BROKER_PID/maps" 2>/dev/null)" -gt 0 ]; echo $?)" \
  "brokerd has loaded OpenSSL for its TLS listener"

V=$(curl -s --cacert "$CERT" --max-time 10 -o "$WORK/body" -w '%{http_code} %{http_version}' \
  "$URL/healthz")
BODY=$(cat "$WORK/body" 2>/dev/null)
STATUS=$V
ok "$([ "$V" = "200 2" ] && jqt '.status == "ok"'; echo $?)" "healthz: 200 over HTTP/2 (ALPN h2)"

V=$(curl -s --cacert "$CERT" --tlsv1.2 --tls-max 1.2 --max-time 10 -o /dev/null \
  -w '%{http_code} %{http_version}' "$URL/healthz")
STATUS=$V
ok "$([ "$V" = "200 2" ]; echo $?)" "TLS 1.2 (AEAD ciphers) carries h2 too"

curl -s --max-time 10 -o /dev/null "$URL/healthz"
RC=$?
STATUS="curl exit $RC"
ok "$([ "$RC" -eq 60 ]; echo $?)" "without --cacert curl refuses the self-signed server (exit 60)"

OP=$(token operator op1)
TEN=$(token tenant acme)
ok "$([ -n "$OP" ] && [ -n "$TEN" ]; echo $?)" "the bootstrap admin token issues tokens over TLS"
expect GET /v1/centers "" "" 401 "no token: 401 over TLS"
expect POST /v1/centers "$(center_doc sh-1 cn-shanghai)" "$OP" 201 "an operator registers a center over TLS"
expect POST /v1/centers/sh-1/feed "$(feed_doc sh-1 H800:256:128:28.5)" "$OP" 200 "and pushes its feed"
expect GET /v1/centers "" "$TEN" 200 "a tenant lists the centers over TLS" \
  '(.centers | length) == 1 and .centers[0].id == "sh-1"'
expect POST /v1/placements '{"precision":"bf16","cards":8,"hours":1,"origin":"cn-shanghai","dry_run":true}' \
  "$TEN" 200 "a tenant gets a quote over TLS" '.state == "quote" and .pieces[0].center == "sh-1"'

OUT=$("$BROKERCTL" --url "$URL" --cacert "$CERT" --token "$TEN" centers 2>"$WORK/ctl.err")
RC=$?
STATUS="rc=$RC"
BODY="$OUT $(cat "$WORK/ctl.err")"
ok "$([ "$RC" -eq 0 ] && grep -q 'sh-1' <<<"$OUT"; echo $?)" "brokerctl --url https://… --cacert lists centers"
"$BROKERCTL" --url "$URL" --token "$TEN" centers >/dev/null 2>"$WORK/ctl.err"
RC=$?
STATUS="rc=$RC"
BODY="$(cat "$WORK/ctl.err")"
ok "$([ "$RC" -ne 0 ]; echo $?)" "brokerctl without --cacert refuses the self-signed server"

# ---- the wrong protocols ----
T0=$(date +%s%N)
V=$(curl -s --http1.1 --cacert "$CERT" --max-time 5 -D "$WORK/h1.hdr" -o "$WORK/body" \
  -w '%{http_code} %{http_version}' "$URL/healthz")
RC=$?
T1=$(date +%s%N)
BODY=$(cat "$WORK/body" 2>/dev/null)
STATUS="$V rc=$RC in $(((T1 - T0) / 1000000)) ms"
ok "$([ "$RC" -eq 0 ] && [ "$V" = "426 1.1" ] && [ $(((T1 - T0) / 1000000)) -lt 3000 ] &&
  grep -qi '^upgrade:' "$WORK/h1.hdr" && jqt '.status == 426 and (.detail | test("HTTP/2"))'
  echo $?)" "curl --http1.1 over TLS gets a prompt 426 that says to use HTTP/2"

T0=$(date +%s%N)
curl -s --http2-prior-knowledge --max-time 5 -o /dev/null "http://127.0.0.1:$(cat "$WORK/port")/healthz"
RC=$?
T1=$(date +%s%N)
STATUS="rc=$RC in $(((T1 - T0) / 1000000)) ms"
ok "$([ "$RC" -ne 0 ] && [ "$RC" -ne 28 ]; echo $?)" "a cleartext h2c client on the TLS port fails at once (no hang)"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' >"$WORK/h1.txt"
timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$(cat "$WORK/port")"'; cat "$1" >&3; cat <&3 >/dev/null' _ "$WORK/h1.txt"
RC=$?
STATUS="rc=$RC"
ok "$([ "$RC" -ne 124 ]; echo $?)" "a cleartext HTTP/1.1 request on the TLS port is closed at once"
# A first byte that is no TLS record type (random bytes starting 0x16 would read as a
# handshake record and wait for the rest of it, until the idle timeout).
{ printf '\000'; head -c 4095 /dev/urandom; } >"$WORK/noise"
timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$(cat "$WORK/port")"'; cat "$1" >&3; cat <&3 >/dev/null' _ "$WORK/noise"
ok "$([ $? -ne 124 ]; echo $?)" "random bytes on the TLS port are closed at once"
expect GET /healthz "" "" 200 "the daemon is still up and serving TLS"

# ---- load ----
h2load -n 2000 -c 4 -m 10 "$URL/healthz" >"$WORK/h2load.out" 2>&1
RC=$?
STATUS="rc=$RC"
BODY=$(grep -E '^requests:|^status codes:|TLS Protocol|Application protocol' "$WORK/h2load.out")
ok "$([ "$RC" -eq 0 ] && grep -q 'requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored' "$WORK/h2load.out" &&
  grep -q 'Application protocol: h2' "$WORK/h2load.out"; echo $?)" "h2load -n 2000 -c 4 -m 10 over TLS: all 2000 succeed"
expect GET /metrics "" "" 200 "metrics answer after the load"

stop_broker
ok $? "SIGTERM stops the TLS daemon with status 0"

# ---- the config-file keys ----
printf '{"tls_cert":"%s","tls_key":"%s"}' "$CERT" "$KEY" >"$WORK/tls.json"
start_tls --config "$WORK/tls.json" || { ok 1 "brokerd starts with tls_cert/tls_key from --config"; done_testing; }
expect GET /v1/centers "" "$TEN" 200 "tls_cert/tls_key in the config file: TLS, and the data is still there" \
  '.centers[0].id == "sh-1"'
stop_broker
ok $? "SIGTERM stops it with status 0"
done_testing

#!/usr/bin/env bash
# Limits and hostile clients (issue 3): body, header list, concurrent streams, connections and
# idle timeouts (slowloris), set small in a config file, each answered by the right status or
# GOAWAY, while a well-behaved client keeps getting its answers. Raw HTTP/2 clients are in
# h2raw.py (curl, nghttp and h2load are too polite to misbehave).
. "$(dirname "$0")/lib.sh"

H2RAW="$(dirname "$0")/h2raw.py"
for tool in python3 h2load nghttp jq; do
  if ! command -v "$tool" >/dev/null; then
    echo "1..0 # SKIP $tool is not installed"
    exit 0
  fi
done

cat >"$WORK/config.json" <<'EOF'
{"max_streams": 8, "max_connections": 20, "idle_timeout_s": 1,
 "max_header_bytes": 2048, "max_body": 4096}
EOF
start_broker --config "$WORK/config.json" || { ok 1 "brokerd starts"; done_testing; }
PORT=$(cat "$WORK/port")
raw() { timeout 60 python3 "$H2RAW" 127.0.0.1 "$PORT" "$@"; }
# rawok JSON JQ-CONDITION DESCRIPTION
rawok() {
  echo "# $3: $1"
  STATUS="h2raw" BODY="$1"
  printf '%s' "$1" | jq -e "$2" >/dev/null 2>&1
  ok $? "$3"
}

OP=$(token operator op1)
TEN=$(token tenant acme)
expect POST /v1/centers "$(center_doc sh-1 cn-shanghai)" "$OP" 201 "register sh-1"
expect POST /v1/centers/sh-1/feed "$(feed_doc sh-1 H800:256:128:28.5)" "$OP" 200 "push its feed"
QUOTE='{"precision":"bf16","cards":8,"hours":1,"origin":"cn-shanghai","dry_run":true}'

# ---- a well-behaved client, all along phase 1: a dry run every 0.1 s ---------------------
touch "$WORK/loop.on"
(
  while [ -e "$WORK/loop.on" ]; do
    s=$(curl -s -o /dev/null -w '%{http_code}' --http2-prior-knowledge --max-time 5 \
      -H "Authorization: Bearer $TEN" -H 'Content-Type: application/json' \
      --data-binary "$QUOTE" "$URL/v1/placements" 2>/dev/null)
    echo "$(date +%s.%N) ${s:-000}" >>"$WORK/loop.txt"
    sleep 0.1
  done
) &
LOOP_PID=$!

# ---- slowloris, in the background while the rest of phase 1 runs -------------------------
# One byte every 0.5 s: of the connection preface; of a HEADERS frame (after a complete
# handshake) whose header block never ends; of a POST body. Each must be cut off about one
# idle timeout (1 s) after it started, however steadily it drips: allow 5 s on a busy machine.
for phase in preface headers body; do
  raw slowloris 0.5 12 "$phase" >"$WORK/slow-$phase.json" 2>&1 &
done
SLOW_START=$SECONDS

# ---- body ----------------------------------------------------------------------------------
pad() { # pad JSON SIZE: JSON followed by spaces up to SIZE bytes
  local s=$1
  printf '%s' "$s"
  head -c $(($2 - ${#s})) /dev/zero | tr '\0' ' '
}
pad "$QUOTE" 4096 >"$WORK/body-4096.json"
pad "$QUOTE" 4097 >"$WORK/body-4097.json"
pad "$QUOTE" 5000 >"$WORK/body-5000.json"
pad "$QUOTE" 2097152 >"$WORK/body-2m.json"
expect POST /v1/placements "@$WORK/body-4096.json" "$TEN" 200 "a body of exactly max_body (4096) is served"
expect POST /v1/placements "@$WORK/body-4097.json" "$TEN" 413 "a body of max_body + 1 -> 413" \
  '.status == 413'
expect POST /v1/placements "@$WORK/body-5000.json" "$TEN" 413 "a 5000-byte body -> 413"
s=$(timeout 30 curl -s -o /dev/null -w '%{http_code}' --http2-prior-knowledge -X POST -T - \
  -H "Authorization: Bearer $TEN" -H 'Content-Type: application/json' "$URL/v1/placements" \
  <"$WORK/body-5000.json")
STATUS=$s
ok "$([ "$s" = 413 ]; echo $?)" "a 5000-byte body without content-length (streamed) -> 413"
expect POST /v1/placements "@$WORK/body-2m.json" "$TEN" 413 \
  "a 2 MiB body (over the transport's ceiling) -> 413, no hang"

# ---- header list ---------------------------------------------------------------------------
big() { head -c "$1" /dev/zero | tr '\0' a; }
req GET /v1/centers "" "$TEN" -H "x-pad: $(big 1000)"
ok "$([ "$STATUS" = 200 ]; echo $?)" "a 1000-byte header (under 2048) is served"
req GET /v1/centers "" "$TEN" -H "x-pad: $(big 3000)"
ok "$([ "$STATUS" = 431 ] && jqt '.status == 431'; echo $?)" "a 3000-byte header -> 431"
req GET /v1/centers "" "$TEN" -H "x-a: $(big 700)" -H "x-b: $(big 700)" -H "x-c: $(big 700)"
ok "$([ "$STATUS" = 431 ]; echo $?)" "three 700-byte headers (2100 in all) -> 431"
out=$(raw bigheader 60000)
rawok "$out" '.status == "431"' "a 60000-byte header in HEADERS + CONTINUATION -> 431"
out=$(raw bigheader 200000)
rawok "$out" '.status == "431" or (.goaways | length) > 0' \
  "a 200000-byte header -> 431 or GOAWAY"

# ---- concurrent streams --------------------------------------------------------------------
nghttp -nv "$URL/healthz" >"$WORK/nghttp-settings.txt" 2>&1
ok "$(grep -q 'recv SETTINGS' "$WORK/nghttp-settings.txt" &&
      grep -q '\[SETTINGS_MAX_CONCURRENT_STREAMS(0x03):8\]' "$WORK/nghttp-settings.txt"; echo $?)" \
  "the server advertises SETTINGS_MAX_CONCURRENT_STREAMS = 8 (nghttp -nv)"
out=$(raw settings)
rawok "$out" '.max_concurrent_streams == 8' "... and so it does to a raw client"
# h2load, like nghttp, sends its first flight of -m streams with the preface, before it has
# seen the server's SETTINGS: the 42 beyond 8 are refused (RST_STREAM REFUSED_STREAM, safe to
# retry; h2load counts them "errored" and does not retry). Every later request keeps to 8.
timeout 120 h2load -n 200 -c 1 -m 50 -d "$WORK/body-4096.json" -H "authorization: Bearer $TEN" \
  -H 'content-type: application/json' "$URL/v1/placements" >"$WORK/h2load.txt" 2>&1
sed -n '/^requests:/p;/^status codes:/p' "$WORK/h2load.txt" | sed 's/^/# h2load -m 50: /'
ok "$(grep -q '^requests: 200 total, 200 started, 200 done, 158 succeeded, 42 failed, 42 errored, 0 timeout' \
      "$WORK/h2load.txt" && grep -q '^status codes: 158 2xx, 0 3xx, 0 4xx, 0 5xx' "$WORK/h2load.txt"; echo $?)" \
  "h2load -m 50 on one connection: all 200 done; only the 42 of the first flight past 8 refused"
timeout 120 h2load -n 200 -c 1 -m 8 -d "$WORK/body-4096.json" -H "authorization: Bearer $TEN" \
  -H 'content-type: application/json' "$URL/v1/placements" >"$WORK/h2load.txt" 2>&1
sed -n '/^requests:/p;/^status codes:/p' "$WORK/h2load.txt" | sed 's/^/# h2load -m 8: /'
ok "$(grep -q '^requests: 200 total, 200 started, 200 done, 200 succeeded, 0 failed, 0 errored, 0 timeout' \
      "$WORK/h2load.txt" && grep -q '^status codes: 200 2xx' "$WORK/h2load.txt"; echo $?)" \
  "h2load -m 8 on one connection: all 200 requests complete with 2xx"
out=$(raw flood 20 /healthz early)
rawok "$out" '.responses == 8 and .complete == 8 and .refused == 12 and .goaway == null' \
  "20 streams sent with the preface: 8 answered, 12 refused with REFUSED_STREAM"
out=$(raw flood 20 /healthz)
rawok "$out" '.advertised_max_streams == 8 and .responses <= 8 and (.refused >= 12 or .goaway != null)' \
  "a client opening 20 streams past the acknowledged limit of 8 is refused (RST_STREAM or GOAWAY)"
# RFC 9113 5.1.2 makes the extra streams a stream error, but nghttp2 1.52 treats a burst past
# an acknowledged limit as a connection error (GOAWAY PROTOCOL_ERROR). brokerd then processes
# none of that input's requests, so nothing is done that the client is never told about.
rawok "$out" '.complete == 0 and .goaway.error_code == 1' \
  "... the connection ends with GOAWAY(PROTOCOL_ERROR) and no answer is half-given"

out=$(raw flood 8 /healthz)
rawok "$out" '.complete == 8 and .statuses["200"] == 8 and .goaway == null' \
  "8 streams at once (the limit) are all answered"

# ---- idle connection -----------------------------------------------------------------------
out=$(raw idle 8)
rawok "$out" '(.goaways | length) >= 1 and .goaways[0].error_code == 0 and .goaways[0].at >= 0.8 and .goaways[0].at <= 5 and .closed_after != null and .closed_after <= 6' \
  "an idle h2 connection gets GOAWAY(NO_ERROR) after the 1 s idle timeout, then is closed"
out=$(raw stall /v1/placements "$TEN" 8)
rawok "$out" '.closed_after != null and .closed_after <= 6' \
  "a stream whose body stops arriving is closed after about two idle timeouts"

# ---- slowloris results ---------------------------------------------------------------------
wait_slow=$((SLOW_START + 15 - SECONDS))
[ "$wait_slow" -gt 0 ] && sleep "$wait_slow"
for phase in preface headers body; do
  out=$(cat "$WORK/slow-$phase.json")
  rawok "$out" '.closed_after != null and .closed_after <= 5' \
    "slowloris ($phase, one byte per 0.5 s) is disconnected within 5 s (idle timeout 1 s)"
done

# ---- the well-behaved client was never disturbed -------------------------------------------
rm -f "$WORK/loop.on"
wait "$LOOP_PID"
n=$(wc -l <"$WORK/loop.txt")
bad=$(awk '$2 != 200' "$WORK/loop.txt" | wc -l)
echo "# the well-behaved client made $n requests during phase 1, $bad not answered 200"
awk '$2 != 200' "$WORK/loop.txt" | head -5 | sed 's/^/# /'
ok "$([ "$n" -ge 20 ] && [ "$bad" -eq 0 ]; echo $?)" \
  "a normal client's requests all succeeded while the hostile clients ran"

# ---- connections (phase 2: the hostile clients of phase 1 are gone) ------------------------
out=$(raw conns 40 3)
rawok "$out" '.connect_failed == 0 and .open == 20 and .open_with_settings == 20 and .closed == 20' \
  "of 40 connections (kept busy with PINGs) the server keeps exactly max_connections = 20"
rawok "$out" '.closed_after_max != null and .closed_after_max <= 2' \
  "the 20 extra connections are closed promptly (within 2 s)"
ok_after=1
for _ in $(seq 1 50); do
  req GET /healthz
  [ "$STATUS" = 200 ] && { ok_after=0; break; }
  sleep 0.1
done
ok $ok_after "once they are gone, new connections are served again"

# ---- every answer is logged with its stream id -----------------------------------------------
for st in 413 431; do
  n=$(grep -E "stream=[0-9]+ .* $st [0-9]+B" "$WORK/brokerd.log" | wc -l)
  echo "# request log lines with status $st: $n"
done
n413=$(grep -cE "stream=[0-9]+ .* 413 [0-9]+B" "$WORK/brokerd.log")
n431=$(grep -cE "stream=[0-9]+ .* 431 [0-9]+B" "$WORK/brokerd.log")
# shellcheck disable=SC2034 # ok() prints STATUS and BODY
STATUS="log" BODY="413 and 431 lines: $(grep -E ' 4(13|31) [0-9]+B' "$WORK/brokerd.log" | cut -c1-160)"
ok "$([ "$n413" -ge 4 ]; echo $?)" "every 413 answer has its request log line with stream= ($n413 of 4)"
ok "$([ "$n431" -ge 3 ]; echo $?)" "every 431 answer has its request log line with stream= ($n431 of 3+)"

stop_broker
ok $? "SIGTERM stops the daemon with status 0"
done_testing

#!/usr/bin/env bash
# test-fetch.sh — broker/fetch.c against real servers on 127.0.0.1, through tests/fetch-probe.
#
# Servers: files on disk (file://), `python3 -m http.server` (HTTP/1.1, Last-Modified),
# `nghttpd --no-tls` (HTTP/2 cleartext) and a small python server for the misbehaving cases
# (ETag, 500, error page, hang, trickle, endless body, gzip). Every command runs under
# `timeout`, so the test cannot hang. No brokerd here. Output is TAP.
# Needs: FETCH_PROBE (the probe binary); optional FETCH_WRAPPER (e.g. "valgrind -q
# --error-exitcode=99 --leak-check=full") run in front of the probe.

set -u

: "${FETCH_PROBE:?FETCH_PROBE must name the fetch-probe binary}"
WRAPPER=${FETCH_WRAPPER:-}
# Wall-clock bounds get this much slack under a wrapper; fetch's own t= stays tight.
SLACK=0
[ -n "$WRAPPER" ] && SLACK=8
# A proxy from the environment would stand between the probe and our servers.
unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

T_COUNT=0
T_FAILED=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/suanwang-fetch.XXXXXX")
PIDS=()
OUT=""
RC=0
ELAPSED=0

# The servers run under `timeout` (so none outlives a killed test); TERM to timeout reaches
# the server too, where KILL would orphan it.
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

ok() { # cond-status description
  T_COUNT=$((T_COUNT + 1))
  if [ "$1" -eq 0 ]; then
    echo "ok $T_COUNT - $2"
  else
    T_FAILED=$((T_FAILED + 1))
    echo "not ok $T_COUNT - $2"
    echo "# rc=$RC elapsed=${ELAPSED}s output:"
    printf '%s\n' "$OUT" | head -c 1500 | sed 's/^/#   /'
    echo
  fi
}

done_testing() {
  ! grep -qE 'runtime error|AddressSanitizer|LeakSanitizer|==[0-9]+== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched)|(definitely|indirectly) lost: [1-9]' \
    "$WORK/probe.stderr" 2>/dev/null
  local rc=$?
  [ $rc -eq 0 ] || sed 's/^/# /' "$WORK/probe.stderr" | head -60
  OUT=""
  ok $rc "the probe logged no sanitizer or valgrind report"
  echo "1..$T_COUNT"
  [ "$T_FAILED" -eq 0 ] || echo "# $T_FAILED of $T_COUNT failed"
  [ "$T_FAILED" -eq 0 ]
  exit $?
}

# probe [probe args...]: runs the probe (20 s at most); sets OUT, RC and ELAPSED (seconds).
probe() {
  local t0 t1
  t0=$(date +%s%N)
  # shellcheck disable=SC2086
  OUT=$(timeout -k 5 20 $WRAPPER "$FETCH_PROBE" "$@" 2>>"$WORK/probe.stderr")
  RC=$?
  t1=$(date +%s%N)
  ELAPSED=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
}

# field NAME [LINE]: the value of NAME=... in the first result line (or in LINE).
field() {
  local line=${2:-$(printf '%s\n' "$OUT" | grep -m1 '^id=')}
  case "$1" in
  etag | lm | msg | body) printf '%s\n' "$line" | sed -n "s/.* $1=\[\([^]]*\)\].*/\1/p" ;;
  *) printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1 ;;
  esac
}

# has PATTERN...: true when the first result line holds every "name=value" given.
has() {
  local line want
  line=" $(printf '%s\n' "$OUT" | grep -m1 '^id=') "
  for want in "$@"; do
    case "$line" in
    *" $want "*) ;;
    *) return 1 ;;
    esac
  done
  [ "$RC" -eq 0 ]
}

# between X LO HI: LO <= X <= HI, decimals allowed.
between() {
  awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }'
}

# took LO HI: the transfer's own time (t=) is within [LO, HI] and the whole probe run ended
# by HI + 1 s of wall-clock time (plus SLACK under a wrapper).
took() {
  between "$(field t)" "$1" "$2" &&
    between "$ELAPSED" 0 "$(awk -v h="$2" -v s="$SLACK" 'BEGIN { print h + 1 + s }')"
}

# fnv FILE: the probe's body hash (FNV-1a, 32 bits) of FILE.
fnv() {
  python3 - "$1" <<'EOF'
import sys
h = 2166136261
for b in open(sys.argv[1], 'rb').read():
    h = ((h ^ b) * 16777619) & 0xffffffff
print('%08x' % h)
EOF
}

# free_port: a port nothing listens on right now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT: until something accepts on 127.0.0.1:PORT (5 s at most).
wait_port() {
  local _
  for _ in $(seq 1 100); do
    if timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; then
      return 0
    fi
    sleep 0.05
  done
  return 1
}

# wait_file FILE: until FILE has a port number in it (5 s at most); prints it.
wait_port_file() {
  local _
  for _ in $(seq 1 100); do
    if grep -qE '[0-9]+' "$1" 2>/dev/null; then
      grep -oE 'port [0-9]+' "$1" | head -1 | cut -d' ' -f2
      return 0
    fi
    sleep 0.05
  done
  return 1
}

# ---- data ---------------------------------------------------------------------------------
DOCS="$WORK/docs"
mkdir -p "$DOCS"
head -c 5000 /dev/urandom >"$DOCS/small.bin"
head -c 300000 /dev/urandom >"$DOCS/big.bin"
head -c 100000 /dev/urandom >"$DOCS/exact.bin"
printf '{"center":"c1","pools":[]}\n' >"$DOCS/feed.json"
SMALL_SHA=$(fnv "$DOCS/small.bin")
EXACT_SHA=$(fnv "$DOCS/exact.bin")
FEED_SHA=$(fnv "$DOCS/feed.json")

# ---- the misbehaving server ----------------------------------------------------------------
cat >"$WORK/server.py" <<'EOF'
import gzip, http.server, socketserver, sys, threading, time

LOCK = threading.Lock()
SLOW = {"now": 0, "most": 0}  # /slow requests being answered, and the most at once
HTML = b"<!DOCTYPE html><html><body><h1>503 Service Unavailable</h1></body></html>\n"
GZ = gzip.compress(b"\0" * 200000)
TAG = '"v1-abc"'


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def reply(self, code, body, ctype="text/plain", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        p = self.path
        if p == "/500":
            self.reply(500, b"internal error\n")
        elif p == "/html-error":
            self.reply(503, HTML, "text/html")
        elif p == "/etag":
            if self.headers.get("If-None-Match") == TAG:
                self.send_response(304)
                self.send_header("ETag", TAG)
                self.end_headers()
            else:
                # Odd case and padding: the probe must report the value trimmed.
                self.reply(200, b"etag body\n", extra=[("eTaG", "   " + TAG + "  ")])
        elif p == "/long-etag":
            self.reply(200, b"x\n", extra=[("ETag", '"' + "a" * 400 + '"')])
        elif p == "/error-etag":
            self.reply(500, b"no\n", extra=[("ETag", TAG)])
        elif p == "/echo":
            self.reply(200, self.headers.get("X-Probe", "").encode())
        elif p == "/gzip":
            self.reply(200, GZ, extra=[("Content-Encoding", "gzip")])
        elif p.startswith("/slow/"):
            with LOCK:
                SLOW["now"] += 1
                SLOW["most"] = max(SLOW["most"], SLOW["now"])
            time.sleep(0.3)
            with LOCK:
                SLOW["now"] -= 1
            self.reply(200, b"slow\n")
        elif p == "/slow-most":
            with LOCK:
                self.reply(200, b"%d\n" % SLOW["most"])
        elif p == "/hang":
            time.sleep(3600)
        elif p == "/trickle":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            for _ in range(100):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(1)
        elif p == "/endless":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = b"y" * 65536
            while True:
                self.wfile.write(chunk)
        elif p == "/garbage":
            self.wfile.write(b"this is not http\r\n\r\n")
            self.close_connection = True
        else:
            self.reply(404, b"not found\n")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
print("port %d" % srv.server_address[1], flush=True)
srv.serve_forever()
EOF

timeout -k 5 300 python3 -u "$WORK/server.py" >"$WORK/odd.port" 2>"$WORK/odd.log" &
PIDS+=($!)
ODD_PORT=$(wait_port_file "$WORK/odd.port")
ODD="http://127.0.0.1:$ODD_PORT"

timeout -k 5 300 python3 -u -m http.server --bind 127.0.0.1 --directory "$DOCS" 0 \
  >"$WORK/py.port" 2>"$WORK/py.log" &
PIDS+=($!)
PY_PORT=$(wait_port_file "$WORK/py.port")
PY="http://127.0.0.1:$PY_PORT"

NGHTTPD=$(command -v nghttpd || echo /usr/sbin/nghttpd)
NG=""
for _ in 1 2 3; do
  port=$(free_port)
  timeout -k 5 300 "$NGHTTPD" --no-tls -v -a 127.0.0.1 -d "$DOCS" "$port" >"$WORK/ng.log" 2>&1 &
  pid=$!
  if wait_port "$port"; then
    PIDS+=("$pid")
    NG="http://127.0.0.1:$port"
    break
  fi
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
done

[ -n "$ODD_PORT" ] && [ -n "$PY_PORT" ] && [ -n "$NG" ]
OUT="odd=$ODD_PORT py=$PY_PORT ng=$NG"
ok $? "test servers are up (python odd server, python http.server, nghttpd --no-tls)"

# ---- file:// -------------------------------------------------------------------------------
probe "file://$DOCS/small.bin"
has status=ok err=0 http=0 len=5000 "sha=$SMALL_SHA" v=0
ok $? "file:// reads the whole file (len, hash, no HTTP status)"

probe "file://$DOCS/missing.json"
has status=error errno_name=ENOENT
ok $? "file:// of a missing file is -ENOENT"

# ---- HTTP/1.1: python http.server ----------------------------------------------------------
probe "$PY/feed.json"
LM=$(field lm)
has status=ok err=0 http=200 "len=$(wc -c <"$DOCS/feed.json")" "sha=$FEED_SHA" v=1 && [ -n "$LM" ]
ok $? "HTTP/1.1 200 with the body and Last-Modified captured ($LM)"

probe --last-modified "$LM" "$PY/feed.json"
has status=ok err=0 http=304 not_modified=1 len=0
ok $? "If-Modified-Since with that Last-Modified gets 304 -> not_modified, err 0"

probe --header "X-Probe: hello-probe" --show-body "$ODD/echo"
has status=ok http=200 && [ "$(field body)" = "hello-probe" ]
ok $? "custom request headers are sent"

probe --header $'X-Probe: a\r\nX-Injected: b' "$ODD/echo"
has status=error errno_name=EINVAL
ok $? "a header with CR/LF is refused (-EINVAL) before anything is sent"

probe --etag $'"x"\r\nX-Injected: b' "$ODD/etag"
has status=error errno_name=EINVAL
ok $? "an etag with CR/LF is refused (-EINVAL)"

probe "$ODD/etag"
has status=ok http=200 && [ "$(field etag)" = '"v1-abc"' ]
ok $? "ETag captured with a case-insensitive name and the value trimmed"

probe --etag '"v1-abc"' "$ODD/etag"
has status=ok err=0 http=304 not_modified=1 && [ "$(field etag)" = '"v1-abc"' ]
ok $? "If-None-Match with that ETag gets 304 -> not_modified"

probe "$ODD/long-etag"
has status=ok http=200 && [ -z "$(field etag)" ]
ok $? "an ETag too long to keep is dropped, not truncated"

probe "$ODD/error-etag"
has status=ok http=500 && [ -z "$(field etag)" ]
ok $? "validators of an error response are not reported"

# ---- HTTP/2 cleartext: nghttpd -------------------------------------------------------------
probe --h2c "$NG/feed.json"
LM2=$(field lm)
has status=ok err=0 http=200 v=2 "sha=$FEED_SHA" && [ -n "$LM2" ]
ok $? "HTTP/2 prior knowledge against nghttpd: 200 over h2, Last-Modified captured"

# nghttpd sends no ETag (checked here, so the If-None-Match case runs on the python server).
[ -z "$(field etag)" ]
ok $? "nghttpd sends no ETag (If-None-Match is tested against the python server)"

probe --h2c --last-modified "$LM2" "$NG/feed.json"
has status=ok err=0 http=304 not_modified=1 v=2
ok $? "If-Modified-Since over HTTP/2 gets 304 -> not_modified"

probe "$NG/feed.json"
has status=error
ok $? "without --h2c, HTTP/1.1 to an h2-only server fails cleanly"

probe --h2c --sequential --count 3 "$NG/feed.json"
n_ok=$(printf '%s\n' "$OUT" | grep -c "^id=.* status=ok err=0 .*http=200 .*sha=$FEED_SHA v=2 ")
[ "$RC" -eq 0 ] && [ "$n_ok" -eq 3 ]
ok $? "3 h2c fetches one after another (each started from the last one's callback) all succeed"

# Parsed h2c URLs are kept by URL; fetch-probe is built with room for 3 (tests/meson.build), so
# this sequence runs through hits and through the cache starting over, twice. Every answer must
# be its own URL's file.
SEQ="a b c a b c d e f d e f g h a g h a"
URLS=()
for k in $SEQ; do
  printf 'cache-%s' "$k" >"$DOCS/c-$k.txt"
  URLS+=("$NG/c-$k.txt")
done
probe --h2c --sequential --show-body "${URLS[@]}"
i=0
n_right=0
for k in $SEQ; do
  printf '%s\n' "$OUT" | grep -q "^id=$i status=ok .*http=200 .* body=\[cache-$k\]$" &&
    n_right=$((n_right + 1))
  i=$((i + 1))
done
[ "$RC" -eq 0 ] && [ "$n_right" -eq 18 ]
ok $? "18 h2c fetches of 8 URLs through a 3-URL cache of parsed targets: each answer is its URL's ($n_right)"

conns_before=$(grep -oE '^\[id=[0-9]+\]' "$WORK/ng.log" | sort -u | wc -l)
probe --h2c --count 20 "$NG/small.bin"
n_ok=$(printf '%s\n' "$OUT" | grep -c "^id=.* status=ok err=0 .*http=200 len=5000 .*sha=$SMALL_SHA v=2 ")
[ "$RC" -eq 0 ] && [ "$n_ok" -eq 20 ]
ok $? "20 concurrent HTTP/2 fetches all succeed ($n_ok ok)"
conns_after=$(grep -oE '^\[id=[0-9]+\]' "$WORK/ng.log" | sort -u | wc -l)
OUT="$((conns_after - conns_before)) connections for 20 fetches"
[ $((conns_after - conns_before)) -eq 1 ]
ok $? "20 h2c fetches share one connection, one stream each"

# A name: resolved off the loop; localhost may give ::1 first, where nghttpd does not listen, so
# the next address is tried.
conns_before=$(grep -oE '^\[id=[0-9]+\]' "$WORK/ng.log" | sort -u | wc -l)
probe --h2c --count 5 "http://localhost:${NG##*:}/feed.json"
n_ok=$(printf '%s\n' "$OUT" | grep -c "^id=.* status=ok err=0 .*http=200 .*sha=$FEED_SHA v=2 ")
conns_after=$(grep -oE '^\[id=[0-9]+\]' "$WORK/ng.log" | sort -u | wc -l)
[ "$RC" -eq 0 ] && [ "$n_ok" -eq 5 ] && [ $((conns_after - conns_before)) -eq 1 ]
ok $? "h2c to a host name: resolved, 5 fetches over one connection ($n_ok ok)"

probe --h2c "http://no-such-host.invalid:${NG##*:}/feed.json"
has status=error errno_name=EHOSTUNREACH http=0 && field msg | grep -q 'cannot resolve'
ok $? "h2c to a name that does not resolve: -EHOSTUNREACH, 'cannot resolve'"

probe --h2c --header "X-Probe: hello-h2c" --header "Connection: close" "$NG/feed.json"
has status=ok http=200 v=2 && grep -q 'x-probe: hello-h2c' "$WORK/ng.log" &&
  ! grep -qi '^ *connection: close' "$WORK/ng.log"
ok $? "h2c request headers arrive lower-cased; connection-specific ones are left out"

# Beyond 100 requests in flight on a connection the rest queue in the client, and go out as
# answers come in.
conns_before=$(grep -oE '^\[id=[0-9]+\]' "$WORK/ng.log" | sort -u | wc -l)
probe --h2c --count 250 "$NG/small.bin"
n_ok=$(printf '%s\n' "$OUT" | grep -c "^id=.* status=ok err=0 .*http=200 len=5000 .*sha=$SMALL_SHA v=2 ")
conns_after=$(grep -oE '^\[id=[0-9]+\]' "$WORK/ng.log" | sort -u | wc -l)
[ "$RC" -eq 0 ] && [ "$n_ok" -eq 250 ] && [ $((conns_after - conns_before)) -eq 1 ]
ok $? "250 h2c fetches at once: 100 in flight, the rest queued, all on one connection ($n_ok ok)"

probe --h2c --count 150 "http://127.0.0.1:$(free_port)/feed.json"
n_refused=$(printf '%s\n' "$OUT" | grep -c '^id=.* status=error .*errno_name=ECONNREFUSED ')
[ "$RC" -eq 0 ] && [ "$n_refused" -eq 150 ] && between "$ELAPSED" 0 $((3 + SLACK))
ok $? "150 h2c fetches to a closed port, 50 of them queued: all -ECONNREFUSED at once (${ELAPSED}s)"

probe --h2c --count 250 --cancel-others "$NG/small.bin"
n_lines=$(printf '%s\n' "$OUT" | grep -c '^id=')
[ "$RC" -eq 0 ] && [ "$n_lines" -eq 1 ] && printf '%s\n' "$OUT" | grep -q '^cancelled=249 active=0'
ok $? "cancelling 249 (in flight and queued) from the first done callback: no more callbacks"

probe --h2c --count 20 --cancel-others "$NG/small.bin"
n_lines=$(printf '%s\n' "$OUT" | grep -c '^id=')
[ "$RC" -eq 0 ] && [ "$n_lines" -eq 1 ] && printf '%s\n' "$OUT" | grep -q '^cancelled='
ok $? "cancelling the other 19 from inside the first done callback: no more callbacks"

# ---- h2c servers that misbehave: tests/integration/h2c_server.py ---------------------------
h2c_server() { # mode -> sets H2S (its URL) and H2S_LOG
  H2S_LOG="$WORK/h2s-$1.log"
  timeout -k 5 300 python3 -u "$(dirname "$0")/h2c_server.py" "$1" >"$WORK/h2s-$1.port" \
    2>"$H2S_LOG" &
  PIDS+=($!)
  H2S="http://127.0.0.1:$(wait_port_file "$WORK/h2s-$1.port")"
}

h2c_server goaway
probe --h2c --count 2 "$H2S/feed"
n_ok=$(printf '%s\n' "$OUT" | grep -c '^id=.* status=ok err=0 .*http=200 len=2 ')
[ "$RC" -eq 0 ] && [ "$n_ok" -eq 2 ] && [ "$(grep -c '^conn' "$H2S_LOG")" -eq 2 ]
ok $? "GOAWAY: the request the server refused unseen is sent again on a new connection"

h2c_server close
probe --h2c "$H2S/feed"
has status=error errno_name=EPROTO && field msg | grep -qE '(closed|reset) the connection' &&
  [ "$(grep -c '^conn' "$H2S_LOG")" -eq 2 ]
ok $? "a server that closes without answering: one retry on a new connection, then -EPROTO"

h2c_server silent
probe --h2c --timeout 1 "$H2S/feed"
has status=error errno_name=ETIMEDOUT && took 0.95 2.0
ok $? "an h2c server that never answers: -ETIMEDOUT after ~1 s (t=$(field t))"

h2c_server limit1
probe --h2c --count 3 --timeout 0.6 "$H2S/feed"
n_to=$(printf '%s\n' "$OUT" | grep -c '^id=.* status=error .*errno_name=ETIMEDOUT ')
[ "$RC" -eq 0 ] && [ "$n_to" -eq 3 ]
ok $? "a server allowing one stream that never answers: the requests waiting unsent in the session time out too, cleanly ($n_to)"

probe --h2c --count 3 --cancel-first "$NG/small.bin"
n_ok=$(printf '%s\n' "$OUT" | grep -c "^id=[12] status=ok err=0 .*http=200 len=5000 ")
[ "$RC" -eq 0 ] && [ "$n_ok" -eq 2 ] && ! printf '%s\n' "$OUT" | grep -q '^id=0 ' &&
  printf '%s\n' "$OUT" | grep -q '^cancelled=1 active=2$'
ok $? "an h2c request cancelled before it left: no callback for it, the others answered"

probe --h2c "$PY/feed.json"
has status=error errno_name=EPROTO http=0
ok $? "h2c to an HTTP/1.1-only server is -EPROTO"

probe --h2c "http://127.0.0.1:$(free_port)/feed.json"
has status=error errno_name=ECONNREFUSED http=0
ok $? "h2c to a closed port is -ECONNREFUSED"

# ---- the size cap --------------------------------------------------------------------------
probe --max-bytes 100000 "file://$DOCS/big.bin"
has status=error errno_name=EFBIG len=0
ok $? "file:// larger than --max-bytes is -EFBIG"

probe --max-bytes 100000 "$PY/big.bin"
has status=error errno_name=EFBIG && field msg | grep -q '100000-byte cap'
ok $? "HTTP/1.1 body larger than the cap is -EFBIG with a clear message"

probe --h2c --max-bytes 100000 "$NG/big.bin"
has status=error errno_name=EFBIG
ok $? "HTTP/2 body larger than the cap is -EFBIG"

probe --max-bytes 100000 "$PY/exact.bin" "file://$DOCS/exact.bin"
n_ok=$(printf '%s\n' "$OUT" | grep -c "status=ok .*len=100000 .*sha=$EXACT_SHA ")
[ "$RC" -eq 0 ] && [ "$n_ok" -eq 2 ]
ok $? "a body of exactly --max-bytes is accepted (http and file)"

probe --max-bytes 100000 "$ODD/endless"
has status=error errno_name=EFBIG && took 0 4
ok $? "an endless body stops at the cap with -EFBIG (${ELAPSED}s)"

probe --max-bytes 300000 "$ODD/gzip"
has status=ok http=200 len=200000
ok $? "a gzip body is decoded (200000 bytes from a ~200-byte transfer)"

probe --max-bytes 100000 "$ODD/gzip"
has status=error errno_name=EFBIG
ok $? "the cap applies to the decoded body (gzip bomb -> -EFBIG)"

# ---- transport failures --------------------------------------------------------------------
probe "http://127.0.0.1:$(free_port)/feed.json"
has status=error errno_name=ECONNREFUSED http=0
ok $? "a closed port is -ECONNREFUSED"

probe --timeout 1 "$ODD/hang"
has status=error errno_name=ETIMEDOUT && took 0.95 2.0
ok $? "a server that accepts and never answers: -ETIMEDOUT after ~1 s (t=$(field t))"

probe --timeout 0.3 "$ODD/hang"
has status=error errno_name=ETIMEDOUT && took 0.28 0.9
ok $? "sub-second timeouts are honoured, neither truncated nor rounded up (t=$(field t))"

probe --timeout 3 "$ODD/trickle"
has status=error errno_name=ETIMEDOUT && took 2.95 4.0
ok $? "a server trickling a byte a second: -ETIMEDOUT at the total timeout (t=$(field t))"

probe "$ODD/garbage"
has status=error errno_name=EPROTO
ok $? "a reply that is not HTTP is -EPROTO"

# ---- HTTP errors are not transport errors --------------------------------------------------
probe --show-body "$ODD/500"
has status=ok err=0 http=500 && [ "$(field msg)" = "HTTP 500" ] &&
  [ "$(field body)" = 'internal error\x0a' ]
ok $? "HTTP 500: err 0, status 500, msg 'HTTP 500', body passed through"

probe --show-body "$ODD/html-error"
has status=ok err=0 http=503 && field body | grep -q '<h1>503 Service Unavailable</h1>'
ok $? "an HTML error page: status and body passed through"

probe "$ODD/nothing-here"
has status=ok err=0 http=404
ok $? "HTTP 404: err 0, status 404"

# ---- cancel and refusals -------------------------------------------------------------------
probe --cancel-after-ms 300 --count 3 "$ODD/hang" "$ODD/trickle"
[ "$RC" -eq 0 ] && ! printf '%s\n' "$OUT" | grep -q '^id=' &&
  printf '%s\n' "$OUT" | grep -q '^cancelled=6 active=0$' && between "$ELAPSED" 0 $((2 + SLACK))
ok $? "cancel after 300 ms: no callback, nothing active, clean exit (${ELAPSED}s)"

probe "ftp://127.0.0.1/feed.json"
has status=error errno_name=EINVAL && field msg | grep -q 'fetch_start refused'
ok $? "ftp:// is refused by fetch_start with -EINVAL (no callback)"

probe "127.0.0.1/feed.json"
has status=error errno_name=EINVAL
ok $? "a URL without a scheme is refused with -EINVAL"

probe --timeout -1 "$PY/feed.json"
has status=error errno_name=EINVAL
ok $? "a negative timeout is refused with -EINVAL"

# Twelve slow transfers to one server at once: they share at most 4 connections (HTTP/1.1,
# one request at a time each), so the server never answers more than 4 at once.
urls=()
for i in $(seq 1 12); do urls+=("$ODD/slow/$i"); done
probe "${urls[@]}"
most=$(curl -s --max-time 5 "$ODD/slow-most")
[ "$RC" -eq 0 ] && [ "$(printf '%s\n' "$OUT" | grep -c '^id=.* status=ok .*http=200')" -eq 12 ] &&
  [ -n "$most" ] && [ "$most" -ge 1 ] && [ "$most" -le 4 ]
ok $? "12 transfers to one host at once: all 200, at most 4 connections at a time (saw $most)"

# ---- without libcurl: the probe built to load a library that is not there ------------------
if [ -n "${FETCH_PROBE_NOCURL:-}" ]; then
  SAVED_PROBE=$FETCH_PROBE
  FETCH_PROBE=$FETCH_PROBE_NOCURL
  probe --h2c "$NG/feed.json"
  has status=ok err=0 http=200 v=2 "sha=$FEED_SHA"
  ok $? "without libcurl, h2c still goes through the HTTP/2 client: 200 over h2"
  probe "file://$DOCS/small.bin" "$PY/feed.json"
  [ "$RC" -eq 0 ] && [ "$(printf '%s\n' "$OUT" | grep -c '^id=.* errno_name=ELIBACC ')" -eq 2 ] &&
    field msg | grep -q 'libcurl .*could not be loaded: libsuanwang-no-such-curl.so.4'
  ok $? "without libcurl, file:// and HTTP/1.1 each fail from the loop with -ELIBACC and why: $(field msg)"
  probe --h2c "http://[::1]:${NG##*:}/feed.json"
  has status=error errno_name=ELIBACC
  ok $? "an h2c URL only libcurl's parser takes fails the same way"
  probe "ftp://127.0.0.1/feed.json"
  has status=error errno_name=EINVAL && field msg | grep -q 'fetch_start refused'
  ok $? "a scheme none of ours is still refused by fetch_start with -EINVAL, without libcurl"
  FETCH_PROBE=$SAVED_PROBE
fi

probe "$PY/feed.json" "file://$DOCS/small.bin" "$ODD/500" "http://127.0.0.1:$(free_port)/" \
  "file://$DOCS/missing"
[ "$RC" -eq 0 ] && [ "$(printf '%s\n' "$OUT" | grep -c '^id=')" -eq 5 ]
ok $? "mixed transfers in one loop each get exactly one callback"

done_testing

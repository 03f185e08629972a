# live.sh — shared by the tests against real external servers (Slurm, Prometheus),
# sourced after lib.sh. The test sets WAIT_S (one wait's limit) and BUDGET_END (the
# end of every wait, in epoch seconds, well inside meson's timeout) and defines
# show_logs (the logs worth seeing after the first failure).

deadline() { # prints the end of a wait of $1 seconds, capped by the budget
  local e=$(($(date +%s) + $1))
  echo $((e < BUDGET_END ? e : BUDGET_END))
}

check() { # STATUS DESCRIPTION: ok, and the logs after the first failure
  ok "$1" "$2"
  [ "$1" -eq 0 ] || show_logs
}

bail() { # DESCRIPTION: a failed step the rest depends on
  check 1 "$1"
  done_testing
}

JQDEFS='
def pool($m): [.pools[] | select(.model == $m)] | if length == 1 then .[0] else null end;
def counts($m; $t; $f; $b): pool($m) | . != null and .total == $t and .free == $f and .largest_block == $b;
def near($a; $b): (($a - $b) | if . < 0 then -. else . end) < 1e-6;
def pieces: [.pieces[] | "\(.center)/\(.model)/\(.cards)"];
def cand($c; $m): [.candidates[] | select(.center == $c and .model == $m)] | if length == 1 then .[0] else null end;
'
jx() { printf '%s' "$BODY" | jq -e "$JQDEFS $1" >/dev/null 2>&1; }

# wait_center ID JQ: polls GET /v1/centers/ID (as $ADMIN) until JQ holds; false at the deadline.
wait_center() {
  local end
  end=$(deadline "$WAIT_S")
  while :; do
    req GET "/v1/centers/$1" "" "$ADMIN"
    if [ "$STATUS" = 200 ] && jx "$2"; then return 0; fi
    if [ "$(date +%s)" -ge "$end" ]; then
      echo "# $1 after ${WAIT_S}s: $(printf '%s' "$BODY" | jq -c '{pools: [.pools[]? | "\(.model) total \(.total) free \(.free) largest_block \(.largest_block)"], feed: (.feeds[0]? | {last_success, last_error, age_s})}' 2>/dev/null)"
      return 1
    fi
    sleep 0.2
  done
}

free_port() { # prints a TCP port free on 127.0.0.1 just now
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

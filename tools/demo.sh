#!/usr/bin/env bash
# The broker on its embedded default: installs what is missing, builds, starts
# brokerd --demo on a local SQLite file, makes a tenant token, routes one
# request and explains the decision. The broker keeps running (Ctrl-C stops
# it) unless --once is given.
#   tools/demo.sh [--once] [--port N] [--db FILE]
set -euo pipefail
cd "$(dirname "$0")/.."

once=0
port=8080
db=suanwang-demo.db
while [ $# -gt 0 ]; do
  case "$1" in
    --once) once=1 ;;
    --port) port=$2; shift ;;
    --db) db=$2; shift ;;
    *) echo "usage: tools/demo.sh [--once] [--port N] [--db FILE]" >&2; exit 2 ;;
  esac
  shift
done

bash tools/deps.sh
if [ ! -d build ]; then
  meson setup build >/dev/null
fi
ninja -C build >/dev/null

admin="demo-admin-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
portfile=$(mktemp)
SUANWANG_ADMIN_TOKEN="$admin" build/brokerd --demo --db "$db" --listen "127.0.0.1:$port" \
  --port-file "$portfile" 2>brokerd-demo.log &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$portfile"' EXIT
for _ in $(seq 1 100); do
  [ -s "$portfile" ] && break
  kill -0 $pid 2>/dev/null || { cat brokerd-demo.log >&2; exit 1; }
  sleep 0.05
done
export SUANWANG_URL="http://127.0.0.1:$(cat "$portfile")"
export SUANWANG_TOKEN
SUANWANG_TOKEN=$(build/brokerctl --token "$admin" token tenant demo-tenant)

echo "== brokerd is serving HTTP/2 on $SUANWANG_URL with $(build/brokerctl centers --json | jq '.centers | length') demo centers (log: brokerd-demo.log)"
echo
echo "== brokerctl route --precision bf16 --pflops 20 --hours 72 --origin cn-shanghai --min-memory-gib 64"
out=$(build/brokerctl route --precision bf16 --pflops 20 --hours 72 --origin cn-shanghai \
  --min-memory-gib 64)
echo "$out"
decision=$(echo "$out" | awk '/^decision/ {print $2; exit}')
echo
echo "== brokerctl explain $decision"
build/brokerctl explain "$decision"

if [ $once -eq 1 ]; then
  exit 0
fi
echo
echo "The broker keeps running. In another shell:"
echo "  export SUANWANG_URL=$SUANWANG_URL SUANWANG_TOKEN=$SUANWANG_TOKEN"
echo "  build/brokerctl centers; build/brokerctl hold --precision fp16 --cards 8 --hours 4 --origin cn-beijing"
echo "Ctrl-C stops it."
wait $pid

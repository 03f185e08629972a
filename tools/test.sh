#!/usr/bin/env bash
# Runs every test: installs what is missing, builds with gcc (-Werror) and runs the
# suite, then builds with clang under AddressSanitizer + UndefinedBehaviorSanitizer
# and runs the suite again. Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

bash tools/deps.sh --test || { echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0

run_suite() { # name builddir meson-setup-args...
  local name=$1 dir=$2
  shift 2
  if [ ! -d "$dir" ]; then
    if ! meson setup "$dir" "$@" >"$dir.setup.log" 2>&1; then
      cat "$dir.setup.log"
      failed=$((failed + 1))
      return
    fi
  fi
  if ! ninja -C "$dir" >"$dir.build.log" 2>&1; then
    cat "$dir.build.log"
    echo "build failed: $name"
    failed=$((failed + 1))
    return
  fi
  echo "== $name"
  meson test -C "$dir" --print-errorlogs --num-processes 2 --timeout-multiplier 3
  local log="$dir/meson-logs/testlog.json"
  local p f
  p=$(jq -s '[.[] | select(.result == "OK" or .result == "SKIP")] | length' "$log")
  f=$(jq -s '[.[] | select(.result != "OK" and .result != "SKIP")] | length' "$log")
  passed=$((passed + p))
  failed=$((failed + f))
}

run_suite "gcc" build
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
CC=clang run_suite "clang asan+ubsan" build-asan -Db_sanitize=address,undefined \
  -Db_lundef=false -Dbuildtype=debug

# The README's first command, end to end, on a scratch database and a free port.
echo "== README demo command"
demo_db=$(mktemp -u /tmp/suanwang-demo.XXXXXX.db)
if out=$(bash tools/demo.sh --once --port 0 --db "$demo_db" 2>&1) &&
  echo "$out" | grep -q '^\*' && echo "$out" | grep -q 'Runner-up'; then
  echo "ok - tools/demo.sh routes a request and explains it"
  passed=$((passed + 1))
else
  echo "$out"
  echo "not ok - tools/demo.sh"
  failed=$((failed + 1))
fi
rm -f "$demo_db" "$demo_db"-wal "$demo_db"-shm

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

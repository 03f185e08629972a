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
CC=clang run_suite "clang asan+ubsan" build-asan -Db_sanitize=address,undefined \
  -Db_lundef=false -Dbuildtype=debug

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

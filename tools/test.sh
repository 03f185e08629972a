#!/usr/bin/env bash
# Runs every test: installs what is missing, builds with gcc (-Werror) and runs the
# suite and, under valgrind, the unit tests; then builds with clang under
# AddressSanitizer + UndefinedBehaviorSanitizer and runs the suite again; then runs
# every fuzz target for FUZZ_SECONDS (default 20) in a clang -Dfuzz=true build.
# Ends with one line "N passed, N failed".
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

# The unit tests once more under valgrind (the setup in ../meson.build), without the
# allocation-failure sweeps (suite failalloc): they run thousands of iterations each.
echo "== valgrind (unit)"
if [ -f build/build.ninja ]; then
  log=build/meson-logs/testlog-valgrind.json
  rm -f "$log"
  meson test -C build --setup valgrind --suite unit --no-suite failalloc --print-errorlogs \
    --num-processes 2
  if [ -s "$log" ]; then
    passed=$((passed + $(jq -s '[.[] | select(.result == "OK" or .result == "SKIP")] | length' "$log")))
    failed=$((failed + $(jq -s '[.[] | select(.result != "OK" and .result != "SKIP")] | length' "$log")))
  else
    failed=$((failed + 1))
  fi
else
  failed=$((failed + 1))
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
CC=clang run_suite "clang asan+ubsan" build-asan -Db_sanitize=address,undefined \
  -Db_lundef=false -Dbuildtype=debug

# A short libFuzzer run per fuzz target (tests/fuzz/README.md) in a clang -Dfuzz=true build.
# New inputs go to a scratch directory, never into the committed corpus; a crash, leak,
# sanitizer report or timeout fails the target and leaves its reproducer in that directory.
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
echo "== fuzz smoke (${FUZZ_SECONDS} s per target)"
fuzz_ok=1
if [ ! -d build-fuzz ]; then
  CC=clang meson setup build-fuzz -Dfuzz=true -Db_lundef=false >build-fuzz.setup.log 2>&1 ||
    { cat build-fuzz.setup.log; fuzz_ok=0; }
fi
if [ "$fuzz_ok" = 1 ] && ! ninja -C build-fuzz >build-fuzz.build.log 2>&1; then
  cat build-fuzz.build.log
  fuzz_ok=0
fi
if [ "$fuzz_ok" = 0 ]; then
  echo "not ok - build-fuzz"
  failed=$((failed + 1))
else
  fuzz_tmp=$(mktemp -d /tmp/suanwang-fuzz.XXXXXX)
  for bin in build-fuzz/tests/fuzz-*; do
    if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
      continue
    fi
    target=${bin##*/fuzz-}
    case "$target" in replay-*) continue ;; esac
    mkdir -p "$fuzz_tmp/$target"
    if "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$fuzz_tmp/$target/crash-" "$fuzz_tmp/$target" \
      "tests/fuzz/corpus/$target" >"$fuzz_tmp/$target.log" 2>&1; then
      echo "ok - fuzz $target: $(grep -E '^#[0-9]+[[:space:]]+DONE' "$fuzz_tmp/$target.log" | tail -1)"
      passed=$((passed + 1))
    else
      tail -40 "$fuzz_tmp/$target.log"
      echo "not ok - fuzz $target (reproducer and log in $fuzz_tmp)"
      failed=$((failed + 1))
      fuzz_keep=1
    fi
  done
  [ -n "${fuzz_keep:-}" ] || rm -rf "$fuzz_tmp"
fi

# The README's first command, end to end, on a scratch database and a free port. (Here-strings,
# not `echo | grep -q`: with pipefail, grep leaving early can make echo die of SIGPIPE.)
echo "== README demo command"
demo_db=$(mktemp -u /tmp/suanwang-demo.XXXXXX.db)
if out=$(bash tools/demo.sh --once --port 0 --db "$demo_db" 2>&1) &&
  grep -q '^\*' <<<"$out" && grep -q 'Runner-up' <<<"$out"; then
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

#!/usr/bin/env bash
# run.sh — runs every benchmark of tools/bench and the trace replay, and writes RESULTS.md: the
# machine, the date, the commit, each figure next to the reference measured in the same run on
# the same machine with their ratio, and the exact command lines. Absolute times on a shared
# machine drift; the ratios are the figures to compare between runs.
#
#   tools/bench/run.sh [--smoke] [--out FILE] [BUILD_DIR]      (default BUILD_DIR: build)
#
# Benchmarks: route-core (tools/bench/route-core.c), placements.sh, ingest.sh, memory.sh and the
# replay (tools/replay). A full run takes several minutes; run it with `nice` on a shared machine.
# --smoke runs each in a very reduced form (about 20-30 s in all) to check that they still run,
# and writes BUILD_DIR/RESULTS-smoke.md unless --out says otherwise; a full run writes
# tools/bench/RESULTS.md. A benchmark whose tools are missing is reported as skipped.
#
# Environment (full-run defaults):
#   BENCH_ONLY       space-separated subset of: route-core placements ingest memory replay
#   ROUTE_SECONDS    route-core measuring time per pool count (6)
#   ROUTE_SIZES      route-core pool counts (1000,10000,100000)
#   BENCH_CENTERS, BENCH_SECONDS, BENCH_WARMUP, BENCH_CLIENTS, BENCH_STREAMS: placements.sh (its
#                    defaults: 1000 centers, 10 s per h2load run after 2 s warm-up, 10 x 10)
#   INGEST_CENTERS   ingest.sh centers (1000); INGEST_STEADY its steady-state seconds (20);
#                    SPREAD its feed_first_poll_spread_s (its default)
#   MEM_CENTERS, MEM_POOLS, MEM_STARTS: memory.sh (10000 x 4, 3 start-ups each)
#   REPLAY_JOBS      replay only the first N jobs (all)
#   BENCH_TIMEOUT    seconds allowed per benchmark (1800; smoke 300)
# Exit status: 0 when every benchmark that ran succeeded, 1 otherwise, 2 usage.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SMOKE=0
OUT=""
BUILD=""
while [ $# -gt 0 ]; do
  case $1 in
  --smoke) SMOKE=1 ;;
  --out) OUT=${2:?--out wants a file}; shift ;;
  --help | -h) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  *) BUILD=$1 ;;
  esac
  shift
done
BUILD=$(cd "${BUILD:-$ROOT/build}" 2>/dev/null && pwd) || { echo "run.sh: no build directory" >&2; exit 2; }
if [ -z "$OUT" ]; then
  if [ "$SMOKE" = 1 ]; then OUT=$BUILD/RESULTS-smoke.md; else OUT=$ROOT/tools/bench/RESULTS.md; fi
fi

if [ "$SMOKE" = 1 ]; then
  ROUTE_ARGS=(--smoke)
  [ -n "${ROUTE_SIZES:-}" ] && ROUTE_ARGS+=(--sizes "$ROUTE_SIZES")
  PLACEMENTS_ENV=(BENCH_CENTERS="${BENCH_CENTERS:-10}" BENCH_SECONDS="${BENCH_SECONDS:-1}"
    BENCH_WARMUP="${BENCH_WARMUP:-1}" BENCH_CLIENTS="${BENCH_CLIENTS:-2}" BENCH_STREAMS="${BENCH_STREAMS:-4}")
  INGEST_ARGS=("${INGEST_CENTERS:-10}" "${INGEST_STEADY:-1}")
  MEMORY_ENV=(MEM_CENTERS="${MEM_CENTERS:-200}" MEM_POOLS="${MEM_POOLS:-4}" MEM_STARTS="${MEM_STARTS:-1}")
  REPLAY_ARGS=(--jobs "${REPLAY_JOBS:-1500}" --check)
  TIMEOUT=${BENCH_TIMEOUT:-300}
else
  ROUTE_ARGS=(--seconds "${ROUTE_SECONDS:-6}" --sizes "${ROUTE_SIZES:-1000,10000,100000}")
  PLACEMENTS_ENV=()
  for v in BENCH_CENTERS BENCH_SECONDS BENCH_WARMUP BENCH_CLIENTS BENCH_STREAMS; do
    [ -n "${!v:-}" ] && PLACEMENTS_ENV+=("$v=${!v}")
  done
  INGEST_ARGS=("${INGEST_CENTERS:-1000}" "${INGEST_STEADY:-20}")
  MEMORY_ENV=(MEM_CENTERS="${MEM_CENTERS:-10000}" MEM_POOLS="${MEM_POOLS:-4}" MEM_STARTS="${MEM_STARTS:-3}")
  REPLAY_ARGS=(--check)
  [ -n "${REPLAY_JOBS:-}" ] && REPLAY_ARGS=(--jobs "$REPLAY_JOBS" --check)
  TIMEOUT=${BENCH_TIMEOUT:-1800}
fi
ONLY=${BENCH_ONLY:-route-core placements ingest memory replay}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/suanwang-run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ---- running ---------------------------------------------------------------------------------
declare -A STATUS CMD SECS
ORDER=()
failed=0

# The arguments as a shell would need them typed: quoted only where needed.
quote() {
  local a sep=""
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then printf '%s%s' "$sep" "$a"; else printf '%s%q' "$sep" "$a"; fi
    sep=" "
  done
}

# NAME "needed tools" ENV-ASSIGNMENTS... -- COMMAND...: runs one benchmark from the repository
# root, its output in $WORK/NAME.out, and records its status, command line and duration.
bench() {
  local name=$1 needs=$2
  shift 2
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  case " $ONLY " in *" $name "*) ;; *) return 0 ;; esac
  ORDER+=("$name")
  local shown="" t
  [ ${#envs[@]} -gt 0 ] && shown="${envs[*]} "
  CMD[$name]="$shown$(quote "$@" | sed "s|$ROOT/||g")"
  for t in $needs; do
    if ! command -v "$t" >/dev/null; then
      STATUS[$name]="skipped: $t is not installed"
      echo "== $name: ${STATUS[$name]}"
      return 0
    fi
  done
  echo "== $name: ${CMD[$name]}"
  local t0 rc
  t0=$(date +%s.%N)
  (cd "$ROOT" && env "${envs[@]}" timeout "$TIMEOUT" "$@") >"$WORK/$name.out" 2>&1
  rc=$?
  SECS[$name]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
  if [ $rc -eq 0 ]; then
    STATUS[$name]=ok
  else
    STATUS[$name]="failed (exit $rc$([ $rc -eq 124 ] && echo ", timed out after $TIMEOUT s"))"
    failed=1
    tail -n 20 "$WORK/$name.out" | sed 's/^/  | /'
  fi
  echo "   ${STATUS[$name]} in ${SECS[$name]} s"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
T_START=$(date +%s)

bench route-core "" -- "$BUILD/tools/bench/route-core" "${ROUTE_ARGS[@]}"
bench placements "h2load nghttpd curl jq python3" "${PLACEMENTS_ENV[@]}" -- \
  "$ROOT/tools/bench/placements.sh" "$BUILD"
INGEST_ENV=()
[ -n "${SPREAD:-}" ] && INGEST_ENV=(SPREAD="$SPREAD")
bench ingest "h2load curl jq sqlite3 bc" "${INGEST_ENV[@]}" -- "$ROOT/tools/bench/ingest.sh" "$BUILD" "${INGEST_ARGS[@]}"
bench memory "sqlite3 curl jq python3" "${MEMORY_ENV[@]}" -- "$ROOT/tools/bench/memory.sh" "$BUILD"
bench replay "" -- "$BUILD/tools/replay/replay" "${REPLAY_ARGS[@]}" \
  --csv "$WORK/replay.csv" --svg "$WORK/replay.svg"
# The replay's CSV and SVG go to a temp dir; the command line names them as such.
[ -n "${CMD[replay]:-}" ] && CMD[replay]=${CMD[replay]//$WORK/\$TMP}

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
T_TOTAL=$(($(date +%s) - T_START))

# ---- parsing the figures -----------------------------------------------------------------------
out() { cat "$WORK/$1.out" 2>/dev/null; }
ok() { [ "${STATUS[$1]:-}" = ok ]; }
x() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b + 0 > 0) printf "%.3g", a / b; else print "?" }'; }
ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 |"); }
num() { awk -v v="$1" 'BEGIN { if (v == "") print "?"; else if (v + 0 >= 100) printf "%.0f", v; else printf "%.3g", v }'; }

if ok route-core; then
  while read -r pools dps ids sps ratio cpu; do
    row "routing core, $(printf "%'d" "$pools") pools: \`route_decide\` (the process had ${cpu:-?} % of a core)" \
      "$(num "$dps") decisions/s" \
      "linear scan (cheapest pool that fits) $(num "$sps")/s" "$ratio"
    row "routing core, $(printf "%'d" "$pools") pools: inputs for the origin + \`route_decide\`" \
      "$(num "$ids") decisions/s" "linear scan $(num "$sps")/s" "$(x "$ids" "$sps")"
  done < <(out route-core | awk '$1 ~ /^[0-9]+$/ && NF >= 6 { print $1, $3, $4, $5, $6, $9 }')
  g=$(out route-core | sed -n 's/^growth \([0-9]*\)->\([0-9]*\) pools (x\([0-9.]*\)): decide x\([0-9.]*\), input+decide x\([0-9.]*\), scan x\([0-9.]*\).*/\1 \2 \3 \4 \5 \6/p')
  if [ -n "$g" ]; then
    read -r g_from g_to g_pools g_dec g_in g_scan <<<"$g"
    row "routing core: time per decision, growth $(printf "%'d" "$g_from") → $(printf "%'d" "$g_to") pools (×$g_pools)" \
      "×$g_dec (with inputs ×$g_in)" "linear scan ×$g_scan" "$(x "$g_dec" "$g_scan")"
  fi
fi
if ok placements; then
  n=$(out placements | awk '/^== results/ { r = 1 } r && $1 == "nghttpd" { print $2 }')
  d=$(out placements | awk '/^== results/ { r = 1 } r && $1 == "dry" && $2 == "runs" { print $3 }')
  h=$(out placements | awk '/^== results/ { r = 1 } r && $1 == "durable" && $2 == "holds" { print $3 }')
  c=$(out placements | sed -n 's/^== setup: brokerd, \([0-9]*\) centers.*/\1/p')
  row "\`POST /v1/placements\` dry runs, h2load, $c centers" "$(num "$d") req/s" "nghttpd static file $(num "$n") req/s" "$(x "$d" "$n")"
  row "\`POST /v1/placements\` durable holds, h2load, $c centers" "$(num "$h") req/s" "nghttpd static file $(num "$n") req/s" "$(x "$h" "$n")"
  p=$(out placements | awk '/^== results/ { r = 1 } r && $1 == "hold+release" { print $2 }')
  row "\`POST /v1/placements\` durable holds then their releases (\`/release\`), h2load, $c centers" "$(num "$p") req/s" "nghttpd static file $(num "$n") req/s" "$(x "$p" "$n")"
  z=$(out placements | awk '/^== results/ { r = 1 } r && $1 == "healthz" { print $2 }')
  if [ -n "$z" ]; then
    row "brokerd \`GET /healthz\` (its HTTP/2 ceiling: one database read, no token, routing or record), h2load" "$(num "$z") req/s" "nghttpd static file $(num "$n") req/s" "$(x "$z" "$n")"
    row "\`POST /v1/placements\` dry runs / durable holds against brokerd's own ceiling" "$(num "$d") / $(num "$h") req/s" "brokerd \`GET /healthz\` $(num "$z") req/s" "$(x "$d" "$z") / $(x "$h" "$z")"
  fi
fi
if ok ingest; then
  ti=$(out ingest | sed -n 's/^brokerd: cold start to all \([0-9]*\) centers with pools: \([0-9]*\) ms.*/\1 \2/p')
  th=$(out ingest | grep '^h2load:' | sed -n 's/.* documents in \([0-9.]*\) ms.*/\1/p' | head -n 1)
  tf=$(out ingest | sed -n 's/^brokerd: of which ingestion (first poll started to every pool stored): \([0-9]*\) ms.*/\1/p')
  cpu=$(out ingest | sed -n 's/.*CPU \([0-9.]*\)% of one core.*/\1/p')
  polls=$(out ingest | sed -n 's/.*steady state .*: \([0-9.]*\) polls\/s.*/\1/p')
  # The median of each run's own ratio (h2load after each cold start), when reported.
  rpc=$(out ingest | sed -n 's/^ratio, paired .*: cold ingest \([0-9.]*\) .*/\1/p')
  rpf=$(out ingest | sed -n 's/^ratio, paired .*, ingestion alone \([0-9.]*\) .*/\1/p')
  thw=$(out ingest | sed -n 's/^h2load from process start to exit[^:]*: \([0-9]*\) ms.*/\1/p')
  rpw=$(out ingest | sed -n 's/^ratio, paired, both from process start[^:]*: \([0-9.]*\) .*/\1/p')
  read -r ic ims <<<"${ti:-? ?}"
  row "feed ingestion: cold start (process start, database open, inventory load, first polls) until all $ic centers have pools" \
    "$ims ms" "h2load fetching the same documents, 10 reused connections: ${th:-?} ms" "$(x "$ims" "$th")${rpc:+ (paired runs: $rpc)}"
  [ -n "$thw" ] && row "the same cold start, both from process start (the goal's comparison: within 2×)" "$ims ms" \
    "h2load from its exec to its exit: $thw ms" "$(x "$ims" "$thw")${rpw:+ (paired runs: $rpw)}"
  [ -n "$tf" ] && row "feed ingestion alone: first poll started until every pool is stored" "$tf ms" \
    "h2load, the same: ${th:-?} ms" "$(x "$tf" "$th")${rpf:+ (paired runs: $rpf)}"
  row "feed ingestion, steady state" "${polls:-?} polls/s at ${cpu:-?} % of a core" "" ""
fi
if ok memory; then
  mrow() { out memory | awk -v k="$1" 'index($0, k) { print $(NF - 2), $(NF - 1), $NF; exit }'; }
  size=$(out memory | sed -n 's/^== memory and start-up: brokerd with \([0-9]*\) centers x \([0-9]*\) pools.*/\1 centers × \2 pools/p')
  for k in "start-up to port file (median ms)|start-up to the port file|ms" \
    "VmRSS after a warm dry run|RSS after a warm dry run|MiB" \
    "VmHWM (peak RSS) at the end|peak RSS (VmHWM)|MiB"; do
    IFS='|' read -r key label unit <<<"$k"
    read -r e f r <<<"$(mrow "$key")"
    row "brokerd with $size: $label" "$f $unit" "brokerd on an empty database $e $unit" "$r"
  done
fi
if ok replay; then
  rp() { out replay | awk -v p="$1" '$1 == p && NF >= 11 { print $'"$2"' }'; }
  od=$(rp ours 11)
  cd_=$(rp cheapest 11)
  oc=$(rp ours 5)
  cc=$(rp cheapest 5)
  rc_=$(rp random 5)
  jobs=$(rp ours 2)
  row "replay ($jobs trace jobs, 73 pools): \`route_decide\` decisions/s" "$(num "$od")" \
    "cheapest-price baseline (one pass) $(num "$cd_")" "$(x "$od" "$cd_")"
  row "replay: CNY per card-hour of \`ours\`" "$oc" "cheapest $cc; random $rc_" \
    "$(x "$oc" "$cc") (vs random $(x "$oc" "$rc_"))"
fi

# ---- RESULTS.md ------------------------------------------------------------------------------
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
# Changes to the results file itself (a previous run's, not yet committed) do not count.
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no -- . ':(exclude)tools/bench/RESULTS.md' 2>/dev/null)" ]; then
  COMMIT="$COMMIT with uncommitted changes"
fi
BUILDTYPE=$(meson introspect --buildoptions "$BUILD" 2>/dev/null |
  jq -r '[.[] | select(.name == "buildtype" or .name == "b_sanitize") | "\(.name)=\(.value)"] | join(", ")' 2>/dev/null)
{
  echo "# Benchmark results"
  echo
  if [ "$SMOKE" = 1 ]; then
    echo "**Smoke run** (\`run.sh --smoke\`): reduced sizes and times; it checks that the benchmarks run, its numbers mean little."
    echo
  fi
  echo "Written by \`tools/bench/run.sh\` on $DATE in $T_TOTAL s. Every figure is a ratio to a reference"
  echo "measured in the same run on the same machine: absolute times on a shared machine drift, ratios"
  echo "much less. The absolute numbers are there for context."
  echo
  echo "## Machine"
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| date (UTC) | $DATE |"
  echo "| commit | $COMMIT |"
  echo "| build | \`$BUILD\` (${BUILDTYPE:-?}) |"
  echo "| CPU | $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') |"
  echo "| cores (nproc) | $(nproc) |"
  echo "| memory | $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) |"
  echo "| kernel | $(uname -srm) |"
  echo "| OS | $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") |"
  echo "| load average (1, 5, 15 min) | before $LOAD_BEFORE, after $LOAD_AFTER (other work shares this machine) |"
  echo "| tools | $(h2load --version 2>/dev/null | head -n 1 || echo "h2load -"), $(curl --version | head -n 1 | cut -d' ' -f1-2), sqlite3 $(sqlite3 --version 2>/dev/null | cut -d' ' -f1) |"
  echo
  echo "## Figures"
  echo
  echo "| benchmark | figure | reference (same run, same machine) | ratio |"
  echo "|---|---|---|---|"
  for r in "${ROWS[@]}"; do echo "$r"; done
  echo
  echo "Ratios: figure / reference (for times and sizes, more is worse; for rates, more is better)."
  echo
  echo "## Commands"
  echo
  echo "From the repository root; \`$BUILD\` is the build directory."
  echo
  echo '```'
  echo "tools/bench/run.sh $([ "$SMOKE" = 1 ] && echo "--smoke ")$BUILD"
  for n in "${ORDER[@]}"; do echo "${CMD[$n]}"; done
  echo '```'
  echo
  echo "| benchmark | status | seconds |"
  echo "|---|---|---|"
  for n in "${ORDER[@]}"; do echo "| $n | ${STATUS[$n]} | ${SECS[$n]:--} |"; done
  for n in "${ORDER[@]}"; do
    echo
    echo "## $n"
    echo
    echo '```'
    echo "\$ ${CMD[$n]}"
    if [ -s "$WORK/$n.out" ]; then
      # h2load's progress lines and perf's chatter are not results.
      grep -v -E '^(progress: |spawning thread|Warm-up |Main benchmark duration)' "$WORK/$n.out" |
        sed "s|$WORK|\$TMP|g"
    else
      echo "${STATUS[$n]}"
    fi
    echo '```'
  done
  echo
  echo "## What each benchmark measures"
  echo
  echo "- **route-core** (\`tools/bench/route-core.c\`): in-process, fixed-seed inventories (4 pools per"
  echo "  center in the 34 regions of \`schema/003-regions.sql\`, catalog models and TFLOPS, 1 % disabled and"
  echo "  3 % draining centers, 2 % stale feeds, 10 % of pools with live holds) and 16 fixed requests from"
  echo "  6 origins (mixed precisions, gang and split, latency, price, memory, label and region limits,"
  echo "  a voucher). \`decide\` runs \`route_decide\` on the core's inputs for the origin built beforehand;"
  echo "  \`input+decide\` also builds them (\`route_base_input\`), as the daemon does per request; the"
  echo "  floor is one pass over the same pools keeping the cheapest active, fresh pool with the cards."
  echo "  The three take turns in rounds so that load elsewhere hits all of them."
  echo "- **placements** (\`placements.sh\`): h2load against brokerd \`POST /v1/placements\` (dry runs, then"
  echo "  durable holds) and against nghttpd serving a quote-sized static JSON file, same client settings."
  echo "- **ingest** (\`ingest.sh\`): cold start until every center from \`tools/feedserver\` has its pools,"
  echo "  vs h2load fetching the same documents from the same server after each cold start; \"paired"
  echo "  runs\" is the median of those pairs' own ratios, which share the machine's load of the moment."
  echo "  h2load's own figure starts at its first request; brokerd's cold start at its exec, so it is also"
  echo "  set against h2load timed from its exec to its exit. Each timed run starts after \`sync\`."
  echo "- **memory** (\`memory.sh\`): brokerd's RSS and start-up with the centers written into its database,"
  echo "  vs the same brokerd on an empty (migrated) database: the same start-up path, so the ratio is what"
  echo "  the inventory costs."
  echo "- **replay** (\`tools/replay\`, see its README): a real GPU-cluster trace through \`route_decide\` and"
  echo "  four baselines in simulated time; decisions/s is wall time inside the policy call."
} >"$OUT"
echo "wrote $OUT ($T_TOTAL s)"
exit $failed

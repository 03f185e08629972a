#!/usr/bin/env bash
# The prometheus adapter against a real Prometheus server. A DCGM-exporter-format
# metrics file (Prometheus text exposition, labels as dcgm-exporter writes them)
# is served over HTTP on 127.0.0.1; Prometheus scrapes it every second; a center
# pulls the instant query
#   {__name__=~"DCGM_FI_DEV_GPU_UTIL|DCGM_FI_DEV_FB_USED|DCGM_FI_DEV_FB_FREE"}
# every second. The pools match counts worked out by hand; two A100 become busy
# in the file and the center follows (scrape -> query -> poll); a dry-run quote
# uses the center and a request beyond its free cards is a 409; when Prometheus
# stops, the feed shows an error and the center keeps its last snapshot.
# Skips without prometheus (tools/deps.sh --test installs it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live.sh"

if ! command -v prometheus >/dev/null 2>&1; then
  echo "ok 1 - # SKIP prometheus not installed (tools/deps.sh --test installs it)"
  echo "1..1"
  exit 0
fi

PROM_PID=""
HTTP_PID=""
stop_pid() { # PID: SIGTERM, SIGKILL after 10 s; returns the exit status
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}
aux_down() {
  stop_pid "$PROM_PID"
  PROM_PID=""
  stop_pid "$HTTP_PID"
  HTTP_PID=""
}
trap 'aux_down; cleanup' EXIT
trap 'exit 143' TERM INT

# Every wait ends by its own deadline, and all of them by the test's budget.
WAIT_S=${PROM_LIVE_WAIT_S:-30}
BUDGET_END=$(($(date +%s) + ${PROM_LIVE_BUDGET_S:-150}))

LOGS_SHOWN=0
show_logs() { # the tails of the Prometheus, HTTP server and broker logs as TAP comments, once
  [ "$LOGS_SHOWN" = 0 ] || return 0
  LOGS_SHOWN=1
  echo "# == prometheus.log"
  tail -n 20 "$WORK/prometheus.log" 2>/dev/null | sed 's/^/# /'
  echo "# == metrics-http.log"
  tail -n 5 "$WORK/metrics-http.log" 2>/dev/null | sed 's/^/# /'
  echo "# == brokerd.log"
  tail -n 20 "$WORK/brokerd.log" 2>/dev/null | sed 's/^/# /'
}

# --- the metrics file ----------------------------------------------------------------
# Two hosts, each with 4 x NVIDIA A100-SXM4-80GB (gpu 0-3) and 2 x NVIDIA H100 80GB HBM3
# (gpu 4-5). Framebuffer per GPU in MiB: A100 81251, H100 81559 (FB_USED + FB_FREE).
# A GPU is free when GPU_UTIL < 5 and FB_USED / (FB_USED + FB_FREE) < 0.05 (the defaults).
#
#   host        gpu model util used   free?
#   gpu-node-a  0   A100    0     0   yes
#   gpu-node-a  1   A100    0     3   yes
#   gpu-node-a  2   A100    3   512   yes  (util 3 < 5; 512/81251 = 0.6 %)
#   gpu-node-a  3   A100   97 71680   no
#   gpu-node-a  4   H100    0     0   yes
#   gpu-node-a  5   H100   88 65536   no
#   gpu-node-b  0   A100    0     0   yes
#   gpu-node-b  1   A100    0 61440   no   (memory: 61440/81251 = 76 %)
#   gpu-node-b  2   A100  100 78000   no
#   gpu-node-b  3   A100    5     0   no   (util 5 is not below 5)
#   gpu-node-b  4   H100    1     0   yes
#   gpu-node-b  5   H100    0     2   yes
#
# Expected: A100 total 8, free 4 (3 on a, 1 on b), largest_block 3;
#           H100 total 4, free 3 (1 on a, 2 on b), largest_block 2.
# After the change (gpu-node-a gpu 0 and 1 go to util 90, 40960 MiB used):
#           A100 total 8, free 2 (1 on a, 1 on b), largest_block 1; H100 unchanged.
#
# Columns: host gpu uuid pci_bus_id model util used
GPUS_BEFORE='
gpu-node-a 0 GPU-3f1c7a52-9b1e-4c0a-8d7e-51a0c4e2b901 00000000:07:00.0 A100 0 0
gpu-node-a 1 GPU-8e2d4b17-06f3-4a9c-b5d2-7c19e0a4f312 00000000:0F:00.0 A100 0 3
gpu-node-a 2 GPU-a41f9c03-2d7b-4e58-9c61-0b3e8d5f7a24 00000000:47:00.0 A100 3 512
gpu-node-a 3 GPU-5c7e0b9d-4a12-4f3e-a8b0-96d2c1e7f435 00000000:4E:00.0 A100 97 71680
gpu-node-a 4 GPU-d0b83e61-7f5a-4c29-b1e4-2a8f6c9d0546 00000000:87:00.0 H100 0 0
gpu-node-a 5 GPU-16f4a2c8-b93d-4e07-8a5c-e4d71b0c2657 00000000:90:00.0 H100 88 65536
gpu-node-b 0 GPU-7a9d1e3f-5c60-4b8a-9e2d-3f0b6a8c1768 00000000:07:00.0 A100 0 0
gpu-node-b 1 GPU-c2e50f84-1a7b-4d93-b6c0-58e9a2d4f879 00000000:0F:00.0 A100 0 61440
gpu-node-b 2 GPU-e9b1c6d2-3f84-4a05-8d7b-0c6e1f9a298a 00000000:47:00.0 A100 100 78000
gpu-node-b 3 GPU-4d8a2f07-6e1c-4b39-a5f8-b1c3e07d4a9b 00000000:4E:00.0 A100 5 0
gpu-node-b 4 GPU-b3f6e9a1-0d25-4c7e-9f1a-6d4b8c2e5bac 00000000:87:00.0 H100 1 0
gpu-node-b 5 GPU-0e7c4b58-a2f9-4d61-b3e0-9a5f2d8c6cbd 00000000:90:00.0 H100 0 2
'
# Two more A100 busy: gpu-node-a gpu 0 and 1.
GPUS_AFTER=$(printf '%s\n' "$GPUS_BEFORE" | awk '
  $1 == "gpu-node-a" && ($2 == 0 || $2 == 1) { $6 = 90; $7 = 40960 } { print }')

# write_metrics GPU-TABLE: the scrape dcgm-exporter would serve, written atomically to
# $WWW/metrics (served as /metrics).
write_metrics() {
  printf '%s\n' "$1" | awk '
    NF == 7 {
      n++
      host[n] = $1; gpu[n] = $2; uuid[n] = $3; pci[n] = $4; util[n] = $6; used[n] = $7
      if ($5 == "A100") { model[n] = "NVIDIA A100-SXM4-80GB"; fb[n] = 81251; temp[n] = 33 }
      else { model[n] = "NVIDIA H100 80GB HBM3"; fb[n] = 81559; temp[n] = 29 }
    }
    function labels(i) {
      return sprintf("{gpu=\"%s\",UUID=\"%s\",pci_bus_id=\"%s\",device=\"nvidia%s\",modelName=\"%s\",Hostname=\"%s\",DCGM_FI_DRIVER_VERSION=\"535.129.03\"}",
                     gpu[i], uuid[i], pci[i], gpu[i], model[i], host[i])
    }
    END {
      print "# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C)."
      print "# TYPE DCGM_FI_DEV_GPU_TEMP gauge"
      for (i = 1; i <= n; i++) print "DCGM_FI_DEV_GPU_TEMP" labels(i) " " temp[i] + (util[i] > 50 ? 30 : 0)
      print "# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %)."
      print "# TYPE DCGM_FI_DEV_GPU_UTIL gauge"
      for (i = 1; i <= n; i++) print "DCGM_FI_DEV_GPU_UTIL" labels(i) " " util[i]
      print "# HELP DCGM_FI_DEV_FB_FREE Framebuffer memory free (in MiB)."
      print "# TYPE DCGM_FI_DEV_FB_FREE gauge"
      for (i = 1; i <= n; i++) print "DCGM_FI_DEV_FB_FREE" labels(i) " " fb[i] - used[i]
      print "# HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB)."
      print "# TYPE DCGM_FI_DEV_FB_USED gauge"
      for (i = 1; i <= n; i++) print "DCGM_FI_DEV_FB_USED" labels(i) " " used[i]
    }' >"$WWW/metrics.new" && mv -f "$WWW/metrics.new" "$WWW/metrics"
}

# --- the exporter stand-in: the file over HTTP ------------------------------------------
# http.server from the directory, with the text exposition's Content-Type (a file named
# "metrics" would otherwise go out as application/octet-stream, which Prometheus 3
# refuses by default) and the port it bound written to a file, so no port is guessed.
WWW="$WORK/www"
mkdir -p "$WWW"
write_metrics "$GPUS_BEFORE"
# 12 GPUs x 3 metrics the adapter reads, plus 12 temperatures
[ "$(grep -c '^DCGM_FI_DEV_' "$WWW/metrics")" = 48 ] || bail "the metrics file has 48 samples"
python3 - "$WWW" "$WORK/metrics-port" >"$WORK/metrics-http.log" 2>&1 <<'PY' &
import functools, http.server, sys
class H(http.server.SimpleHTTPRequestHandler):
    extensions_map = {"": "text/plain; version=0.0.4; charset=utf-8"}
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(H, directory=sys.argv[1]))
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os; os.rename(sys.argv[2] + ".tmp", sys.argv[2])
srv.serve_forever()
PY
HTTP_PID=$!
end=$(deadline 10)
until [ -s "$WORK/metrics-port" ] || [ "$(date +%s)" -ge "$end" ]; do sleep 0.05; done
[ -s "$WORK/metrics-port" ] || bail "the metrics HTTP server starts"
MPORT=$(cat "$WORK/metrics-port")
STATUS=$(curl -s -o "$WORK/scrape.txt" -w '%{http_code} %{content_type}' --max-time 5 "http://127.0.0.1:$MPORT/metrics")
BODY=""
[[ $STATUS == "200 text/plain; version=0.0.4"* ]] && cmp -s "$WORK/scrape.txt" "$WWW/metrics"
check $? "http://127.0.0.1:$MPORT/metrics serves the DCGM scrape (12 GPUs on 2 hosts) as text/plain; version=0.0.4"

# --- Prometheus ---------------------------------------------------------------------------
PPORT=$(free_port)
PROM_URL="http://127.0.0.1:$PPORT"
cat >"$WORK/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: dcgm-exporter
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
YML
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address="127.0.0.1:$PPORT" >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!

QUERY='{__name__=~"DCGM_FI_DEV_GPU_UTIL|DCGM_FI_DEV_FB_USED|DCGM_FI_DEV_FB_FREE"}'
QENC=$(jq -rn --arg q "$QUERY" '$q | @uri')
promq() { # ENCODED-QUERY: sets STATUS and BODY from Prometheus' /api/v1/query
  STATUS=$(curl -s -o "$WORK/prom.json" -w '%{http_code}' --max-time 5 "$PROM_URL/api/v1/query?query=$1") ||
    STATUS="curl-failed"
  BODY=$(cat "$WORK/prom.json" 2>/dev/null)
}
end=$(deadline "$WAIT_S")
while :; do
  promq DCGM_FI_DEV_GPU_UTIL
  [ "$STATUS" = 200 ] && jx '.status == "success" and (.data.result | length) == 12' && break
  kill -0 "$PROM_PID" 2>/dev/null || break
  [ "$(date +%s)" -ge "$end" ] && break
  sleep 0.2
done
[ "$STATUS" = 200 ] && jx '.status == "success" and (.data.result | length) == 12'
check $? "Prometheus $(prometheus --version 2>&1 | awk 'NR == 1 { print $3 }') on $PROM_URL scrapes the target: DCGM_FI_DEV_GPU_UTIL has 12 series"
[ "$STATUS" = 200 ] || bail "Prometheus answers the query API"
promq "$QENC"
[ "$STATUS" = 200 ] && jx '.data.resultType == "vector" and (.data.result | length) == 36
  and ([.data.result[].metric.Hostname] | unique) == ["gpu-node-a", "gpu-node-b"]
  and ([.data.result[].metric.UUID] | unique | length) == 12
  and all(.data.result[]; .metric.job == "dcgm-exporter")'
check $? "the feed's query answers a vector of 36 series (3 metrics x 12 GPUs, 2 Hostnames, job dcgm-exporter)"

# --- the broker and the center ----------------------------------------------------------------
start_broker || bail "brokerd starts"
# Prices are looked up by the model the adapter reports: the DCGM modelName, or what the
# models option maps it to. A100 is priced under its DCGM name (the broker's catalog then
# resolves "NVIDIA A100-SXM4-80GB" to A100); H100 is mapped to "H100" and priced so.
OPTIONS='{"models":{"NVIDIA H100 80GB HBM3":"H100"},"price_per_card_hour":{"NVIDIA A100-SXM4-80GB":9.8,"H100":26}}'
CENTER=$(printf '{"id":"prom-gy","name":"Prometheus DCGM center","operator":"op1","region":"cn-guiyang","staleness_s":600,"feeds":[{"adapter":"prometheus","url":"%s/api/v1/query?query=%s","interval_s":1,"options":%s}]}' \
  "$PROM_URL" "$QENC" "$OPTIONS")
expect POST /v1/centers "$CENTER" "$ADMIN" 201 \
  "a center pulling $PROM_URL/api/v1/query (the three DCGM metrics) every second registers"
[ "$STATUS" = 201 ] || bail "the prometheus center is registered"

wait_center prom-gy 'counts("A100"; 8; 4; 3) and counts("H100"; 4; 3; 2)
  and .feeds[0].last_success != null and .feeds[0].last_error == null'
check $? "first polls: A100 total 8 free 4 largest_block 3, H100 total 4 free 3 largest_block 2, feed healthy"
jx '(.pools | length) == 2 and near(pool("A100").price_per_card_hour; 9.8)
  and near(pool("H100").price_per_card_hour; 26) and pool("A100").currency == "CNY"'
check $? "pools A100 (catalog alias of the DCGM name) and H100 (models option), priced 9.8 and 26 CNY; no other pools"
jx '.feeds[0].adapter == "prometheus" and .feeds[0].age_s < 10'
check $? "the feed is fresh (age $(jqv .feeds[0].age_s) s)"

# --- two more A100 busy ----------------------------------------------------------------------
write_metrics "$GPUS_AFTER"
wait_center prom-gy 'counts("A100"; 8; 2; 1) and counts("H100"; 4; 3; 2) and .feeds[0].last_error == null'
check $? "gpu-node-a gpu 0,1 at util 90: A100 free 4 -> 2, largest_block 3 -> 1; H100 unchanged"

# --- routing ------------------------------------------------------------------------------------
TEN=$(token tenant acme)
B='"precision":"bf16","hours":1,"origin":"cn-guiyang","dry_run":true'
req POST /v1/placements "{$B,\"cards\":2,\"max_price_per_card_hour\":12}" "$TEN"
[ "$STATUS" = 200 ] && jx '.state == "quote" and pieces == ["prom-gy/A100/2"] and near(.list_total; 19.6)'
check $? "2 A100 bf16 (price cap 12 leaves H100 out), dry run -> a quote for prom-gy/A100 x2, list 19.6"
req POST /v1/placements "{$B,\"cards\":3,\"max_price_per_card_hour\":12}" "$TEN"
DEC=$(jqv .decision_id)
[ "$STATUS" = 409 ] && jx '.decision_id != null and .reasons.insufficient_capacity == 1'
check $? "3 A100 bf16 (1 more than free) -> 409 ($(jqv .detail))"
req GET "/v1/decisions/$DEC" "" "$TEN"
jx 'cand("prom-gy"; "A100").available == 2 and cand("prom-gy"; "H100").reason == "price_exceeds"'
check $? "the decision: prom-gy/A100 had 2 available, prom-gy/H100 over the price cap"

# --- Prometheus goes away -----------------------------------------------------------------------
stop_pid "$PROM_PID"
rc=$?
PROM_PID=""
STATUS="rc=$rc" BODY=""
[ $rc = 0 ]
check $? "SIGTERM stops Prometheus (status $rc)"
wait_center prom-gy '.feeds[0].last_error != null and .feeds[0].last_success != null
  and counts("A100"; 8; 2; 1) and counts("H100"; 4; 3; 2)'
check $? "without Prometheus the feed shows an error ($(jqv .feeds[0].last_error | head -c 100)) and the center keeps its last snapshot"

stop_broker
check $? "SIGTERM stops brokerd with status 0"
aux_down
done_testing

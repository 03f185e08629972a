#!/usr/bin/env bash
# slurm-lab.sh — a real Slurm cluster (Debian 12's Slurm 22.05 packages) on
# 127.0.0.1 only, for the slurm adapter's live tests: munged + slurmctld + one
# slurmd per node + slurmrestd (JWT auth on TCP), no systemd, no GPUs: the nodes
# advertise GPU GRES backed by symlinks to /dev/null.
#
# usage: slurm-lab.sh up DIR             start everything under DIR (made if missing)
#        slurm-lab.sh down DIR           stop it (pid files), cancelling jobs first
#        slurm-lab.sh token DIR [USER] [SECONDS]   print a JWT for USER (default: the REST user)
#        slurm-lab.sh logs DIR [LINES]   print the tail of every log
#
# `up` writes DIR/lab.env (shell syntax) for the caller:
#   SLURM_CONF   the cluster's slurm.conf (export it for sbatch/scontrol/squeue)
#   REST_URL     http://127.0.0.1:PORT of slurmrestd (rest_auth/jwt, openapi/v0.0.38)
#   REST_USER    the user slurmrestd runs as (slurmrestd refuses root; a token for it is valid)
#   REST_PORT CTLD_PORT NODE_PORTS NODES
# Every TCP port is a free one picked at start, unless CTLD_PORT / REST_PORT /
# NODE_PORT0 are set. NODE_SPEC (name:gres_type:gpus:cpus:memory_MB ...) sets
# the nodes. As root, slurmrestd runs as REST_USER (default slurmrest, made with
# useradd when missing); otherwise everything runs as the caller.
# Every wait is bounded; a daemon that dies or logs "fatal:" fails `up` at once.
set -euo pipefail

usage() {
  echo "usage: $0 up DIR | down DIR | token DIR [USER] [SECONDS] | logs DIR [LINES]" >&2
  exit 2
}
[ $# -ge 2 ] || usage
CMD=$1
S=$2
shift 2
case "$S" in /*) ;; *) S="$PWD/$S" ;; esac
export SLURM_CONF="$S/etc/slurm.conf"
NODE_SPEC=${NODE_SPEC:-"a100-01:a100:8:64:515000 a100-02:a100:8:64:515000 h100-01:h100:8:96:1030000"}
if [ "$(id -u)" = 0 ]; then
  SLURM_USER=root
  REST_USER=${REST_USER:-slurmrest} # slurmrestd refuses root and SlurmUser
else
  SLURM_USER=$(id -un)
  REST_USER=$SLURM_USER
fi

die() {
  echo "slurm-lab: $*" >&2
  exit 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }
# Daemons re-parented to an init that reaps late linger as zombies: count them dead.
alive() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $st != Z* ]]
}
pidfile_pid() { [ -s "$1" ] && tr -dc 0-9 <"$1"; }
pid_alive() {
  local p
  p=$(pidfile_pid "$1") && [ -n "$p" ] && alive "$p"
}
# A client command with its own time limit, so nothing can hang.
t() { timeout -k 2 "${TMO:-10}" "$@"; }

# wait_until SECONDS PIDFILE... -- COMMAND...: poll COMMAND (which must bound
# itself: see t) until it succeeds; fail when the time is up, a pid file's process dies or a log says fatal:.
wait_until() {
  local end f
  end=$(($(date +%s) + $1))
  shift
  local pids=()
  while [ "$1" != -- ]; do
    pids+=("$1")
    shift
  done
  shift
  until "$@" >/dev/null 2>&1; do
    for f in "${pids[@]}"; do
      pid_alive "$f" || die "$(basename "$f" .pid) died; log: $(tail -n 5 "$S/log/$(basename "$f" .pid).log" 2>/dev/null)"
    done
    if grep -sh 'fatal:' "$S"/log/*.log >&2; then die "a daemon failed, see $S/log"; fi
    [ "$(date +%s)" -lt "$end" ] || die "timeout waiting for: $*"
    sleep 0.1
  done
}

nnodes() { echo $NODE_SPEC | wc -w; }
nodes_idle() { [ "$(t sinfo -h -N -o '%N %t' | awk '$2 == "idle"' | wc -l)" = "$(nnodes)" ]; }

# free_ports N: N distinct TCP ports free on 127.0.0.1 right now.
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

write_configs() {
  local spec name type gpus cpus mem i=0 nodelines="" greslines="" g ports
  mkdir -p "$S"/{etc,state,log,run,munge,rest,jobs}
  read -r -a ports <<<"$NODE_PORTS"
  for spec in $NODE_SPEC; do
    IFS=: read -r name type gpus cpus mem <<<"$spec"
    mkdir -p "$S/spool/$name" "$S/dev/$name"
    # fake GPUs: symlinks to /dev/null pass slurmd's character-device check
    # (plain files log errors; File-less gpu lines are dropped by gres/gpu)
    for ((g = 0; g < gpus; g++)); do ln -sfn /dev/null "$S/dev/$name/nvidia$g"; done
    nodelines+="NodeName=$name NodeHostname=localhost NodeAddr=127.0.0.1 Port=${ports[$i]} CPUs=$cpus Boards=1 SocketsPerBoard=2 CoresPerSocket=$((cpus / 2)) ThreadsPerCore=1 RealMemory=$mem Gres=gpu:$type:$gpus Feature=$type"$'\n'
    greslines+="NodeName=$name Name=gpu Type=$type File=$S/dev/$name/nvidia[0-$((gpus - 1))]"$'\n'
    i=$((i + 1))
  done
  # CommunicationParameters: bind the address gethostname() resolves to (loopback), not 0.0.0.0.
  # SlurmdParameters=config_overrides: trust slurm.conf over this machine's cores and memory.
  # ProctrackType/TaskPlugin/JobAcctGatherType/CgroupPlugin: touch no cgroups.
  cat >"$S/etc/slurm.conf" <<EOF
ClusterName=suanwang
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$CTLD_PORT
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmUser=$SLURM_USER
SlurmdUser=$SLURM_USER
AuthType=auth/munge
AuthInfo=socket=$S/munge/munge.socket
CredType=cred/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$S/etc/jwt_hs256.key
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool/%n
SlurmctldPidFile=$S/run/slurmctld.pid
SlurmdPidFile=$S/run/slurmd-%n.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
GresTypes=gpu
DefMemPerCPU=4096
ReturnToService=2
SlurmdParameters=config_overrides
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
${nodelines}PartitionName=gpu Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  {
    echo "AutoDetect=off"
    printf %s "$greslines"
  } >"$S/etc/gres.conf"
  cat >"$S/etc/cgroup.conf" <<EOF
# slurmd always loads a cgroup plugin; cgroup/v1's init() does nothing, while
# autodetect would pick cgroup/v2 on a cgroup2 host and want a delegated tree.
CgroupPlugin=cgroup/v1
IgnoreSystemd=yes
EOF
  chmod 755 "$S" "$S/etc" "$S/munge" "$S/log" # munged wants its socket dir a+x
  if [ "$REST_USER" != "$SLURM_USER" ]; then
    chown "$REST_USER" "$S/rest" # slurmrestd -u drops root before it binds its socket
  fi
  (umask 077 && head -c 1024 /dev/urandom >"$S/munge/munge.key")
  (umask 077 && head -c 32 /dev/urandom >"$S/etc/jwt_hs256.key")
  cat >"$S/lab.env" <<EOF
SLURM_CONF=$SLURM_CONF
REST_URL=http://127.0.0.1:$REST_PORT
REST_PORT=$REST_PORT
REST_USER=$REST_USER
CTLD_PORT=$CTLD_PORT
NODE_PORTS="$NODE_PORTS"
NODES="$(for spec in $NODE_SPEC; do printf '%s ' "${spec%%:*}"; done)"
EOF
}

up() {
  local t0 tt spec ports n
  t0=$(now)
  # NoCtldInAddrAny/NoInAddrAny bind the address gethostname() resolves to. When
  # that is not loopback, run again in a private UTS namespace named localhost
  # (root only); the daemons keep that namespace after this script exits.
  if [ "${SLURM_LAB_IN_UTS:-}" = 1 ]; then
    hostname localhost
  else
    case "$(getent ahostsv4 "$(hostname)" | awk 'NR == 1 {print $1}')" in
    127.*) ;;
    *)
      [ "$(id -u)" = 0 ] || die "hostname $(hostname) does not resolve to 127.x; run as root or map it to 127.0.0.1"
      exec env SLURM_LAB_IN_UTS=1 unshare --uts --fork "$0" up "$S"
      ;;
    esac
  fi
  for c in munged slurmctld slurmd slurmrestd sinfo scontrol python3; do
    command -v "$c" >/dev/null || die "$c is not installed"
  done
  mkdir -p "$S"
  ! pid_alive "$S/run/slurmctld.pid" || die "a cluster is already running under $S"
  if [ "$(id -u)" = 0 ] && ! id "$REST_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$REST_USER" ||
      id "$REST_USER" >/dev/null 2>&1 || die "cannot create user $REST_USER"
  fi
  n=$(nnodes)
  ports=$(free_ports $((n + 2))) || die "cannot find free ports"
  set -- $ports
  CTLD_PORT=${CTLD_PORT:-$1}
  REST_PORT=${REST_PORT:-$2}
  shift 2
  if [ -n "${NODE_PORT0:-}" ]; then
    NODE_PORTS=$(seq $((NODE_PORT0 + 1)) $((NODE_PORT0 + n)) | tr '\n' ' ')
  else
    NODE_PORTS="$*"
  fi
  rm -rf "$S/log" "$S/run" # fresh logs: the waits grep them for fatal:
  write_configs
  if [ "$REST_USER" != "$SLURM_USER" ]; then
    runuser -u "$REST_USER" -- test -r "$SLURM_CONF" ||
      die "user $REST_USER cannot read $SLURM_CONF: every directory above $S must be a+x"
  fi

  tt=$(now)
  t munged --key-file="$S/munge/munge.key" --socket="$S/munge/munge.socket" \
    --pid-file="$S/run/munged.pid" --log-file="$S/log/munged.log" \
    --seed-file="$S/munge/munged.seed" ||
    die "munged: $(tail -n 3 "$S/log/munged.log" 2>/dev/null)"
  wait_until 20 "$S/run/munged.pid" -- test -S "$S/munge/munge.socket"
  echo "munged up in $(since "$tt")s"

  tt=$(now)
  t slurmctld -f "$SLURM_CONF" || die "slurmctld: $(grep -h 'fatal:' "$S/log/slurmctld.log" 2>/dev/null)"
  wait_until 30 -- test -s "$S/run/slurmctld.pid"
  wait_until 30 "$S/run/slurmctld.pid" -- t scontrol ping
  echo "slurmctld up on 127.0.0.1:$CTLD_PORT in $(since "$tt")s"

  tt=$(now)
  for spec in $NODE_SPEC; do
    t slurmd -N "${spec%%:*}" -f "$SLURM_CONF" ||
      die "slurmd ${spec%%:*}: $(grep -h 'fatal:' "$S/log/slurmd-${spec%%:*}.log" 2>/dev/null)"
  done
  wait_until 60 "$S/run/slurmctld.pid" -- nodes_idle # "idle*" = registered but not answering yet
  echo "$n slurmd idle in $(since "$tt")s (ports $NODE_PORTS)"

  tt=$(now)
  # slurmrestd never daemonizes. In 22.05 rest_auth/jwt impersonates through the
  # *primary* AuthType, so SLURM_JWT=daemon makes auth/jwt primary in this process.
  # -s openapi/v0.0.38: without -s it also loads dbv0.0.* and dies without slurmdbd.
  # slurmrestd must not run as root: -u drops to REST_USER.
  local drop=(-u "$REST_USER") env=(SLURM_JWT=daemon)
  [ "$REST_USER" != "$SLURM_USER" ] || {
    drop=()
    env+=(SLURMRESTD_SECURITY=disable_user_check)
  }
  env "${env[@]}" setsid slurmrestd -f "$SLURM_CONF" "${drop[@]}" -a rest_auth/jwt \
    -s openapi/v0.0.38 "127.0.0.1:$REST_PORT" </dev/null >"$S/log/slurmrestd.log" 2>&1 &
  echo $! >"$S/run/slurmrestd.pid"
  wait_until 30 "$S/run/slurmrestd.pid" -- curl -so /dev/null --max-time 3 "http://127.0.0.1:$REST_PORT/"
  echo "slurmrestd up on 127.0.0.1:$REST_PORT in $(since "$tt")s"
  echo "slurm lab up under $S in $(since "$t0")s"
}

# stop PIDFILE NAME: SIGTERM, wait up to 5 s, then SIGKILL; only if the pid is NAME.
stop() {
  local p comm
  pid_alive "$1" || return 0
  p=$(pidfile_pid "$1")
  comm=$(ps -o comm= -p "$p" 2>/dev/null || true)
  if [ "$comm" != "$2" ]; then
    echo "not stopping pid $p from $1: it is '$comm', not $2" >&2
    return 0
  fi
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 50); do
    alive "$p" || break
    sleep 0.1
  done
  if alive "$p"; then
    kill -KILL "$p" 2>/dev/null || true
    for _ in $(seq 20); do
      alive "$p" || break
      sleep 0.1
    done
  fi
  if alive "$p"; then
    echo "still alive: $2 ($p)" >&2
    return 1
  fi
  echo "stopped $(basename "$1" .pid)"
}

down() {
  local f ids rc=0 name
  [ -d "$S/run" ] || return 0
  # Job steps (slurmstepd and the job's processes) outlive slurmd: cancel them first.
  if pid_alive "$S/run/slurmctld.pid"; then
    ids=$(t squeue -h -o %i 2>/dev/null || true)
    if [ -n "$ids" ]; then
      t scancel $ids || true
      for _ in $(seq 100); do
        [ -z "$(t squeue -h -o %i 2>/dev/null)" ] && break
        sleep 0.1
      done
    fi
  fi
  stop "$S/run/slurmrestd.pid" slurmrestd || rc=1
  for f in "$S"/run/slurmd-*.pid; do
    [ -e "$f" ] || continue
    stop "$f" slurmd || rc=1
  done
  stop "$S/run/slurmctld.pid" slurmctld || rc=1
  stop "$S/run/munged.pid" munged || rc=1
  return $rc
}

token() { # JWT for USER: only root or SlurmUser may mint one for another user
  local out
  out=$(t scontrol token username="${1:-$REST_USER}" lifespan="${2:-3600}") || die "scontrol token failed"
  printf '%s\n' "${out#SLURM_JWT=}"
}

logs() {
  local f
  for f in "$S"/log/*.log; do
    [ -e "$f" ] || continue
    echo "== $f"
    tail -n "${1:-15}" "$f"
  done
}

case "$CMD" in
up) up ;;
down) down ;;
token) token "$@" ;;
logs) logs "$@" ;;
*) usage ;;
esac

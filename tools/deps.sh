#!/usr/bin/env bash
# Installs the Debian packages suanwang needs to build, run and test, when any is
# missing. Uses sudo when not root. Safe to run again: it does nothing when all
# are present.
set -euo pipefail

build_pkgs="gcc meson ninja-build pkg-config python3 libev-dev libnghttp2-dev
  libcurl4-openssl-dev libcjson-dev libsqlite3-dev libssl-dev"
run_pkgs="curl jq"
test_pkgs="jq nghttp2-client nghttp2-server clang libclang-rt-14-dev clang-format valgrind sqlite3 procps iproute2 slurmctld slurmd slurmrestd slurm-client slurm-wlm-jwt-plugin munge prometheus"

want="$build_pkgs $run_pkgs"
if [ "${1:-}" = "--test" ]; then
  want="$want $test_pkgs"
fi

missing=""
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

sudo=""
if [ "$(id -u)" != "0" ]; then
  sudo="sudo"
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null

#!/usr/bin/env bash
# Installs what `cmake -DEDGERIG_AGENT_ONLY=ON` needs to build and run edgerig-agent alone, from
# Debian 12's packages (Raspberry Pi OS bookworm too; with sudo when not root). No Qt, no
# QCustomPlot, no test or lint tools. Idempotent. --runtime: only what a cross-built binary
# needs to run (README, "Agents on real devices").
set -euo pipefail
packages=(
  build-essential cmake ccache pkg-config
  libasio-dev libprotobuf-dev protobuf-compiler
  libtorch-dev libopenblas0-openmp
  libssl-dev zlib1g-dev
  libspdlog-dev libcli11-dev nlohmann-json3-dev
)
if [ "${1:-}" = --runtime ]; then
  # The shared libraries edgerig-agent links (libtorch pulls its own: gloo, protobuf, ...).
  packages=(libtorch1.13 libopenblas0-openmp libprotobuf32 libssl3 zlib1g libspdlog1.10 libfmt9)
elif [ $# -gt 0 ]; then
  echo "usage: scripts/install-agent-deps.sh [--runtime]" >&2
  exit 2
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-agent-deps: all ${#packages[@]} packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-agent-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

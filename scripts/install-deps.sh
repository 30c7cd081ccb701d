#!/usr/bin/env bash
# Installs what edgerig needs from Debian 12's packages (with sudo when not root). Idempotent.
set -euo pipefail
packages=(
  build-essential cmake ccache pkg-config git
  qt6-base-dev libqcustomplot-dev libgl-dev
  libasio-dev libprotobuf-dev protobuf-compiler
  libtorch-dev libopenblas0-openmp libgloo-dev
  libssl-dev zlib1g-dev
  libspdlog-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev
  dataset-fashion-mnist
  xvfb xauth iproute2
  clang-format clang-tidy
  clang-14 libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

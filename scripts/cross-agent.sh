#!/usr/bin/env bash
# Cross-builds edgerig-agent for arm64 on an x86-64 Debian 12 machine: `cross-agent.sh arm64`
# leaves build-arm64/app/edgerig-agent. Idempotent: the arm64 sysroot is made once and cached
# (EDGERIG_CROSS_CACHE, default ~/.cache/edgerig/cross-arm64), the build reuses ccache.
#
# Route (README, "Agents on real devices"): libtorch-dev is not Multi-Arch: same, so its arm64
# copy cannot be installed beside the amd64 one. We resolve the arm64 packages with apt itself,
# under a private state folder (APT::Architecture=arm64, an empty dpkg status, this machine's
# sources and keys), download them (--download-only, signatures checked as usual) and unpack
# them with dpkg-deb -x into a sysroot. Nothing of this machine's dpkg changes (no
# --add-architecture), no maintainer script runs, no root-only tool (mmdebstrap, chroot) or
# emulator is needed for the build.
#   EDGERIG_CROSS_REFRESH=1  resolve and download again (after a Debian point release)
set -euo pipefail
arch="${1:-}"
if [ "$arch" != arm64 ]; then
  echo "usage: scripts/cross-agent.sh arm64   (the one target architecture supported)" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
jobs="${EDGERIG_JOBS:-2}"
cache="${EDGERIG_CROSS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgerig/cross-arm64}"
sysroot="$cache/sysroot"
start=$(date +%s)

# This machine's tools: the cross compiler, and protoc (Multi-Arch: foreign) for the .proto files.
host_packages=(g++-aarch64-linux-gnu cmake ccache protobuf-compiler)
missing=()
for p in "${host_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "cross-agent: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The agent's packages (scripts/install-agent-deps.sh's, less the tools), plus the C and C++
# runtimes' headers, and OpenBLAS to run the agent under qemu.
target_packages=(libc6-dev libstdc++-12-dev
  libtorch-dev libopenblas0-openmp libasio-dev libprotobuf-dev libssl-dev zlib1g-dev
  libspdlog-dev libcli11-dev nlohmann-json3-dev)
# Bump when the way the sysroot is made changes, so that cached ones are made again.
recipe=2
want="$( (echo "recipe $recipe"; printf "%s\n" "${target_packages[@]}" | sort) | sha256sum | cut -c1-16)"
if [ "${EDGERIG_CROSS_REFRESH:-0}" = 1 ] || [ "$(cat "$sysroot/.edgerig-stamp" 2>/dev/null)" != "$want" ]; then
  t0=$(date +%s)
  apt_dir="$cache/apt"
  mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial"
  : >"$apt_dir/state/status"
  apt_opts=(-o APT::Architecture=arm64 -o APT::Architectures::=arm64
    -o Dir::State="$apt_dir/state" -o Dir::State::status="$apt_dir/state/status"
    -o Dir::Cache="$apt_dir/cache" -o Debug::NoLocking=true
    -o APT::Install-Recommends=false -o APT::Get::Download-Only=true -qq)
  # apt drops to _apt for downloads, which cannot write into a folder of ours.
  [ "$(id -u)" -ne 0 ] || apt_opts+=(-o APT::Sandbox::User=root)
  echo "cross-agent: resolving and downloading the arm64 packages into $apt_dir"
  apt-get "${apt_opts[@]}" update
  apt-get "${apt_opts[@]}" install -y "${target_packages[@]}" >/dev/null
  t1=$(date +%s)
  echo "cross-agent: unpacking $(find "$apt_dir/cache/archives" -name "*.deb" | wc -l) packages into $sysroot"
  rm -rf "$sysroot.new"
  mkdir -p "$sysroot.new"
  for deb in "$apt_dir"/cache/archives/*.deb; do
    dpkg-deb -x "$deb" "$sysroot.new"
  done
  # Absolute symbolic links (libz.so -> /lib/...) would point into this machine: make them
  # relative, inside the sysroot.
  while IFS= read -r link; do
    target="$(readlink "$link")"
    ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$sysroot.new$target")" "$link"
  done < <(find "$sysroot.new" -type l -lname '/*')
  # What update-alternatives would have made: libtorch loads BLAS and LAPACK as libblas.so.3
  # and liblapack.so.3 (which need libopenblas.so.0), here OpenBLAS's OpenMP build, as on the
  # x86-64 install.
  for lib in libblas.so.3 liblapack.so.3 libopenblas.so.0; do
    ln -sfn "openblas-openmp/$lib" "$sysroot.new/usr/lib/aarch64-linux-gnu/$lib"
  done
  rm -rf "$sysroot.new/usr/share/doc" "$sysroot.new/usr/share/man" "$sysroot.new/usr/share/locale"
  echo "$want" >"$sysroot.new/.edgerig-stamp"
  rm -rf "$sysroot"
  mv "$sysroot.new" "$sysroot"
  apt-get "${apt_opts[@]}" clean
  echo "cross-agent: sysroot made: download $((t1 - t0)) s, unpack $(($(date +%s) - t1)) s," \
    "$(du -sh "$sysroot" | cut -f1)"
else
  echo "cross-agent: sysroot cached at $sysroot"
fi

export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
cmake -S . -B build-arm64 -DCMAKE_BUILD_TYPE=Release -DEDGERIG_AGENT_ONLY=ON \
  -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchains/aarch64.cmake" -DEDGERIG_SYSROOT="$sysroot" \
  >/dev/null
cmake --build build-arm64 -j"$jobs" --target edgerig-agent -- --no-print-directory
file build-arm64/app/edgerig-agent 2>/dev/null || ls -l build-arm64/app/edgerig-agent
echo "cross-agent: build-arm64/app/edgerig-agent ready in $(($(date +%s) - start)) s" \
  "(run it on this machine with: qemu-aarch64-static -L $sysroot build-arm64/app/edgerig-agent)"

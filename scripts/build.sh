#!/usr/bin/env bash
# Configures and builds edgerig into ./build (Release, ccache, -j2 by default).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${EDGERIG_JOBS:-2}"
# Paths relative to the checkout, so that a fresh clone elsewhere reuses the cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$jobs" -- --no-print-directory

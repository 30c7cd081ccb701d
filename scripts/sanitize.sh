#!/usr/bin/env bash
# AddressSanitizer + UBSan (./build-asan, RelWithDebInfo): builds the bridge and its tests and
# runs them (ctest -L bridge); any finding fails the test that made it (UBSan does not recover).
# Usage: scripts/sanitize.sh          the bridge tests (CI: a few minutes, see README)
#        scripts/sanitize.sh --all    every test, torch, core and system ones too (long: see
#                                     README for what it costs)
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
jobs="${EDGERIG_JOBS:-2}"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEDGERIG_ENABLE_ASAN=ON \
  -DEDGERIG_ENABLE_UBSAN=ON -DEDGERIG_BUILD_UI=OFF -DEDGERIG_BUILD_BENCH=OFF \
  -DEDGERIG_BUILD_TESTS=ON >/dev/null
# Leaks fail too; the bridge's tests end every session they start.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
cd build-asan
if [ "${1:-}" = "--all" ]; then
  cmake --build . -j"$jobs" -- --no-print-directory
  ctest --output-on-failure -j"$jobs" --timeout 1800
else
  mapfile -t bridge_tests < <(sed -n 's/.*edgerig_add_test(NAME \([a-z_]*\).*/\1/p' \
    ../tests/bridge/CMakeLists.txt)
  cmake --build . -j"$jobs" --target "${bridge_tests[@]}" -- --no-print-directory
  ctest --output-on-failure -j"$jobs" --timeout 300 -L bridge
fi

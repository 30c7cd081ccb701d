#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ./build-fuzz) and runs each over its committed seeds
# (fuzz/corpora/<target>) and crash regressions (fuzz/regressions/<target>), under ASan+UBSan.
# Usage: scripts/fuzz.sh [SECONDS]      each target for SECONDS (default 20; CI)
#        FUZZ_RUNS=N scripts/fuzz.sh    each target for N executions instead
#        FUZZ_TARGETS="frame envelope" scripts/fuzz.sh 60
# New inputs go to a scratch folder (the committed corpora stay as they are); a crash, leak or
# timeout fails the script and leaves its input under build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
targets=(${FUZZ_TARGETS:-frame envelope handshake experiment run_folder agent_dispatch sparse})
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DEDGERIG_BUILD_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"${EDGERIG_JOBS:-2}" -- --no-print-directory \
  $(printf 'fuzz_%s ' "${targets[@]}") >/dev/null
mkdir -p build-fuzz/artifacts
limit=(-max_total_time="$seconds")
[ -n "${FUZZ_RUNS:-}" ] && limit=(-runs="$FUZZ_RUNS")
export EDGERIG_LOG=off
failed=0
printf '%-12s %12s %10s %8s\n' target executions exec/s result
for t in "${targets[@]}"; do
  scratch=$(mktemp -d)
  log=build-fuzz/artifacts/fuzz_$t.log
  regressions=()
  [ -d "fuzz/regressions/$t" ] && regressions=("fuzz/regressions/$t")
  set +e
  "./build-fuzz/fuzz/fuzz_$t" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="build-fuzz/artifacts/$t-" "$scratch" "fuzz/corpora/$t" "${regressions[@]}" \
    >"$log" 2>&1
  rc=$?
  set -e
  rm -rf "$scratch"
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  result=ok
  if [ "$rc" -ne 0 ]; then
    result="FAILED (rc $rc, see $log)"
    failed=1
  fi
  printf '%-12s %12s %10s %8s\n' "$t" "$runs" "$rate" "$result"
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz: a target found a crash, leak or timeout; its input is in build-fuzz/artifacts/" >&2
  exit 1
fi

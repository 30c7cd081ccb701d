#!/usr/bin/env bash
# The whole test suite several times in a row from one build (issue 14: five in a row at -j4),
# a line per run: time, result, the load at its end. Stops at the first failed run unless
# --all; the logs stay in build/ctest-repeat-<run>.log. Build first (scripts/test.sh builds and
# runs once), and build nothing in this tree while it runs: a relink under a running test is a
# failure of the build, not of the test.
# Usage: scripts/ctest-repeat.sh [runs=5] [jobs=4] [--all]
set -euo pipefail
cd "$(dirname "$0")/../build"
runs="${1:-5}"
jobs="${2:-4}"
all="${3:-}"
passed=0
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  rc=0
  ctest -j"$jobs" --timeout 900 --output-on-failure >"ctest-repeat-$i.log" 2>&1 || rc=$?
  summary=$(grep -E 'tests passed' "ctest-repeat-$i.log" || echo "no summary")
  echo "run $i: rc=$rc $(($(date +%s) - start)) s; $summary; load $(cut -d' ' -f1-3 /proc/loadavg)"
  if [ "$rc" -ne 0 ]; then
    grep -E '\(Failed\)|\(Timeout\)|\(SEGFAULT\)|\(Subprocess' "ctest-repeat-$i.log" || true
    [ "$all" = "--all" ] || break
  else
    passed=$((passed + 1))
  fi
done
echo "ctest-repeat: $passed of $runs runs passed at -j$jobs"
[ "$passed" -eq "$runs" ]

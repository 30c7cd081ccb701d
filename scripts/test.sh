#!/usr/bin/env bash
# The README's second command: build everything and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh -DEDGERIG_BUILD_TESTS=ON -DEDGERIG_BUILD_BENCH=ON
cd build
ctest --output-on-failure -j"${EDGERIG_JOBS:-2}" --timeout 900

#!/usr/bin/env bash
# The README's first command: install what is missing, build, and run the quickstart — a local
# testbed of 3 agent processes training the default CNN on Fashion-MNIST with gpipe — in the
# control room when a display is present, headless otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh -DEDGERIG_BUILD_TESTS=OFF -DEDGERIG_BUILD_BENCH=OFF
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -x build/app/edgerig ] && [ $# -eq 0 ]; then
  exec ./build/app/edgerig --demo
fi
exec ./build/app/edgerig-run "$@"

#!/usr/bin/env bash
# Style and bug checks that CI runs: clang-format must leave every source unchanged;
# clang-tidy (.clang-tidy: the checks that catch real bugs) runs on the torch-free bridge,
# which is quick to analyse. Needs a configured ./build for compile_commands.json.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t sources < <(git ls-files '*.cpp' '*.h')
clang-format --dry-run -Werror "${sources[@]}"
echo "lint: clang-format clean (${#sources[@]} files)"
if [ -f build/compile_commands.json ]; then
  mapfile -t bridge < <(git ls-files 'device_bridge/*.cpp')
  printf '%s\n' "${bridge[@]}" | xargs -P2 -n4 clang-tidy -p build --quiet 2>/dev/null |
    grep -E "warning:|error:" && {
    echo "lint: clang-tidy found issues in device_bridge/"; exit 1; } || true
  echo "lint: clang-tidy clean (${#bridge[@]} files in device_bridge/)"
fi

#!/usr/bin/env bash
# Style and bug checks that CI runs: clang-format must leave every source unchanged;
# clang-tidy (.clang-tidy: the checks that catch real bugs) runs on the bridge and on core/'s
# torch-free files. Needs a configured ./build for compile_commands.json.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t sources < <(git ls-files '*.cpp' '*.h')
clang-format --dry-run -Werror "${sources[@]}"
echo "lint: clang-format clean (${#sources[@]} files)"
if [ -f build/compile_commands.json ]; then
  # The bridge, and every file of core/ that does not include LibTorch: clang-14 cannot parse
  # LibTorch 1.13's headers in C++20 against GCC 12's libstdc++ (scripts/torch_free_sources.py).
  # Our GCC precompiled header is dropped from the commands clang-tidy reads.
  mkdir -p build/tidy
  python3 - <<'PY'
import json, re
commands = json.load(open("build/compile_commands.json"))
for c in commands:
    if "command" in c:
        c["command"] = re.sub(r"\s-include \S*cmake_pch\.hxx", "", c["command"])
        c["command"] = c["command"].replace(" -Winvalid-pch", "")
json.dump(commands, open("build/tidy/compile_commands.json", "w"))
PY
  mapfile -t checked < <(git ls-files 'device_bridge/*.cpp'; python3 scripts/torch_free_sources.py core)
  printf '%s\n' "${checked[@]}" | xargs -P2 -n4 clang-tidy -p build/tidy --quiet 2>/dev/null |
    grep -E "warning:|error:" && {
    echo "lint: clang-tidy found issues"; exit 1; } || true
  echo "lint: clang-tidy clean (${#checked[@]} files: device_bridge/ and core/'s torch-free files)"
fi

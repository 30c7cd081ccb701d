#!/usr/bin/env bash
# The suite's leftover check, run by CTest as a fixture around every test (tests/CMakeLists.txt):
#   leftovers.sh setup BUILD_DIR TMP_DIR    empties TMP_DIR, the TMPDIR every test runs with, and
#                                           makes TMP_DIR-runtime, their XDG_RUNTIME_DIR
#   leftovers.sh check BUILD_DIR TMP_DIR    fails, naming each one, if a process started from
#                                           BUILD_DIR still runs or a file is left in TMP_DIR
# A process counts as ours when its executable lies in BUILD_DIR (agents, edgerig-run, the GUI,
# test programs), so runs from other checkouts on the same machine do not count. What it finds
# at `check` it also removes, so that one leftover fails one suite, not every later one.
set -uo pipefail
mode="$1"
build="$(realpath -m "$2")"
tmp="$(realpath -m "$3")"

ours() {  # pids whose executable is in the build tree, with that executable
  local p exe
  for p in /proc/[0-9]*; do
    exe="$(readlink "$p/exe" 2>/dev/null)" || continue
    exe="${exe% (deleted)}"
    case "$exe" in
      "$build"/*) [[ "${p#/proc/}" != "$$" ]] && echo "${p#/proc/} $exe" ;;
    esac
  done
}

case "$mode" in
  setup)
    rm -rf "$tmp"
    mkdir -p "$tmp"
    # Qt's runtime folder (XDG_RUNTIME_DIR), which it wants private: kept apart from TMP_DIR,
    # since Qt leaves it behind by design.
    mkdir -p "$tmp-runtime"
    chmod 700 "$tmp-runtime"
    ;;
  check)
    fail=0
    # A test's own children may take a moment to be reaped after it exits.
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      [[ -z "$(ours)" ]] && break
      sleep 0.3
    done
    while read -r pid exe; do
      [[ -z "$pid" ]] && continue
      echo "left running: pid $pid $exe ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null))"
      kill -KILL "$pid" 2>/dev/null
      fail=1
    done < <(ours)
    if [[ -d "$tmp" ]]; then
      while IFS= read -r f; do
        echo "left behind: $f"
        fail=1
      done < <(find "$tmp" -mindepth 1 -maxdepth 1 | sort)
      rm -rf "$tmp"
      mkdir -p "$tmp"
    fi
    if [[ $fail -ne 0 ]]; then
      echo "tests left the above behind: each test must stop what it starts and remove its files"
      exit 1
    fi
    echo "nothing left running from $build, nothing left in $tmp"
    ;;
  *)
    echo "usage: leftovers.sh setup|check BUILD_DIR TMP_DIR" >&2
    exit 2
    ;;
esac

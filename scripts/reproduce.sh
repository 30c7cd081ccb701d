#!/usr/bin/env bash
# Reproduces the paper headlines kept in resources/experiments/seeds/. Each seed (NAME.seed, a
# bash fragment sourced here: the claim, the base experiment and the variants) is one comparison
# run with `edgerig-run compare`. Its folder (the runs, summary.csv, compare.png, compare.pdf) is
# runs/seeds/<timestamp>-NAME, runs/seeds/NAME points at the latest, and the headline figure is
# printed against the paper's claim (and kept in the folder's headline.csv).
# Usage: scripts/reproduce.sh NAME|all [--check]   --check: validate the runs, run nothing
#        scripts/reproduce.sh --list
# EDGERIG_BUILD names the build folder whose edgerig-run is used (default: build, built first
# as the quick start does when it has no edgerig-run yet).
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=resources/experiments/seeds
run="${EDGERIG_BUILD:-build}/app/edgerig-run"

seed_names() { for f in "$seeds"/*.seed; do basename "$f" .seed; done; }
usage() {
  echo "usage: scripts/reproduce.sh NAME|all [--check] | --list   (seeds: $(seed_names | tr '\n' ' '))" >&2
  exit 2
}
[ $# -ge 1 ] || usage
if [ "$1" = "--list" ]; then
  for name in $(seed_names); do (source "$seeds/$name.seed"; printf '%-22s %s\n' "$name" "$claim"); done
  exit 0
fi
check=""
[ "${2:-}" = "--check" ] && check=1
if [ ! -x "$run" ]; then
  if [ -n "${EDGERIG_BUILD:-}" ]; then
    echo "reproduce.sh: no $run; build it first (bash scripts/build.sh)" >&2
    exit 1
  fi
  # A fresh checkout: what the quick start does, without the tests.
  echo "reproduce.sh: no $run yet; installing what is missing and building first"
  bash scripts/install-deps.sh
  bash scripts/build.sh -DEDGERIG_BUILD_TESTS=OFF -DEDGERIG_BUILD_BENCH=OFF
fi
if [ "$1" = all ]; then names=$(seed_names); else names="$1"; fi
for name in $names; do [ -f "$seeds/$name.seed" ] || usage; done

# csv_cell FILE COLUMN ROW: the cell of COLUMN in data row ROW (1 = the first run) of a CSV
# file with RFC 4180 quoting (settings such as cuts hold commas).
csv_cell() {
  awk -v want="$2" -v row="$3" '
    function fields(line, out,    n, i, c, quoted, f) {
      n = 0; f = ""; quoted = 0
      for (i = 1; i <= length(line); i++) {
        c = substr(line, i, 1)
        if (quoted) {
          if (c == "\"") { if (substr(line, i + 1, 1) == "\"") { f = f c; i++ } else quoted = 0 }
          else f = f c
        } else if (c == "\"") quoted = 1
        else if (c == ",") { out[++n] = f; f = "" }
        else f = f c
      }
      out[++n] = f
      return n
    }
    NR == 1 { n = fields($0, head); for (i = 1; i <= n; i++) if (head[i] == want) col = i; next }
    NR == row + 1 { fields($0, cells); if (col) print cells[col]; exit }' "$1"
}

status=0
for name in $names; do
  (
    source "$seeds/$name.seed"
    if [ -n "$check" ]; then
      exec "$run" compare "$seeds/$experiment" "${compare_args[@]}" --dry-run
    fi
    mkdir -p runs/seeds
    out="runs/seeds/$(date +%Y%m%d-%H%M%S)-$name"
    echo "== seed $name: $claim"
    echo "   ($paper; here: $scenario)"
    # testbed (optional): (netns NAME LEFT RIGHT MBIT) runs the variants on agents in network
    # namespaces, two halves behind a kernel rate limit (scripts/netns-testbed.sh), in place of
    # the experiment's local devices and their emulated links.
    if [ -n "${testbed+x}" ] && [ "${testbed[0]}" = netns ]; then
      trap 'bash scripts/netns-testbed.sh down "${testbed[1]}"' EXIT
      eval "$(bash scripts/netns-testbed.sh up "${testbed[@]:1}")"
      compare_args+=(--set devices.localCount=0 --set "devices.profiles=[]"
        --set "devices.remote=$testbed_remote" --set "devices.tokenFile=$testbed_token")
    fi
    rc=0
    "$run" compare "$seeds/$experiment" "${compare_args[@]}" --out "$out" || rc=$?
    [ -f "$out/summary.csv" ] || exit "$((rc ? rc : 1))"
    ln -sfn "$(basename "$out")" "runs/seeds/$name"
    runs=$(($(wc -l <"$out/summary.csv") - 1))
    # headline_rows (optional): the two runs (1-based rows of summary.csv) the headline divides,
    # the second over the first; default the last run over the first.
    read -r first_row last_row <<<"${headline_rows:-1 $runs}"
    first=$(csv_cell "$out/summary.csv" "$headline_column" "$first_row")
    last=$(csv_cell "$out/summary.csv" "$headline_column" "$last_row")
    ratio=$(awk -v a="$last" -v b="$first" 'BEGIN { if (b + 0 > 0) printf "%.3g", a / b; else print "n/a" }')
    echo "seed,column,measured_ratio,claimed_ratio,folder" >"$out/headline.csv"
    echo "$name,$headline_column,$ratio,$headline_claim,$out" >>"$out/headline.csv"
    echo "HEADLINE $name: $headline_column, run $last_row over run $first_row: $ratio (claim: $headline_claim)"
    echo "   folder: runs/seeds/$name -> $out; open it overlaid: ./${EDGERIG_BUILD:-build}/app/edgerig --compare runs/seeds/$name"
    exit "$rc"
  ) || status=$?
done
exit "$status"

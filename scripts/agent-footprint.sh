#!/usr/bin/env bash
# What edgerig-agent needs of a device (README, "What the agent needs of a device"): for each
# zoo model, trains a few iterations on 2 agents started as remote devices on loopback and reports
# each agent's peak resident memory (VmHWM) and its start-up time (exec to "listening").
#   scripts/agent-footprint.sh [native|arm64] [ITERATIONS] [MODELS...]
# native: build/app/edgerig-agent; arm64: build-arm64/app/edgerig-agent under qemu-aarch64-static
# (scripts/cross-agent.sh first; qemu's own memory is included, so an upper bound).
# Needs build/app/edgerig-run and Debian's dataset-fashion-mnist.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
kind="${1:-native}"
iters="${2:-20}"
shift $(($# < 2 ? $# : 2))
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(mlp lenet5 cnn vgg)
sysroot="${EDGERIG_CROSS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgerig/cross-arm64}/sysroot"
case "$kind" in
  native) agent=("$root/build/app/edgerig-agent") ;;
  arm64) agent=(qemu-aarch64-static -L "$sysroot" "$root/build-arm64/app/edgerig-agent") ;;
  *)
    echo "usage: scripts/agent-footprint.sh [native|arm64] [ITERATIONS] [MODELS...]" >&2
    exit 2
    ;;
esac
scratch="$(mktemp -d "${TMPDIR:-/tmp}/edgerig-footprint.XXXXXX")"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT
"$root/build/app/edgerig-agent" --new-token >"$scratch/token"
chmod 600 "$scratch/token"

now_ms() { date +%s%3N; }
printf '%-6s %-10s %-7s %12s %12s %10s\n' model algorithm device "peak RSS MiB" "RSS at 0 MiB" "start s"
for model in "${models[@]}"; do
  for algo in gpipe allreduce; do
    ports=() started=() first=${#pids[@]}
    for i in 0 1; do
      t=$(now_ms)
      "${agent[@]}" --listen 127.0.0.1:0 --name "dev$i" --token-file "$scratch/token" \
        >"$scratch/out$i" 2>"$scratch/log$i" &
      pids+=($!)
      until grep -q "listening on" "$scratch/out$i" 2>/dev/null; do sleep 0.05; done
      started+=("$(awk -v a="$t" -v b="$(now_ms)" 'BEGIN {printf "%.2f", (b - a) / 1000}')")
      ports+=("$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$scratch/out$i")")
    done
    idle0=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/${pids[$first]}/status")
    "$root/build/app/edgerig-run" /dev/stdin --out "$scratch/run-$model-$algo" --quiet \
      >"$scratch/summary" 2>&1 <<JSON || { cat "$scratch/summary" >&2; exit 1; }
{ "name": "footprint", "seed": 1,
  "devices": { "localCount": 0, "remote": ["127.0.0.1:${ports[0]}", "127.0.0.1:${ports[1]}"],
               "tokenFile": "$scratch/token" },
  "model": { "name": "$model" }, "dataset": { "name": "fashion-mnist" },
  "algorithm": { "name": "$algo" },
  "training": { "batchSize": 64, "maxIterations": $iters, "evalEvery": 0, "evalSamples": 1000 } }
JSON
    for i in 0 1; do
      pid=${pids[$((first + i))]}
      peak=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")
      role=$([ "$algo" = gpipe ] && echo "stage $i" || echo "dev$i")
      printf '%-6s %-10s %-7s %12s %12s %10s\n' "$model" "$algo" "$role" "$peak" \
        "$([ $i -eq 0 ] && echo "$idle0" || echo -)" "${started[$i]}"
      kill "$pid"
      wait "$pid" 2>/dev/null || true
    done
  done
done

#!/usr/bin/env bash
# Renders the control room mid-run under Xvfb into docs/screenshots/ (builds nothing):
# main.png on the quickstart, faults.png on resources/experiments/fault-demo.json,
# allreduce.png on resources/experiments/allreduce.json switched to gpipe and back,
# allreduce-shards.png on the same with the Data shards panel in front, links.png (the Link
# bandwidth dialog) on resources/experiments/link-probe.json,
# sparse-push.png and sparse-push-lost.png on resources/experiments/sparse-push-lost.json
# (8 agents; the union of the one-peer graph's rounds, the round's edges lit, the gossip
# charts; then dev5 crashed and gone from the graph), edgegossip.png and dssync.png on their
# experiments, and
# compare.png on the seed comparison runs/seeds/balanced-vs-even when it exists (made by
# scripts/reproduce.sh balanced-vs-even).
# Usage: scripts/screenshots.sh [BUILD_DIR] [SECONDS]   (defaults: build, 25; the fault demo
# is taken later, once its scheduled faults have happened)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
after=${2:-25}
gui="$build/app/edgerig"
if [ ! -x "$gui" ]; then
  echo "screenshots.sh: no edgerig executable in $build/app; build it first (bash scripts/build.sh)" >&2
  exit 1
fi
command -v xvfb-run >/dev/null || { echo "screenshots.sh: xvfb-run is missing (apt install xvfb)" >&2; exit 1; }
mkdir -p docs/screenshots
runs=$(mktemp -d)
trap 'rm -rf "$runs"' EXIT
# A fresh settings folder: the screenshot shows the default layout, not this user's.
export XDG_CONFIG_HOME="$runs/config"
xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$gui" --demo --runs "$runs" --screenshot docs/screenshots/main.png --after "$after"
echo "wrote docs/screenshots/main.png"
rm -rf "$XDG_CONFIG_HOME"
xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$gui" resources/experiments/fault-demo.json --demo --runs "$runs" \
  --screenshot docs/screenshots/faults.png --after "$((after * 2))"
echo "wrote docs/screenshots/faults.png"
rm -rf "$XDG_CONFIG_HOME"
# The Link bandwidth dialog: edge2's links capped at 50 Mbit/s, measured at the run's start.
xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$gui" resources/experiments/link-probe.json --demo --runs "$runs" --show "Link bandwidth" \
  --screenshot docs/screenshots/links.png --after "$((after * 2 / 5))"
echo "wrote docs/screenshots/links.png"
rm -rf "$XDG_CONFIG_HOME"
# allreduce on 4 devices with Dirichlet shards, switched to gpipe and back to allreduce mid-run.
xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$gui" resources/experiments/allreduce.json --demo --runs "$runs" \
  --switch "$((after * 3 / 5)):gpipe" --switch "$((after * 6 / 5)):allreduce" \
  --screenshot docs/screenshots/allreduce.png --after "$((after * 2))"
echo "wrote docs/screenshots/allreduce.png"
rm -rf "$XDG_CONFIG_HOME"
# The same experiment with the Data shards panel in front: how skewed each device's shard is.
xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$gui" resources/experiments/allreduce.json --demo --runs "$runs" --show "Data shards" \
  --screenshot docs/screenshots/allreduce-shards.png --after "$after"
echo "wrote docs/screenshots/allreduce-shards.png"
# Sparse-Push on 8 agents: before dev5 crashes (iteration 150), then after.
for shot in sparse-push:25 sparse-push-lost:60; do
  rm -rf "$XDG_CONFIG_HOME"
  xvfb-run -a -s "-screen 0 1600x1000x24" \
    "$gui" resources/experiments/sparse-push-lost.json --demo --runs "$runs" --show Topology \
    --screenshot "docs/screenshots/${shot%%:*}.png" --after "${shot##*:}"
  echo "wrote docs/screenshots/${shot%%:*}.png"
done
# respipe: the middle device frozen 2 s (routed around), then killed (routed around, taken over
# after 40 misses): the routed-around chart, the take-over marker, the strip's replicas.
rm -rf "$XDG_CONFIG_HOME"
xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$gui" resources/experiments/respipe.json --demo --runs "$runs" \
  --screenshot docs/screenshots/respipe.png --after "$((after * 23 / 20))"
echo "wrote docs/screenshots/respipe.png"
# edgegossip under slowdowns 1, 1, 2, 4 (finished: local batches, iteration times and their
# spread, the exchange period, re-plan markers), and dssync mid-run (this round's groups).
rm -rf "$XDG_CONFIG_HOME"
xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$gui" resources/experiments/edgegossip.json --demo --runs "$runs" --show Topology \
  --screenshot docs/screenshots/edgegossip.png --after "$((after * 2))"
echo "wrote docs/screenshots/edgegossip.png"
rm -rf "$XDG_CONFIG_HOME"
xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$gui" resources/experiments/dssync.json --demo --runs "$runs" --show Topology \
  --screenshot docs/screenshots/dssync.png --after "$((after * 6 / 5))"
echo "wrote docs/screenshots/dssync.png"
if [ -d runs/seeds/balanced-vs-even ]; then
  rm -rf "$XDG_CONFIG_HOME"
  xvfb-run -a -s "-screen 0 1600x1000x24" \
    "$gui" --compare runs/seeds/balanced-vs-even --wall-time \
    --screenshot docs/screenshots/compare.png --after 3
  echo "wrote docs/screenshots/compare.png"
else
  echo "no runs/seeds/balanced-vs-even: run scripts/reproduce.sh balanced-vs-even for compare.png"
fi

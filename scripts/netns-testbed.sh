#!/usr/bin/env bash
# A testbed of agents in Linux network namespaces, in two halves joined by one link with a real
# kernel rate limit (`tc tbf`) on both of its ends: the bottleneck is the kernel's, not the
# agents' emulation. What tests/support/netns_testbed.h builds for the tests, for seeds and for
# people. Needs root, `ip netns` and `tc` (Debian's iproute2).
#
#   scripts/netns-testbed.sh up NAME LEFT RIGHT MBIT   LEFT agents on one bridge, RIGHT on the
#                                                      other, the crossing link capped at MBIT
#                                                      Mbit/s each way (0: not capped)
#   scripts/netns-testbed.sh down NAME                 stop its agents, remove what it made
#
# `up` prints shell assignments (eval them): testbed_remote (a JSON list of the agents'
# host:port, dev0 first), testbed_token (the token file) and testbed_dir (its state and the
# agents' logs). The controller runs in this namespace and dials the agents over the bridges, so
# its traffic to the second half crosses the capped link too (a little control traffic).
# EDGERIG_BUILD names the build folder whose edgerig-agent runs (default: build).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: scripts/netns-testbed.sh up NAME LEFT RIGHT MBIT | down NAME" >&2
  exit 2
}
[ $# -ge 2 ] || usage
action=$1 name=$2
[[ "$name" =~ ^[a-z0-9]{1,6}$ ]] || { echo "netns-testbed.sh: NAME must be 1-6 of [a-z0-9] (it names links, 15 characters at most)" >&2; exit 2; }
dir="/tmp/edgerig-netns-$name"
ns() { echo "er$name-$1"; }

down() {
  if [ -f "$dir/pids" ]; then
    # SIGTERM, then SIGKILL to whoever is left after 3 s; wait until every one is gone.
    local pid t
    while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$dir/pids"
    for ((t = 0; t < 50; t++)); do
      [ "$t" = 30 ] && while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done <"$dir/pids"
      alive=0
      while read -r pid; do
        [ -d "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] && alive=1
      done <"$dir/pids"
      [ "$alive" = 0 ] && break
      sleep 0.1
    done
  fi
  for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^er$name-" || true); do
    ip netns del "$n" 2>/dev/null || true
  done
  ip link del "ex${name}a" 2>/dev/null || true
  ip link del "eb${name}0" 2>/dev/null || true
  ip link del "eb${name}1" 2>/dev/null || true
  rm -rf "$dir"
}

case "$action" in
  down)
    down
    exit 0
    ;;
  up) [ $# -eq 5 ] || usage ;;
  *) usage ;;
esac
left=$3 right=$4 mbit=$5
[[ "$left" =~ ^[1-9][0-9]?$ && "$right" =~ ^[0-9][0-9]?$ && "$mbit" =~ ^[0-9]+$ ]] || usage
[ "$(id -u)" = 0 ] || { echo "netns-testbed.sh: needs root (network namespaces)" >&2; exit 1; }
command -v tc >/dev/null && ip netns list >/dev/null || { echo "netns-testbed.sh: needs ip netns and tc (apt-get install iproute2)" >&2; exit 1; }
agent="${EDGERIG_BUILD:-build}/app/edgerig-agent"
[ -x "$agent" ] || { echo "netns-testbed.sh: no $agent; build first (bash scripts/build.sh)" >&2; exit 1; }
agent=$(realpath "$agent")

down  # whatever an earlier testbed of this name left
mkdir -p "$dir"
trap 'rc=$?; [ $rc = 0 ] || { echo "netns-testbed.sh: setting up failed; removing it" >&2; down; }' EXIT
# A /24 of our own, from the name: 10.23x.y.0.
sum=$(printf '%s' "$name" | cksum | awk '{print $1}')
subnet="10.$((230 + sum % 20)).$((sum / 20 % 250))."
for b in 0 1; do
  ip link add "eb$name$b" type bridge
  ip link set "eb$name$b" up
done
ip addr add "${subnet}1/24" dev "eb${name}0"
ip link add "ex${name}a" type veth peer name "ex${name}b"
ip link set "ex${name}a" master "eb${name}0"
ip link set "ex${name}b" master "eb${name}1"
ip link set "ex${name}a" up
ip link set "ex${name}b" up
if [ "$mbit" -gt 0 ]; then
  for end in a b; do
    tc qdisc add dev "ex$name$end" root tbf rate "${mbit}mbit" burst 32kbit latency 400ms
  done
fi
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/token"
echo >>"$dir/token"
chmod 600 "$dir/token"
remote=""
for ((i = 0; i < left + right; i++)); do
  n=$(ns "$i") b=$((i < left ? 0 : 1)) ip_addr="$subnet$((11 + i))"
  ip netns add "$n"
  ip link add "ev$name$i" type veth peer name "ep$name$i"
  ip link set "ep$name$i" netns "$n"
  ip link set "ev$name$i" master "eb$name$b"
  ip link set "ev$name$i" up
  ip netns exec "$n" ip addr add "$ip_addr/24" dev "ep$name$i"
  ip netns exec "$n" ip link set "ep$name$i" up
  ip netns exec "$n" ip link set lo up
  ip netns exec "$n" "$agent" --listen "$ip_addr:7411" --name "dev$i" --token-file "$dir/token" \
    >"$dir/dev$i.log" 2>&1 &
  echo $! >>"$dir/pids"
  remote+="${remote:+,}\"$ip_addr:7411\""
done
for ((i = 0; i < left + right; i++)); do
  for ((t = 0; t < 200; t++)); do
    grep -q "listening on" "$dir/dev$i.log" 2>/dev/null && break
    sleep 0.1
  done
  grep -q "listening on" "$dir/dev$i.log" || { echo "netns-testbed.sh: dev$i did not start: $(head -c 400 "$dir/dev$i.log")" >&2; exit 1; }
done
echo "testbed_remote='[$remote]'"
echo "testbed_token='$dir/token'"
echo "testbed_dir='$dir'"
echo "netns-testbed.sh: $((left + right)) agents in namespaces er$name-*, $left | $right, the crossing link at ${mbit} Mbit/s each way (0: unlimited); logs in $dir" >&2

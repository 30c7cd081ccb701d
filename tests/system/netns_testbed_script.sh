#!/usr/bin/env bash
# scripts/netns-testbed.sh (the testbed of the dssync-netns seed), from outside: `up` makes two
# halves of agents in their own namespaces that listen and are reachable from here, with a tbf
# qdisc at the asked rate on both ends of the crossing link; bad arguments are refused with what
# was wrong; `down` leaves no namespace, link or agent process behind. Needs root (exit 77: the
# test is skipped).
set -uo pipefail
src=$1
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to make network namespaces"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: no ip netns"; exit 77; }
script="$src/scripts/netns-testbed.sh"
name="t$(($$ % 100000))"
fail() { echo "FAIL: $*"; bash "$script" down "$name" >/dev/null 2>&1; exit 1; }

out=$(bash "$script" up "Bad-Name" 1 1 20 2>&1) && fail "a bad name was taken"
grep -q "NAME must be" <<<"$out" || fail "bad name: no reason given: $out"
out=$(bash "$script" up "$name" 1 1 fast 2>&1) && fail "a rate that is not a number was taken"
grep -q "usage" <<<"$out" || fail "bad rate: no usage: $out"

assignments=$(bash "$script" up "$name" 2 1 20) || fail "up failed"
eval "$assignments"
[ -f "$testbed_token" ] || fail "no token file"
[ "$(grep -o '"' <<<"$testbed_remote" | wc -l)" = 6 ] || fail "not 3 agents: $testbed_remote"
for end in a b; do
  q=$(tc qdisc show dev "ex$name$end")
  grep -q "tbf" <<<"$q" && grep -q "rate 20Mbit" <<<"$q" || fail "ex$name$end has no 20 Mbit tbf: $q"
done
# Every agent listens, and is reachable from this namespace (the third across the capped link).
for addr in $(tr -d '[]"' <<<"$testbed_remote" | tr ',' ' '); do
  timeout 5 bash -c "exec 3<>/dev/tcp/${addr%:*}/${addr#*:}" 2>/dev/null || fail "cannot reach $addr"
done
[ "$(ip netns list | grep -c "^er$name-")" = 3 ] || fail "not 3 namespaces"
pids=$(cat "$testbed_dir/pids")

bash "$script" down "$name" || fail "down failed"
[ "$(ip netns list | grep -c "^er$name-")" = 0 ] || fail "namespaces left: $(ip netns list)"
ip link show "eb${name}0" >/dev/null 2>&1 && fail "bridge left"
ip link show "ex${name}a" >/dev/null 2>&1 && fail "crossing link left"
for pid in $pids; do
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)
  [ -n "$state" ] && [ "$state" != Z ] && fail "agent $pid still running ($state)"
done
[ -e "$testbed_dir" ] && fail "$testbed_dir left"
echo "PASS: 3 agents up in namespaces behind a 20 Mbit tbf link, reachable, all removed"

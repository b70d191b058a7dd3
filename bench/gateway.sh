#!/usr/bin/env bash
# Gateway benchmark: TCP through a vl2 gateway agent (managed route, docs/routes.md) next to the plain overlay,
# in alternating pairs in one run.
#
#   sudo bench/gateway.sh [--seconds 5] [--pairs 3] [--dist FILE]
#
# Namespaces <p>-sw (switch, underlay bridge 10.79.0.1/24), <p>-h1 and <p>-g (agents on the underlay), <p>-c (a
# LAN host behind g, 192.168.61.2, not an agent). The switch pushes 192.168.61.0/24 via g (10.51.0.5); h1 accepts
# routes; g runs --gateway (forwarding, no NAT; c routes 10.51.0.0/24 back to g). Then, --pairs times:
#   overlay   iperf3 h1 -> g's overlay address (10.51.0.5): TAP, agent, switch, agent, TAP
#   gateway   iperf3 h1 -> c (192.168.61.2): the same path plus g's kernel forwarding onto its LAN veth
# Prints a Markdown table (Gbit/s of each run, the median, the load average). Everything is removed at the end.
#
# Needs: root, ip, iperf3, Java 17, /dev/net/tun. Uses karaf-assembly/target/vl2-karaf-*.tar.gz.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/netns-bench.sh
. "$ROOT/bench/lib/netns-bench.sh"
SECS=5 PAIRS=3 DIST=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) need_value "$1" $#; SECS=$2; shift 2 ;;
    --pairs) need_value "$1" $#; PAIRS=$2; shift 2 ;;
    --dist) need_value "$1" $#; DIST=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) unknown_option "$1" ;;
  esac
done
need_count --seconds "$SECS"
need_count --pairs "$PAIRS"
require_root "namespaces, veth and TAP devices need CAP_NET_ADMIN"
require_tun
use_java17
require_tools ip iperf3 java tar
choose_dist
P=vl2gw$$
WORK=$ROOT/bench/target/gateway-$(date +%Y%m%d-%H%M%S)
mkdir -p "$WORK/dist"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill_tree TERM "$pid"; done
  for pid in "${PIDS[@]}"; do wait_gone 30 "$pid" || kill_tree KILL "$pid"; done
  for ns in sw h1 g c; do ip netns del "$P-$ns" 2>/dev/null || true; done
  rm -rf "$WORK/dist"
}
trap cleanup EXIT INT TERM
tar -xzf "$DIST" -C "$WORK/dist" --strip-components=1
for ns in sw h1 g c; do ip netns add "$P-$ns"; ip -n "$P-$ns" link set lo up; done
ip -n "$P-sw" link add ul0 type bridge
ip -n "$P-sw" addr add 10.79.0.1/24 dev ul0
ip -n "$P-sw" link set ul0 up
n=10
for h in h1 g; do
  n=$((n + 1))
  ip -n "$P-sw" link add "u-$h" type veth peer name eth0 netns "$P-$h"
  ip -n "$P-sw" link set "u-$h" master ul0 up
  ip -n "$P-$h" addr add "10.79.0.$n/24" dev eth0
  ip -n "$P-$h" link set eth0 up
done
ip -n "$P-g" link add lan0 type veth peer name eth1 netns "$P-c"
ip -n "$P-g" addr add 192.168.61.1/24 dev lan0
ip -n "$P-g" link set lan0 up
ip -n "$P-c" addr add 192.168.61.2/24 dev eth1
ip -n "$P-c" link set eth1 up
ip -n "$P-c" route add 10.51.0.0/24 via 192.168.61.1
# the switch's key pair comes first, so that the agents can pin it
ip netns exec "$P-sw" "$WORK/dist/bin/vl2-switch" --data "$WORK/sw" --vl2-listen 10.79.0.1:9991 \
  --network id=5b,pool=10.51.0.0/24,route=192.168.61.0/24@10.51.0.5 >"$WORK/sw.out" 2>&1 &
PIDS+=($!)
wait_for 300 grep -q "Switch public key" "$WORK/sw.out" || true
KEY=$(sed -n 's/.*Switch public key \([A-Za-z0-9+\/=]*\).*/\1/p' "$WORK/sw.out" | head -1)
[ -n "$KEY" ] || { echo "gateway: the switch did not start" >&2; cat "$WORK/sw.out" >&2; exit 1; }
ip netns exec "$P-g" "$WORK/dist/bin/vl2-agent" --data "$WORK/g" --switch 10.79.0.1 --switch-key "$KEY" \
  --network 5b --address 10.51.0.5/24 --gateway >"$WORK/g.out" 2>&1 &
PIDS+=($!)
ip netns exec "$P-h1" "$WORK/dist/bin/vl2-agent" --data "$WORK/h1" --switch 10.79.0.1 --switch-key "$KEY" \
  --network 5b --address 10.51.0.11/24 --accept-routes >"$WORK/h1.out" 2>&1 &
PIDS+=($!)
for i in $(seq 1200); do
  ip -n "$P-h1" route show proto 118 | grep -q "192.168.61.0/24 via 10.51.0.5" \
    && ip netns exec "$P-h1" ping -c1 -W1 192.168.61.2 >/dev/null 2>&1 && break
  sleep 0.5
done
ip netns exec "$P-h1" ping -c1 -W2 192.168.61.2 >/dev/null || { echo "gateway: no route through g" >&2; exit 1; }
ip netns exec "$P-g" iperf3 -s -B 10.51.0.5 >/dev/null 2>&1 &
PIDS+=($!)
ip netns exec "$P-c" iperf3 -s >/dev/null 2>&1 &
PIDS+=($!)
# both servers listening before the first client connects (a refused connection would end the run)
for ns in g c; do
  wait_for 30 sh -c "ip netns exec $P-$ns ss -Hltn 'sport = :5201' | grep -q ." \
    || { echo "gateway: the iperf3 server in $P-$ns did not listen" >&2; exit 1; }
done
run() { # target: Gbit/s received
  ip netns exec "$P-h1" iperf3 -c "$1" -t "$SECS" -J 2>/dev/null \
    | python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))'
}
declare -a OV GW
for i in $(seq "$PAIRS"); do
  OV+=("$(run 10.51.0.5)")
  GW+=("$(run 192.168.61.2)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo
echo "| path (TCP, 1 stream, ${SECS} s, $PAIRS alternating pairs) | runs (Gbit/s) | median |"
echo "|---|---|---|"
echo "| overlay h1 -> g (10.51.0.5) | ${OV[*]} | $(median "${OV[@]}") |"
echo "| through gateway g h1 -> c (192.168.61.2) | ${GW[*]} | $(median "${GW[@]}") |"
echo
echo "load: $(uptime | sed 's/.*load average/load average/')"

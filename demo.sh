#!/usr/bin/env bash
# vl2 demo: a vl2 switch and two ports, each in its own network namespace, on built-in defaults.
#
#   sudo ./demo.sh
#
# Builds vl2 if needed, starts the switch (our Karaf distribution) in namespace <p>-sw, and two ports in
# <p>-h1 and <p>-h2 that reach it over an underlay bridge. The ports are seed-design VPorts (raw mode: one
# Ethernet frame per UDP datagram, tools/seed-vport/vport.c). Then: ping across the virtual LAN, show
# vl2:mactable and vl2:ports, and tear everything down (also on Ctrl-C or failure).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")" && pwd)
P=${VL2_DEMO_PREFIX:-vl2demo$$}
SW=$P-sw H1=$P-h1 H2=$P-h2
UNDERLAY_SW=10.77.0.1 UNDERLAY_H1=10.77.0.11 UNDERLAY_H2=10.77.0.12
LAN_H1=10.1.1.101 LAN_H2=10.1.1.102
SWITCH_PORT=9990
WORK=$(mktemp -d /tmp/vl2-demo.XXXXXX)
PIDS=()

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() { echo "demo: $*" >&2; exit 1; }

cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  if [ -x "$WORK/switch/bin/stop" ]; then
    ip netns exec "$SW" "$WORK/switch/bin/stop" >/dev/null 2>&1
  fi
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  pkill -9 -f "karaf.home=$WORK/switch" 2>/dev/null
  for ns in "$H1" "$H2" "$SW"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- preconditions --------------------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || fail "run as root (network namespaces and TAP devices need CAP_NET_ADMIN): sudo $0"
[ -c /dev/net/tun ] || fail "/dev/net/tun is missing: load the tun module (modprobe tun)"
for tool in ip ping gcc java; do
  command -v "$tool" >/dev/null || fail "'$tool' is not installed (Debian: apt-get install iproute2 iputils-ping gcc openjdk-17-jdk-headless)"
done
if [ -z "${JAVA_HOME:-}" ] && [ -d /usr/lib/jvm/java-17-openjdk-amd64 ]; then
  export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
fi

# --- build if needed -------------------------------------------------------------------------------------
DIST=$(ls "$ROOT"/karaf-assembly/target/vl2-karaf-*.tar.gz 2>/dev/null | head -1 || true)
if [ -z "$DIST" ]; then
  say "Building vl2 (first run only): mvn -B -q -DskipTests install"
  (cd "$ROOT" && mvn -B -q -DskipTests install)
  DIST=$(ls "$ROOT"/karaf-assembly/target/vl2-karaf-*.tar.gz | head -1)
fi
mkdir -p "$WORK/switch"
tar -xzf "$DIST" -C "$WORK/switch" --strip-components=1
gcc -O2 -pthread -o "$WORK/vport" "$ROOT/tools/seed-vport/vport.c"

# --- test hosts: switch + two port hosts on an underlay bridge ---------------------------------------------
say "Creating namespaces $SW, $H1, $H2 (underlay 10.77.0.0/24, virtual LAN 10.1.1.0/24)"
for ns in "$SW" "$H1" "$H2"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n "$SW" link add ul0 type bridge
ip -n "$SW" addr add "$UNDERLAY_SW/24" dev ul0
ip -n "$SW" link set ul0 up
for h in 1 2; do
  ns=$P-h$h; addr_var=UNDERLAY_H$h
  ip link add "${P:0:8}h${h}u" type veth peer name eth0 netns "$ns"
  ip link set "${P:0:8}h${h}u" netns "$SW"
  ip -n "$SW" link set "${P:0:8}h${h}u" master ul0 up
  ip -n "$ns" addr add "${!addr_var}/24" dev eth0
  ip -n "$ns" link set eth0 up
done

wait_for() { # seconds description command...
  local limit=$1 what=$2; shift 2
  for _ in $(seq $((limit * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "timed out after ${limit}s waiting for $what"
}

say "Starting the vl2 switch in $SW (UDP $UNDERLAY_SW:$SWITCH_PORT, raw mode)"
ip netns exec "$SW" "$WORK/switch/bin/karaf" server >"$WORK/switch.out" 2>&1 &
PIDS+=($!)
wait_for 60 "the switch to listen on UDP $SWITCH_PORT" \
  sh -c "ip netns exec $SW ss -Hlun 'sport = :$SWITCH_PORT' | grep -q $SWITCH_PORT"

say "Starting two ports: vl2tap0 in $H1 ($LAN_H1) and $H2 ($LAN_H2)"
for h in 1 2; do
  ns=$P-h$h; lan_var=LAN_H$h
  ip netns exec "$ns" "$WORK/vport" "$UNDERLAY_SW" "$SWITCH_PORT" vl2tap0 2>>"$WORK/vport$h.err" &
  PIDS+=($!)
  wait_for 10 "vl2tap0 in $ns" ip -n "$ns" link show vl2tap0
  ip -n "$ns" addr add "${!lan_var}/24" dev vl2tap0
  ip -n "$ns" link set vl2tap0 up
done

say "ping $LAN_H2 from $H1"
ip netns exec "$H1" ping -c 3 -i 0.2 -W 2 "$LAN_H2"
say "ping $LAN_H1 from $H2"
ip netns exec "$H2" ping -c 3 -i 0.2 -W 2 "$LAN_H1"

client() { echo "$1" | ip netns exec "$SW" "$WORK/switch/bin/client" -u karaf -p karaf -b 2>/dev/null; }
wait_for 30 "the vl2 shell" sh -c "echo 'vl2:ports' | ip netns exec $SW $WORK/switch/bin/client -u karaf -p karaf -b 2>/dev/null | grep -q udp"
say "vl2:mactable"
client "vl2:mactable"
say "vl2:ports"
client "vl2:ports"
say "Done: tearing down"

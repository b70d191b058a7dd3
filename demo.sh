#!/usr/bin/env bash
# vl2 demo: a vl2 switch and two port agents, each in its own network namespace, started the way users start
# them: bin/vl2-switch and bin/vl2-agent of the vl2 distribution. The agents join network 8056c2e21c000001 and
# get their addresses from its pool (10.1.1.0/24, fd00:1::/64).
#
#   sudo ./demo.sh
#
# Installs the tools it needs when they are missing (Debian/Ubuntu: apt-get; Java 17, Maven, iproute2, ping), builds
# vl2 if needed, unpacks the distribution once, starts the switch in namespace <p>-sw and one agent in
# each of <p>-h1 and <p>-h2 (each with its own instance directory, --data), which reach the switch over an
# underlay bridge. Then: ping across the virtual LAN, show vl2:networks, vl2:mactable, vl2:ports and vl2:agent,
# stop one agent (it leaves the network, its TAP device goes away), and tear everything down (also on Ctrl-C or
# failure).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")" && pwd)
P=${VL2_DEMO_PREFIX:-vl2demo$$}
SW=$P-sw H1=$P-h1 H2=$P-h2
UNDERLAY_SW=10.77.0.1 UNDERLAY_H1=10.77.0.11 UNDERLAY_H2=10.77.0.12
NETWORK=8056c2e21c000001
SWITCH_PORT=9991
WORK=$(mktemp -d /tmp/vl2-demo.XXXXXX)
VL2=$WORK/vl2
PIDS=()

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() { echo "demo: $*" >&2; exit 1; }

cleanup() {
  set +e
  # SIGTERM: the launchers stop Karaf cleanly (the agents delete their TAP devices)
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  pkill -9 -f "karaf.base=$WORK/" 2>/dev/null
  for ns in "$H1" "$H2" "$SW"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- preconditions --------------------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || fail "run as root (network namespaces and TAP devices need CAP_NET_ADMIN): sudo $0"
[ -c /dev/net/tun ] || modprobe tun 2>/dev/null || true
[ -c /dev/net/tun ] || fail "/dev/net/tun is missing: load the tun module (modprobe tun)"

# The tools the demo uses; on Debian/Ubuntu the missing ones are installed (Java 17: Karaf 4.4 needs it).
java17() { ls -d /usr/lib/jvm/java-17-openjdk-* 2>/dev/null | head -1; }
have_dist() { ls "$ROOT"/karaf-assembly/target/vl2-karaf-*.tar.gz >/dev/null 2>&1; }
missing=()
command -v ip >/dev/null || missing+=(iproute2)
command -v ss >/dev/null || missing+=(iproute2)
command -v ping >/dev/null || missing+=(iputils-ping)
command -v pkill >/dev/null || missing+=(procps)
command -v tar >/dev/null || missing+=(tar)
[ -n "$(java17)" ] || [ -n "${JAVA_HOME:-}" ] || missing+=(openjdk-17-jdk-headless)
have_dist || command -v mvn >/dev/null || missing+=(maven)
if [ ${#missing[@]} -gt 0 ]; then
  missing=($(printf '%s\n' "${missing[@]}" | sort -u))
  command -v apt-get >/dev/null \
    || fail "missing: ${missing[*]} (the Debian package names; install them with your system's package manager)"
  say "Installing what the demo needs: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || fail "apt-get install ${missing[*]} failed (see above)"
fi
if [ -z "${JAVA_HOME:-}" ]; then
  JAVA_HOME=$(java17)
  [ -n "$JAVA_HOME" ] || fail "no Java 17 in /usr/lib/jvm: install one (openjdk-17-jdk-headless) or set JAVA_HOME"
  export JAVA_HOME
fi
export PATH="$JAVA_HOME/bin:$PATH"

# --- build if needed -------------------------------------------------------------------------------------
DIST=$(ls "$ROOT"/karaf-assembly/target/vl2-karaf-*.tar.gz 2>/dev/null | head -1 || true)
if [ -z "$DIST" ]; then
  say "Building vl2 (first run only): mvn -B -q -DskipTests install"
  (cd "$ROOT" && mvn -B -q -DskipTests install)
  DIST=$(ls "$ROOT"/karaf-assembly/target/vl2-karaf-*.tar.gz | head -1)
fi
mkdir -p "$VL2"
tar -xzf "$DIST" -C "$VL2" --strip-components=1

# --- test hosts: switch + two port hosts on an underlay bridge ---------------------------------------------
say "Creating namespaces $SW, $H1, $H2 (underlay 10.77.0.0/24, virtual LAN 10.1.1.0/24)"
for ns in "$SW" "$H1" "$H2"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n "$SW" link add ul0 type bridge
ip -n "$SW" addr add "$UNDERLAY_SW/24" dev ul0
ip -n "$SW" link set ul0 up
for h in 1 2; do
  ns=$P-h$h; addr_var=UNDERLAY_H$h
  # created in the switch's namespace, the peer moved straight into the host's: no device in the root namespace
  ip -n "$SW" link add "u$h" type veth peer name eth0 netns "$ns"
  ip -n "$SW" link set "u$h" master ul0 up
  ip -n "$ns" addr add "${!addr_var}/24" dev eth0
  ip -n "$ns" link set eth0 up
done

wait_for() { # seconds description command...
  local limit=$1 what=$2; shift 2
  for _ in $(seq $((limit * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "timed out after ${limit}s waiting for $what"
}

NETSPEC="id=$NETWORK,name=demo,pool=10.1.1.0/24,ipv6=fd00:1::/64"
say "Starting the switch in $SW: bin/vl2-switch --vl2-listen $UNDERLAY_SW:$SWITCH_PORT --network $NETSPEC"
ip netns exec "$SW" "$VL2/bin/vl2-switch" --vl2-listen "$UNDERLAY_SW:$SWITCH_PORT" --network "$NETSPEC" \
  --data "$WORK/sw" >"$WORK/switch.out" 2>&1 &
PIDS+=($!)

# the agents pin the switch's public key (the traffic between them and the switch is encrypted): it is in the
# switch's first log lines
wait_for 120 "the switch's public key in its log" grep -q "Switch public key" "$WORK/switch.out"
SWITCH_KEY=$(sed -n 's/.*Switch public key \([A-Za-z0-9+\/=]*\).*/\1/p' "$WORK/switch.out" | head -1)
say "Starting two port agents: bin/vl2-agent --switch $UNDERLAY_SW --switch-key $SWITCH_KEY --network $NETWORK"
echo "(the one in $P-h1 with its shell: --ssh-port 8103; agents have none unless asked)"
for h in 1 2; do
  ns=$P-h$h
  shell=()
  [ "$h" = 1 ] && shell=(--ssh-port 8103)
  ip netns exec "$ns" "$VL2/bin/vl2-agent" --switch "$UNDERLAY_SW" --switch-key "$SWITCH_KEY" --network "$NETWORK" \
    ${shell[@]+"${shell[@]}"} --data "$WORK/h$h" >"$WORK/agent$h.out" 2>&1 &
  PIDS+=($!)
done

wait_for 120 "the switch to listen on UDP $UNDERLAY_SW:$SWITCH_PORT" \
  sh -c "ip netns exec $SW ss -Hlun 'sport = :$SWITCH_PORT' | grep -q $SWITCH_PORT"
for h in 1 2; do
  wait_for 120 "the agent in $P-h$h" grep -q "Port agent up" "$WORK/agent$h.out"
done
lan_address() { # namespace: the IPv4 address the switch assigned to its TAP
  ip -n "$1" -o -4 addr show dev vl2tap0 | awk '{print $4}' | cut -d/ -f1
}
for h in 1 2; do
  wait_for 60 "an address from the pool on $P-h$h's TAP" sh -c "ip -n $P-h$h -o -4 addr show dev vl2tap0 | grep -q 10.1.1."
done
LAN_H1=$(lan_address "$H1") LAN_H2=$(lan_address "$H2")
grep -h "Started vl2 switch\|Transport vl2\|Network .* is up\|Port .* up" "$WORK/switch.out"
grep -h "Port agent up" "$WORK/agent1.out" "$WORK/agent2.out"
echo "assigned: $H1 $LAN_H1, $H2 $LAN_H2"

say "ping $LAN_H2 from $H1"
ip netns exec "$H1" ping -c 3 -i 0.2 -W 2 "$LAN_H2"
say "ping $LAN_H1 from $H2"
ip netns exec "$H2" ping -c 3 -i 0.2 -W 2 "$LAN_H1"

# bin/vl2-client: the instance's shell, logged in with the password it generated at its first start (no well-known
# login: docs/security.md)
client() { # namespace instance-directory command
  echo "$3" | ip netns exec "$1" "$VL2/bin/vl2-client" --data "$2" -b 2>/dev/null
}
wait_for 60 "the switch's shell" sh -c "echo 'vl2:ports' | ip netns exec $SW $VL2/bin/vl2-client --data $WORK/sw -b 2>/dev/null | grep -q vl2"
say "vl2:networks --leases (switch)"
client "$SW" "$WORK/sw" "vl2:networks --leases"
say "vl2:mactable (switch)"
client "$SW" "$WORK/sw" "vl2:mactable"
say "vl2:ports (switch)"
client "$SW" "$WORK/sw" "vl2:ports"
say "vl2:agent (agent in $H1)"
wait_for 60 "the shell of the agent in $H1" sh -c "echo 'vl2:agent' | ip netns exec $H1 $VL2/bin/vl2-client --data $WORK/h1 -b 2>/dev/null | grep -q RUNNING"
client "$H1" "$WORK/h1" "vl2:agent"

say "Stopping the agent in $H2 (SIGTERM): it leaves the network and deletes its TAP device"
kill "${PIDS[2]}"
wait "${PIDS[2]}" || true
grep -h "Port agent down" "$WORK/agent2.out" || true
if ip -n "$H2" link show vl2tap0 >/dev/null 2>&1; then fail "vl2tap0 is still there in $H2"; fi
echo "ip -n $H2 link: $(ip -n "$H2" -br link | awk '{print $1}' | tr '\n' ' ')"
say "Done: tearing down"

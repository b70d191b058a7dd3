#!/usr/bin/env bash
# Anchors: vl2 next to the overlays people already run, on one netns topology, in the same run.
#
#   sudo bench/anchors.sh [--rounds 2] [--seconds 5] [--pings-5ms 400] [--pings-100ms 100] [--dist FILE]
#                         [--n2n DIR] [--systems "vxlan tinc openvpn nebula wggo n2n vl2raw vl2enc"]
#
# The hosts of bench/overlay.sh: namespaces <p>-sw, <p>-h1, <p>-h2 (p = vl2an<pid>), an underlay bridge in sw,
# h1 and h2 on it by veth (10.78.0.0/24, only inside these namespaces). Each system in turn joins h1 and h2
# through the switch host sw where it can (overlay 10.1.1.0/24, h1 .101, h2 .102), is measured h1 -> h2, and is
# removed before the next one:
#   vxlan    kernel VXLAN star, the switch host bridges vx101/vx102 (as overlay.sh); no processes (kernel)
#   tinc     tinc 1.0 (Debian tinc), Mode = switch (TAP), AES-256-CBC + SHA-256, h1 and h2 connect to sw;
#            IndirectData = yes on h1 and h2, so their frames go through sw as through a vl2 switch
#   openvpn  OpenVPN 2.6 (Debian openvpn) TAP server on sw with client-to-client, h1 and h2 as clients,
#            AES-256-GCM, UDP, self-signed certificates pinned by fingerprint, no DCO (TAP has none)
#   nebula   Nebula 1.6 (Debian nebula): L3 TUN, lighthouse on sw, h1 <-> h2 peer to peer (Nebula's normal
#            path: the frames do NOT cross sw), AES-256-GCM
#   wggo     wireguard-go (Debian wireguard-go, configured with wg): L3 star, sw routes between its two peers
#   n2n      n2n v3 edge/supernode built from source (--n2n DIR, default /tmp/n2n-anchors; see bench/README.md):
#            supernode on sw, edges in h1/h2 with -S1 (always via the supernode), AES (-A3)
#   vl2raw   bin/vl2-switch on sw, bin/vl2-agent --mode raw in h1 and h2 (as overlay.sh)
#   vl2enc   the same with the default encrypted vl2 mode, agents pinned to the switch's key
#   vl2encc2 (not in the default list) vl2enc with the agents' JIT at C2 (EXTRA_JAVA_OPTS=-XX:TieredStopAtLevel=4;
#            the launcher's default is C1 only, which runs AES-GCM without the JDK's C2 intrinsics)
# Systems that are not installed are reported as skipped. Rounds alternate the order (round 1 as listed, round 2
# reversed, ...), so that the load of other processes falls on every system alike.
#
# Per system and round, after a 2 s iperf3 TCP warm-up: ping RTT at 5 ms and at 100 ms intervals (p50, p99 by
# nearest rank), iperf3 TCP 1 stream and 4 streams (--seconds each), and the CPU seconds per GB moved of the
# system: user + system time (/proc/PID/stat) of every process in the three namespaces but iperf3 and ping,
# over each TCP test, divided by the bytes iperf3 received. The load average is recorded before every system.
# Prints Markdown tables; raw data in bench/target/anchors-<time>/. Everything (processes, namespaces, keys,
# the unpacked vl2 distribution) is removed at the end, also on failure or Ctrl-C.
#
# Needs: root, ip, iperf3, ping (iputils), python3, ss, openssl, Java 17, /dev/net/tun; the systems above.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/netns-bench.sh
. "$ROOT/bench/lib/netns-bench.sh"
ROUNDS=2
SECS=5
PINGS5=400
PINGS100=100
DIST=""
N2N=/tmp/n2n-anchors
SYSTEMS="vxlan tinc openvpn nebula wggo n2n vl2raw vl2enc"
ARGS="$*"

while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) need_value "$1" $#; ROUNDS=$2; shift 2 ;;
    --seconds) need_value "$1" $#; SECS=$2; shift 2 ;;
    --pings-5ms) need_value "$1" $#; PINGS5=$2; shift 2 ;;
    --pings-100ms) need_value "$1" $#; PINGS100=$2; shift 2 ;;
    --dist) need_value "$1" $#; DIST=$2; shift 2 ;;
    --n2n) need_value "$1" $#; N2N=$2; shift 2 ;;
    --systems) need_value "$1" $#; SYSTEMS=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) unknown_option "$1" ;;
  esac
done
need_count --rounds "$ROUNDS"
need_count --seconds "$SECS"
need_count --pings-5ms "$PINGS5"
need_count --pings-100ms "$PINGS100"
for s in $SYSTEMS; do
  case "$s" in vxlan|tinc|openvpn|nebula|wggo|n2n|vl2raw|vl2enc|vl2encc2) ;; *) bad_usage "unknown system $s" ;; esac
done

require_root "namespaces, veth and TUN/TAP devices need CAP_NET_ADMIN"
require_tun
use_java17
require_tools ip ss ping iperf3 python3 openssl tar sysctl pgrep timeout
case " $SYSTEMS " in *" vl2"*) choose_dist ;; esac

# --- names, addresses, state -----------------------------------------------------------------------------------
topology_names vl2an$$
OV_SW=10.1.1.1
IPERF_PORT=5201
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=$ROOT/bench/target/anchors-$STAMP
WORK=$(mktemp -d /tmp/vl2-anchors.XXXXXX)
mkdir -p "$OUT"
RES=$OUT/results.tsv
: >"$RES"
declare -A LAUNCHER=()   # role -> launcher pid (netns-bench.sh's find_jvm/ping_across_poll use it)
declare -A JVM=()
SYS_PIDS=()              # processes of the system under test (beyond them, everything in our namespaces is killed)
WG_PREFIX=wa$$           # wireguard-go's UAPI sockets are global (/var/run/wireguard/NAME.sock): unique names

put() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RES"; }   # section key value

# ns_pids_kill: every process in our namespaces (the system's daemons, iperf3 leftovers)
ns_pids_kill() {
  local ns p
  for ns in "${NSS[@]}"; do
    ip netns list | grep -qw "$ns" || continue
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill_tree "$1" "$p"; done
  done
}

teardown() { # stop the system under test: TERM, then KILL after 15 s; remove what it left in the namespaces
  local p i
  for p in ${SYS_PIDS[@]+"${SYS_PIDS[@]}"}; do kill_tree TERM "$p"; done
  ns_pids_kill TERM
  for i in $(seq 150); do
    [ -z "$(for ns in "${NSS[@]}"; do ip netns pids "$ns" 2>/dev/null; done)" ] && break
    sleep 0.1
  done
  ns_pids_kill 9
  for p in ${SYS_PIDS[@]+"${SYS_PIDS[@]}"}; do wait "$p" 2>/dev/null || true; done
  SYS_PIDS=() LAUNCHER=() JVM=()
  for h in 1 2; do ip -n "$P-h$h" link del vx0 2>/dev/null || true; ip -n "$SW" link del "vx10$h" 2>/dev/null || true; done
  ip -n "$SW" link del vxbr 2>/dev/null || true
  ip netns exec "$SW" sysctl -qw net.ipv4.ip_forward=0 2>/dev/null || true
  rm -f /var/run/wireguard/"$WG_PREFIX"*.sock
}

cleanup() {
  local rc=$? ns
  set +e
  trap - EXIT INT TERM
  teardown
  for ns in "${NSS[@]}"; do ip netns list | grep -qw "$ns" && ip netns del "$ns" 2>/dev/null; done
  pkill -9 -f "karaf.base=$WORK/" 2>/dev/null
  rm -rf "$WORK"
  if [ "$(ip netns list | grep -c "^$P-" || true)" != 0 ] || pgrep -f "karaf.base=$WORK/" >/dev/null; then
    echo "anchors: cleanup incomplete: namespaces $(ip netns list | grep "^$P-" | tr '\n' ' ')" >&2
  else
    echo "anchors: cleaned up (namespaces $P-*, processes, $WORK); results in $OUT" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
reap_stale_namespaces vl2an anchors.sh

# --- measurement ---------------------------------------------------------------------------------------------------
# sys_ticks: CPU ticks (user + system) of every process in our namespaces except iperf3 and ping: the system's
sys_ticks() {
  local ns p sum=0 t
  for ns in "${NSS[@]}"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do
      case "$(cat "/proc/$p/comm" 2>/dev/null)" in iperf3|ping|timeout|'') continue ;; esac
      t=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) || continue
      sum=$((sum + ${t:-0}))
    done
  done
  echo "$sum"
}
iperf_ticks() { # CPU ticks of the iperf3 processes in our namespaces (client and server), for context
  local ns p sum=0 t
  for ns in "$H1" "$H2"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do
      [ "$(cat "/proc/$p/comm" 2>/dev/null)" = iperf3 ] || continue
      t=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) || continue
      sum=$((sum + ${t:-0}))
    done
  done
  echo "$sum"
}

iperf_run() { # key dst iperf3-client-args...: one iperf3 test h1 -> h2 with the system's CPU over it
  local key=$1 dst=$2 srv c0 i0 s1 rc=0
  shift 2
  ip netns exec "$H2" timeout $((SECS + 40)) iperf3 -s -1 -B "$dst" -p "$IPERF_PORT" >"$OUT/$key-server.txt" 2>&1 &
  srv=$!
  if ! wait_for 10 sh -c "ip netns exec $H2 ss -Hltn 'sport = :$IPERF_PORT' | grep -q ."; then
    note "$key: the iperf3 server did not listen"; kill_tree 9 "$srv"; wait "$srv" 2>/dev/null; return 0
  fi
  c0=$(sys_ticks)
  # iperf3's own CPU: sampled by the client's own rusage (-J reports cpu_utilization_percent), not here
  ip netns exec "$H1" timeout $((SECS + 25)) iperf3 -c "$dst" -p "$IPERF_PORT" -t "${IPERF_SECS:-$SECS}" -J \
    --connect-timeout 5000 "$@" >"$OUT/$key.json" 2>"$OUT/$key.err" || rc=$?
  s1=$(sys_ticks)
  put "$key" cpu_s "$(awk -v a="$c0" -v b="$s1" -v hz="$TICKS" 'BEGIN { printf "%.2f", (b - a) / hz }')"
  wait_gone 5 "$srv" || kill_tree 9 "$srv"
  wait "$srv" 2>/dev/null || true
  [ "$rc" = 0 ] || note "$key: iperf3 exited with $rc (see $OUT/$key.json)"
  sleep 1
}

ping_run() { # key dst count interval
  ip netns exec "$H1" timeout "$(awk -v n="$3" -v i="$4" 'BEGIN { printf "%d", n * i * 2 + 20 }')" \
    ping -n -c "$3" -i "$4" -W 1 "$2" >"$OUT/$1.txt" 2>&1 || true
}

measure() { # system round dst dev
  local k=$1.r$2 dst=$3
  put "$k" mtu "$(ip -n "$H1" -o link show "$4" 2>/dev/null | grep -o 'mtu [0-9]*' | cut -d' ' -f2 || true)"
  ip netns exec "$H1" ping -n -q -c 5 -i 0.05 -W 1 "$dst" >/dev/null 2>&1 || true
  say "$1 (round $2): warm-up, iperf3 TCP 2 s (not recorded)"
  IPERF_SECS=2 iperf_run "$k.warmup" "$dst"
  say "$1 (round $2): ping, $PINGS5 at 5 ms, $PINGS100 at 100 ms"
  ping_run "$k.ping5" "$dst" "$PINGS5" 0.005
  ping_run "$k.ping100" "$dst" "$PINGS100" 0.1
  say "$1 (round $2): iperf3 TCP, 1 stream, ${SECS} s"
  iperf_run "$k.tcp1" "$dst"
  say "$1 (round $2): iperf3 TCP, 4 streams, ${SECS} s"
  iperf_run "$k.tcp4" "$dst" -P 4
  put "$k" load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# ready dst seconds: h1 reaches dst across the overlay within the time
ready() { wait_for "$2" ip netns exec "$H1" ping -n -c1 -W1 "$1"; }

# bg role logfile ns command...: a daemon of the system under test
bg() {
  local role=$1 log=$2 ns=$3
  shift 3
  ip netns exec "$ns" "$@" </dev/null >"$log" 2>&1 &
  SYS_PIDS+=($!)
  LAUNCHER[$role]=$!
}

# --- the systems: setup_<name> round; each starts its daemons and waits until h1 reaches h2 ---------------------
setup_vxlan() {
  ip -n "$SW" link add vxprobe type vxlan id 9 dstport 4789 dev ul0 2>/dev/null || { SKIP="no vxlan in this kernel"; return 1; }
  ip -n "$SW" link del vxprobe
  ip -n "$SW" link add vxbr type bridge
  local h ns ul_var ov_var
  for h in 1 2; do
    ns=$P-h$h; ul_var=UL_H$h; ov_var=OV_H$h
    ip -n "$SW" link add "vx10$h" type vxlan id "10$h" local "$UL_SW" remote "${!ul_var}" dstport 4789 dev ul0
    ip -n "$SW" link set "vx10$h" mtu 1450 master vxbr up
    ip -n "$ns" link add vx0 type vxlan id "10$h" local "${!ul_var}" remote "$UL_SW" dstport 4789 dev eth0
    ip -n "$ns" link set vx0 mtu 1450 up
    ip -n "$ns" addr add "${!ov_var}/24" dev vx0
  done
  ip -n "$SW" link set vxbr up
  DEV=vx0
  ready "$OV_H2" 10
}

setup_tinc() {
  command -v tincd >/dev/null || { SKIP="tincd not installed (apt-get install tinc)"; return 1; }
  local d=$WORK/tinc-$1 n addr
  for n in sw h1 h2; do
    mkdir -p "$d/$n/hosts"
    printf 'Name = %s\nMode = switch\nDevice = /dev/net/tun\nInterface = tinc0\nAddressFamily = ipv4\nPort = 655\nCipher = aes-256-cbc\nDigest = sha256\n' \
      "$n" >"$d/$n/tinc.conf"
    [ "$n" = sw ] || echo "ConnectTo = sw" >>"$d/$n/tinc.conf"
    case $n in sw) addr="" ;; h1) addr=$OV_H1 ;; h2) addr=$OV_H2 ;; esac
    printf '#!/bin/sh\nip link set "$INTERFACE" up\n%s\n' "${addr:+ip addr add $addr/24 dev \"\$INTERFACE\"}" >"$d/$n/tinc-up"
    chmod +x "$d/$n/tinc-up"
    tincd -c "$d/$n" -K 2048 </dev/null >/dev/null 2>&1
  done
  echo "Address = $UL_SW" >>"$d/sw/hosts/sw"
  for n in h1 h2; do echo "IndirectData = yes" >>"$d/$n/hosts/$n"; done
  for n in sw h1 h2; do for m in sw h1 h2; do [ "$n" = "$m" ] || cp "$d/$m/hosts/$m" "$d/$n/hosts/$m"; done; done
  bg sw "$OUT/tinc-r$1-sw.log" "$SW" tincd -c "$d/sw" -D -d1 --pidfile="$d/sw/pid"
  bg h1 "$OUT/tinc-r$1-h1.log" "$H1" tincd -c "$d/h1" -D -d1 --pidfile="$d/h1/pid"
  bg h2 "$OUT/tinc-r$1-h2.log" "$H2" tincd -c "$d/h2" -D -d1 --pidfile="$d/h2/pid"
  DEV=tinc0
  ready "$OV_H2" 30
}

setup_openvpn() {
  command -v openvpn >/dev/null || { SKIP="openvpn not installed (apt-get install openvpn)"; return 1; }
  local d=$WORK/openvpn-$1 n fp_sw fp_h1 fp_h2
  mkdir -p "$d"
  for n in sw h1 h2; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=$n" \
      -keyout "$d/$n.key" -out "$d/$n.crt" >/dev/null 2>&1
  done
  fp() { openssl x509 -in "$d/$1.crt" -noout -fingerprint -sha256 | cut -d= -f2; }
  fp_sw=$(fp sw); fp_h1=$(fp h1); fp_h2=$(fp h2)
  cat >"$d/sw.conf" <<EOF
mode server
tls-server
dev tap
dev-type tap
proto udp4
local $UL_SW
port 1194
dh none
cert $d/sw.crt
key $d/sw.key
<peer-fingerprint>
$fp_h1
$fp_h2
</peer-fingerprint>
client-to-client
data-ciphers AES-256-GCM
disable-dco
keepalive 10 60
verb 3
EOF
  for n in h1 h2; do
    local ov_var=OV_${n^^}
    # client (pull): negotiates the data cipher with the server; the address is its own, the server pushes none
    cat >"$d/$n.conf" <<EOF
client
dev tap
dev-type tap
proto udp4
remote $UL_SW 1194
nobind
cert $d/$n.crt
key $d/$n.key
peer-fingerprint $fp_sw
data-ciphers AES-256-GCM
disable-dco
ifconfig ${!ov_var} 255.255.255.0
keepalive 10 60
verb 3
EOF
  done
  bg sw "$OUT/openvpn-r$1-sw.log" "$SW" openvpn --config "$d/sw.conf"
  wait_for 30 sh -c "ip netns exec $SW ss -Hlun 'sport = :1194' | grep -q ." || { SKIP="the OpenVPN server did not listen"; return 1; }
  ip -n "$SW" link set tap0 up 2>/dev/null || true
  bg h1 "$OUT/openvpn-r$1-h1.log" "$H1" openvpn --config "$d/h1.conf"
  bg h2 "$OUT/openvpn-r$1-h2.log" "$H2" openvpn --config "$d/h2.conf"
  DEV=tap0
  ready "$OV_H2" 60
}

setup_nebula() {
  command -v nebula >/dev/null && command -v nebula-cert >/dev/null || { SKIP="nebula not installed (apt-get install nebula)"; return 1; }
  local d=$WORK/nebula-$1 n ip am hosts
  mkdir -p "$d"
  (cd "$d" && nebula-cert ca -name anchors -duration 48h >/dev/null)
  for n in sw h1 h2; do
    case $n in sw) ip=$OV_SW ;; h1) ip=$OV_H1 ;; h2) ip=$OV_H2 ;; esac
    (cd "$d" && nebula-cert sign -name "$n" -ip "$ip/24" -out-crt "$n.crt" -out-key "$n.key" >/dev/null)
    if [ "$n" = sw ]; then am=true hosts="[]"; else am=false hosts="[\"$OV_SW\"]"; fi
    cat >"$d/$n.yml" <<EOF
pki: { ca: $d/ca.crt, cert: $d/$n.crt, key: $d/$n.key }
static_host_map: { "$OV_SW": ["$UL_SW:4242"] }
lighthouse: { am_lighthouse: $am, interval: 60, hosts: $hosts }
listen: { host: 0.0.0.0, port: 4242 }
punchy: { punch: true }
tun: { disabled: false, dev: nebula1, mtu: 1300 }
logging: { level: info, format: text }
firewall:
  outbound: [ { port: any, proto: any, host: any } ]
  inbound: [ { port: any, proto: any, host: any } ]
EOF
  done
  bg sw "$OUT/nebula-r$1-sw.log" "$SW" nebula -config "$d/sw.yml"
  bg h1 "$OUT/nebula-r$1-h1.log" "$H1" nebula -config "$d/h1.yml"
  bg h2 "$OUT/nebula-r$1-h2.log" "$H2" nebula -config "$d/h2.yml"
  DEV=nebula1
  ready "$OV_H2" 60
}

setup_wggo() {
  command -v wireguard-go >/dev/null && command -v wg >/dev/null || { SKIP="wireguard-go/wg not installed (apt-get install wireguard-go wireguard-tools)"; return 1; }
  local d=$WORK/wg-$1 n ns dev
  mkdir -p "$d"
  for n in sw h1 h2; do (umask 077; wg genkey >"$d/$n.key"); wg pubkey <"$d/$n.key" >"$d/$n.pub"; done
  for n in sw h1 h2; do
    ns=$P-$n; dev=$WG_PREFIX$n
    bg "$n" "$OUT/wggo-r$1-$n.log" "$ns" env WG_PROCESS_FOREGROUND=1 wireguard-go -f "$dev"
    wait_for 10 test -S "/var/run/wireguard/$dev.sock" || { SKIP="wireguard-go did not create $dev"; return 1; }
  done
  ip netns exec "$SW" wg set "${WG_PREFIX}sw" listen-port 51820 private-key "$d/sw.key" \
    peer "$(cat "$d/h1.pub")" allowed-ips "$OV_H1/32" peer "$(cat "$d/h2.pub")" allowed-ips "$OV_H2/32"
  ip -n "$SW" addr add "$OV_SW/24" dev "${WG_PREFIX}sw"
  ip -n "$SW" link set "${WG_PREFIX}sw" up
  ip netns exec "$SW" sysctl -qw net.ipv4.ip_forward=1
  for n in h1 h2; do
    local ov_var=OV_${n^^}
    ip netns exec "$P-$n" wg set "$WG_PREFIX$n" private-key "$d/$n.key" \
      peer "$(cat "$d/sw.pub")" endpoint "$UL_SW:51820" allowed-ips 10.1.1.0/24 persistent-keepalive 25
    ip -n "$P-$n" addr add "${!ov_var}/24" dev "$WG_PREFIX$n"
    ip -n "$P-$n" link set "$WG_PREFIX$n" up
  done
  DEV=${WG_PREFIX}h1
  ready "$OV_H2" 30
}

setup_n2n() {
  [ -x "$N2N/edge" ] && [ -x "$N2N/supernode" ] || { SKIP="no n2n build in $N2N (see bench/README.md)"; return 1; }
  bg sw "$OUT/n2n-r$1-sw.log" "$SW" "$N2N/supernode" -p 7654 -f
  wait_for 10 sh -c "ip netns exec $SW ss -Hlun 'sport = :7654' | grep -q ." || { SKIP="the supernode did not listen"; return 1; }
  local h ov_var mac_var
  for h in 1 2; do
    ov_var=OV_H$h; mac_var=MAC_H$h
    bg "h$h" "$OUT/n2n-r$1-h$h.log" "$P-h$h" "$N2N/edge" -c anchors -k anchors-bench-key -A3 -S1 \
      -a "static:${!ov_var}/24" -l "$UL_SW:7654" -m "${!mac_var}" -d n2n0 -f
  done
  DEV=n2n0
  ready "$OV_H2" 60
}

VL2=$WORK/vl2
vl2_unpack() { [ -x "$VL2/bin/vl2-switch" ] || { mkdir -p "$VL2"; tar -xzf "$DIST" -C "$VL2" --strip-components=1; }; }
setup_vl2() { # round mode(raw|enc) [agent EXTRA_JAVA_OPTS]: a fresh switch and agents
  vl2_unpack
  local d=$WORK/vl2-$1-$2 key="" h how ov_var mac_var opts=${3:-}
  mkdir -p "$d"
  bg sw "$OUT/vl2$2-r$1-switch.out" "$SW" "$VL2/bin/vl2-switch" --listen "$UL_SW:9990" --data "$d/sw"
  wait_for 240 sh -c "ip netns exec $SW ss -Hlun 'sport = :9990' | grep -q ." || { SKIP="the vl2 switch did not listen within 240 s"; return 1; }
  if [ "$2" != raw ]; then
    wait_for 60 sh -c "grep -qho 'Switch public key [A-Za-z0-9+/=]*' '$d/sw/data/log/karaf.log' '$OUT/vl2$2-r$1-switch.out'" || true
    key=$(grep -ho 'Switch public key [A-Za-z0-9+/=]*' "$d/sw/data/log/karaf.log" "$OUT/vl2$2-r$1-switch.out" 2>/dev/null | head -1 | awk '{ print $4 }' || true)
    [ -n "$key" ] || { SKIP="the switch did not log its public key"; return 1; }
  fi
  for h in 2 1; do
    ov_var=OV_H$h; mac_var=MAC_H$h
    if [ -n "$key" ]; then how=(--switch "$UL_SW:9991" --switch-key "$key"); else how=(--mode raw --switch "$UL_SW:9990"); fi
    bg "h$h" "$OUT/vl2$2-r$1-agent-h$h.out" "$P-h$h" env EXTRA_JAVA_OPTS="$opts" "$VL2/bin/vl2-agent" "${how[@]}" --address "${!ov_var}/24" \
      --mac "${!mac_var}" --data "$d/h$h"
  done
  DEV=vl2tap0
  ping_across_poll 240
}
vl2_switch_report() { # round mode: what the switch relayed and how its pairs went (direct or not), for the record
  local d=$WORK/vl2-$1-$2 f="$OUT/vl2$2-r$1-switch-pairs.txt"
  printf 'vl2:stats --no-format\nvl2:pairs --no-format\n' | ip netns exec "$SW" "$VL2/bin/vl2-client" --data "$d/sw" -b \
    >"$f" 2>&1 || true
  note "vl2$2 (round $1): switch: $(grep -E '^Pair frames' "$f" | tr -s '\t ' ' '), pairs: $(grep -c $'\tdirect\t' "$f" || true) direct, $(grep -c $'\tactive\t' "$f" || true) relayed"
}
setup_vl2raw() { setup_vl2 "$1" raw; }
setup_vl2enc() { setup_vl2 "$1" enc; }
setup_vl2encc2() { setup_vl2 "$1" encc2 -XX:TieredStopAtLevel=4; }

# --- run -----------------------------------------------------------------------------------------------------------
put meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
put meta command "sudo bench/anchors.sh${ARGS:+ $ARGS}"
put meta cpus "$(nproc) x $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
put meta kernel "$(uname -sr)"
put meta seconds "$SECS"
put meta pings "$PINGS5 at 5 ms, $PINGS100 at 100 ms"
put meta systems "$SYSTEMS"
put meta rounds "$ROUNDS"
put meta versions "iperf3 $(iperf3 --version | head -1 | awk '{ print $2 }'); tinc $(tincd --version 2>/dev/null | head -1 | awk '{ print $3 }'); OpenVPN $(openvpn --version 2>/dev/null | head -1 | awk '{ print $2 }'); Nebula $(nebula -version 2>/dev/null | awk '{ print $2 }'); wireguard-go $(dpkg-query -W -f '${Version}' wireguard-go 2>/dev/null); n2n $("$N2N/edge" -h 2>/dev/null | grep -o 'v\.[0-9.]*' | head -1) (git $(git -C "$N2N" describe --tags 2>/dev/null || cat "$N2N/.anchors-source" 2>/dev/null || echo '?'))"
[ -n "$DIST" ] && put meta dist "$(basename "$DIST"), sha256 $(sha256sum "$DIST" | cut -c1-12), built $(date -u -r "$DIST" '+%Y-%m-%d %H:%M UTC'); source HEAD $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
put meta load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
note "results: $OUT; load: $(cut -d' ' -f1-3 /proc/loadavg)"

say "Namespaces $SW, $H1, $H2: underlay 10.78.0.0/24 on a bridge in $SW"
build_underlay

read -r -a ORDER <<<"$SYSTEMS"
for round in $(seq "$ROUNDS"); do
  if [ $((round % 2)) = 0 ]; then
    list=(); for ((i = ${#ORDER[@]} - 1; i >= 0; i--)); do list+=("${ORDER[$i]}"); done
  else
    list=("${ORDER[@]}")
  fi
  for s in "${list[@]}"; do
    say "$s (round $round): setting up; load $(cut -d' ' -f1-3 /proc/loadavg)"
    put "$s.r$round" load "$(cut -d' ' -f1-3 /proc/loadavg)"
    put "$s.r$round" start "$(date -u +%H:%M:%S)"
    SKIP="" DEV=""
    if "setup_$s" "$round"; then
      measure "$s" "$round" "$OV_H2" "$DEV"
      case "$s" in vl2enc*) vl2_switch_report "$round" "${s#vl2}" ;; esac
    else
      put "$s.r$round" skipped "${SKIP:-h1 did not reach h2 across it within the time}"
      note "$s (round $round): skipped: ${SKIP:-h1 did not reach h2 across it within the time}"
    fi
    teardown
  done
done
put meta load_end "$(cut -d' ' -f1-3 /proc/loadavg)"

python3 "$ROOT/bench/lib/anchors-report.py" "$OUT" >"$OUT/report.md"
cat "$OUT/report.md"

#!/usr/bin/env bash
# Overlay benchmark: vl2 against the underlay and a Linux kernel VXLAN star, measured in one run.
#
#   sudo bench/overlay.sh [--seconds 5] [--pings 500] [--ping-intervals "0.01"] [--dist FILE] [--no-restart]
#                         [--no-encrypted] [--agent-flag F]... [--switch-io-batch N]
#                         [--cipher auto|aes-256-gcm|chacha20-poly1305] [--tcp]
#
# Builds test hosts in network namespaces <p>-sw, <p>-h1, <p>-h2 (p = vl2ov<pid>): an underlay bridge in the
# switch host, h1 and h2 on it by veth (underlay 10.78.0.0/24, only inside these namespaces). Then, one path
# after the other, h1 -> h2 over:
#   underlay  the veth/bridge addresses directly (10.78.0.11 -> 10.78.0.12)
#   vxlan     a kernel VXLAN star: vx0 in h1 (VNI 101) and h2 (VNI 102) towards the switch host, which
#             terminates both (vx101, vx102) in a Linux bridge; MTU 1450; overlay 10.1.1.0/24. Skipped
#             (and said so) when the kernel cannot create a vxlan device.
#   vl2       bin/vl2-switch in <p>-sw, bin/vl2-agent --mode raw in h1 and h2 (TAP MTU 1454); overlay 10.1.1.0/24
#   vl2enc    the same switch, the agents restarted in the default vl2 mode: encrypted (X25519 handshake,
#             AES-256-GCM or ChaCha20-Poly1305 per frame, as negotiated), pinned to the switch's key from its log;
#             TAP MTU from the network (1400). --cipher C sets the switch's cipher (default auto: AES-256-GCM
#             where both ends have AES instructions); the agents stay auto, so C decides the encrypted path's AEAD.
#             Left out with --no-encrypted. --agent-flag F (repeatable) adds F to both agents' command lines
#             in both vl2 paths, e.g. --agent-flag --no-offload to compare without TAP offload.
#             --switch-io-batch N sets the switch's io.batch (datagrams per system call; 0: one each).
#   vl2tcp    with --tcp (and the encrypted path): the switch also runs --tcp $UL_SW:8443 and h1's agent is
#             restarted with --transport tcp (TLS 1.3; h2 stays on UDP): the TCP fallback, TCP over TCP.
# For each path, after a 2 s TCP warm-up: ping RTT (--pings at 10 ms, average, p50 and p99; with --ping-intervals
# "0.005 0.1" also p50/p99 at each of those intervals, e.g. for sparse traffic), iperf3 TCP 1 and 4
# streams, iperf3 UDP with 18-byte payloads (64-byte frames) at -b 0 (received frames/s and loss), each
# --seconds long; CPU use and drop counters per test. For vl2 also: switch boot, agent boot-to-forwarding (cold:
# first start of a fresh --data; warm: restart), RSS and CPU of the JVMs. Prints Markdown tables; results,
# iperf3 JSON and logs stay in bench/target/overlay-<time>/.
# Everything (processes, namespaces, the unpacked distribution) is removed at the end, also on failure/Ctrl-C.
#
# Needs: root, ip (iproute2), iperf3, ping (iputils), python3, ss, Java 17, /dev/net/tun.
# Uses karaf-assembly/target/vl2-karaf-*.tar.gz (built with mvn -B -q -DskipTests install if missing).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/netns-bench.sh
. "$ROOT/bench/lib/netns-bench.sh"
SECS=5
PINGS=500
PING_INTERVALS=""
DIST=""
RESTART=true
ENCRYPTED=true
AGENT_FLAGS=()
SWITCH_IO_BATCH=""
CIPHER=auto
TCP=false
ARGS="$*"

while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) need_value "$1" $#; SECS=$2; shift 2 ;;
    --pings) need_value "$1" $#; PINGS=$2; shift 2 ;;
    --ping-intervals) need_value "$1" $#; PING_INTERVALS=$2; shift 2 ;;
    --dist) need_value "$1" $#; DIST=$2; shift 2 ;;
    --no-restart) RESTART=false; shift ;;
    --no-encrypted) ENCRYPTED=false; shift ;;
    --agent-flag) need_value "$1" $#; AGENT_FLAGS+=("$2"); shift 2 ;;
    --switch-io-batch) need_value "$1" $#; SWITCH_IO_BATCH=$2; shift 2 ;;
    --cipher) need_value "$1" $#; CIPHER=$2; shift 2 ;;
    --tcp) TCP=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) unknown_option "$1" ;;
  esac
done
need_count --seconds "$SECS"
need_count --pings "$PINGS"
for iv in $PING_INTERVALS; do
  case "$iv" in *[!0-9.]*|.|'') bad_usage "--ping-intervals takes seconds like \"0.005 0.1\" (got $iv)" ;; esac
done

# --- preconditions ---------------------------------------------------------------------------------------------
require_root "namespaces, veth, VXLAN and TAP devices need CAP_NET_ADMIN"
require_tun
use_java17
require_tools ip ss ping iperf3 python3 java tar sysctl pgrep
if [ -z "$DIST" ] && ! ls "$ROOT"/karaf-assembly/target/vl2-karaf-*.tar.gz >/dev/null 2>&1; then
  say "Building vl2 (first run only): mvn -B -q -DskipTests install"
  (cd "$ROOT" && mvn -B -q -DskipTests install)
fi
choose_dist

# --- names, addresses, state -----------------------------------------------------------------------------------
topology_names vl2ov$$
SWITCH_PORT=9990       # raw mode
VL2_PORT=9991          # vl2 protocol (encrypted)
IPERF_PORT=5201
UDP_LEN=18    # 18 B UDP payload + 8 UDP + 20 IPv4 + 14 Ethernet = 60 B frame, 64 B with the FCS
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=$ROOT/bench/target/overlay-$STAMP
WORK=$(mktemp -d /tmp/vl2-overlay.XXXXXX)
VL2=$WORK/vl2
mkdir -p "$OUT"
RES=$OUT/results.tsv
: >"$RES"
declare -A LAUNCHER=()   # role (sw, h1, h2) -> pid of the launcher (ip netns exec -> bin/vl2-*)
declare -A JVM=()        # role -> pid of its java process
BG=()                    # other background pids (iperf3 servers)

put() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RES"; }   # section key value

cleanup() {
  local rc=$? role ns p left
  set +e
  trap - EXIT INT TERM
  for role in h1 h2 sw; do [ -n "${LAUNCHER[$role]:-}" ] && kill -TERM "${LAUNCHER[$role]}" 2>/dev/null; done
  for role in h1 h2 sw; do stop_role "$role" 15; done
  for p in "${BG[@]}"; do kill_tree 9 "$p"; done
  remove_namespaces
  for role in sw h1 h2; do
    [ -f "$WORK/$role/data/log/karaf.log" ] && cp "$WORK/$role/data/log/karaf.log" "$OUT/karaf-$role.log"
  done
  pkill -9 -f "karaf.base=$WORK/" 2>/dev/null
  rm -rf "$WORK"
  left=$(ip netns list | grep -c "^$P-" || true)
  if [ "$left" != 0 ] || pgrep -f "karaf.base=$WORK/" >/dev/null; then
    echo "overlay: cleanup incomplete: $left namespaces $P-*, JVMs: $(pgrep -f "karaf.base=$WORK/" | tr '\n' ' ')" >&2
  else
    echo "overlay: cleaned up (namespaces $P-*, processes, $WORK); results in $OUT" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Namespaces of earlier runs that were killed with SIGKILL (vl2ov<pid>-* whose script no longer runs)
reap_stale_namespaces vl2ov overlay.sh

# --- measurement helpers ---------------------------------------------------------------------------------------
cpu_stat() { awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6 }' /proc/stat; }
NCPU=$(nproc)
declare -A RSS_MAX=()
sample_rss() { local r k; for r in "${!JVM[@]}"; do k=$(rss_kib "${JVM[$r]}"); [ "$k" -gt "${RSS_MAX[$r]:-0}" ] && RSS_MAX[$r]=$k; done; return 0; }

# run_bounded limit outfile command...: runs the command, sampling the JVMs' RSS every 0.25 s; kills it after
# limit seconds. Returns its exit status.
run_bounded() {
  local limit=$1 out=$2 pid n=0 rc=0
  shift 2
  "$@" >"$out" 2>"$out.err" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sample_rss
    n=$((n + 1))
    if [ "$n" -gt $((limit * 4)) ]; then note "timed out after ${limit} s: $*"; kill_tree 9 "$pid"; break; fi
    sleep 0.25
  done
  wait "$pid" || rc=$?
  return "$rc"
}

# measured path test command...: one test, with the machine's CPU use (and the vl2 JVMs') over it
measured() {
  local path=$1 test=$2 c0 c1 t0 r rc=0
  shift 2
  net_snapshot "$OUT/$path-$test-net0.txt"
  declare -A j0=()
  for r in "${!JVM[@]}"; do j0[$r]=$(jvm_ticks "${JVM[$r]}"); done
  c0=$(cpu_stat); t0=$(now)
  "$@" || rc=$?
  c1=$(cpu_stat)
  net_snapshot "$OUT/$path-$test-net1.txt"
  put "$path" "cpu.$test" "$(awk -v a="$c0" -v b="$c1" -v n="$NCPU" 'BEGIN { split(a, x, " "); split(b, y, " ");
    d = y[2] - x[2]; printf "%.2f", (d > 0 ? n * (y[1] - x[1]) / d : 0) }')"
  for r in "${!JVM[@]}"; do
    put "$path" "jvmcpu.$test.$r" "$(awk -v a="${j0[$r]}" -v b="$(jvm_ticks "${JVM[$r]}")" -v hz="$TICKS" -v t0="$t0" -v t1="$(now)" \
      'BEGIN { printf "%.2f", (b - a) / hz / (t1 - t0) }')"
  done
  return "$rc"
}

ping_test() { # path dst
  ip netns exec "$H1" ping -n -q -c 5 -i 0.05 -W 1 "$2" >/dev/null 2>&1 || true   # ARP, learning
  # 10 ms apart: below 10 ms iputils ping busy-polls and takes a whole core here (measured), which would slow
  # down what it measures on 2 cores
  run_bounded $((PINGS / 50 + 20)) "$OUT/$1-ping.txt" ip netns exec "$H1" ping -n -c "$PINGS" -i 0.01 -W 1 "$2" || true
  local iv
  for iv in $PING_INTERVALS; do   # sparser (or denser) traffic: RTT grows when every hop has to wake up
    run_bounded "$(awk -v n="$PINGS" -v i="$iv" 'BEGIN { printf "%d", n * i * 1.5 + 20 }')" "$OUT/$1-ping-$iv.txt" \
      ip netns exec "$H1" ping -n -c "$PINGS" -i "$iv" -W 1 "$2" || true
  done
}

iperf_test() { # path name dst iperf3-client-args...
  local path=$1 name=$2 dst=$3 srv rc=0
  shift 3
  ip netns exec "$H2" timeout $((SECS + 40)) iperf3 -s -1 -B "$dst" -p "$IPERF_PORT" >"$OUT/$path-$name-server.txt" 2>&1 &
  srv=$!
  BG+=("$srv")
  if ! wait_for 10 sh -c "ip netns exec $H2 ss -Hltn 'sport = :$IPERF_PORT' | grep -q ."; then
    note "$path $name: the iperf3 server did not listen"; kill_tree 9 "$srv"; return 1
  fi
  run_bounded $((SECS + 30)) "$OUT/$path-$name.json" \
    ip netns exec "$H1" timeout $((SECS + 25)) iperf3 -c "$dst" -p "$IPERF_PORT" -t "${IPERF_SECS:-$SECS}" -J --connect-timeout 5000 "$@" || rc=$?
  wait_gone 5 "$srv" || kill_tree 9 "$srv"
  wait "$srv" 2>/dev/null || true
  [ "$rc" = 0 ] || note "$path $name: iperf3 exited with $rc (see $OUT/$path-$name.json)"
  sleep 1   # let queues drain before the next test
  return 0
}

# net_snapshot file: every namespace's UDP counters (/proc/net/snmp), UDP sockets with their drop counts
# (/proc/net/udp), device and qdisc statistics (ip -s -j link, tc -s -j qdisc), to tell afterwards where
# packets were dropped
net_snapshot() {
  local ns
  for ns in "${NSS[@]}"; do
    echo "NS ${ns#"$P"-}"
    ip netns exec "$ns" awk '/^Udp:/ { print "SNMP", $0 }' /proc/net/snmp
    ip netns exec "$ns" awk 'NR > 1 { print "SOCK", $2, $NF }' /proc/net/udp
    echo "LINK $(ip -n "$ns" -s -j link show)"
    command -v tc >/dev/null && echo "QDISC $(tc -n "$ns" -s -j qdisc show)"
  done >"$1" 2>/dev/null || true
}

measure_path() { # path dst
  local path=$1 dst=$2
  put "$path" load "$(cut -d' ' -f1-3 /proc/loadavg)"
  # warm-up, not recorded: JIT-compiles vl2's forwarding paths (and warms every path's caches alike)
  say "$path: warm-up, iperf3 TCP 2 s (not recorded)"
  IPERF_SECS=2 iperf_test "$path" warmup "$dst"
  say "$path: ping ($PINGS at 10 ms) -> $dst"
  measured "$path" ping ping_test "$path" "$dst"
  say "$path: iperf3 TCP, 1 stream, ${SECS} s"
  measured "$path" tcp1 iperf_test "$path" tcp1 "$dst"
  say "$path: iperf3 TCP, 4 streams, ${SECS} s"
  measured "$path" tcp4 iperf_test "$path" tcp4 "$dst" -P 4
  say "$path: iperf3 UDP, ${UDP_LEN}-byte payloads (64-byte frames), -b 0, ${SECS} s"
  measured "$path" udp64 iperf_test "$path" udp64 "$dst" -u -l "$UDP_LEN" -b 0
}

# --- metadata ----------------------------------------------------------------------------------------------------
GIT_HEAD=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
GIT_DIRTY=$(git -C "$ROOT" status --porcelain -- bundles features karaf-assembly 2>/dev/null | wc -l)
put meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
put meta command "sudo bench/overlay.sh${ARGS:+ $ARGS}"
put meta cpus "$NCPU x $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
put meta kernel "$(uname -sr)"
put meta java "$("${JAVA_HOME:+$JAVA_HOME/bin/}java" -version 2>&1 | head -1)"
put meta iperf3 "$(iperf3 --version | head -1 | awk '{ print $1, $2 }')"
put meta dist "$(basename "$DIST"), sha256 $(sha256sum "$DIST" | cut -c1-12), built $(date -u -r "$DIST" '+%Y-%m-%d %H:%M UTC')"
put meta git "source tree at run time: HEAD $GIT_HEAD, $GIT_DIRTY uncommitted files under bundles/ features/ karaf-assembly/"
put meta seconds "$SECS"
put meta pings "$PINGS"
put meta ping_intervals "$PING_INTERVALS"
put meta load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
note "distribution: $DIST; results: $OUT; load: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- test hosts --------------------------------------------------------------------------------------------------
say "Namespaces $SW, $H1, $H2: underlay 10.78.0.0/24 on a bridge in $SW"
build_underlay

# --- path 1: the underlay ----------------------------------------------------------------------------------------
measure_path underlay "$UL_H2"

# --- path 2: kernel VXLAN star -----------------------------------------------------------------------------------
if err=$(ip -n "$SW" link add vxprobe type vxlan id 9 dstport 4789 dev ul0 2>&1); then
  ip -n "$SW" link del vxprobe
  say "Kernel VXLAN star: h1 (VNI 101) and h2 (VNI 102) -> switch host bridge, MTU 1450, dstport 4789"
  ip -n "$SW" link add vxbr type bridge
  for h in 1 2; do
    ns=$P-h$h; ul_var=UL_H$h; ov_var=OV_H$h
    ip -n "$SW" link add "vx10$h" type vxlan id "10$h" local "$UL_SW" remote "${!ul_var}" dstport 4789 dev ul0
    ip -n "$SW" link set "vx10$h" mtu 1450 master vxbr up
    ip -n "$ns" link add vx0 type vxlan id "10$h" local "${!ul_var}" remote "$UL_SW" dstport 4789 dev eth0
    ip -n "$ns" link set vx0 mtu 1450 up
    ip -n "$ns" addr add "${!ov_var}/24" dev vx0
  done
  ip -n "$SW" link set vxbr up
  if wait_for 10 ip netns exec "$H1" ping -c1 -W1 "$OV_H2"; then
    measure_path vxlan "$OV_H2"
  else
    note "the VXLAN star does not forward (h1 -> $OV_H2): skipping it"
    put vxlan skipped "the VXLAN star did not forward"
  fi
  for h in 1 2; do ip -n "$P-h$h" link del vx0 2>/dev/null || true; ip -n "$SW" link del "vx10$h" 2>/dev/null || true; done
  ip -n "$SW" link del vxbr 2>/dev/null || true
else
  note "this kernel cannot create vxlan devices ($err): skipping the VXLAN column"
  put vxlan skipped "no vxlan in this kernel: $err"
fi

# --- path 3: vl2 -------------------------------------------------------------------------------------------------
say "Unpacking $(basename "$DIST")"
mkdir -p "$VL2"
tar -xzf "$DIST" -C "$VL2" --strip-components=1
if [ -n "$SWITCH_IO_BATCH" ]; then
  for pid in org.vl2.transport.udp org.vl2.transport.vl2; do echo "io.batch = $SWITCH_IO_BATCH" >>"$VL2/etc/$pid.cfg"; done
fi

SWITCH_KEY=""
start_agent() { # h out-file: raw mode, or the encrypted vl2 protocol once SWITCH_KEY is set
  local h=$1 ns=$P-h$1 ov_var=OV_H$1 mac_var=MAC_H$1 how
  if [ -n "$SWITCH_KEY" ]; then
    how=(--switch "$UL_SW:$VL2_PORT" --switch-key "$SWITCH_KEY")
  else
    how=(--mode raw --switch "$UL_SW:$SWITCH_PORT")
  fi
  ip netns exec "$ns" "$VL2/bin/vl2-agent" "${how[@]}" ${AGENT_FLAGS[@]+"${AGENT_FLAGS[@]}"} --address "${!ov_var}/24" \
    --mac "${!mac_var}" --data "$WORK/h$h" </dev/null >"$2" 2>&1 &
  LAUNCHER[h$h]=$!
}

put vl2 load_boot "$(cut -d' ' -f1-3 /proc/loadavg)"
say "vl2: bin/vl2-switch --listen $UL_SW:$SWITCH_PORT in $SW"
T0=$(now)
SWITCH_TCP=()
$TCP && SWITCH_TCP=(--tcp "$UL_SW:8443")
ip netns exec "$SW" "$VL2/bin/vl2-switch" --listen "$UL_SW:$SWITCH_PORT" --cipher "$CIPHER" ${SWITCH_TCP[@]+"${SWITCH_TCP[@]}"} --data "$WORK/sw" </dev/null \
  >"$OUT/switch.out" 2>&1 &
LAUNCHER[sw]=$!
wait_for 120 sh -c "ip netns exec $SW ss -Hlun 'sport = :$SWITCH_PORT' | grep -q ." \
  || { tail -20 "$OUT/switch.out" >&2; fail "the switch did not listen on UDP $UL_SW:$SWITCH_PORT within 120 s"; }
put vl2 boot.switch "$(since "$T0")"
find_jvm sw

say "vl2: bin/vl2-agent in $H2 (first start of a fresh --data)"
T0=$(now)
start_agent 2 "$OUT/agent-h2.out"
wait_for 120 agent_up "$OUT/agent-h2.out" \
  || { tail -20 "$OUT/agent-h2.out" >&2; fail "the agent in $H2 did not come up within 120 s"; }
put vl2 boot.h2.up "$(logged_after "$T0" "$OUT/agent-h2.out")"
find_jvm h2

say "vl2: bin/vl2-agent in $H1 (first start of a fresh --data), timed until a ping h1 -> h2 succeeds"
T0=$(now)
start_agent 1 "$OUT/agent-h1.out"
ping_across_poll 120 || { tail -20 "$OUT/agent-h1.out" >&2; fail "no ping across vl2 within 120 s of starting the agent in $H1"; }
put vl2 boot.h1.fwd "$(since "$T0")"
find_jvm h1
grep -h "Port agent up" "$OUT/agent-h1.out" "$OUT/agent-h2.out" >&2 || true
wait_for 30 agent_up "$OUT/agent-h1.out" && put vl2 boot.h1.up "$(logged_after "$T0" "$OUT/agent-h1.out")"
for r in sw h1 h2; do
  put vl2 "xmx.$r" "$(tr '\0' '\n' <"/proc/${JVM[$r]}/cmdline" | grep -E '^-Xmx' | tail -1 || echo 'JVM default')"
done

put vl2 mtu "$(ip -n "$H1" -o link show vl2tap0 | grep -o 'mtu [0-9]*' | cut -d' ' -f2 || true)"
sleep 2   # let the last boot work settle
for r in sw h1 h2; do put vl2 "rss.boot.$r" "$(rss_kib "${JVM[$r]}")"; done
RSS_MAX=()
measure_path vl2 "$OV_H2"
for r in sw h1 h2; do put vl2 "rss.load.$r" "${RSS_MAX[$r]:-0}"; done
put vl2 stats "$(echo "vl2:stats" | ip netns exec "$SW" timeout 30 "$VL2/bin/vl2-client" --data "$WORK/sw" -b 2>/dev/null \
  | tr -d '\r' | tr '\n' ' ' | tr -s ' ' || true)"

if $RESTART; then
  say "vl2: restart of the agent in $H1 (warm: same --data), timed until a ping h1 -> h2 succeeds"
  stop_role h1 20
  put vl2 restart.stop "$STOP_SECONDS"
  ip -n "$H1" link show vl2tap0 >/dev/null 2>&1 && put vl2 restart.tap_left yes
  T0=$(now)
  start_agent 1 "$OUT/agent-h1-restart.out"
  if ping_across_poll 120; then
    put vl2 restart.h1.fwd "$(since "$T0")"
    find_jvm h1
    wait_for 30 agent_up "$OUT/agent-h1-restart.out" \
      && put vl2 restart.h1.up "$(logged_after "$T0" "$OUT/agent-h1-restart.out")"
  else
    note "no ping across vl2 within 120 s of restarting the agent in $H1"
  fi
fi

# --- path 4: vl2, encrypted ----------------------------------------------------------------------------------------
if $ENCRYPTED; then
  SWITCH_KEY=$(grep -ho 'Switch public key [A-Za-z0-9+/=]*' "$WORK/sw/data/log/karaf.log" "$OUT/switch.out" 2>/dev/null \
    | head -1 | awk '{ print $4 }' || true)
  if [ -z "$SWITCH_KEY" ]; then
    note "the switch did not log its public key ('Switch public key ...'): skipping the encrypted path"
    put vl2enc skipped "no 'Switch public key' in the switch's log"
  else
    say "vl2 encrypted: agents in h1 and h2 restarted in vl2 mode, pinned to switch key $SWITCH_KEY"
    stop_role h1 20; stop_role h2 20
    start_agent 2 "$OUT/agent-h2-enc.out"
    wait_for 120 agent_up "$OUT/agent-h2-enc.out" \
      || { tail -20 "$OUT/agent-h2-enc.out" >&2; fail "the encrypted agent in $H2 did not come up within 120 s"; }
    find_jvm h2
    T0=$(now)
    start_agent 1 "$OUT/agent-h1-enc.out"
    ping_across_poll 120 || { tail -20 "$OUT/agent-h1-enc.out" >&2; fail "no ping across vl2 (encrypted) within 120 s"; }
    put vl2enc restart.h1.fwd "$(since "$T0")"
    find_jvm h1
    grep -h "Port agent up" "$OUT/agent-h1-enc.out" "$OUT/agent-h2-enc.out" >&2 || true
    put vl2enc mtu "$(ip -n "$H1" -o link show vl2tap0 | grep -o 'mtu [0-9]*' | cut -d' ' -f2 || true)"
    measure_path vl2enc "$OV_H2"
    put vl2enc stats "$(echo "vl2:stats" | ip netns exec "$SW" timeout 30 "$VL2/bin/vl2-client" --data "$WORK/sw" -b 2>/dev/null \
      | tr -d '\r' | tr '\n' ' ' | tr -s ' ' || true)"
    if $TCP; then
      say "vl2 over TCP/TLS: the agent in h1 restarted with --transport tcp (h2 stays on UDP)"
      stop_role h1 20
      AGENT_FLAGS+=(--transport tcp --tcp-port 8443)
      T0=$(now)
      start_agent 1 "$OUT/agent-h1-tcp.out"
      ping_across_poll 120 || { tail -20 "$OUT/agent-h1-tcp.out" >&2; fail "no ping across vl2 over TCP within 120 s"; }
      put vl2tcp restart.h1.fwd "$(since "$T0")"
      find_jvm h1
      grep -h "Port agent up" "$OUT/agent-h1-tcp.out" >&2 || true
      put vl2tcp mtu "$(ip -n "$H1" -o link show vl2tap0 | grep -o 'mtu [0-9]*' | cut -d' ' -f2 || true)"
      measure_path vl2tcp "$OV_H2"
    fi
  fi
fi
put meta load_end "$(cut -d' ' -f1-3 /proc/loadavg)"

# --- report ------------------------------------------------------------------------------------------------------
python3 - "$OUT" "$UDP_LEN" >"$OUT/report.md" <<'PY'
import json, math, os, re, sys
out, udp_len = sys.argv[1], int(sys.argv[2])
res = {}
for line in open(os.path.join(out, "results.tsv")):
    sec, key, val = (line.rstrip("\n").split("\t") + ["", ""])[:3]
    res.setdefault(sec, {})[key] = val
meta = res.get("meta", {})
paths = ["underlay", "vxlan", "vl2", "vl2enc"] + (["vl2tcp"] if "vl2tcp" in res else [])
names = {"underlay": "underlay", "vxlan": "kernel VXLAN star", "vl2": "vl2 raw", "vl2enc": "vl2 encrypted",
         "vl2tcp": "vl2 encrypted, h1 over TCP/TLS"}

def load(path, test):
    f = os.path.join(out, f"{path}-{test}.json")
    try:
        d = json.load(open(f))
    except Exception:
        return None
    return None if "error" in d and "end" not in d else d

def tcp(path, test):
    d = load(path, test)
    try:
        return {"gbps": d["end"]["sum_received"]["bits_per_second"] / 1e9,
                "retr": d["end"]["sum_sent"].get("retransmits")}
    except Exception:
        return None

def udp(path):
    d = load(path, "udp64")
    try:
        s, r = d["end"]["sum_sent"], d["end"]["sum_received"]
        secs = s["seconds"] or 1
        sent = s["packets"]
        got = r["bytes"] / udp_len
        return {"offered": sent / secs, "received": got / secs, "loss": 100.0 * (sent - got) / sent if sent else 0}
    except Exception:
        return None

def ping(path, interval=None):
    try:
        text = open(os.path.join(out, f"{path}-ping{'' if interval is None else '-' + interval}.txt")).read()
    except Exception:
        return None
    t = sorted(float(x) for x in re.findall(r"time=([0-9.]+) ms", text))
    m = re.search(r"(\d+) packets transmitted, (\d+) received", text)
    if not t or not m:
        return None
    sent, got = int(m.group(1)), int(m.group(2))
    p99 = t[max(0, math.ceil(0.99 * len(t)) - 1)]
    return {"avg": sum(t) / len(t), "p50": t[len(t) // 2], "p99": p99, "max": t[-1],
            "loss": 100.0 * (sent - got) / sent if sent else 0, "n": got}

# where packets were dropped: counters that grew during each test
def snap(path, test, i):
    try:
        lines = open(os.path.join(out, f"{path}-{test}-net{i}.txt")).read().splitlines()
    except Exception:
        return {}
    d, ns, hdr = {}, "?", []
    for l in lines:
        kind, _, rest = l.partition(" ")
        try:
            if kind == "NS":
                ns = rest
            elif kind == "SNMP":
                parts = rest.split()[1:]
                if parts and parts[0].isdigit():
                    for k, x in zip(hdr, parts):
                        if k in ("RcvbufErrors", "SndbufErrors"):
                            d[(ns, "UDP " + k)] = int(x)
                else:
                    hdr = parts
            elif kind == "SOCK":
                addr, drops = rest.split()
                ip, port = addr.split(":")
                a = ".".join(str(b) for b in bytes.fromhex(ip)[::-1]) if len(ip) == 8 else ip
                d[(ns, f"UDP socket {a}:{int(port, 16)} drops")] = int(drops)
            elif kind == "LINK":
                for dev in json.loads(rest):
                    st = dev.get("stats64", {})
                    for dirn in ("rx", "tx"):
                        for k in ("dropped", "errors", "packets"):
                            d[(ns, f"{dev['ifname']} {dirn}_{k}")] = int(st.get(dirn, {}).get(k, 0))
            elif kind == "QDISC":
                for q in json.loads(rest):
                    if q.get("drops") is not None and q.get("kind") != "noqueue":
                        d[(ns, f"qdisc {q.get('kind')} {q.get('handle')} on {q.get('dev', '?')} drops")] = int(q["drops"])
        except Exception:
            pass
    return d

OVERLAY_DEV = {"underlay": "eth0", "vxlan": "vx0", "vl2": "vl2tap0", "vl2enc": "vl2tap0", "vl2tcp": "vl2tap0"}
def delivered(path):
    """frames/s that h2's interface received during the UDP test (device counter: independent of iperf3's
    receiving thread keeping up)"""
    a, b = snap(path, "udp64", 0), snap(path, "udp64", 1)
    k = ("h2", f"{OVERLAY_DEV[path]} rx_packets")
    d = load(path, "udp64")
    return (b[k] - a[k]) / d["end"]["sum_sent"]["seconds"]

def through_switch(path, test):
    """frames/s that entered the switch host from h1 and h2 (rx_packets of u1 and u2): what it had to forward"""
    a, b = snap(path, test, 0), snap(path, test, 1)
    d = load(path, test)
    n = sum(b[("sw", f"u{h} rx_packets")] - a[("sw", f"u{h} rx_packets")] for h in (1, 2))
    return n / d["end"]["sum_sent"]["seconds"]

def num(v, fmt):
    return "–" if v is None else format(v, fmt)

rows = []  # (label, {path: value}, fmt, ratio?)
def row(label, fn, fmt, ratio=True):
    vals = {}
    for p in paths:
        if p in res and "skipped" not in res[p]:
            try:
                vals[p] = fn(p)
            except Exception:
                vals[p] = None
        else:
            vals[p] = None
    rows.append((label, vals, fmt, ratio))

row("TCP, 1 stream (Gbit/s)", lambda p: tcp(p, "tcp1")["gbps"], ".2f")
row("TCP, 1 stream: retransmits", lambda p: tcp(p, "tcp1")["retr"], "d", False)
row("TCP, 4 streams (Gbit/s)", lambda p: tcp(p, "tcp4")["gbps"], ".2f")
row("TCP, 4 streams: retransmits", lambda p: tcp(p, "tcp4")["retr"], "d", False)
row("UDP 64-byte frames: offered (k frames/s)", lambda p: udp(p)["offered"] / 1e3, ".0f")
row("UDP 64-byte frames: received by iperf3 (k frames/s)", lambda p: udp(p)["received"] / 1e3, ".1f")
row("UDP 64-byte frames: delivered to h2's interface (k frames/s)", lambda p: delivered(p) / 1e3, ".1f")
row("UDP 64-byte frames: loss at iperf3 (%)", lambda p: udp(p)["loss"], ".1f", False)
for test, label in (("tcp1", "TCP 1 stream"), ("tcp4", "TCP 4 streams"), ("udp64", "UDP 64 B")):
    row(f"frames through the switch host during {label} (k frames/s, both directions)",
        lambda p, t=test: through_switch(p, t) / 1e3, ".1f")
row("ping RTT average (ms)", lambda p: ping(p)["avg"], ".3f")
row("ping RTT p50 (ms)", lambda p: ping(p)["p50"], ".3f")
row("ping RTT p99 (ms)", lambda p: ping(p)["p99"], ".3f")
row("ping RTT max (ms)", lambda p: ping(p)["max"], ".3f")
for iv in meta.get("ping_intervals", "").split():
    row(f"ping RTT p50 at {iv} s intervals (ms)", lambda p, i=iv: ping(p, i)["p50"], ".3f")
    row(f"ping RTT p99 at {iv} s intervals (ms)", lambda p, i=iv: ping(p, i)["p99"], ".3f")
row("ping loss (%)", lambda p: ping(p)["loss"], ".1f", False)
for test, label in (("tcp1", "TCP 1 stream"), ("tcp4", "TCP 4 streams"), ("udp64", "UDP 64 B"), ("ping", "ping")):
    row(f"CPU busy during {label}: whole machine, other builds included (cores of {meta.get('cpus', '?').split()[0]})",
        lambda p, t=test: float(res[p][f"cpu.{t}"]), ".2f", False)
row("load average (1/5/15 min) before the path", lambda p: res[p]["load"], "s", False)

print(f"### Overlay: underlay vs kernel VXLAN star vs vl2 ({meta.get('date')})")
print()
print(f"`{meta.get('command')}`: {meta.get('seconds')} s per iperf3 test, {meta.get('pings')} pings at 10 ms. "
      f"Machine: {meta.get('cpus')}, {meta.get('kernel')}, {meta.get('java')}, {meta.get('iperf3')}. "
      f"Distribution: {meta.get('dist')}; {meta.get('git')}. "
      f"Load average (1/5/15 min): {meta.get('load_start')} at the start, {meta.get('load_end')} at the end.")
print()
print(f"MTU: underlay veth 1500, VXLAN 1450, vl2 raw TAP {res.get('vl2', {}).get('mtu') or '?'}, vl2 encrypted TAP "
      f"{res.get('vl2enc', {}).get('mtu') or '?'}. UDP: {udp_len}-byte payloads "
      f"= {udp_len + 28}-byte IP packets = {udp_len + 42}-byte Ethernet frames (64 with the FCS); iperf3 -b 0 sends as fast as "
      "its one thread can, so *offered* is what the sender managed (for the kernel paths, the sending thread also "
      "pays for forwarding); *received by iperf3* is counted by the iperf3 server, *delivered to h2's interface* is "
      f"the rx_packets counter of h2's {'/'.join(dict.fromkeys(OVERLAY_DEV.values()))} (frames the path delivered, also when the "
      "iperf3 receiver could not keep up).")
print()
def ratio_of(vals, a, b):
    if isinstance(vals[a], (int, float)) and isinstance(vals[b], (int, float)) and vals[b]:
        return f"{vals[a] / vals[b]:.2f}x"
    return "–"
ratios = [("vl2", "vxlan"), ("vl2enc", "vxlan"), ("vl2enc", "vl2")] + ([("vl2tcp", "vl2enc")] if "vl2tcp" in paths else [])
print("| metric | " + " | ".join(names[p] for p in paths) + " | vl2 raw / VXLAN | encrypted / VXLAN | encrypted / raw"
      + (" | TCP / encrypted" if "vl2tcp" in paths else "") + " |")
print("|---|" + "---:|" * (len(paths) + len(ratios)))
for label, vals, fmt, ratio in rows:
    cells = [num(vals[p], fmt) if fmt != "s" else (vals[p] or "–") for p in paths]
    rs = [ratio_of(vals, a, b) if ratio else "–" for a, b in ratios]
    print(f"| {label} | " + " | ".join(cells) + " | " + " | ".join(rs) + " |")
for p in paths:
    if "skipped" in res.get(p, {}):
        print(f"\n{names[p]}: skipped: {res[p]['skipped']}")
print()

v = res.get("vl2", {})
def mib(k):
    return f"{int(v[k]) / 1024:.0f}" if v.get(k) else "–"
def sec(k):
    return f"{float(v[k]):.1f}" if v.get(k) else "–"
print("vl2 footprint and start-up:")
print()
print("| | switch | agent h1 | agent h2 |")
print("|---|---:|---:|---:|")
print(f"| heap limit (`-Xmx`) | {v.get('xmx.sw', '–')} | {v.get('xmx.h1', '–')} | {v.get('xmx.h2', '–')} |")
print(f"| JVM RSS after boot (MiB) | {mib('rss.boot.sw')} | {mib('rss.boot.h1')} | {mib('rss.boot.h2')} |")
print(f"| JVM RSS under load, max sampled every 0.25 s (MiB) | {mib('rss.load.sw')} | {mib('rss.load.h1')} | {mib('rss.load.h2')} |")
print(f"| start -> UDP port listening (s) | {sec('boot.switch')} | | |")
print(f"| cold start (fresh `--data`) -> `Port agent up` logged (s) | | {sec('boot.h1.up')} | {sec('boot.h2.up')} |")
print(f"| **cold start -> first ping h1 -> h2 across vl2 (s)** | | **{sec('boot.h1.fwd')}** | |")
if v.get("restart.h1.fwd") or v.get("restart.stop"):
    print(f"| SIGTERM -> agent stopped, TAP deleted (s) | | {sec('restart.stop')} | |")
    print(f"| **warm restart (same `--data`) -> first ping across (s)** | | **{sec('restart.h1.fwd')}** | |")
print()
print(f"Load average when vl2 started booting: {v.get('load_boot', '?')}. CPU of the vl2 JVMs during each test "
      "(cores, from /proc/PID/stat):")
print()
print("| path | test | switch | agent h1 (sender) | agent h2 (receiver) | whole machine |")
print("|---|---|---:|---:|---:|---:|")
for p in ("vl2", "vl2enc"):
    w = res.get(p, {})
    if not w or "skipped" in w:
        continue
    for test, label in (("ping", "ping"), ("tcp1", "TCP 1 stream"), ("tcp4", "TCP 4 streams"), ("udp64", "UDP 64 B, -b 0")):
        print(f"| {names[p]} | {label} | {w.get(f'jvmcpu.{test}.sw', '–')} | {w.get(f'jvmcpu.{test}.h1', '–')} | "
              f"{w.get(f'jvmcpu.{test}.h2', '–')} | {w.get(f'cpu.{test}', '–')} |")
print()

# goals
t1 = tcp("vl2", "tcp1") if "vl2" in res else None
t4 = tcp("vl2", "tcp4") if "vl2" in res else None
x1 = tcp("vxlan", "tcp1") if "vxlan" in res and "skipped" not in res["vxlan"] else None
x4 = tcp("vxlan", "tcp4") if "vxlan" in res and "skipped" not in res["vxlan"] else None
def verdict(ok):
    return "–" if ok is None else ("met" if ok else "**not met**")
# "far above" n2n's ~0.4 Gbit/s: read as at least 2x (0.8 Gbit/s), with 1 stream and with 4
worst = min([t["gbps"] for t in (t1, t4) if t]) if (t1 or t4) else None
if worst is None:
    n2n = "–"
elif worst >= 0.8:
    n2n = "met"
elif worst > 0.4:
    n2n = f"**partly**: above n2n ({worst / 0.4:.1f}x at worst), not far above (2x = 0.8 Gbit/s)"
else:
    n2n = f"**not met** ({worst / 0.4:.1f}x n2n at worst)"
print("Goals:")
print()
print("| goal | measured | verdict |")
print("|---|---|---|")
print(f"| TCP through the switch far above n2n's ~0.4 Gbit/s | {num(t1 and t1['gbps'], '.2f')} Gbit/s (1 stream), "
      f"{num(t4 and t4['gbps'], '.2f')} (4 streams) | {n2n} |")
if x1 and t1:
    r1 = t1["gbps"] / x1["gbps"]; r4 = (t4["gbps"] / x4["gbps"]) if (t4 and x4) else None
    print(f"| TCP >= 0.3x the kernel VXLAN star | {r1:.2f}x (1 stream), {num(r4, '.2f')}x (4 streams) | "
          f"{verdict(r1 >= 0.3 and (r4 is None or r4 >= 0.3))} |")
else:
    print("| TCP >= 0.3x the kernel VXLAN star | no VXLAN reference in this run | – |")
e1 = tcp("vl2enc", "tcp1") if "vl2enc" in res and "skipped" not in res["vl2enc"] else None
e4 = tcp("vl2enc", "tcp4") if "vl2enc" in res and "skipped" not in res["vl2enc"] else None
if e1 and t1:
    print(f"| (cost of encryption) TCP encrypted / raw | {e1['gbps']:.2f} / {t1['gbps']:.2f} Gbit/s = "
          f"{e1['gbps'] / t1['gbps']:.2f}x (1 stream), {num(e4 and e4['gbps'], '.2f')} / {num(t4 and t4['gbps'], '.2f')} "
          f"(4 streams) | – |")
rss = [int(v[k]) / 1024 for k in ("rss.load.h1", "rss.load.h2", "rss.boot.h1", "rss.boot.h2") if v.get(k)]
print(f"| agent RSS <= 128 MiB | {max(rss):.0f} MiB at most (after boot and under load, both agents) | "
      f"{verdict(max(rss) <= 128 if rss else None)} |")
bt = [float(v[k]) for k in ("boot.h1.fwd", "restart.h1.fwd") if v.get(k)]
print(f"| agent boot-to-forwarding <= 5 s | cold {sec('boot.h1.fwd')} s, warm {sec('restart.h1.fwd')} s | "
      f"{verdict(None if not v.get('boot.h1.fwd') else float(v['boot.h1.fwd']) <= 5)} (cold), "
      f"{verdict(None if not v.get('restart.h1.fwd') else float(v['restart.h1.fwd']) <= 5)} (warm) |")

print()
print("Where packets were dropped (counters that grew during each test, in the namespace `sw`, `h1` or `h2`; "
      "`UDP RcvbufErrors` counts every UDP socket of the namespace, iperf3's included):")
print()
print("| path | test | drops |")
print("|---|---|---|")
for p in paths:
    if p not in res or "skipped" in res[p]:
        continue
    for test in ("ping", "tcp1", "tcp4", "udp64"):
        a, b = snap(p, test, 0), snap(p, test, 1)
        grew = [(k, b[k] - a[k]) for k in b if k in a and b[k] > a[k] and not k[1].endswith("_packets")]
        text = "; ".join(f"{ns} {what}: {n:,}" for (ns, what), n in sorted(grew, key=lambda x: -x[1])) or "none"
        print(f"| {names[p]} | {test} | {text} |")

for p, when in (("vl2", "the raw tests"), ("vl2enc", "the encrypted tests (cumulative)")):
    text = res.get(p, {}).get("stats")
    if not text:
        continue
    st = dict(re.findall(r"(RX frames|TX frames|Flooded|Drops: total|TX errors)\s*\|\s*([0-9,]+)", text))
    print()
    if st:
        print(f"`vl2:stats` on the switch after {when}: " + ", ".join(f"{k} {x}" for k, x in st.items()) + ".")
    else:
        print(f"`vl2:stats` on the switch after {when}: `{text.strip()[:300]}`")
PY
cat "$OUT/report.md"

#!/usr/bin/env bash
# Port agent footprint: memory (RSS) and boot-to-forwarding of bin/vl2-agent, in ~1.5 min.
#
#   sudo bench/agent-footprint.sh [--runs N] [--load-seconds S] [--dist FILE | --home DIR] [--nmt]
#                                 [--agent-opts 'JVM OPTIONS'] [--no-lock-wait] [--networks N]
#
# Builds hosts in network namespaces <p>-sw, <p>-h1, <p>-h2 (p = vl2af<pid>): a bridge in sw, h1 and h2 on it
# by veth (underlay 10.77.0.0/24; overlay 10.71.1.0/24 on the agents' TAP devices; all only inside these
# namespaces). Starts bin/vl2-switch in sw, reads its public key from its log, then bin/vl2-agent (vl2 mode,
# encrypted, pinned to that key) in h2 and in h1, each on a fresh --data, and measures:
#   - cold start (fresh --data) of h1 -> "Port agent up" logged, and -> first ping h1 -> h2 across vl2
#   - RSS (VmRSS) of both agent JVMs 2 s after boot, and the maximum (sampled every 0.25 s) under load:
#     ping at 10 ms + iperf3 TCP h1 -> h2 for --load-seconds (iperf3's Gbit/s is reported: a JIT option that
#     slows forwarding shows there), and h1's RSS settled: 25 s after its cold start, after the load
#   - h1 runs as a user's agent does by default, without a shell (no --ssh-port: the launcher then boots no ssh,
#     shell or command bundles); h2 runs with --ssh-port 8103, its RSS shows what the shell costs, and
#     bin/vl2-client --data DIR vl2:agent in h2 checks the shell (ok / FAILED)
#   - warm restart of h1 (SIGTERM, same --data) -> first ping across, and RSS after it
#   --runs N repeats the h1 cold start (a new fresh --data each time) and warm restart N times (medians printed).
#   --nmt adds -XX:NativeMemoryTracking=summary to the agents and prints h1's `jcmd PID VM.native_memory summary`
#     after the load (NMT itself costs a few MB of RSS).
#   --agent-opts '...' is passed to the agents as EXTRA_JAVA_OPTS (added after bin/vl2-agent's own options), to
#     try JVM options; JAVA_MAX_MEM in the environment reaches the agents as well.
#   --networks N (2..9): instead, the cost of more networks: the switch hosts networks a1..aN, a peer agent in h2
#     joins all of them (one process), and in h1, alternately --runs times, (A) N single-network agents (N JVMs,
#     one --network each, TAP vt1..vtN) and (B) one agent process with N --network flags (N TAPs and sessions);
#     each is measured once a ping h1 -> h2 succeeds in every network: RSS 2 s later, A summed over its JVMs.
#   --home DIR uses an unpacked distribution as is (not removed afterwards; to try etc/ or bin/ edits),
#     else --dist FILE (default karaf-assembly/target/vl2-karaf-*.tar.gz) is unpacked into a temporary folder.
# Waits (up to 15 min) while /tmp/vl2-bench.lock exists (another benchmark running), then holds it while it runs;
# --no-lock-wait ignores it.
# Prints a Markdown table; logs and results stay in bench/target/agent-footprint-<time>/. Everything (processes,
# namespaces, temporary folders) is removed at the end, also on failure or Ctrl-C.
#
# Needs: root, ip (iproute2), iperf3, ping, ss, Java 17 (jcmd for --nmt), /dev/net/tun.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/netns-bench.sh
. "$ROOT/bench/lib/netns-bench.sh"
RUNS=1
LOAD_SECS=5
DIST=""
HOME_DIR=""
NMT=false
AGENT_OPTS=""
LOCK_WAIT=true
OWN_LOCK=false
NETWORKS=1
ARGS="$*"

while [ $# -gt 0 ]; do
  case "$1" in
    --runs) need_value "$1" $#; RUNS=$2; shift 2 ;;
    --load-seconds) need_value "$1" $#; LOAD_SECS=$2; shift 2 ;;
    --dist) need_value "$1" $#; DIST=$2; shift 2 ;;
    --home) need_value "$1" $#; HOME_DIR=$2; shift 2 ;;
    --nmt) NMT=true; shift ;;
    --agent-opts) need_value "$1" $#; AGENT_OPTS=$2; shift 2 ;;
    --no-lock-wait) LOCK_WAIT=false; shift ;;
    --networks) need_value "$1" $#; NETWORKS=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) unknown_option "$1" ;;
  esac
done
need_count --runs "$RUNS"
need_count --load-seconds "$LOAD_SECS"
need_count --networks "$NETWORKS" 1 9

require_root "namespaces, veth and TAP devices need CAP_NET_ADMIN"
require_tun
use_java17
require_tools ip ss ping iperf3 java tar pgrep awk sort
JCMD=${JAVA_HOME:+$JAVA_HOME/bin/}jcmd
if $NMT; then command -v "$JCMD" >/dev/null || fail "--nmt needs jcmd (a JDK)"; fi

if [ -n "$HOME_DIR" ]; then
  [ -x "$HOME_DIR/bin/vl2-agent" ] || fail "--home $HOME_DIR: no bin/vl2-agent there"
  HOME_DIR=$(cd "$HOME_DIR" && pwd)
else
  choose_dist
fi

# --- names, addresses, state -----------------------------------------------------------------------------------
P=vl2af$$
SW=$P-sw H1=$P-h1 H2=$P-h2
NSS=("$SW" "$H1" "$H2")
UL_SW=10.77.0.1 UL_H1=10.77.0.11 UL_H2=10.77.0.12
OV_H1=10.71.1.101 OV_H2=10.71.1.102
VL2_PORT=9991
SSH_PORT=8103
IPERF_PORT=5201
OUT=$ROOT/bench/target/agent-footprint-$(date +%Y%m%d-%H%M%S)
WORK=$(mktemp -d /tmp/vl2-agentfp.XXXXXX)
VL2=${HOME_DIR:-$WORK/vl2}
mkdir -p "$OUT"
RES=$OUT/results.tsv
: >"$RES"
declare -A LAUNCHER=()   # role (sw, h1, h2) -> pid of its launcher (ip netns exec -> bin/vl2-*)
declare -A JVM=()        # role -> pid of its java process
declare -A RSS_MAX=()
BG=()

put() { printf '%s\t%s\n' "$1" "$2" >>"$RES"; }
get() { awk -F'\t' -v k="$1" '$1 == k { v = $2 } END { print v }' "$RES"; }
sample_rss() { local r k; for r in h1 h2; do [ -n "${JVM[$r]:-}" ] || continue; k=$(rss_kib "${JVM[$r]}"); [ "${k:-0}" -gt "${RSS_MAX[$r]:-0}" ] && RSS_MAX[$r]=$k; done; return 0; }


cleanup() {
  local rc=$? role ns p left
  set +e
  trap - EXIT INT TERM
  if $OWN_LOCK && grep -q "^agent-footprint $$\$" "$LOCK" 2>/dev/null; then rm -f "$LOCK"; fi
  for role in h1 h2 sw; do [ -n "${LAUNCHER[$role]:-}" ] && kill -TERM "${LAUNCHER[$role]}" 2>/dev/null; done
  for role in h1 h2 sw; do stop_role "$role" 15; done
  for p in "${BG[@]}"; do kill_tree 9 "$p"; done
  remove_namespaces
  for p in $(pgrep -f "karaf.base=$WORK/" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  for role in sw h2 h1; do
    [ ! -f "$WORK/$role/data/log/karaf.log" ] || cp "$WORK/$role/data/log/karaf.log" "$OUT/karaf-$role${run:+-run$run}.log"
  done
  rm -rf "$WORK"
  left=$(ip netns list | grep -c "^$P-" || true)
  if [ "$left" != 0 ] || pgrep -f "karaf.base=$WORK/" >/dev/null; then
    echo "agent-footprint: cleanup incomplete: $left namespaces $P-*, JVMs: $(pgrep -f "karaf.base=$WORK/" | tr '\n' ' ')" >&2
  else
    echo "agent-footprint: cleaned up (namespaces $P-*, processes, $WORK); logs in $OUT" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# the machine's benchmark lock: wait while another benchmark holds it, then hold it (created atomically,
# removed at the end) so that others wait for this one
LOCK=/tmp/vl2-bench.lock
OWN_LOCK=false
if $LOCK_WAIT; then
  [ ! -e "$LOCK" ] || note "waiting (at most 15 min) while $LOCK exists (another benchmark is running)"
  for _ in $(seq 180); do
    if (set -o noclobber; echo "agent-footprint $$" >"$LOCK") 2>/dev/null; then OWN_LOCK=true; break; fi
    sleep 5
  done
  $OWN_LOCK || fail "$LOCK still exists after 15 min (use --no-lock-wait to ignore it)"
fi

# namespaces of earlier runs that were killed with SIGKILL (vl2af<pid>-* whose script no longer runs)
reap_stale_namespaces vl2af agent-footprint

# --- hosts ---------------------------------------------------------------------------------------------------------
build_underlay

if [ -z "$HOME_DIR" ]; then
  mkdir -p "$VL2"
  tar -xzf "$DIST" -C "$VL2" --strip-components=1
fi


SWITCH_KEY=""
start_agent() { # h data-dir out-file
  local h=$1 ns=$P-h$1 ov_var=OV_H$1 opts="$AGENT_OPTS" shell=()
  [ "$h" != 2 ] || shell=(--ssh-port "$SSH_PORT")
  $NMT && opts="-XX:NativeMemoryTracking=summary $opts"
  EXTRA_JAVA_OPTS="$opts" ip netns exec "$ns" "$VL2/bin/vl2-agent" --switch "$UL_SW:$VL2_PORT" --switch-key "$SWITCH_KEY" \
    --address "${!ov_var}/24" --mac "02:00:5e:47:00:0$h" "${shell[@]}" --data "$2" </dev/null >"$3" 2>&1 &
  LAUNCHER[h$h]=$!
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "–"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mib() { awk -v k="$1" 'BEGIN { if (k == "" || k == 0) print "–"; else printf "%.0f", k / 1024 }'; }
list() { echo "$1" | awk '{ $1 = $1; print }'; }
list_mib() { local out="" k; for k in $1; do out="$out $(mib "$k")"; done; list "$out"; }
# the report's line about what ran where: distribution, Java, CPUs, load at the start ... (ends mid-sentence)
run_context() {
  echo "Distribution: ${HOME_DIR:-$(basename "$DIST")}. $(java -version 2>&1 | head -1). $(nproc) CPUs; load average"
  echo "$(get load_start) at the start, $(get load_end) at the end."
}

# --- switch --------------------------------------------------------------------------------------------------------
put load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
note "bin/vl2-switch in $SW"
T0=$(now)
SWITCH_NETS=()
for i in $(seq "$NETWORKS"); do [ "$NETWORKS" = 1 ] || SWITCH_NETS+=(--network "id=a$i"); done
ip netns exec "$SW" "$VL2/bin/vl2-switch" --data "$WORK/sw" "${SWITCH_NETS[@]}" </dev/null >"$OUT/switch.out" 2>&1 &
LAUNCHER[sw]=$!
wait_for 120 sh -c "ip netns exec $SW ss -Hlun 'sport = :$VL2_PORT' | grep -q ." \
  || { tail -20 "$OUT/switch.out" >&2; fail "the switch did not listen on UDP $VL2_PORT within 120 s"; }
put switch.boot "$(since "$T0")"
find_jvm sw
wait_for 30 sh -c "grep -q 'Switch public key' '$WORK/sw/data/log/karaf.log' '$OUT/switch.out'" || true
SWITCH_KEY=$(grep -ho 'Switch public key [A-Za-z0-9+/=]*' "$WORK/sw/data/log/karaf.log" "$OUT/switch.out" 2>/dev/null \
  | head -1 | awk '{ print $4 }' || true)
[ -n "$SWITCH_KEY" ] || fail "the switch did not log 'Switch public key ...'"

if [ "$NETWORKS" -gt 1 ]; then
  # shellcheck source=lib/agent-footprint-networks.sh
  . "$ROOT/bench/lib/agent-footprint-networks.sh"
  exit 0
fi

# --- agents: h2 (the peer), then h1 cold / warm, --runs times -------------------------------------------------------
note "agent in $H2 (fresh --data)"
T0=$(now)
start_agent 2 "$WORK/h2" "$OUT/agent-h2.out"
wait_for 120 agent_up "$OUT/agent-h2.out" || { tail -20 "$OUT/agent-h2.out" >&2; fail "the agent in $H2 did not come up within 120 s"; }
put h2.cold.up "$(logged_after "$T0" "$OUT/agent-h2.out")"
find_jvm h2

COLD_UP="" COLD_FWD="" WARM_FWD="" STOPS="" RSS_BOOT="" RSS_WARM="" RSS_LOAD="" RSS_BOOT_H2="" RSS_LOAD_H2="" GBPS=""
RSS_SETTLED=""
SHELL_OK=""
for run in $(seq "$RUNS"); do
  note "run $run/$RUNS: agent in $H1, cold (fresh --data), timed until a ping h1 -> h2 succeeds"
  [ ! -f "$WORK/h1/data/log/karaf.log" ] || cp "$WORK/h1/data/log/karaf.log" "$OUT/karaf-h1-run$((run - 1)).log"
  rm -rf "$WORK/h1"
  T0=$(now)
  T_COLD=$T0
  start_agent 1 "$WORK/h1" "$OUT/agent-h1-cold$run.out"
  ping_across_poll 120 || { tail -20 "$OUT/agent-h1-cold$run.out" >&2; fail "no ping across vl2 within 120 s of starting the agent in $H1"; }
  COLD_FWD="$COLD_FWD $(since "$T0")"
  find_jvm h1
  wait_for 30 agent_up "$OUT/agent-h1-cold$run.out" && COLD_UP="$COLD_UP $(logged_after "$T0" "$OUT/agent-h1-cold$run.out")"
  sleep 2   # let the last boot work settle
  RSS_BOOT="$RSS_BOOT $(rss_kib "${JVM[h1]}")"
  RSS_BOOT_H2="$RSS_BOOT_H2 $(rss_kib "${JVM[h2]}")"

  # load: ping at 10 ms and iperf3 TCP h1 -> h2, RSS sampled every 0.25 s
  RSS_MAX=()
  ip netns exec "$H2" timeout $((LOAD_SECS + 30)) iperf3 -s -1 -B "$OV_H2" -p "$IPERF_PORT" >"$OUT/iperf3-server$run.txt" 2>&1 &
  srv=$!; BG+=("$srv")
  wait_for 10 sh -c "ip netns exec $H2 ss -Hltn 'sport = :$IPERF_PORT' | grep -q ." || note "the iperf3 server did not listen"
  ip netns exec "$H1" timeout $((LOAD_SECS + 10)) ping -n -q -i 0.01 -w "$LOAD_SECS" "$OV_H2" >"$OUT/ping$run.txt" 2>&1 &
  pg=$!; BG+=("$pg")
  ip netns exec "$H1" timeout $((LOAD_SECS + 20)) iperf3 -c "$OV_H2" -p "$IPERF_PORT" -t "$LOAD_SECS" -f g \
    --connect-timeout 5000 >"$OUT/iperf3-client$run.txt" 2>&1 &
  cl=$!; BG+=("$cl")
  while kill -0 "$cl" 2>/dev/null || kill -0 "$pg" 2>/dev/null; do sample_rss; sleep 0.25; done
  wait "$cl" 2>/dev/null || note "iperf3 failed (see $OUT/iperf3-client$run.txt)"
  wait "$pg" 2>/dev/null || true
  wait_gone 5 "$srv" || kill_tree 9 "$srv"
  RSS_LOAD="$RSS_LOAD ${RSS_MAX[h1]:-0}"
  RSS_LOAD_H2="$RSS_LOAD_H2 ${RSS_MAX[h2]:-0}"
  g=$(awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i ~ /^Gbits/) print $(i - 1) }' "$OUT/iperf3-client$run.txt" | tail -1)
  GBPS="$GBPS ${g:-0}"
  put "ping.$run" "$(grep -o '[0-9]* received, [0-9.]*% packet loss' "$OUT/ping$run.txt" || echo '?')"
  # settled: 25 s after the cold start and after the load (what a long-running agent keeps)
  while awk -v s="$(since "$T_COLD")" 'BEGIN { exit !(s < 25) }'; do sleep 0.5; done
  RSS_SETTLED="$RSS_SETTLED $(rss_kib "${JVM[h1]}")"

  if [ "$run" = 1 ]; then
    # the agent's shell
    if echo "vl2:agent" | ip netns exec "$H2" timeout 30 "$VL2/bin/vl2-client" --data "$WORK/h2" -b \
        >"$OUT/client-vl2-agent.txt" 2>&1 && grep -qi 'switch' "$OUT/client-vl2-agent.txt"; then
      SHELL_OK=ok
    else
      SHELL_OK=FAILED
    fi
    if $NMT; then
      ip netns exec "$H1" "$JCMD" "${JVM[h1]}" VM.native_memory summary >"$OUT/nmt-h1.txt" 2>&1 || true
      ip netns exec "$H1" "$JCMD" "${JVM[h1]}" GC.heap_info >"$OUT/heap-h1.txt" 2>&1 || true
      put nmt.rss "$(rss_kib "${JVM[h1]}")"
    fi
    put threads.h1 "$(ls "/proc/${JVM[h1]}/task" | wc -l)"
  fi

  note "run $run/$RUNS: agent in $H1, warm restart (same --data), timed until a ping h1 -> h2 succeeds"
  stop_role h1 20
  STOPS="$STOPS $STOP_SECONDS"
  T0=$(now)
  start_agent 1 "$WORK/h1" "$OUT/agent-h1-warm$run.out"
  ping_across_poll 120 || { tail -20 "$OUT/agent-h1-warm$run.out" >&2; fail "no ping across vl2 within 120 s of restarting the agent in $H1"; }
  WARM_FWD="$WARM_FWD $(since "$T0")"
  find_jvm h1
  sleep 2
  RSS_WARM="$RSS_WARM $(rss_kib "${JVM[h1]}")"
  [ "$run" = "$RUNS" ] || stop_role h1 20
done
put load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
XMX=$(tr '\0' '\n' <"/proc/${JVM[h1]}/cmdline" | grep -E '^-Xmx' | tail -1 || echo 'JVM default')
JOPTS=$(tr '\0' '\n' <"/proc/${JVM[h1]}/cmdline" | grep -E '^-X|^-XX' | tr '\n' ' ')

# --- report ----------------------------------------------------------------------------------------------------------
{
  echo "### Agent footprint ($(date -u '+%Y-%m-%d %H:%M UTC'))"
  echo
  echo "\`sudo bench/agent-footprint.sh${ARGS:+ $ARGS}\`: $RUNS run(s), ${LOAD_SECS} s of load (iperf3 TCP + ping at 10 ms)."
  run_context
  echo "Agent JVM options: \`$JOPTS\`"
  echo
  echo "| agent h1 (vl2 mode, encrypted) | median | runs |"
  echo "|---|---:|---|"
  echo "| cold start (fresh \`--data\`) -> \`Port agent up\` logged (s) | $(echo "$COLD_UP" | median) | $(list "$COLD_UP") |"
  echo "| **cold start -> first ping h1 -> h2 (s)** | **$(echo "$COLD_FWD" | median)** | $(list "$COLD_FWD") |"
  echo "| **warm restart (same \`--data\`) -> first ping (s)** | **$(echo "$WARM_FWD" | median)** | $(list "$WARM_FWD") |"
  echo "| SIGTERM -> stopped (s) | $(echo "$STOPS" | median) | $(list "$STOPS") |"
  echo "| **RSS 2 s after cold boot (MiB)** | **$(mib "$(echo "$RSS_BOOT" | median)")** | $(list_mib "$RSS_BOOT") |"
  echo "| **RSS under load, max (MiB)** | **$(mib "$(echo "$RSS_LOAD" | median)")** | $(list_mib "$RSS_LOAD") |"
  echo "| **RSS settled: 25 s after the cold start, after the load (MiB)** | **$(mib "$(echo "$RSS_SETTLED" | median)")** | $(list_mib "$RSS_SETTLED") |"
  echo "| RSS 2 s after warm restart (MiB) | $(mib "$(echo "$RSS_WARM" | median)") | $(list_mib "$RSS_WARM") |"
  echo "| peer agent h2 (with its shell, \`--ssh-port\`): RSS after h1's boot / under load (MiB) | $(mib "$(echo "$RSS_BOOT_H2" | median)") / $(mib "$(echo "$RSS_LOAD_H2" | median)") | |"
  echo "| iperf3 TCP h1 -> h2 under load (Gbit/s) | $(echo "$GBPS" | median) | $(list "$GBPS") |"
  echo "| ping at 10 ms during the load | | $(for r in $(seq "$RUNS"); do printf '%s; ' "$(get "ping.$r")"; done) |"
  echo "| h2 cold start -> \`Port agent up\` (s) / switch start -> UDP $VL2_PORT listening (s) | | $(get h2.cold.up) / $(get switch.boot) |"
  echo "| threads of the h1 JVM after boot | | $(get threads.h1) |"
  echo "| \`bin/vl2-client --data DIR vl2:agent\` on h2 | | $SHELL_OK |"
  echo "| heap limit | | $XMX |"
  echo
  rss_all=$(for k in $RSS_BOOT $RSS_LOAD $RSS_WARM; do echo "$k"; done | sort -n | tail -1)
  cold=$(echo "$COLD_FWD" | median)
  echo "Goals (issue #4): agent RSS <= 128 MiB: $(mib "$rss_all") MiB at most ($(awk -v k="$rss_all" 'BEGIN { print (k / 1024 <= 128 ? "met" : "**not met**") }')); cold boot-to-forwarding <= 5 s: median $cold s ($(awk -v c="$cold" 'BEGIN { print (c <= 5 ? "met" : "**not met**") }'))."
  if $NMT && [ -s "$OUT/nmt-h1.txt" ]; then
    echo
    echo "NMT of h1 after the load (RSS then $(mib "$(get nmt.rss)") MiB), committed:"
    echo
    echo '```'
    grep -E '^(Total|-  *[A-Za-z].*\(reserved=)' "$OUT/nmt-h1.txt" | sed 's/reserved=[0-9]*KB, //' || true
    echo '```'
    echo
    echo "Java heap of h1 then (\`jcmd PID GC.heap_info\`):"
    echo
    echo '```'
    grep -E 'generation|total|used' "$OUT/heap-h1.txt" | grep -v '^ *[0-9]*:$' || true
    echo '```'
  fi
} | tee "$OUT/report.md"

# Shared by the bench/*.sh scripts (sourced, not run): the preamble every script had a copy of (messages, the help
# screen, option checks, root/tool/Java checks, choosing the distribution), and for those that boot vl2 in
# namespaces: process trees, bounded waits, stopping a role, RSS and CPU ticks, and the vl2 agents' boot milestones.
# Those expect the sourcing script to define LAUNCHER and JVM (associative arrays: role -> launcher pid / java pid),
# H1 (namespace of agent h1) and OV_H2 (agent h2's overlay address).

# --- the preamble ------------------------------------------------------------------------------------------------
# BENCH: the script's name in its messages (bench/overlay.sh -> overlay)
BENCH=${BENCH:-$(basename "$0" .sh)}
say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
note() { echo "$BENCH: $*" >&2; }
fail() { echo "$BENCH: $*" >&2; exit 1; }
# usage: the script's help screen, its header comment (line 2 up to the first line that is not a comment); a
# script may define its own after sourcing this file
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0" | sed 's/^# \{0,1\}//'; }
# bad_usage message: a bad command line: says so, exit 2
bad_usage() { echo "$BENCH: $*" >&2; exit 2; }
# unknown_option arg: names it, prints the help screen, exit 2
unknown_option() { echo "$BENCH: unknown argument $1" >&2; usage >&2; exit 2; }
# need_value option argc: an option that takes a value came last, without it (argc: the $# where the option is $1):
# names the option, exit 2 (rather than the shell's "$2: unbound variable")
need_value() { [ "$2" -ge 2 ] || bad_usage "$1 needs a value"; }
# need_count option value [min [max]]: value must be a whole number from min (default 1) to max (default none)
need_count() {
  local min=${3:-1} max=${4:-}
  case "$2" in
    ''|*[!0-9]*) ;;
    *) [ "$2" -ge "$min" ] && { [ -z "$max" ] || [ "$2" -le "$max" ]; } && return 0 ;;
  esac
  bad_usage "$1 takes a whole number from $min$([ -n "$max" ] && echo " to $max" || echo " up") (got '$2')"
}
# require_root why: exits unless root, saying what needs it
require_root() { [ "$(id -u)" = 0 ] || fail "run as root ($1): sudo $0"; }
require_tun() { [ -c /dev/net/tun ] || fail "/dev/net/tun is missing: load the tun module (modprobe tun)"; }
# require_tools tool...: exits at the first one missing, naming its Debian package
require_tools() {
  local t pkg
  for t in "$@"; do
    command -v "$t" >/dev/null && continue
    case "$t" in
      ip|ss) pkg=iproute2 ;; ping) pkg=iputils-ping ;; java|jcmd|jfr) pkg=openjdk-17-jdk-headless ;;
      pgrep|sysctl|ps) pkg=procps ;; nft) pkg=nftables ;; taskset) pkg=util-linux ;;
      sort|timeout) pkg=coreutils ;; awk) pkg=gawk ;; *) pkg=$t ;;
    esac
    fail "'$t' is not installed (Debian: apt-get install $pkg)"
  done
}
# use_java17: JAVA_HOME, if unset, to Debian's Java 17 where it is installed, and its bin first on PATH
use_java17() {
  if [ -z "${JAVA_HOME:-}" ] && [ -d /usr/lib/jvm/java-17-openjdk-amd64 ]; then
    export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
  fi
  [ -z "${JAVA_HOME:-}" ] || export PATH=$JAVA_HOME/bin:$PATH
}
# choose_dist [option]: DIST as given (--dist), else the distribution this tree built; exits saying how to build it
# or which option (default --dist FILE) gives one
choose_dist() {
  [ -n "${DIST:-}" ] || DIST=$(ls "$ROOT"/karaf-assembly/target/vl2-karaf-*.tar.gz 2>/dev/null | head -1 || true)
  [ -n "$DIST" ] || fail "no distribution: build it (mvn -B -q -o -pl karaf-assembly -am package -DskipTests" \
    "-Dvl2.fuzz=0) or pass ${1:---dist FILE}"
  [ -f "$DIST" ] || fail "no distribution at $DIST"
}

# --- processes, waits, namespaces ----------------------------------------------------------------------------------
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

descendants() { local c; for c in $(pgrep -P "$1" 2>/dev/null); do echo "$c"; descendants "$c"; done; }
kill_tree() { # signal pid: the process and everything it started
  local pids
  pids="$(descendants "$2" | tr '\n' ' ') $2"
  # shellcheck disable=SC2086
  kill -"$1" $pids 2>/dev/null || true
}
# The waits below are bounded by the clock (EPOCHREALTIME, microseconds), not by a count of polls: on a loaded
# machine each poll (a fork, a process start) takes far longer than its 0.1 s sleep. Every non-digit is dropped: bash
# writes the locale's decimal point, and a comma (de_DE) in $((...)) is the comma operator (a deadline of ~5 s after
# the epoch: every wait failed at once).
# deadline seconds: the clock in microseconds that many seconds from now; past deadline: true once it has passed
deadline() { echo $((${EPOCHREALTIME//[!0-9]/} + $1 * 1000000)); }
past() { [ "${EPOCHREALTIME//[!0-9]/}" -ge "$1" ]; }
# wait_gone seconds pid: true when pid is gone within the time
wait_gone() { local end; end=$(deadline "$1"); while kill -0 "$2" 2>/dev/null; do past "$end" && return 1; sleep 0.1; done; }
# wait_for seconds command...: polls every 0.1 s; false on timeout
wait_for() { local end; end=$(deadline "$1"); shift; until "$@" >/dev/null 2>&1; do past "$end" && return 1; sleep 0.1; done; }

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# TICKS: the kernel's clock ticks per second, the unit of /proc/PID/stat's CPU times (often 100, not always)
TICKS=$(getconf CLK_TCK)
# jvm_ticks pid: user + system CPU ticks of a process so far
jvm_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# stop_role role [grace]: SIGTERM to the launcher (which stops Karaf cleanly: the agent deletes its TAP), SIGKILL
# to the whole tree after grace seconds (20 unless given); sets STOP_SECONDS to the time it took
STOP_SECONDS=""
stop_role() {
  local role=$1 grace=${2:-20} pid tree t0
  pid=${LAUNCHER[$role]:-}
  [ -n "$pid" ] || return 0
  tree=$(descendants "$pid" | tr '\n' ' ')
  t0=$(now)
  kill -TERM "$pid" 2>/dev/null || true
  wait_gone "$grace" "$pid" || note "$role did not stop within ${grace} s: killing it"
  STOP_SECONDS=$(since "$t0")
  # shellcheck disable=SC2086
  kill -9 "$pid" $tree 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "LAUNCHER[$role]" "JVM[$role]"
}

jvm_of() { # launcher pid: the java process below it (bin/karaf execs java)
  local c
  for c in $(descendants "$1"); do
    [ "$(cat "/proc/$c/comm" 2>/dev/null)" = java ] && { echo "$c"; return 0; }
  done
  return 1
}
find_jvm() { # role: sets JVM[role] to the java process below LAUNCHER[role]
  local pid
  local end; end=$(deadline 30)
  until pid=$(jvm_of "${LAUNCHER[$1]}"); do
    past "$end" && fail "no JVM below the $1 launcher within 30 s"
    sleep 0.1
  done
  JVM[$1]=$pid
}

# Polls ping h1 -> h2 across vl2 (0.2 s per try). When the TAP device appears, its ARP retransmit time goes
# from 1 s to 100 ms (in this namespace only), so ARP's retry timer does not round the result up to seconds.
ping_across_poll() { # limit
  local end tuned=false
  end=$(($(date +%s) + $1))
  while [ "$(date +%s)" -lt "$end" ]; do
    if ! $tuned && ip -n "$H1" link show vl2tap0 >/dev/null 2>&1; then
      ip netns exec "$H1" sysctl -qw net.ipv4.neigh.vl2tap0.retrans_time_ms=100 2>/dev/null && tuned=true
    fi
    ip netns exec "$H1" ping -n -c1 -W0.2 "$OV_H2" >/dev/null 2>&1 && return 0
    kill -0 "${LAUNCHER[h1]}" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
agent_up() { grep -q "Port agent up" "$1"; }
# logged_after t0 file: seconds from t0 to the time stamp of the "Port agent up" line (ISO8601, local time)
logged_after() {
  local ts
  ts=$(grep -m1 "Port agent up" "$2" | awk '{ print $1 }' | tr 'T,' ' .') || true
  [ -n "$ts" ] && awk -v a="$1" -v b="$(date -d "$ts" +%s.%N)" 'BEGIN { printf "%.2f", b - a }'
}

# reap_stale_namespaces prefix script: removes namespaces <prefix><pid>-(sw|h1|h2) whose script (pid) no longer
# runs, i.e. those of earlier runs killed with SIGKILL, and the processes still in them
reap_stale_namespaces() {
  local ns owner p
  for ns in $(ip netns list | awk '{ print $1 }' | grep -E "^$1[0-9]+-(sw|h1|h2)\$" || true); do
    owner=${ns#"$1"}; owner=${owner%%-*}
    if ! tr '\0' ' ' <"/proc/$owner/cmdline" 2>/dev/null | grep -q "$2"; then
      note "removing namespace $ns left behind by an earlier run"
      for p in $(ip netns pids "$ns" 2>/dev/null); do kill_tree 9 "$p"; done
      ip netns del "$ns" 2>/dev/null || true
    fi
  done
}

# remove_namespaces: every namespace of NSS that exists, with everything still running in it (KILL), removed
remove_namespaces() {
  local ns p
  for ns in "${NSS[@]}"; do
    if ip netns list | grep -qw "$ns"; then
      for p in $(ip netns pids "$ns" 2>/dev/null); do kill_tree 9 "$p"; done
      ip netns del "$ns" 2>/dev/null
    fi
  done
}

# --- a run's folders and its clean-up ---------------------------------------------------------------------------
# bench_work name: WORK, a temporary folder /tmp/vl2-NAME.XXXXXX that the clean-up removes; OUT (set by the script)
# made; RES=$OUT/results.tsv emptied; LAUNCHER and JVM (role -> pid) empty
bench_work() {
  WORK=$(mktemp -d "/tmp/vl2-$1.XXXXXX")
  mkdir -p "$OUT"
  RES=$OUT/results.tsv
  : >"$RES"
  declare -gA LAUNCHER=() JVM=()
}
# clean_up_at_exit stale-prefix: at exit, also on Ctrl-C or TERM, stop the roles h1, h2 and sw (a script's own
# before_cleanup first, e.g. its other processes; its keep_logs after, while WORK still exists), remove the
# namespaces NSS and WORK, say where the results are; now, remove what runs of this script killed with SIGKILL left
# (namespaces <stale-prefix><pid>-*)
clean_up_at_exit() {
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  reap_stale_namespaces "$1" "$BENCH.sh"
}
bench_cleanup() {
  local rc=$? r
  set +e
  trap - EXIT INT TERM
  ! declare -F before_cleanup >/dev/null || before_cleanup
  for r in h1 h2 sw; do stop_role "$r"; done
  remove_namespaces
  ! declare -F keep_logs >/dev/null || keep_logs
  rm -rf "$WORK"
  note "cleaned up ($P-*, $WORK); results in $OUT"
  exit "$rc"
}

# start_agent_of home h key opts extra-flags...: agent h (1 or 2) of installation HOME in namespace $P-hH, encrypted
# to the switch's KEY on UL_SW:9991, with EXTRA_JAVA_OPTS OPTS, its overlay address and MAC, data in $WORK/hH, output
# appended to $OUT/agent-hH.out; LAUNCHER[hH] is its launcher
start_agent_of() {
  local home=$1 h=$2 key=$3 opts=$4 ov_var=OV_H$2 mac_var=MAC_H$2
  shift 4
  ip netns exec "$P-h$h" env EXTRA_JAVA_OPTS="$opts" "$home/bin/vl2-agent" --switch "$UL_SW:9991" --switch-key "$key" \
    --address "${!ov_var}/24" --mac "${!mac_var}" --data "$WORK/h$h" "$@" </dev/null >>"$OUT/agent-h$h.out" 2>&1 &
  LAUNCHER[h$h]=$!
}

# topology_names prefix: the names and addresses of the three test hosts (overlay.sh, latency.sh): namespaces
# <prefix>-sw, -h1, -h2 (SW, H1, H2, NSS), underlay UL_SW/UL_H1/UL_H2, overlay OV_H1/OV_H2, agent MACs MAC_H1/MAC_H2
topology_names() {
  P=$1
  SW=$P-sw H1=$P-h1 H2=$P-h2
  NSS=("$SW" "$H1" "$H2")
  UL_SW=10.78.0.1 UL_H1=10.78.0.11 UL_H2=10.78.0.12
  OV_H1=10.1.1.101 OV_H2=10.1.1.102
  MAC_H1=02:00:5e:4f:00:01 MAC_H2=02:00:5e:4f:00:02
}

# build_underlay: namespaces NSS (SW, and h1/h2 named $P-h1, $P-h2) with loopback up, a bridge ul0 with UL_SW in
# SW, and h1 (UL_H1) and h2 (UL_H2) on it by veth (eth0 inside them); fails unless h1 pings h2 within 10 s
build_underlay() {
  local ns h addr_var
  for ns in "${NSS[@]}"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
  ip -n "$SW" link add ul0 type bridge
  ip -n "$SW" addr add "$UL_SW/24" dev ul0
  ip -n "$SW" link set ul0 up
  for h in 1 2; do
    ns=$P-h$h; addr_var=UL_H$h
    ip -n "$SW" link add "u$h" type veth peer name eth0 netns "$ns"
    ip -n "$SW" link set "u$h" master ul0 up
    ip -n "$ns" addr add "${!addr_var}/24" dev eth0
    ip -n "$ns" link set eth0 up
  done
  wait_for 10 ip netns exec "$H1" ping -c1 -W1 "$UL_H2" || fail "the underlay does not work (h1 -> h2 $UL_H2)"
}

#!/usr/bin/env bash
# N simulated encrypted members on one switch, and two real agents forwarding through it meanwhile.
#
#   sudo bench/members.sh [--members 10000] [--quiet 60] [--churn 20] [--churn-seconds 30] [--iperf 10]
#                         [--sources 64] [--threads 2] [--dist FILE] [--gen-opts "JAVA OPTIONS"]
#                         [--gen-nice 19] [--gen-cpus LIST] [--handshake-nice N]
#
# The namespaces of bench/overlay.sh (a switch host with the underlay bridge, h1 and h2 on it by veth). One switch
# (bin/vl2-switch of the distribution, defaults but for what 10k members need: max.ports above N, a MAC table for
# all their stations, and a network 'members' with an IPv4 pool large enough; ports.per.address, the unauthenticated quotas and the cookie rules stay
# the defaults), two encrypted agents in h1 and h2 on the default network, and bench/loadgen's MemberGen in the switch's
# namespace: N members, each its own X25519 key and member id, joining by the real handshake from --sources loopback
# addresses (127.0.1.x) over --threads threads, keepalives at the switch's interval, a frame every 30 s, rekeys every
# 120 s, answering cookies when the switch asks for them. Phases: agents' baseline (iperf3 TCP h1->h2 --iperf seconds,
# then 500 pings at 10 ms); the members join (the same measurement during the join); all joined; --quiet seconds with
# every keepalive and no other traffic (switch CPU seconds from /proc); heap (jcmd GC.heap_info after a GC) and RSS
# against before the members; churn: --churn members a second leave and new ones join for --churn-seconds (the same
# measurement during it). The machine may be loaded by others: CPU is reported in CPU seconds next to the load average.
# Also the switch's busiest threads (CPU seconds each, from /proc) during the join and during the quiet minute.
# Output: a Markdown summary on stdout; raw lines in bench/target/members-<time>/ (results.tsv, gen.out, logs).
# The generator stands for remote hosts, which would not take the switch host's CPU: it runs at nice --gen-nice
# (default 19, so it gets what the switch, the agents and iperf3 leave; 0 = as before, at the same priority) and, with
# --gen-cpus, pinned to those CPUs (taskset -c, e.g. 1); the summary says how it ran and what CPU it used.
# --handshake-nice sets the switch's handshake.nice (its handshake thread's priority; default: the switch's own, 10).
# Everything is removed at the end, also on failure or Ctrl-C. Short mode: --members 500 --quiet 20 --churn-seconds 15.
#
# Needs: root, ip, iperf3, ping, python3, ss, jcmd (Java 17 JDK), /dev/net/tun; builds bench/loadgen if missing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/netns-bench.sh
. "$ROOT/bench/lib/netns-bench.sh"
MEMBERS=10000
QUIET=60
CHURN=20
CHURN_SECS=30
IPERF=10
SOURCES=64
THREADS=2
DIST=""
GEN_OPTS="-Xmx1g -XX:+UseParallelGC --add-opens java.base/com.sun.crypto.provider=ALL-UNNAMED"
GEN_NICE=19
GEN_CPUS=""
HS_NICE=""
NET=5ca1e
ARGS="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --members) need_value "$1" $#; MEMBERS=$2; shift 2 ;;
    --quiet) need_value "$1" $#; QUIET=$2; shift 2 ;;
    --churn) need_value "$1" $#; CHURN=$2; shift 2 ;;
    --churn-seconds) need_value "$1" $#; CHURN_SECS=$2; shift 2 ;;
    --iperf) need_value "$1" $#; IPERF=$2; shift 2 ;;
    --sources) need_value "$1" $#; SOURCES=$2; shift 2 ;;
    --threads) need_value "$1" $#; THREADS=$2; shift 2 ;;
    --dist) need_value "$1" $#; DIST=$2; shift 2 ;;
    --gen-opts) need_value "$1" $#; GEN_OPTS=$2; shift 2 ;;
    --gen-nice) need_value "$1" $#; GEN_NICE=$2; shift 2 ;;
    --gen-cpus) need_value "$1" $#; GEN_CPUS=$2; shift 2 ;;
    --handshake-nice) need_value "$1" $#; HS_NICE=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) unknown_option "$1" ;;
  esac
done
need_count --members "$MEMBERS" 1 60000
need_count --quiet "$QUIET" 0
need_count --churn "$CHURN" 0
need_count --churn-seconds "$CHURN_SECS" 0
need_count --iperf "$IPERF" 2
need_count --sources "$SOURCES"
need_count --threads "$THREADS"
need_count --gen-nice "$GEN_NICE" 0 19
[ -z "$HS_NICE" ] || need_count --handshake-nice "$HS_NICE" 0 19
case "$GEN_CPUS" in
  *[!0-9,-]*) bad_usage "--gen-cpus takes a CPU list such as 1 or 0-1 (got '$GEN_CPUS')" ;;
esac

require_root "namespaces, veth and TAP devices need CAP_NET_ADMIN"
require_tun
use_java17
require_tools ip ss ping iperf3 python3 java jcmd tar nice
[ -z "$GEN_CPUS" ] || require_tools taskset
choose_dist
LG=$ROOT/bench/loadgen/target
if [ ! -f "$LG/vl2-bench-loadgen.jar" ] || [ ! -f "$LG/lib/vl2-crypto-0.1.0-SNAPSHOT.jar" ]; then
  say "building bench/loadgen"
  (cd "$ROOT" && mvn -B -q -pl bench/loadgen -am package -DskipTests -Dvl2.fuzz=0) || fail "bench/loadgen did not build"
fi

# ports: the members, churned ones whose ports are still expiring, the agents; the pool: every lease ever handed out
# (a left member's lease is kept until its port would have expired)
MAX_PORTS=$(( MEMBERS + CHURN * CHURN_SECS + 1024 ))
[ "$MAX_PORTS" -le 65535 ] || MAX_PORTS=65535
LEASES=$(( MEMBERS + CHURN * CHURN_SECS + 256 ))
MAC_CAPACITY=$(( 2 * LEASES > 8192 ? 2 * LEASES : 8192 ))
PREFIX=24
while [ $(( (1 << (32 - PREFIX)) - 3 )) -lt "$LEASES" ]; do PREFIX=$((PREFIX - 1)); done
POOL=10.200.0.0/$PREFIX

topology_names vl2mb$$
OUT=$ROOT/bench/target/members-$(date +%Y%m%d-%H%M%S)
bench_work members
HOME_VL2=$WORK/vl2
mkdir -p "$HOME_VL2"
GEN=""
before_cleanup() { [ -z "$GEN" ] || kill_tree 9 "$GEN"; }
keep_logs() { [ ! -f "$WORK/sw/data/log/karaf.log" ] || cp "$WORK/sw/data/log/karaf.log" "$OUT/karaf-sw.log"; }
clean_up_at_exit vl2mb

put() { local IFS=$'\t'; echo "$*" >>"$RES"; }
cpu_s() { awk -v t="$(jvm_ticks "$1")" -v hz="$TICKS" 'BEGIN { printf "%.2f", t / hz }'; }
# thread_ticks pid: "tid ticks name" for each thread of the process, from /proc/PID/task/*/stat (per thread: ps -L
# gives the main thread's line the whole process's time); the name without spaces
thread_ticks() {
  local t
  for t in /proc/"$1"/task/*; do
    sed 's/^.*) //' "$t/stat" 2>/dev/null | awk -v tid="${t##*/}" -v name="$(tr ' ' '_' <"$t/comm" 2>/dev/null)" \
      '{ print tid, $12 + $13, name }'
  done
}
# thread_cpu_s pid regex: CPU seconds so far of the process's threads whose name matches (the switch's receive
# threads vl2-vl2-rx-*, its handshake thread vl2-switch-handshakes): what a join costs the data path's threads
thread_cpu_s() {
  thread_ticks "$1" | awk -v re="$2" -v hz="$TICKS" '$3 ~ re { t += $2 } END { printf "%.2f", t / hz }'
}
# top_threads before after: the 8 threads that used the most CPU between two thread_ticks snapshots ("name s; ...")
top_threads() {
  awk -v hz="$TICKS" 'NR == FNR { b[$1] = $2; next } { d = $2 - ($1 in b ? b[$1] : 0); if (d > 0) printf "%.2f %s\n", d / hz, $3 }' \
    "$1" "$2" | sort -rn | head -8 | awk '{ printf "%s %s s; ", $2, $1 }'
}
RX_THREADS='^vl2-vl2-rx'
HS_THREAD='^vl2-switch-hand'
# heap_used_kib pid: the heap in use right after a full GC (what the live objects hold)
heap_used_kib() {
  jcmd "$1" GC.run >/dev/null 2>&1 || true
  jcmd "$1" GC.heap_info 2>/dev/null | awk '/used/ { for (i = 1; i <= NF; i++) if ($i == "used") { v = $(i + 1); sub(/K,?/, "", v); print v; exit } }'
}
# wait_event name limit: until the generator printed "EVENT name"
wait_event() {
  wait_for "$2" grep -q "^EVENT $1 " "$OUT/gen.out" || { tail -5 "$OUT/gen.out" >&2; fail "no '$1' from the generator within $2 s"; }
}

start_agent() { start_agent_of "$HOME_VL2" "$1" "$2" ""; } # h key

# measure label: iperf3 TCP h1 -> h2 for IPERF seconds, then 500 pings at 10 ms; switch CPU seconds over both
measure() {
  local label=$1 srv c0 t0
  put run "$label" load "$(loadavg)"
  c0=$(cpu_s "${JVM[sw]}"); t0=$(now)
  ip netns exec "$H2" timeout $((IPERF + 40)) iperf3 -s -1 -B "$OV_H2" >/dev/null 2>&1 &
  srv=$!
  wait_for 10 sh -c "ip netns exec $H2 ss -Hltn 'sport = :5201' | grep -q ." || { note "no iperf3 server"; return 1; }
  ip netns exec "$H1" timeout $((IPERF + 30)) iperf3 -c "$OV_H2" -t "$IPERF" -J --connect-timeout 5000 \
    >"$OUT/iperf-$label.json" 2>&1 || note "$label: iperf3 exited with $? (see $OUT/iperf-$label.json)"
  wait_gone 5 "$srv" || kill_tree 9 "$srv"
  wait "$srv" 2>/dev/null || true
  ip netns exec "$H1" ping -n -c 500 -i 0.01 -W 1 "$OV_H2" >"$OUT/ping-$label.txt" 2>&1 || true
  awk -F'time=' '/time=/ { split($2, a, " "); print a[1] }' "$OUT/ping-$label.txt" >"$OUT/rtt-$label.txt"
  put run "$label" iperf "$OUT/iperf-$label.json"
  put run "$label" ping_loss "$(grep -o '[0-9.]*% packet loss' "$OUT/ping-$label.txt" | cut -d% -f1)"
  put run "$label" rtt "$OUT/rtt-$label.txt"
  put run "$label" switch_cpu_s "$(awk -v a="$c0" -v b="$(cpu_s "${JVM[sw]}")" 'BEGIN { printf "%.2f", b - a }')"
  put run "$label" wall_s "$(since "$t0")"
}

build_underlay
tar -xzf "$DIST" -C "$HOME_VL2" --strip-components=1
put meta command "sudo bench/members.sh${ARGS:+ $ARGS}"
put meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
put meta machine "$(nproc) x $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr)"
put meta dist "$(basename "$DIST"), sha256 $(sha256sum "$DIST" | cut -c1-12)"
put meta git "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
put meta members "$MEMBERS"
put meta config "max.ports=$MAX_PORTS mactable.capacity=$MAC_CAPACITY pool=$POOL sources=$SOURCES threads=$THREADS churn=$CHURN/s for ${CHURN_SECS}s"
put meta generator "nice $GEN_NICE, CPUs ${GEN_CPUS:-all} (of $(nproc)); switch handshake.nice ${HS_NICE:-default}"
put meta load_start "$(loadavg)"

say "switch (max.ports $MAX_PORTS, network $NET with pool $POOL)"
ip netns exec "$SW" "$HOME_VL2/bin/vl2-switch" --data "$WORK/sw" --api off \
  --network "id=$NET,name=members,pool=$POOL" </dev/null >>"$OUT/switch.out" 2>&1 &
LAUNCHER[sw]=$!
wait_for 300 sh -c "ip netns exec $SW ss -Hlun 'sport = :9991' | grep -q ." || fail "the switch did not listen on 9991"
find_jvm sw
wait_for 60 sh -c "grep -qho 'Switch public key [A-Za-z0-9+/=]*' '$WORK/sw/data/log/karaf.log'" || true
KEY=$(grep -ho 'Switch public key [A-Za-z0-9+/=]*' "$WORK/sw/data/log/karaf.log" | head -1 | awk '{ print $4 }')
[ -n "$KEY" ] || fail "the switch did not log its public key"
# applied in place by the running switch (Karaf's file install), as an operator would; the MAC table holds every
# member's station (its default 8192 would evict members' MACs, and frames to them would flood)
echo "max.ports = $MAX_PORTS" >>"$WORK/sw/etc/org.vl2.switching.cfg"
echo "capacity = $MAC_CAPACITY" >>"$WORK/sw/etc/org.vl2.mactable.cfg"
[ -z "$HS_NICE" ] || echo "handshake.nice = $HS_NICE" >>"$WORK/sw/etc/org.vl2.switching.cfg"
wait_for 60 grep -q "max.ports=$MAX_PORTS" "$WORK/sw/data/log/karaf.log" || fail "the switch did not take max.ports = $MAX_PORTS"

say "agents in h1 and h2 (encrypted, default network)"
start_agent 2 "$KEY"
start_agent 1 "$KEY"
ping_across_poll 300 || fail "no ping across vl2 within 300 s"
find_jvm h1; find_jvm h2

say "baseline: the two agents alone"
measure warmup >/dev/null 2>&1 || true
measure before
put meta heap_before_kib "$(heap_used_kib "${JVM[sw]}")"
put meta rss_before_kib "$(rss_kib "${JVM[sw]}")"

say "$MEMBERS members join"
# shellcheck disable=SC2086
GEN_PIN=()
[ -z "$GEN_CPUS" ] || GEN_PIN=(taskset -c "$GEN_CPUS")
ip netns exec "$SW" "${GEN_PIN[@]}" nice -n "$GEN_NICE" java $GEN_OPTS -cp "$LG/vl2-bench-loadgen.jar:$LG/lib/*" org.vl2.bench.members.MemberGen \
  --switch 127.0.0.1:9991 --switch-key "$KEY" --network "$NET" --members "$MEMBERS" --sources "$SOURCES" \
  --threads "$THREADS" --join-timeout 900 --quiet-seconds "$QUIET" --churn "$CHURN" --churn-seconds "$CHURN_SECS" \
  --tail-seconds 5 </dev/null >"$OUT/gen.out" 2>&1 &
GEN=$!
wait_event start 60
GEN_JVM=$GEN # ip netns exec, taskset and nice exec the JVM: one process id
thread_ticks "${JVM[sw]}" >"$OUT/threads-join0.txt"
c_join0=$(cpu_s "${JVM[sw]}"); rx_join0=$(thread_cpu_s "${JVM[sw]}" "$RX_THREADS"); hs_join0=$(thread_cpu_s "${JVM[sw]}" "$HS_THREAD")
sleep 3
measure during-join
# from here to all joined only members join (no agent traffic): the receive threads' and the handshake thread's CPU
# per handshake answered (the generator's responses, from its STATUS line of each second)
last_responses() { awk '/^(STATUS|EVENT)/ { for (i = 1; i <= NF; i++) if ($i ~ /^responses=/) { split($i, a, "="); r = a[2] } } END { print r + 0 }' "$OUT/gen.out"; }
rx_t0=$(thread_cpu_s "${JVM[sw]}" "$RX_THREADS"); hs_t0=$(thread_cpu_s "${JVM[sw]}" "$HS_THREAD"); resp_t0=$(last_responses); tail_t0=$(now)
wait_event all-joined 900
put run join-tail rx_cpu_s "$(awk -v a="$rx_t0" -v b="$(thread_cpu_s "${JVM[sw]}" "$RX_THREADS")" 'BEGIN { printf "%.2f", b - a }')"
put run join-tail hs_cpu_s "$(awk -v a="$hs_t0" -v b="$(thread_cpu_s "${JVM[sw]}" "$HS_THREAD")" 'BEGIN { printf "%.2f", b - a }')"
put run join-tail responses "$(( $(last_responses) - resp_t0 ))"
put run join-tail wall_s "$(since "$tail_t0")"
put run join-tail load "$(loadavg)"
put run join switch_cpu_s "$(awk -v a="$c_join0" -v b="$(cpu_s "${JVM[sw]}")" 'BEGIN { printf "%.2f", b - a }')"
put run join rx_cpu_s "$(awk -v a="$rx_join0" -v b="$(thread_cpu_s "${JVM[sw]}" "$RX_THREADS")" 'BEGIN { printf "%.2f", b - a }')"
put run join hs_cpu_s "$(awk -v a="$hs_join0" -v b="$(thread_cpu_s "${JVM[sw]}" "$HS_THREAD")" 'BEGIN { printf "%.2f", b - a }')"
thread_ticks "${JVM[sw]}" >"$OUT/threads-join1.txt"
put run join switch_threads "$(top_threads "$OUT/threads-join0.txt" "$OUT/threads-join1.txt")"

say "quiet: ${QUIET} s of keepalives"
wait_event quiet-start 60
thread_ticks "${JVM[sw]}" >"$OUT/threads-quiet0.txt"
q0=$(cpu_s "${JVM[sw]}"); qt=$(now); ql=$(loadavg); g0=$(cpu_s "$GEN_JVM")
wait_event quiet-end $((QUIET + 60))
put run quiet switch_cpu_s "$(awk -v a="$q0" -v b="$(cpu_s "${JVM[sw]}")" 'BEGIN { printf "%.2f", b - a }')"
put run quiet gen_cpu_s "$(awk -v a="$g0" -v b="$(cpu_s "$GEN_JVM")" 'BEGIN { printf "%.2f", b - a }')"
put run quiet wall_s "$(since "$qt")"
put run quiet load "$ql -> $(loadavg)"
thread_ticks "${JVM[sw]}" >"$OUT/threads-quiet1.txt"
put run quiet switch_threads "$(top_threads "$OUT/threads-quiet0.txt" "$OUT/threads-quiet1.txt")"
put meta heap_after_kib "$(heap_used_kib "${JVM[sw]}")"
put meta rss_after_kib "$(rss_kib "${JVM[sw]}")"

say "churn: $CHURN a second for ${CHURN_SECS} s"
wait_event churn-start 60
measure during-churn
wait_for $((CHURN_SECS + 120)) grep -q '^RESULT ' "$OUT/gen.out" || note "the generator did not finish"
wait "$GEN" 2>/dev/null || true
GEN=""
echo "vl2:stats" | ip netns exec "$SW" timeout 30 "$HOME_VL2/bin/vl2-client" --data "$WORK/sw" -b >"$OUT/stats.txt" 2>&1 || true
say "after: the agents alone again"
measure after
put meta load_end "$(loadavg)"

python3 - "$RES" "$OUT/gen.out" <<'PY'
import json, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
meta = {r[1]: r[2] for r in rows if r[0] == "meta"}
runs = {}
for r in rows:
    if r[0] == "run":
        runs.setdefault(r[1], {})[r[2]] = r[3]
def kv(line):
    return dict(p.split("=", 1) for p in line.split()[1:] if "=" in p)
events, result = {}, {}
for l in open(sys.argv[2]):
    if l.startswith("EVENT "):
        events[l.split()[1]] = kv(l[6:])
    elif l.startswith("RESULT "):
        result = kv(l)
def gbps(f):
    try:
        return json.load(open(f))["end"]["sum_received"]["bits_per_second"] / 1e9
    except Exception:
        return float("nan")
def rtt(f):
    try:
        v = sorted(float(x) for x in open(f) if x.strip())
        return v[len(v) // 2], v[min(len(v) - 1, int(len(v) * 0.9))], v[min(len(v) - 1, int(len(v) * 0.99))], v[-1]
    except Exception:
        return float("nan"), float("nan"), float("nan"), float("nan")
n = int(meta.get("members", "0"))
j = events.get("all-joined", {})
q = runs.get("quiet", {})
print(f"{n} encrypted members on one switch ({meta.get('date')}; {meta.get('machine')}; {meta.get('dist')}; "
      f"git {meta.get('git')}; load {meta.get('load_start')} -> {meta.get('load_end')})\n")
print(f"command: {meta.get('command')}; {meta.get('config')}\n")
print(f"generator (stands for remote hosts): {meta.get('generator')}\n")
print("| what | value |\n|---|---|")
print(f"| joined | {j.get('joined')} of {n} in {j.get('seconds')} s: {j.get('rate')} joins/s (mean {j.get('mean_join_ms')} ms, max {j.get('max_join_ms')} ms from first initiation to the first keepalive answered) |")
print(f"| handshakes | initiations {result.get('initiations')}, responses {result.get('responses')}, cookie replies {result.get('cookie_replies')}, timeouts {result.get('timeouts')}, rekeys {result.get('rekeys')}, errors {result.get('errors')} {result.get('errors_by_code', '')} |")
jn = runs.get('join', {})
print(f"| switch CPU during the join | {jn.get('switch_cpu_s')} CPU s (receive threads {jn.get('rx_cpu_s')}, handshake thread {jn.get('hs_cpu_s')}); the generator's own CPU from its start to all joined {j.get('gen_cpu_s')} s |")
t = runs.get('join-tail', {})
try:
    r = int(t.get('responses'))
    print(f"| join without agent traffic ({t.get('wall_s')} s, {r} handshakes answered, load {t.get('load')}) | receive threads {1e6 * float(t.get('rx_cpu_s')) / max(r, 1):.0f} us, handshake thread {1e6 * float(t.get('hs_cpu_s')) / max(r, 1):.0f} us of CPU per handshake |")
except (TypeError, ValueError):
    pass
try:
    qs, qw = float(q.get("switch_cpu_s")), float(q.get("wall_s"))
    print(f"| switch CPU, quiet ({qw:.0f} s, every keepalive, frames every 30 s, rekeys) | {qs:.2f} CPU s = {100 * qs / qw:.1f} % of one core; {1e6 * qs / qw / max(n, 1):.1f} us/s per member (load {q.get('load')}) |")
    print(f"| generator CPU in the same time | {q.get('gen_cpu_s')} CPU s |")
except (TypeError, ValueError):
    pass
try:
    hb, ha = int(meta["heap_before_kib"]), int(meta["heap_after_kib"])
    rb, ra = int(meta["rss_before_kib"]), int(meta["rss_after_kib"])
    print(f"| switch heap after GC | {hb / 1024:.0f} -> {ha / 1024:.0f} MiB: {1024 * (ha - hb) / max(n, 1):.0f} B per member |")
    print(f"| switch RSS | {rb / 1024:.0f} -> {ra / 1024:.0f} MiB: {1024 * (ra - rb) / max(n, 1):.0f} B per member |")
except (KeyError, ValueError):
    pass
print("\n| agents h1 -> h2 | TCP Gbit/s | RTT p50 ms | RTT p90 ms | RTT p99 ms | RTT max ms | ping loss % | switch CPU s | load |\n|---|---:|---:|---:|---:|---:|---:|---:|---|")
for label in ("before", "during-join", "during-churn", "after"):
    d = runs.get(label)
    if not d:
        continue
    p50, p90, p99, mx = rtt(d.get("rtt", ""))
    print(f"| {label} | {gbps(d.get('iperf', '')):.2f} | {p50:.3f} | {p90:.3f} | {p99:.3f} | {mx:.3f} | {d.get('ping_loss')} | {d.get('switch_cpu_s')} | {d.get('load')} |")
print(f"\nswitch threads during the join (CPU s): {jn.get('switch_threads', '')}")
print(f"switch threads during the quiet minute (CPU s): {q.get('switch_threads', '')}")
PY

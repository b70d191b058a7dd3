#!/usr/bin/env bash
# Round-trip latency through vl2 (h1 -> switch -> h2 and back), A/B in alternating pairs, and the CPU it costs idle.
#
#   sudo bench/latency.sh [--variant 'LABEL|DIST|AGENT_OPTS|SWITCH_OPTS']... [--rounds 2] [--pings 200]
#                         [--intervals "0.005 0.1"] [--modes "raw enc"] [--idle 10] [--cost 0] [--trace 0]
#                         [--trace-interval 0.005]
#
# The same namespaces as bench/overlay.sh (a switch host with the underlay bridge, h1 and h2 on it by veth). Each
# --variant is a distribution (default: karaf-assembly/target/vl2-karaf-*.tar.gz) plus EXTRA_JAVA_OPTS for the
# agents and for the switch (either may be empty); without --variant, one variant "this tree". The variants run
# one after the other, rounds times (A B A B ...), so that the load of other processes falls on each alike.
# Per variant and round: the switch, then per mode (raw: --mode raw to 9990; enc: the default encrypted vl2 mode,
# pinned to the switch's key) both agents; warm-up (2 s iperf3 TCP, 20 pings); `ping -c PINGS -i I` for each
# interval (p50, p90, p99 nearest rank, average, max, loss); then the JVMs' CPU while idle (no traffic, keepalives
# only) over --idle seconds, from /proc/PID/stat. The load average is recorded next to each ping series.
# --cost N (N > 0) adds, per mode, what a ping costs the data threads whatever the load: `perf stat --per-thread`
# (task-clock, system calls, context switches) on the agents' tap-rx and udp-rx threads and the switch's receive
# threads around `ping -c N -i 0.005`, divided by N. Short mode, cost only (about 2 min per variant):
#   sudo bench/latency.sh --variant ... --variant ... --rounds 2 --intervals "" --idle 0 --cost 1000
# --trace N (N > 0) adds, per mode, where the round trip goes hop by hop: kernel timestamps of N pings at
# --trace-interval seconds (default 0.005) on
# h1's TAP, the switch host's bridge and h2's TAP (packet sockets, bench/lib/ping-trace.py), p10/p50/p90 per hop
# (h1 agent TAP -> UDP, switch, h2 agent UDP -> TAP, h2's kernel, h2 agent TAP -> UDP, switch, h1 agent).
# Output: a Markdown table on stdout; raw numbers in bench/target/latency-<time>/results.tsv.
# Everything is removed at the end, also on failure or Ctrl-C.
#
# Needs: root, ip, iperf3, ping (iputils), python3, ss, Java 17, /dev/net/tun.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/netns-bench.sh
. "$ROOT/bench/lib/netns-bench.sh"
VARIANTS=()
ROUNDS=2
PINGS=200
INTERVALS="0.005 0.1"
MODES="raw enc"
IDLE=10
COST=0
TRACE=0
TRACE_INTERVAL=0.005
ARGS="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --variant) need_value "$1" $#; VARIANTS+=("$2"); shift 2 ;;
    --rounds) need_value "$1" $#; ROUNDS=$2; shift 2 ;;
    --pings) need_value "$1" $#; PINGS=$2; shift 2 ;;
    --intervals) need_value "$1" $#; INTERVALS=$2; shift 2 ;;
    --modes) need_value "$1" $#; MODES=$2; shift 2 ;;
    --idle) need_value "$1" $#; IDLE=$2; shift 2 ;;
    --cost) need_value "$1" $#; COST=$2; shift 2 ;;
    --trace) need_value "$1" $#; TRACE=$2; shift 2 ;;
    --trace-interval) need_value "$1" $#; TRACE_INTERVAL=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) unknown_option "$1" ;;
  esac
done
need_count --rounds "$ROUNDS"
need_count --pings "$PINGS"
need_count --idle "$IDLE" 0
need_count --cost "$COST" 0
need_count --trace "$TRACE" 0
[[ "$TRACE_INTERVAL" =~ ^[0-9]*\.?[0-9]+$ ]] && awk -v i="$TRACE_INTERVAL" 'BEGIN { exit !(i >= 0.002) }' \
  || bad_usage "--trace-interval takes seconds, 0.002 or more (got '$TRACE_INTERVAL')"

require_root "namespaces, veth and TAP devices need CAP_NET_ADMIN"
use_java17
require_tools ip ss ping iperf3 python3 java tar
[ "$COST" = 0 ] || require_tools perf
if [ ${#VARIANTS[@]} = 0 ]; then
  DIST=""
  choose_dist --variant
  VARIANTS=("this tree|$DIST||")
fi

topology_names vl2lat$$
OUT=$ROOT/bench/target/latency-$(date +%Y%m%d-%H%M%S)
bench_work latency
clean_up_at_exit vl2lat

put() { local IFS=$'\t'; echo "$*" >>"$RES"; }

build_underlay

start_agent() { # vl2-home h mode key opts
  local home=$1 h=$2 ov_var=OV_H$2 mac_var=MAC_H$2
  if [ "$3" = enc ]; then start_agent_of "$home" "$h" "$4" "$5"; return; fi
  ip netns exec "$P-h$h" env EXTRA_JAVA_OPTS="$5" "$home/bin/vl2-agent" --mode raw --switch "$UL_SW:9990" \
    --address "${!ov_var}/24" --mac "${!mac_var}" --data "$WORK/h$h" </dev/null >>"$OUT/agent-h$h.out" 2>&1 &
  LAUNCHER[h$h]=$!
}

ping_series() { # label round mode interval
  local f=$OUT/ping-$2-${1// /_}-$3-$4.txt load
  load=$(loadavg)
  ip netns exec "$H1" timeout $((PINGS + 30)) ping -n -c "$PINGS" -i "$4" -W 1 "$OV_H2" >"$f" 2>&1 || true
  put ping "$1" "$2" "$3" "$4" "$load" "$f"
}

# data_threads: "role:tid:name" of the threads a ping crosses (agents' TAP and UDP pumps, the switch's receive
# threads; names as the kernel keeps them, 15 characters)
data_threads() {
  local r t c
  for r in h1 h2 sw; do
    for t in /proc/"${JVM[$r]}"/task/*; do
      c=$(cat "$t/comm" 2>/dev/null) || continue
      case "$c" in vl2-agent-*tap*|vl2-agent-*udp*|vl2-vl2-rx*|vl2-udp-rx*) echo "$r:${t##*/}:$c" ;; esac
    done
  done
}

cost_series() { # label round mode
  local f=$OUT/cost-$2-${1// /_}-$3.csv threads tids load
  threads=$(data_threads | tr '\n' ' ')
  tids=$(for x in $threads; do echo "$x" | cut -d: -f2; done | paste -sd, -)
  [ -n "$tids" ] || { note "$1 $3: no data threads found: no cost series"; return 0; }
  load=$(loadavg)
  perf stat --per-thread -x';' -e task-clock,raw_syscalls:sys_enter,context-switches -t "$tids" -o "$f" -- \
    ip netns exec "$H1" timeout $((COST / 100 + 60)) ping -n -q -c "$COST" -i 0.005 -W 1 "$OV_H2" \
    >"$f.ping" 2>&1 || true
  put cost "$1" "$2" "$3" "$load" "$f" "$threads"
}

trace_series() { # label round mode
  local f=$OUT/trace-$2-${1// /_}-$3 pids=() ns dev i load
  load=$(loadavg)
  for i in h1:"$H1":vl2tap0 sw:"$SW":ul0 h2:"$H2":vl2tap0; do
    IFS=: read -r r ns dev <<<"$i"
    ip netns exec "$ns" python3 "$ROOT/bench/lib/ping-trace.py" capture "$dev" "$f.$r" &
    pids+=($!)
  done
  for i in h1 sw h2; do wait_for 10 grep -q ready "$f.$i" 2>/dev/null || note "trace: no capture on $i"; done
  ip netns exec "$H1" timeout "$(awk -v n="$TRACE" -v i="$TRACE_INTERVAL" 'BEGIN { printf "%d", n * i + 60 }')" \
    ping -n -q -c "$TRACE" -i "$TRACE_INTERVAL" -W 1 "$OV_H2" >/dev/null 2>&1 || true
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  python3 "$ROOT/bench/lib/ping-trace.py" report "$f.h1" "$f.sw" "$f.h2" "$UL_H1" "$UL_SW" "$UL_H2" >"$f.md" 2>&1 || true
  put trace "$1" "$2" "$3" "$load" "$f.md"
}

idle_cpu() { # label round mode
  local r t0 t1 load
  declare -A a=()
  load=$(loadavg)
  for r in sw h1 h2; do a[$r]=$(jvm_ticks "${JVM[$r]}"); done
  t0=$(now); sleep "$IDLE"; t1=$(now)
  for r in sw h1 h2; do
    put idle "$1" "$2" "$3" "$r" "$load" "$(awk -v a="${a[$r]}" -v b="$(jvm_ticks "${JVM[$r]}")" -v hz="$TICKS" \
      -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.2f", 100 * (b - a) / hz / (t1 - t0) }')"
  done
}

run_variant() { # round spec
  local round=$1 label dist aopts sopts home key mode iv
  IFS='|' read -r label dist aopts sopts <<<"$2"
  [ -f "$dist" ] || fail "variant $label: no distribution at $dist"
  home=$WORK/vl2-$round
  rm -rf "$home" "$WORK/sw" "$WORK/h1" "$WORK/h2"; mkdir -p "$home"
  tar -xzf "$dist" -C "$home" --strip-components=1
  say "round $round, $label: switch"
  ip netns exec "$SW" env EXTRA_JAVA_OPTS="$sopts" "$home/bin/vl2-switch" --listen "$UL_SW:9990" --data "$WORK/sw" \
    </dev/null >>"$OUT/switch.out" 2>&1 &
  LAUNCHER[sw]=$!
  wait_for 300 sh -c "ip netns exec $SW ss -Hlun 'sport = :9991' | grep -q ." || fail "the switch did not listen"
  find_jvm sw
  key=""
  for mode in $MODES; do
    if [ "$mode" = enc ] && [ -z "$key" ]; then
      wait_for 30 sh -c "grep -qho 'Switch public key [A-Za-z0-9+/=]*' '$WORK/sw/data/log/karaf.log'" || true
      key=$(grep -ho 'Switch public key [A-Za-z0-9+/=]*' "$WORK/sw/data/log/karaf.log" | head -1 | awk '{ print $4 }')
      [ -n "$key" ] || fail "the switch did not log its public key"
    fi
    say "round $round, $label, $mode: agents"
    start_agent "$home" 2 "$mode" "$key" "$aopts"
    start_agent "$home" 1 "$mode" "$key" "$aopts"
    if ! ping_across_poll 300; then
      note "$label $mode: no ping across vl2 within 300 s of starting the agents: this series is left out"
      put failed "$label" "$round" "$mode" "$(loadavg)"
      stop_role h1; stop_role h2; rm -rf "$WORK/h1" "$WORK/h2"
      continue
    fi
    find_jvm h1; find_jvm h2
    ip netns exec "$H2" timeout 30 iperf3 -s -1 -B "$OV_H2" >/dev/null 2>&1 &
    wait_for 10 sh -c "ip netns exec $H2 ss -Hltn 'sport = :5201' | grep -q ." || true
    ip netns exec "$H1" timeout 20 iperf3 -c "$OV_H2" -t 2 >/dev/null 2>&1 || note "warm-up iperf3 failed"
    ip netns exec "$H1" ping -n -q -c 20 -i 0.01 "$OV_H2" >/dev/null 2>&1 || true
    for iv in $INTERVALS; do
      say "round $round, $label, $mode: $PINGS pings at $iv s"
      ping_series "$label" "$round" "$mode" "$iv"
    done
    if [ "$COST" -gt 0 ]; then
      say "round $round, $label, $mode: cost of $COST pings at 0.005 s per data thread"
      cost_series "$label" "$round" "$mode"
    fi
    if [ "$TRACE" -gt 0 ]; then
      say "round $round, $label, $mode: trace of $TRACE pings at $TRACE_INTERVAL s"
      trace_series "$label" "$round" "$mode"
    fi
    if [ "$IDLE" -gt 0 ]; then
      say "round $round, $label, $mode: idle CPU over $IDLE s"
      idle_cpu "$label" "$round" "$mode"
    fi
    stop_role h1; stop_role h2
    rm -rf "$WORK/h1" "$WORK/h2"
  done
  stop_role sw
}

note "variants: ${#VARIANTS[@]}, rounds: $ROUNDS, load: $(loadavg); results: $OUT"
put meta command "sudo bench/latency.sh${ARGS:+ $ARGS}"
put meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
put meta machine "$(nproc) x $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr)"
put meta git "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
for round in $(seq "$ROUNDS"); do
  for spec in "${VARIANTS[@]}"; do run_variant "$round" "$spec"; done
done
put meta load_end "$(loadavg)"

python3 - "$RES" <<'PY'
import math, re, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
meta = {r[1]: r[2] for r in rows if r[0] == "meta"}
def stats(f):
    t = open(f).read()
    x = sorted(float(v) for v in re.findall(r"time=([0-9.]+) ms", t))
    m = re.search(r"(\d+) packets transmitted, (\d+) received", t)
    if not x or not m:
        return None
    q = lambda p: x[max(0, math.ceil(p * len(x)) - 1)]
    return {"p50": q(.5), "p90": q(.9), "p99": q(.99), "avg": sum(x) / len(x), "max": x[-1],
            "loss": 100 * (int(m[1]) - int(m[2])) / int(m[1])}
print(f"`{meta.get('command')}` ({meta.get('date')}, {meta.get('machine')}, HEAD {meta.get('git')}); "
      f"load average at the end {meta.get('load_end')}")
print()
print("| variant | mode | interval (s) | round | p50 | p90 | p99 | avg | max (ms) | loss % | load (1/5/15) |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for r in rows:
    if r[0] != "ping":
        continue
    s = stats(r[6])
    if s is None:
        print(f"| {r[1]} | {r[3]} | {r[4]} | {r[2]} | – | – | – | – | – | – | {r[5]} |")
        continue
    print(f"| {r[1]} | {r[3]} | {r[4]} | {r[2]} | {s['p50']:.3f} | {s['p90']:.3f} | {s['p99']:.3f} | {s['avg']:.3f} | "
          f"{s['max']:.3f} | {s['loss']:.1f} | {r[5]} |")
for r in rows:
    if r[0] == "failed":
        print(f"\n{r[1]}, {r[3]}, round {r[2]}: the agents did not forward within 300 s (load {r[4]}): no series")
print()
print("Idle CPU (% of one core, over the idle window after the pings; keepalives only):")
print()
print("| variant | mode | round | switch | agent h1 | agent h2 | load (1/5/15) |")
print("|---|---|---:|---:|---:|---:|---|")
idle = {}
for r in rows:
    if r[0] == "idle":
        idle.setdefault((r[1], r[3], r[2], r[5]), {})[r[4]] = r[6]
for (v, mode, rnd, load), d in idle.items():
    print(f"| {v} | {mode} | {rnd} | {d.get('sw', '–')} | {d.get('h1', '–')} | {d.get('h2', '–')} | {load} |")
costs = [r for r in rows if r[0] == "cost"]
if costs:
    print()
    print("Per ping (one request h1 -> h2 and its reply), per data thread: CPU time in us (task-clock), system calls,")
    print("context switches; perf stat --per-thread around ping -c N -i 0.005 (threads: h1/h2 agent TAP pump tap-rx,")
    print("UDP pump udp-rx; sw the switch's receive threads summed):")
    print()
    print("| variant | mode | round | pings | thread | CPU us | syscalls | ctx sw | load (1/5/15) |")
    print("|---|---|---:|---:|---|---:|---:|---:|---|")
for r in costs:
    names = {}
    for x in r[6].split():
        role, tid, comm = x.split(":", 2)
        kind = "tap-rx" if "tap" in comm else "udp-rx" if comm.startswith("vl2-agent") else "rx"
        names[tid] = f"{role} {kind}"
    t = open(r[5]).read()
    m = re.search(r"(\d+) packets transmitted, (\d+) received", open(r[5] + ".ping").read())
    n = int(m[2]) if m else 0
    if n == 0:
        print(f"| {r[1]} | {r[3]} | {r[2]} | 0 | – | – | – | – | {r[4]} |")
        continue
    acc = {}
    for line in t.splitlines():
        f = line.split(";")
        if len(f) < 4 or "-" not in f[0]:
            continue
        tid = f[0].rsplit("-", 1)[1]
        if tid not in names:
            continue
        try:
            v = float(f[1])
        except ValueError:
            v = 0.0
        a = acc.setdefault(names[tid], [0.0, 0.0, 0.0])
        if f[3] == "task-clock":
            a[0] += v * 1000 / n
        elif f[3].endswith("sys_enter"):
            a[1] += v / n
        elif f[3] == "context-switches":
            a[2] += v / n
    total = [0.0, 0.0, 0.0]
    for k in sorted(acc):
        a = acc[k]
        total = [x + y for x, y in zip(total, a)]
        print(f"| {r[1]} | {r[3]} | {r[2]} | {n} | {k} | {a[0]:.1f} | {a[1]:.2f} | {a[2]:.2f} | {r[4]} |")
    print(f"| {r[1]} | {r[3]} | {r[2]} | {n} | **all** | **{total[0]:.1f}** | **{total[1]:.2f}** | {total[2]:.2f} | {r[4]} |")
for r in rows:
    if r[0] == "trace":
        print()
        print(f"Trace: {r[1]}, {r[3]}, round {r[2]} (load {r[4]}):")
        print()
        print(open(r[5]).read().rstrip())
PY

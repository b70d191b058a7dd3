#!/usr/bin/env bash
# Throughput of the TCP/TLS fallback path and what it costs in CPU, A/B in alternating pairs.
#
#   sudo bench/tcp-stream.sh [--variant 'LABEL|DIST|AGENT_OPTS|SWITCH_OPTS']... [--rounds 2] [--seconds 8]
#                            [--reverse] [--jfr] [--syscalls]
#
# The namespaces of bench/overlay.sh (a switch host with the underlay bridge, h1 and h2 on it by veth). Per variant
# and round: the switch with --tcp (TLS 1.3 on port 8443), h2's agent encrypted over UDP, h1's agent encrypted with
# --transport tcp; a 3 s iperf3 warm-up, then iperf3 TCP, 1 stream, h1 -> h2 (--reverse: h2 -> h1), --seconds long.
# Each --variant is a distribution (default: karaf-assembly/target/vl2-karaf-*.tar.gz) plus EXTRA_JAVA_OPTS for the
# agents and for the switch (either may be empty); the variants run one after the other, rounds times (A B A B ...),
# so that the load of other processes falls on each alike. Per run: Gbit/s, retransmits, iperf3's mean RTT, and
# the CPU seconds each JVM (switch, agent on TCP, agent on UDP) spent per GB that iperf3 moved, from /proc/PID/stat:
# the column to compare on a loaded machine, where the Gbit/s follow the load. --jfr records a JFR profile of the
# three JVMs during the measured iperf3 (settings=profile; files next to the results). --syscalls counts, with perf
# stat, the system calls each JVM makes during the measured iperf3 (sendto, sendmmsg, read, write, epoll_wait) and
# prints them per MB moved: a second table that does not depend on the load at all.
# Output: a Markdown table on stdout; raw numbers in bench/target/tcp-stream-<time>/results.tsv.
# Everything is removed at the end, also on failure or Ctrl-C.
#
# Needs: root, ip, iperf3, ping (iputils), python3, ss, Java 17, /dev/net/tun.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/netns-bench.sh
. "$ROOT/bench/lib/netns-bench.sh"
VARIANTS=()
ROUNDS=2
SECS=8
REVERSE=false
JFR=false
SYSCALLS=false
SYSCALL_EVENTS="sendto sendmmsg read write epoll_wait"
ARGS="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --variant) need_value "$1" $#; VARIANTS+=("$2"); shift 2 ;;
    --rounds) need_value "$1" $#; ROUNDS=$2; shift 2 ;;
    --seconds) need_value "$1" $#; SECS=$2; shift 2 ;;
    --reverse) REVERSE=true; shift ;;
    --jfr) JFR=true; shift ;;
    --syscalls) SYSCALLS=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) unknown_option "$1" ;;
  esac
done
need_count --rounds "$ROUNDS"
need_count --seconds "$SECS"

require_root "namespaces, veth and TAP devices need CAP_NET_ADMIN"
use_java17
require_tools ip ss ping iperf3 python3 java tar
if $SYSCALLS; then command -v perf >/dev/null || fail "--syscalls needs perf (linux-perf)"; fi
if [ ${#VARIANTS[@]} = 0 ]; then
  DIST=""
  choose_dist --variant
  VARIANTS=("this tree|$DIST||")
fi

topology_names vl2tcs$$
OUT=$ROOT/bench/target/tcp-stream-$(date +%Y%m%d-%H%M%S)
bench_work tcp-stream
clean_up_at_exit vl2tcs

put() { local IFS=$'\t'; echo "$*" >>"$RES"; }

build_underlay

# jfr_opts tag: the JVM option that records a profile into the results directory (empty without --jfr)
jfr_opts() { $JFR && echo "-XX:StartFlightRecording=settings=profile,filename=$OUT/$1.jfr,dumponexit=true" || true; }

iperf() { # file client-netns server-netns dst seconds [extra]
  local f=$1 cns=$2 sns=$3 dst=$4 secs=$5 srv
  shift 5
  ip netns exec "$sns" timeout $((secs + 40)) iperf3 -s -1 -B "$dst" >/dev/null 2>&1 &
  srv=$!
  wait_for 10 sh -c "ip netns exec $sns ss -Hltn 'sport = :5201' | grep -q ." || { note "iperf3 server did not listen"; return 1; }
  ip netns exec "$cns" timeout $((secs + 30)) iperf3 -c "$dst" -t "$secs" -J --connect-timeout 5000 "$@" >"$f" 2>&1 || true
  wait_gone 5 "$srv" || kill_tree 9 "$srv"
  wait "$srv" 2>/dev/null || true
}

run_variant() { # round spec
  local round=$1 label dist aopts sopts home key r load tag cns sns dst
  IFS='|' read -r label dist aopts sopts <<<"$2"
  [ -f "$dist" ] || fail "variant $label: no distribution at $dist"
  tag="r$round-${label//[^A-Za-z0-9]/_}"
  home=$WORK/vl2-$round
  rm -rf "$home" "$WORK/sw" "$WORK/h1" "$WORK/h2"; mkdir -p "$home"
  tar -xzf "$dist" -C "$home" --strip-components=1
  say "round $round, $label: switch (UDP 9991, TCP/TLS 8443)"
  ip netns exec "$SW" env EXTRA_JAVA_OPTS="$sopts $(jfr_opts "$tag-switch")" "$home/bin/vl2-switch" \
    --listen "$UL_SW:9990" --tcp "$UL_SW:8443" --data "$WORK/sw" </dev/null >>"$OUT/switch.out" 2>&1 &
  LAUNCHER[sw]=$!
  wait_for 300 sh -c "ip netns exec $SW ss -Hltn 'sport = :8443' | grep -q ." || fail "the switch did not listen on TCP 8443"
  find_jvm sw
  wait_for 30 sh -c "grep -qho 'Switch public key [A-Za-z0-9+/=]*' '$WORK/sw/data/log/karaf.log'" || true
  key=$(grep -ho 'Switch public key [A-Za-z0-9+/=]*' "$WORK/sw/data/log/karaf.log" | head -1 | awk '{ print $4 }')
  [ -n "$key" ] || fail "the switch did not log its public key"
  say "round $round, $label: agents (h1 over TCP/TLS, h2 over UDP)"
  start_agent_of "$home" 2 "$key" "$aopts $(jfr_opts "$tag-h2-udp")" --transport udp
  start_agent_of "$home" 1 "$key" "$aopts $(jfr_opts "$tag-h1-tcp")" --transport tcp --tcp-port 8443
  if ! ping_across_poll 300; then
    note "$label: no ping across vl2 within 300 s of starting the agents: this run is left out"
    put failed "$label" "$round" "$(loadavg)"
    stop_role h1; stop_role h2; stop_role sw
    return 0
  fi
  find_jvm h1; find_jvm h2
  if $REVERSE; then cns=$H2 sns=$H1 dst=$OV_H1; else cns=$H1 sns=$H2 dst=$OV_H2; fi
  iperf "$OUT/$tag-warmup.json" "$cns" "$sns" "$dst" 3
  declare -A a=()
  load=$(loadavg)
  for r in sw h1 h2; do a[$r]=$(jvm_ticks "${JVM[$r]}"); done
  say "round $round, $label: iperf3 TCP 1 stream, $SECS s (load $load)"
  local counters=() ev=""
  if $SYSCALLS; then
    for e in $SYSCALL_EVENTS; do ev="$ev${ev:+,}syscalls:sys_enter_$e"; done
    for r in sw h1 h2; do
      perf stat -x, -e "$ev" -o "$OUT/$tag-$r-syscalls.csv" -p "${JVM[$r]}" -- sleep "$SECS" >/dev/null 2>&1 &
      counters+=($!)
    done
  fi
  iperf "$OUT/$tag.json" "$cns" "$sns" "$dst" "$SECS"
  for c in "${counters[@]}"; do wait "$c" 2>/dev/null || true; done
  put run "$label" "$round" "$load" "$OUT/$tag.json" "$(jvm_ticks "${JVM[sw]}")" "${a[sw]}" \
    "$(jvm_ticks "${JVM[h1]}")" "${a[h1]}" "$(jvm_ticks "${JVM[h2]}")" "${a[h2]}" "$TICKS" \
    "$(awk '/^VmRSS:/ { print $2 }' "/proc/${JVM[h1]}/status" 2>/dev/null || echo 0)"
  stop_role h1; stop_role h2; stop_role sw
}

note "variants: ${#VARIANTS[@]}, rounds: $ROUNDS, load: $(loadavg); results: $OUT"
put meta command "sudo bench/tcp-stream.sh${ARGS:+ $ARGS}"
put meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
put meta machine "$(nproc) x $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr)"
put meta git "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
put meta direction "$($REVERSE && echo 'h2 (UDP) -> h1 (TCP/TLS)' || echo 'h1 (TCP/TLS) -> h2 (UDP)')"
for round in $(seq "$ROUNDS"); do
  for spec in "${VARIANTS[@]}"; do run_variant "$round" "$spec"; done
done
put meta load_end "$(loadavg)"

python3 - "$RES" "$OUT" "$SYSCALL_EVENTS" <<'PY'
import json, os, re, sys
out, events, calls = sys.argv[2], sys.argv[3].split(), {}
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
meta = {r[1]: r[2] for r in rows if r[0] == "meta"}
print(f"`{meta.get('command')}` ({meta.get('date')}, {meta.get('machine')}, HEAD {meta.get('git')}); "
      f"{meta.get('direction')}; load average at the end {meta.get('load_end')}")
print()
print("| variant | round | Gbit/s | retransmits | mean RTT (ms) | CPU s per GB: switch | agent TCP | agent UDP | "
      "sum | agent TCP RSS (MiB) | load (1/5/15) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for r in rows:
    if r[0] == "failed":
        print(f"| {r[1]} | {r[2]} | no forwarding within 300 s | | | | | | | | {r[3]} |")
    if r[0] != "run":
        continue
    label, rnd, load, f = r[1], r[2], r[3], r[4]
    hz = float(r[11])
    try:
        j = json.load(open(f))
        e = j["end"]
        gb = e["sum_received"]["bytes"] / 1e9
        gbps = e["sum_received"]["bits_per_second"] / 1e9
        retr = e["sum_sent"].get("retransmits", 0)
        rtt = e["streams"][0]["sender"].get("mean_rtt", 0) / 1000
    except Exception:
        print(f"| {label} | {rnd} | iperf3 failed ({f}) | | | | | | | | {load} |")
        continue
    cpu = [(float(r[5]) - float(r[6])) / hz, (float(r[7]) - float(r[8])) / hz, (float(r[9]) - float(r[10])) / hz]
    per = [c / gb if gb > 0 else float("nan") for c in cpu]
    print(f"| {label} | {rnd} | {gbps:.2f} | {retr} | {rtt:.2f} | {per[0]:.2f} | {per[1]:.2f} | {per[2]:.2f} | "
          f"{sum(per):.2f} | {int(r[12]) // 1024} | {load} |")
    calls[(label, rnd)] = gb
if any(os.path.exists(os.path.join(out, f"r{rnd}-{re.sub('[^A-Za-z0-9]', '_', label)}-sw-syscalls.csv"))
       for label, rnd in calls):
    print()
    print("System calls per MB moved during the measured iperf3 (perf stat; the switch's row first):")
    print()
    print("| variant | round | JVM | " + " | ".join(events) + " |")
    print("|---|---:|---|" + "---:|" * len(events))
    for (label, rnd), gb in calls.items():
        for role, name in (("sw", "switch"), ("h1", "agent TCP"), ("h2", "agent UDP")):
            f = os.path.join(out, f"r{rnd}-{re.sub('[^A-Za-z0-9]', '_', label)}-{role}-syscalls.csv")
            if not os.path.exists(f) or gb <= 0:
                continue
            n = {}
            for line in open(f):
                c = line.strip().split(",")
                if len(c) > 2 and c[2].startswith("syscalls:sys_enter_"):
                    n[c[2][len("syscalls:sys_enter_"):]] = float(c[0]) if c[0].replace(".", "").isdigit() else 0
            print(f"| {label} | {rnd} | {name} | " + " | ".join(f"{n.get(e, 0) / (gb * 1000):.1f}" for e in events)
                  + " |")
PY

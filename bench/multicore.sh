#!/usr/bin/env bash
# The switch's encrypted forwarding on 1 core vs 2 cores, in alternating pairs within one run.
#
#   sudo bench/multicore.sh [--seconds 10] [--rounds 3] [--cpus "0 0,1"] [--dist FILE] [--cipher auto]
#
# The namespaces of bench/overlay.sh (a switch host with the underlay bridge, h1 and h2 on it by veth), one switch
# and two agents in the default encrypted vl2 mode. Traffic: iperf3 TCP --bidir between h1 and h2, one stream each
# way, so two members send at once (h1's frames are opened under h1's session, h2's under h2's). Per round, for each
# CPU list in --cpus (a taskset list; its CPU count is the switch's io.threads): the vl2 transport's io.threads is
# changed in the running switch (etc/org.vl2.transport.vl2.cfg, applied in place: ports and sessions stay), then
# every thread of the switch JVM is pinned to the list (taskset -a), then --seconds of iperf3. Recorded: both
# directions' Gbit/s, the switch JVM's CPU (cores) and each vl2-vl2-rx thread's, the load average.
# The vl2 transport keeps each member on the receive thread its session index picks (its lowest byte modulo the
# thread count), so two members share a thread half of the time: before measuring, the script checks with a short
# --bidir run on 2 threads that both rx threads work, and otherwise restarts h2's agent (a new port, a new random
# index; at most 6 times). The agents and iperf3 are not pinned: on a 2-core machine they share the cores with a
# 2-core switch, so read the switch's CPU next to the throughput.
# Output: a Markdown table on stdout; raw numbers in bench/target/multicore-<time>/results.tsv.
# Everything is removed at the end, also on failure or Ctrl-C.
#
# Needs: root, ip, iperf3 (3.7+ for --bidir), taskset, python3, ss, Java 17, /dev/net/tun.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/netns-bench.sh
. "$ROOT/bench/lib/netns-bench.sh"
SECS=10
ROUNDS=3
CPU_LISTS="0 0,1"
DIST=""
CIPHER=auto
ARGS="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) need_value "$1" $#; SECS=$2; shift 2 ;;
    --rounds) need_value "$1" $#; ROUNDS=$2; shift 2 ;;
    --cpus) need_value "$1" $#; CPU_LISTS=$2; shift 2 ;;
    --dist) need_value "$1" $#; DIST=$2; shift 2 ;;
    --cipher) need_value "$1" $#; CIPHER=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) unknown_option "$1" ;;
  esac
done
need_count --seconds "$SECS"
need_count --rounds "$ROUNDS"
for c in $CPU_LISTS; do
  case "$c" in *[!0-9,-]*|'') bad_usage "--cpus takes taskset lists like \"0 0,1\" (got $c)" ;; esac
done

require_root "namespaces, veth and TAP devices need CAP_NET_ADMIN"
use_java17
require_tools ip ss iperf3 python3 java tar taskset
choose_dist

topology_names vl2mc$$
OUT=$ROOT/bench/target/multicore-$(date +%Y%m%d-%H%M%S)
bench_work multicore
HOME_VL2=$WORK/vl2
mkdir -p "$HOME_VL2"
keep_logs() { [ ! -f "$WORK/sw/data/log/karaf.log" ] || cp "$WORK/sw/data/log/karaf.log" "$OUT/karaf-sw.log"; }
clean_up_at_exit vl2mc

put() { local IFS=$'\t'; echo "$*" >>"$RES"; }
# rx_ticks: "name ticks" for each vl2 transport receive thread of the switch JVM
rx_ticks() {
  local t
  for t in /proc/"${JVM[sw]}"/task/*; do
    case "$(cat "$t/comm" 2>/dev/null)" in
      vl2-vl2-rx*) echo "$(cat "$t/comm") $(awk '{ print $14 + $15 }' "$t/stat")" ;;
    esac
  done
}
rx_threads() { rx_ticks | wc -l; }

start_agent() { start_agent_of "$HOME_VL2" "$1" "$2" ""; } # h key

# threads n cpus: the vl2 transport's io.threads in the running switch, then every switch thread on cpus
threads() {
  local cfg=$WORK/sw/etc/org.vl2.transport.vl2.cfg
  sed -i '/^io\.threads *=/d' "$cfg"
  echo "io.threads = $1" >>"$cfg"
  wait_for 60 sh -c "[ \$(ls /proc/${JVM[sw]}/task | while read t; do cat /proc/${JVM[sw]}/task/\$t/comm 2>/dev/null; done | grep -c '^vl2-vl2-rx') = $1 ]" \
    || fail "the switch did not take io.threads = $1 within 60 s (see $OUT/karaf-sw.log)"
  taskset -a -p -c "$2" "${JVM[sw]}" >/dev/null
}

# bidir label secs: iperf3 TCP --bidir h1 <-> h2; records Gbit/s each way, switch CPU and each rx thread's
bidir() {
  local label=$1 secs=$2 srv j0 t0 t1 f=$OUT/$1.json load
  declare -A r0=()
  ip netns exec "$H2" timeout $((secs + 40)) iperf3 -s -1 -B "$OV_H2" >/dev/null 2>&1 &
  srv=$!
  wait_for 10 sh -c "ip netns exec $H2 ss -Hltn 'sport = :5201' | grep -q ." || { note "no iperf3 server"; return 1; }
  load=$(loadavg)
  while read -r name ticks; do r0[$name]=$ticks; done < <(rx_ticks)
  j0=$(jvm_ticks "${JVM[sw]}"); t0=$(now)
  ip netns exec "$H1" timeout $((secs + 30)) iperf3 -c "$OV_H2" --bidir -t "$secs" -J --connect-timeout 5000 >"$f" 2>&1 \
    || note "$label: iperf3 exited with $? (see $f)"
  t1=$(now)
  put run "$label" switch_cores "$(awk -v a="$j0" -v b="$(jvm_ticks "${JVM[sw]}")" -v hz="$TICKS" -v t0="$t0" -v t1="$t1" \
    'BEGIN { printf "%.2f", (b - a) / hz / (t1 - t0) }')"
  while read -r name ticks; do
    put run "$label" "rx.$name" "$(awk -v a="${r0[$name]:-0}" -v b="$ticks" -v hz="$TICKS" -v t0="$t0" -v t1="$t1" \
      'BEGIN { printf "%.2f", (b - a) / hz / (t1 - t0) }')"
  done < <(rx_ticks)
  put run "$label" load "$load"
  put run "$label" json "$f"
  wait_gone 5 "$srv" || kill_tree 9 "$srv"
  wait "$srv" 2>/dev/null || true
  sleep 1
}

# spread_ok label: true if in that run each of the two rx threads had at least a fifth of their CPU
spread_ok() {
  awk -F'\t' -v l="$1" '$1 == "run" && $2 == l && $3 ~ /^rx\./ { n++; c[n] = $4; s += $4 }
    END { if (n != 2 || s <= 0) exit 1; exit (c[1] >= s / 5 && c[2] >= s / 5) ? 0 : 1 }' "$RES"
}

build_underlay
tar -xzf "$DIST" -C "$HOME_VL2" --strip-components=1
put meta command "sudo bench/multicore.sh${ARGS:+ $ARGS}"
put meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
put meta machine "$(nproc) x $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr)"
put meta dist "$(basename "$DIST"), sha256 $(sha256sum "$DIST" | cut -c1-12)"
put meta git "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
put meta load_start "$(loadavg)"

say "switch (cipher $CIPHER)"
ip netns exec "$SW" "$HOME_VL2/bin/vl2-switch" --listen "$UL_SW:9990" --cipher "$CIPHER" --data "$WORK/sw" \
  </dev/null >>"$OUT/switch.out" 2>&1 &
LAUNCHER[sw]=$!
wait_for 300 sh -c "ip netns exec $SW ss -Hlun 'sport = :9991' | grep -q ." || fail "the switch did not listen on 9991"
find_jvm sw
wait_for 60 sh -c "grep -qho 'Switch public key [A-Za-z0-9+/=]*' '$WORK/sw/data/log/karaf.log'" || true
KEY=$(grep -ho 'Switch public key [A-Za-z0-9+/=]*' "$WORK/sw/data/log/karaf.log" | head -1 | awk '{ print $4 }')
[ -n "$KEY" ] || fail "the switch did not log its public key"

say "agents in h1 and h2 (encrypted)"
start_agent 2 "$KEY"
start_agent 1 "$KEY"
ping_across_poll 300 || fail "no ping across vl2 within 300 s"
find_jvm h1; find_jvm h2

say "warm-up, and the two members on two receive threads"
threads 2 "$(echo "$CPU_LISTS" | awk '{ print $NF }')"
for try in 1 2 3 4 5 6 7; do
  bidir "spread-$try" 3
  spread_ok "spread-$try" && break
  [ "$try" -lt 7 ] || fail "h1 and h2 stayed on one receive thread after 6 restarts of h2's agent"
  note "h1 and h2 share a receive thread: restarting h2's agent (new port, new session index)"
  stop_role h2
  start_agent 2 "$KEY"
  ping_across_poll 300 || fail "no ping across vl2 within 300 s of restarting h2's agent"
  find_jvm h2
done

for round in $(seq "$ROUNDS"); do
  for cpus in $CPU_LISTS; do
    n=$(awk -v s="$cpus" 'BEGIN { n = split(s, p, ","); c = 0
      for (i = 1; i <= n; i++) c += split(p[i], r, "-") == 2 ? r[2] - r[1] + 1 : 1; print c }')
    say "round $round: switch on CPUs $cpus, io.threads = $n, iperf3 --bidir ${SECS} s"
    threads "$n" "$cpus"
    put run "r$round-$cpus" threads "$n"
    put run "r$round-$cpus" cpus "$cpus"
    bidir "r$round-$cpus" "$SECS"
  done
done
put meta load_end "$(loadavg)"
put meta stats "$(echo "vl2:stats" | ip netns exec "$SW" timeout 30 "$HOME_VL2/bin/vl2-client" --data "$WORK/sw" -b 2>/dev/null \
  | tr -d '\r' | tr '\n' ' ' | tr -s ' ' || true)"

python3 - "$RES" <<'PY'
import json, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
meta = {r[1]: r[2] for r in rows if r[0] == "meta"}
runs = {}
for r in rows:
    if r[0] == "run":
        runs.setdefault(r[1], {})[r[2]] = r[3]
def gbps(f):
    try:
        e = json.load(open(f))["end"]
        return e["sum_received"]["bits_per_second"] / 1e9, e["sum_received_bidir_reverse"]["bits_per_second"] / 1e9
    except Exception:
        return None
print(f"switch encrypted forwarding, 1 vs more cores ({meta.get('date')}; {meta.get('machine')}; {meta.get('dist')}; "
      f"git {meta.get('git')}; load {meta.get('load_start')} -> {meta.get('load_end')})\n")
print("| run | switch CPUs | io.threads | h1->h2 Gbit/s | h2->h1 Gbit/s | sum | switch CPU (cores) | per rx thread | load |")
print("|---|---|---:|---:|---:|---:|---:|---|---|")
sums = {}
for label, d in runs.items():
    if not label.startswith("r"):
        continue
    g = gbps(d.get("json", ""))
    rx = " ".join(f"{v}" for k, v in sorted(d.items()) if k.startswith("rx."))
    fwd, rev = g if g else (float("nan"), float("nan"))
    sums.setdefault(d.get("cpus"), []).append(fwd + rev)
    print(f"| {label} | {d.get('cpus')} | {d.get('threads')} | {fwd:.2f} | {rev:.2f} | {fwd + rev:.2f} | "
          f"{d.get('switch_cores')} | {rx} | {d.get('load')} |")
print()
keys = list(sums)
for k in keys:
    v = sums[k]
    print(f"- CPUs {k}: mean {sum(v) / len(v):.2f} Gbit/s over {len(v)} runs")
if len(keys) >= 2 and sum(sums[keys[0]]) > 0:
    print(f"- ratio CPUs {keys[-1]} / CPUs {keys[0]}: {sum(sums[keys[-1]]) / len(sums[keys[-1]]) / (sum(sums[keys[0]]) / len(sums[keys[0]])):.2f}")
PY

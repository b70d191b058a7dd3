#!/usr/bin/env bash
# Fallback benchmark (issue 16): how long an agent whose outbound UDP is dropped takes to forward over TCP/TLS, and
# to come back to UDP once UDP is let through again, and how many pings each move costs.
#
#   sudo bench/fallback.sh [--rounds 5] [--short] [--dist FILE]
#
# Namespaces <p>-sw, <p>-h1, <p>-h2 (p = vl2fb<pid>) on an underlay bridge (10.78.0.0/24, only inside them), as in
# bench/overlay.sh. The switch starts FIRST and listens on UDP (vl2, 9991) and TCP (TLS, 8443) before any agent
# starts; h2's agent runs on UDP (--transport udp), the peer to ping. Then, per round:
#   1. nftables in h1 drops every UDP datagram to the switch (table inet vl2fb, output chain)
#   2. h1's agent starts with the default transport (auto): timed from the launcher's start to the first ping
#      h1 -> h2 answered (over TCP/TLS: checked in the switch's vl2:ports transport column), with the agent's own
#      log times of "Port agent up" and of its "now over TCP/TLS" line
#   3. pings h1 -> h2 every 0.1 s from then on; after 2 s the nft table is deleted (UDP unblocked): timed to the
#      agent's "back to UDP" line and to the switch's "moved ... (transport tcp -> vl2)" line; vl2:ports must then
#      show h1 on the vl2 (UDP) transport; 3 s later the pings stop: sent, received, and lost (sequence numbers
#      missing below the last answered one: those still in flight at the stop do not count)
#   4. h1's agent stops (round 1 is a cold start, a fresh --data; later rounds restart with the same --data: warm)
# Prints one row per round and the medians (all rounds, and the warm ones). Goals: forwarding over TCP <= 10 s after
# the start, back on UDP <= 30 s after the unblock, no ping lost beyond the switch-over.
# --short: 2 rounds. Results and logs stay in bench/target/fallback-<time>/; everything else is removed at the end.
#
# Needs: root, ip (iproute2), nft (nftables), ping (iputils), ss, Java 17, /dev/net/tun.
# Uses karaf-assembly/target/vl2-karaf-*.tar.gz (build it with
# mvn -B -q -o -pl karaf-assembly -am package -DskipTests -Dvl2.fuzz=0).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/netns-bench.sh
. "$ROOT/bench/lib/netns-bench.sh"
ROUNDS=5
DIST=""
ARGS="$*"

while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) need_value "$1" $#; ROUNDS=$2; shift 2 ;;
    --short) ROUNDS=2; shift ;;
    --dist) need_value "$1" $#; DIST=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) unknown_option "$1" ;;
  esac
done
need_count --rounds "$ROUNDS"

require_root "namespaces, veth, nftables and TAP devices need CAP_NET_ADMIN"
require_tun
use_java17
require_tools ip ss ping nft java tar pgrep awk
choose_dist

topology_names vl2fb$$
VL2_PORT=9991
TCP_PORT=8443
OUT=$ROOT/bench/target/fallback-$(date +%Y%m%d-%H%M%S)
WORK=$(mktemp -d /tmp/vl2-fallback.XXXXXX)
VL2=$WORK/vl2
mkdir -p "$OUT"
declare -A LAUNCHER=()
declare -A JVM=()
PINGER=""

cleanup() {
  local rc=$? role ns p
  set +e
  trap - EXIT INT TERM
  [ -n "$PINGER" ] && kill_tree 9 "$PINGER"
  for role in h1 h2 sw; do stop_role "$role" 15; done
  remove_namespaces
  [ -f "$WORK/sw/data/log/karaf.log" ] && cp "$WORK/sw/data/log/karaf.log" "$OUT/karaf-sw.log"
  [ -f "$WORK/h1/data/log/karaf.log" ] && cp "$WORK/h1/data/log/karaf.log" "$OUT/karaf-h1.log"
  rm -rf "$WORK"
  echo "fallback: cleaned up (namespaces $P-*, processes, $WORK); logs in $OUT" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
reap_stale_namespaces vl2fb fallback.sh

# log_time pattern file: epoch seconds (with fraction) of the first line matching pattern (karaf's ISO8601 local time
# stamp at the start of the line); empty if none
log_time() {
  local ts
  ts=$(grep -m1 -E "$1" "$2" 2>/dev/null | awk '{ print $1 }' | tr 'T,' ' .') || true
  [ -n "$ts" ] && date -d "$ts" +%s.%N
}
diff_s() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "?"; else printf "%.2f", b - a }'; }
# client ns instance command: one Karaf shell command on an instance (as root, the documented way)
client() { echo "$3" | ip netns exec "$1" timeout 60 "$VL2/bin/vl2-client" --data "$WORK/$2" -b 2>/dev/null | tr -d '\r' || true; }
# transport_of_h1: the transport column of h1's port in the switch's vl2:ports (tcp or vl2)
transport_of_h1() { client "$SW" sw "vl2:ports --no-format" | awk -v a="$UL_H1:" 'index($5, a) == 1 { print $3; exit }'; }
block_udp() {
  ip netns exec "$H1" nft add table inet vl2fb
  ip netns exec "$H1" nft add chain inet vl2fb out '{ type filter hook output priority 0 ; }'
  ip netns exec "$H1" nft add rule inet vl2fb out ip daddr "$UL_SW" meta l4proto udp drop
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "?"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

say "Namespaces $SW, $H1, $H2 (underlay 10.78.0.0/24); load $(loadavg)"
LOAD_START=$(loadavg)
build_underlay
mkdir -p "$VL2"
tar -xzf "$DIST" -C "$VL2" --strip-components=1

say "Switch: UDP $UL_SW:$VL2_PORT and TCP/TLS $UL_SW:$TCP_PORT, up before any agent"
ip netns exec "$SW" "$VL2/bin/vl2-switch" --vl2-listen "$UL_SW:$VL2_PORT" --tcp "$UL_SW:$TCP_PORT" --data "$WORK/sw" \
  </dev/null >"$OUT/switch.out" 2>&1 &
LAUNCHER[sw]=$!
wait_for 180 sh -c "ip netns exec $SW ss -Hlun 'sport = :$VL2_PORT' | grep -q . && ip netns exec $SW ss -Hltn 'sport = :$TCP_PORT' | grep -q ." \
  || { tail -20 "$OUT/switch.out" >&2; fail "the switch did not listen on UDP $VL2_PORT and TCP $TCP_PORT within 180 s"; }
wait_for 60 grep -q 'Switch public key' "$OUT/switch.out" || true
SWITCH_KEY=$(grep -ho 'Switch public key [A-Za-z0-9+/=]*' "$WORK/sw/data/log/karaf.log" "$OUT/switch.out" 2>/dev/null | head -1 | awk '{ print $4 }' || true)
[ -n "$SWITCH_KEY" ] || fail "the switch did not log its public key ('Switch public key ...')"

start_agent() { # h out-file extra-args...
  local h=$1 out=$2 ns=$P-h$1 ov_var=OV_H$1 mac_var=MAC_H$1
  shift 2
  ip netns exec "$ns" "$VL2/bin/vl2-agent" --switch "$UL_SW:$VL2_PORT" --switch-key "$SWITCH_KEY" \
    --address "${!ov_var}/24" --mac "${!mac_var}" --data "$WORK/h$h" "$@" </dev/null >"$out" 2>&1 &
  LAUNCHER[h$h]=$!
}
say "h2: agent on UDP (--transport udp)"
start_agent 2 "$OUT/agent-h2.out" --transport udp
wait_for 120 agent_up "$OUT/agent-h2.out" || { tail -20 "$OUT/agent-h2.out" >&2; fail "h2's agent did not come up within 120 s"; }

ROWS=()
for r in $(seq "$ROUNDS"); do
  kind=warm; [ "$r" = 1 ] && kind=cold
  load=$(loadavg)
  say "Round $r/$ROUNDS ($kind start of h1's agent, outbound UDP to the switch dropped; load $load)"
  block_udp
  AOUT=$OUT/agent-h1-$r.out
  SWLOG=$WORK/sw/data/log/karaf.log
  sw_from=$(wc -l <"$SWLOG")
  T0=$(now)
  start_agent 1 "$AOUT" --tcp-port "$TCP_PORT"   # no --transport: auto, the default
  ping_across_poll 120 || { tail -20 "$AOUT" >&2; fail "round $r: no ping h1 -> h2 within 120 s of the agent's start"; }
  fwd=$(since "$T0")
  t_up=$(log_time "Port agent up" "$AOUT"); t_tcp=$(log_time "now over TCP" "$AOUT")
  via=$(transport_of_h1)
  [ "$via" = tcp ] || note "round $r: vl2:ports shows h1 on '$via', not tcp, after the first ping"

  # pings every 0.1 s across the move back to UDP
  ip netns exec "$H1" ping -n -i 0.1 "$OV_H2" >"$OUT/ping-$r.txt" 2>&1 &
  PINGER=$!
  sleep 2
  T1=$(now)
  ip netns exec "$H1" nft delete table inet vl2fb
  wait_for 60 grep -q "back to UDP" "$AOUT" || note "round $r: the agent did not log 'back to UDP' within 60 s"
  t_back=$(log_time "back to UDP" "$AOUT")
  wait_for 30 sh -c "tail -n +$((sw_from + 1)) '$SWLOG' | grep -q 'transport tcp -> vl2'" || true
  t_moved=$(tail -n +$((sw_from + 1)) "$SWLOG" > "$OUT/sw-$r.log"; log_time "transport tcp -> vl2" "$OUT/sw-$r.log")
  sleep 3
  kill -INT "$PINGER" 2>/dev/null || true
  wait "$PINGER" 2>/dev/null || true
  PINGER=""
  back_via=$(transport_of_h1)
  [ "$back_via" = vl2 ] || note "round $r: vl2:ports shows h1 on '$back_via', not vl2 (UDP), after the move back"
  sent=$(grep -oE '[0-9]+ packets transmitted' "$OUT/ping-$r.txt" | awk '{ print $1 }'); sent=${sent:-?}
  got=$(grep -oE '[0-9]+ received' "$OUT/ping-$r.txt" | awk '{ print $1 }'); got=${got:-?}
  # lost: sequence numbers missing below the last one answered (the ones still in flight when ping stopped are not)
  lost=$(awk -F'icmp_seq=' '/icmp_seq=/ { split($2, a, " "); seen[a[1] + 0] = 1; if (a[1] + 0 > max) max = a[1] + 0 }
    END { n = 0; for (i = 1; i <= max; i++) if (!(i in seen)) n++; print (max ? n : "?") }' "$OUT/ping-$r.txt")
  ROWS+=("$r|$kind|$fwd|$(diff_s "$T0" "$t_up")|$(diff_s "$t_up" "$(awk -v a="$T0" -v b="$fwd" 'BEGIN { printf "%.3f", a + b }')")|$(diff_s "$T0" "$t_tcp")|$via|$(diff_s "$T1" "$t_back")|$(diff_s "$T1" "$t_moved")|$back_via|$sent|$got|$lost|$load")
  note "round $r: start -> first ping over TCP $fwd s; unblock -> back to UDP $(diff_s "$T1" "$t_back") s; pings $sent sent, $lost lost"
  stop_role h1 20
done

col() { local i=$1 k=$2; for row in "${ROWS[@]}"; do IFS='|' read -ra f <<<"$row"; [ -z "$k" ] || [ "${f[1]}" = "$k" ] && echo "${f[$i]}"; done | grep -E '^[0-9.]+$' || true; }
{
  echo "## bench/fallback.sh, $(date -u '+%Y-%m-%d %H:%M UTC'), $ROUNDS rounds, load $LOAD_START at the start, $(loadavg) at the end"
  echo
  echo "Command: \`sudo bench/fallback.sh${ARGS:+ $ARGS}\`; $(nproc) CPUs; git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'); $(basename "$DIST")"
  echo
  echo "| round | start | start -> first ping over TCP (s) | start -> 'Port agent up' (boot, s) | 'Port agent up' -> first ping over TCP (s) | start -> 'now over TCP' (s) | vl2:ports | unblock -> 'back to UDP' (s) | unblock -> switch moved the port (s) | vl2:ports after | pings sent | received | lost | load |"
  echo "|---|---|---:|---:|---:|---:|---|---:|---:|---|---:|---:|---:|---|"
  for row in "${ROWS[@]}"; do echo "| ${row//|/ | } |"; done
  echo
  echo "| median | all rounds | warm rounds |"
  echo "|---|---:|---:|"
  echo "| start -> first ping over TCP (s), goal <= 10 | $(col 2 '' | median) | $(col 2 warm | median) |"
  echo "| 'Port agent up' -> first ping over TCP (s): the fallback's share | $(col 4 '' | median) | $(col 4 warm | median) |"
  echo "| start -> 'now over TCP' (s) | $(col 5 '' | median) | $(col 5 warm | median) |"
  echo "| unblock -> 'back to UDP' (s), goal <= 30 | $(col 7 '' | median) | $(col 7 warm | median) |"
  echo "| pings lost across the move back (0.1 s apart) | $(col 12 '' | median) | $(col 12 warm | median) |"
} | tee "$OUT/report.md"

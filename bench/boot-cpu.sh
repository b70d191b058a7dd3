#!/usr/bin/env bash
# CPU seconds of one Karaf boot of bin/vl2-agent and bin/vl2-switch, as shipped and with the client compiler only
# (-XX:TieredStopAtLevel=1, what the integration tests give the agents they start: docs/testing.md "Wall time").
#
#   sudo bench/boot-cpu.sh [--short] [--runs N] [--dist FILE] [--opts 'JVM OPTIONS' | --dist-b FILE] [--agent-only]
#
# Each boot: a fresh --data, in a network namespace of its own (vl2bc<pid>-<n>, only loopback up, 10.99.0.1/24 on
# it; the agent is pointed at that address, where nothing answers: its boot does not wait on a switch), until
# karaf.log says the boot is done (the switch: the features service's "Done." after installing its boot features;
# the agent: "Port agent up", as it may boot pre-resolved, without features); then the JVM's user+system CPU
# seconds (/proc/PID/stat) and the wall seconds since the launcher started are read, and the instance is stopped.
# The two variants alternate (A, B, A, B ...) so that a load from elsewhere falls on both; the load average is
# printed beside each pair. CPU seconds are the figure to compare on a loaded machine; wall seconds follow the load.
# --runs N pairs per role (default 3; --short: 1); --opts: the B variant's EXTRA_JAVA_OPTS (default
# -XX:TieredStopAtLevel=1); --dist-b FILE: instead, B is another distribution with the same options (A/B of two
# builds); --agent-only: no switch boots; --dist: default karaf-assembly/target/vl2-karaf-*.tar.gz, unpacked into a
# temporary folder that is removed at the end, with the namespaces and processes it made (also on Ctrl-C).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/netns-bench.sh
. "$ROOT/bench/lib/netns-bench.sh"
runs=3 DIST= dist_b= opts_b=-XX:TieredStopAtLevel=1 roles="agent switch"
while [ $# -gt 0 ]; do
    case "$1" in
        --short) runs=1 ;;
        --runs) need_value "$1" $#; runs=$2; shift ;;
        --dist) need_value "$1" $#; DIST=$2; shift ;;
        --opts) need_value "$1" $#; opts_b=$2; shift ;;
        --dist-b) need_value "$1" $#; dist_b=$2; opts_b=; shift ;;
        --agent-only) roles=agent ;;
        -h|--help) usage; exit 0 ;;
        *) unknown_option "$1" ;;
    esac
    shift
done
need_count --runs "$runs"
require_root "network namespaces"
use_java17
require_tools ip pgrep bc tar
choose_dist
dist=$DIST
cd "$ROOT"

work=$(mktemp -d /tmp/vl2-boot-cpu.XXXXXX)
prefix=vl2bc$$
n=0 java_pid= ns=
cleanup() {
    [ -z "$java_pid" ] || kill -9 "$java_pid" 2>/dev/null || true
    for x in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$prefix-" || true); do
        for p in $(ip netns pids "$x" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
        ip netns del "$x" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
[ -z "$dist_b" ] || [ -f "$dist_b" ] || fail "--dist-b $dist_b: no such file"
mkdir -p "$work/dist"
tar xzf "$dist" -C "$work/dist" --strip-components=1
if [ -n "$dist_b" ]; then mkdir -p "$work/dist-b" && tar xzf "$dist_b" -C "$work/dist-b" --strip-components=1; fi

# boot N ROLE OPTS [DIST]: prints "WALL CPU" of boot number N (called in $(...): nothing it sets outlives it)
boot() {
    local n=$1 role=$2 opts=$3 home=${4:-$work/dist} data t0 t1 end launcher why done_re='FeaturesServiceImpl.*Done\.'
    [ "$role" = switch ] || done_re='Port agent up'
    ns=$prefix-$n data=$work/inst-$n java_pid=
    ip netns add "$ns"
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" ip addr add 10.99.0.1/24 dev lo
    local cmd=("$home/bin/vl2-switch" --data "$data")
    [ "$role" = switch ] || cmd=("$home/bin/vl2-agent" --data "$data" --switch 10.99.0.1:9991 --network a1
        --switch-key ZtEBU4dlToBonc9W/5qwEuVz+ErL1Qr8IdxCFOgo9m0=)
    t0=$(date +%s.%N)
    EXTRA_JAVA_OPTS="$opts" ip netns exec "$ns" "${cmd[@]}" >"$data.out" 2>&1 &
    launcher=$!
    # until the boot is done, the launcher has exited (it failed: its output says why) or 5 minutes have passed (by
    # the clock: on a loaded machine a count of polls lasts much longer than their sleeps)
    end=$(deadline 300)
    until grep -q "$done_re" "$data/data/log/karaf.log" 2>/dev/null; do
        kill -0 "$launcher" 2>/dev/null || break
        past "$end" && break
        sleep 0.1
    done
    t1=$(date +%s.%N)
    # Karaf's JVM (the launcher may run short-lived JVMs of its own before it)
    java_pid=$(pgrep -f "karaf.base=$data .*org.apache.karaf.main.Main" | head -1 || true)
    if ! grep -q "$done_re" "$data/data/log/karaf.log" 2>/dev/null || [ -z "$java_pid" ]; then
        kill -0 "$launcher" 2>/dev/null && why="did not finish booting within 5 min" || why="exited before its boot was done"
        echo "$role ($home) $why: $data.out, $data/data/log/karaf.log" >&2
        cat "$data.out" >&2
        exit 1
    fi
    awk -v w="$(echo "$t1 - $t0" | bc)" -v hz="$TICKS" '{printf "%.1f %.2f\n", w, ($14 + $15) / hz}' "/proc/$java_pid/stat"
    # a clean stop (the agent's first one writes its AppCDS archive), 20 s at most; then the launcher, 10 s at most
    kill "$java_pid" 2>/dev/null || true
    wait_gone 20 "$java_pid" || kill -9 "$java_pid" 2>/dev/null || true
    java_pid=
    wait_gone 10 "$launcher" || kill_tree 9 "$launcher"
    wait "$launcher" 2>/dev/null || true
    ip netns del "$ns"
}

b_name="EXTRA_JAVA_OPTS='$opts_b'"
[ -z "$dist_b" ] || b_name="$(basename "$dist_b")"
echo "| boot | run | $(basename "$dist"): wall s / CPU s | $b_name: wall s / CPU s | load (1 min) |"
echo "|---|---|---|---|---|"
boot 0 agent "" >/dev/null # the agent's first clean stop writes its AppCDS archive, which every later start maps
[ -z "$dist_b" ] || boot 1 agent "" "$work/dist-b" >/dev/null
for role in $roles; do
    for r in $(seq 1 "$runs"); do
        n=$((n + 2))
        a=$(boot "$n" "$role" "")
        b=$(boot "$((n + 1))" "$role" "$opts_b" "${dist_b:+$work/dist-b}")
        echo "| $role | $r | ${a/ / \/ } | ${b/ / \/ } | $(cut -d' ' -f1 /proc/loadavg) |"
    done
done

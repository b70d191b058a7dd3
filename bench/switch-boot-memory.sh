#!/usr/bin/env bash
# Switch memory right after boot, by Native Memory Tracking: where the RSS of a freshly booted switch goes.
#
#   bench/switch-boot-memory.sh [--runs N] [--settle S] DIST.tar.gz [DIST2.tar.gz ...]
#
# Boots the switch as bench/switch-frame-rate.sh does (bin/karaf server, no -Xmx, UDP transport on 127.0.0.1),
# with -XX:NativeMemoryTracking=summary, N times per distribution, alternating between the distributions given
# (A B A B ...). Each boot: wait until the UDP port listens, then S seconds (default 3, as switch-frame-rate.sh), then
# reads VmRSS, the resident part of the Java heap (/proc/PID/smaps of the heap's address range, from jcmd
# GC.heap_info) and NMT's committed memory by category (jcmd VM.native_memory summary); stops the switch. Prints a
# Markdown table, one row per boot; logs in bench/target/switch-boot-memory-<time>/. Why: an RSS difference after
# boot is only worth chasing if it is not the heap the boot happened to touch.
#
# Needs: Java 17 with jcmd, ss, tar. Not root.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/netns-bench.sh
. "$ROOT/bench/lib/netns-bench.sh"
RUNS=2
SETTLE=3
DISTS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) need_value "$1" $#; RUNS=$2; shift 2 ;;
    --settle) need_value "$1" $#; SETTLE=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) unknown_option "$1" ;;
    *) DISTS+=("$1"); shift ;;
  esac
done
need_count --runs "$RUNS"
need_count --settle "$SETTLE" 0
[ "${#DISTS[@]}" -gt 0 ] || bad_usage "give at least one distribution (vl2-karaf-*.tar.gz)"
for d in "${DISTS[@]}"; do [ -f "$d" ] || bad_usage "no such file: $d"; done
use_java17
JCMD=${JAVA_HOME:+$JAVA_HOME/bin/}jcmd
command -v "$JCMD" >/dev/null || fail "needs jcmd (a JDK 17)"

OUT=$ROOT/bench/target/switch-boot-memory-$(date +%Y%m%d-%H%M%S)
WORK=$(mktemp -d /tmp/vl2-bootmem.XXXXXX)
mkdir -p "$OUT"
KARAF_PID=""
JVM_PID=""
cleanup() {
  set +e
  [ -z "$JVM_PID" ] || kill -KILL "$JVM_PID" 2>/dev/null
  [ -z "$KARAF_PID" ] || { pkill -KILL -P "$KARAF_PID"; kill -KILL "$KARAF_PID"; } 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
free_port() { local p=$1; while ss -Hlun "sport = :$p" | grep -q . || ss -Hltn "sport = :$p" | grep -q .; do p=$((p + 1)); done; echo "$p"; }
nmt() { awk -v c="$2" '$0 ~ "^-  *" c " \\(reserved=" { sub(/.*committed=/, ""); sub(/KB.*/, ""); print; exit }' "$1"; }

boot() { # dist label run
  local dist=$1 label=$2 run=$3 home f port pid heap lo hi heap_rss rss
  home=$WORK/$label-$run
  f=$OUT/$label-$run
  mkdir -p "$home"
  tar -xzf "$dist" -C "$home" --strip-components=1
  port=$(free_port 29990)
  printf 'bind.address = 127.0.0.1\nport = %s\n' "$port" >"$home/etc/org.vl2.transport.udp.cfg"
  sed -i "s/^sshPort *=.*/sshPort = $(free_port 28102)/" "$home/etc/org.apache.karaf.shell.cfg"
  sed -i -e "s/^rmiRegistryPort *=.*/rmiRegistryPort = $(free_port 21100)/" \
    -e "s/^rmiServerPort *=.*/rmiServerPort = $(free_port 54545)/" "$home/etc/org.apache.karaf.management.cfg"
  EXTRA_JAVA_OPTS="-XX:NativeMemoryTracking=summary" "$home/bin/karaf" server >"$f.out" 2>&1 &
  KARAF_PID=$!
  for _ in $(seq 1800); do
    ss -Hlun "sport = :$port" | grep -q . && break
    kill -0 "$KARAF_PID" 2>/dev/null || { tail -20 "$f.out" >&2; exit 1; }
    sleep 0.1
  done
  ss -Hlun "sport = :$port" | grep -q . || { echo "switch-boot-memory: $label did not listen within 180 s" >&2; exit 1; }
  pid=$(ps -o pid= --ppid "$KARAF_PID" | awk 'NR == 1 { print $1 }')
  JVM_PID=$pid
  sleep "$SETTLE"
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
  "$JCMD" "$pid" VM.native_memory summary >"$f.nmt" 2>&1
  "$JCMD" "$pid" GC.heap_info >"$f.heap" 2>&1
  # the heap's address range: "garbage-first heap   total ..., used ... [0x...000, 0x...000)"
  heap=$(grep -o '\[0x[0-9a-f]*, 0x[0-9a-f]*)' "$f.heap" | head -1 | tr -d '[)' | tr ',' ' ')
  lo=$(printf '%d' "$(echo "$heap" | awk '{ print $1 }')")
  hi=$(printf '%d' "$(echo "$heap" | awk '{ print $2 }')")
  # per mapping its start address and Rss (kB); the heap's mappings start inside [lo, hi) (bash arithmetic: mawk
  # has no hex numbers)
  heap_rss=0
  while read -r start kb; do
    [ $((16#$start)) -ge "$lo" ] && [ $((16#$start)) -lt "$hi" ] && heap_rss=$((heap_rss + kb))
  done < <(awk '/^[0-9a-f]+-[0-9a-f]+ / { split($1, r, "-"); s = r[1] } /^Rss:/ { print s, $2 }' "/proc/$pid/smaps")
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$run" "$(mib "$rss")" "$(mib "$heap_rss")" \
    "$(mib "$(nmt "$f.nmt" 'Java Heap')")" "$(mib "$(nmt "$f.nmt" Metaspace)")" "$(mib "$(nmt "$f.nmt" Code)")" \
    "$(mib "$(nmt "$f.nmt" GC)")" "$(mib "$(nmt "$f.nmt" Compiler)")" "$(mib "$(nmt "$f.nmt" 'Arena Chunk')")" \
    "$(grep -m1 '^Total' "$f.nmt" | sed 's/.*committed=\([0-9]*\)KB.*/\1/' | awk '{ printf "%.0f", $1 / 1024 }')" \
    | tee -a "$OUT/rows.md"
  pkill -TERM -P "$KARAF_PID" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$KARAF_PID" 2>/dev/null || true
  KARAF_PID=""
  JVM_PID=""
  rm -rf "$home"
}

echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/report.md"
echo | tee -a "$OUT/report.md"
echo "| dist | run | RSS | heap resident | NMT committed: Java Heap | Metaspace | Code | GC | Compiler | Arena Chunk | Total |" | tee -a "$OUT/report.md"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" | tee -a "$OUT/report.md"
for run in $(seq "$RUNS"); do
  for d in "${DISTS[@]}"; do boot "$d" "$(basename "$d" .tar.gz)" "$run"; done
done | tee -a "$OUT/report.md" >/dev/null
cat "$OUT/rows.md"
echo "(MiB; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)); logs and NMT output in $OUT" | tee -a "$OUT/report.md"

#!/usr/bin/env bash
# Frame rate of the vl2 switch distribution over UDP on loopback, measured with bench/loadgen.
#
#   bench/switch-frame-rate.sh [--ports "2 16 256"] [--sizes "64 1514"] [--seconds 5] [--warmup 1]
#                              [--senders 1] [--rate 0] [--jfr 16x64] [--pin] [--io-batch 64] [--loadgen-batch 32]
#                              [--no-offload] [--dist FILE] [--keep] [--rebuild]
#
# Builds vl2 if needed (mvn -B -q -DskipTests install, when the distribution or the LoadGen jar is missing;
# --rebuild forces it), unpacks the distribution into a temporary directory, starts the switch (bin/karaf
# server) with the UDP transport on 127.0.0.1 and a free port, larger socket buffers and its own ssh/JMX ports,
# waits until it listens, then runs LoadGen for every ports x size combination, and prints a Markdown table:
# offered and forwarded frames/s, loss and where it happened, CPU of the switch and of LoadGen, the switch JVM's
# RSS. --jfr PORTSxSIZE adds a profiling run with a JFR recording of the switch and prints its hot spots.
# --pin puts the switch JVM on CPU 0 and LoadGen on the other CPUs (taskset), so they do not share a core.
# --io-batch N sets the switch's io.batch (datagrams per recvmmsg/sendmmsg; 0: one system call per datagram),
# --loadgen-batch N LoadGen's --batch (frames per system call; 0: one each, as the switch's NIO path).
# --no-offload turns UDP GSO/GRO off in both (io.offload = false, LoadGen --offload false).
# --dist FILE runs that distribution (e.g. one built elsewhere for an A/B run) instead of karaf-assembly/target's.
# The switch is stopped and the directory removed at the end (also on failure or Ctrl-C); results, logs and
# recordings stay in bench/target/frame-rate-<time>/.
#
# Needs: Linux (ss, /proc), Java 17, Maven (first run). Root is not needed. Loopback only.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/netns-bench.sh
. "$ROOT/bench/lib/netns-bench.sh"
PORTS_LIST="2 16 256"
SIZES="64 1514"
SECONDS_EACH=5
WARMUP=1
SENDERS=1
RATE=0
JFR_RUN=""
KEEP=false
REBUILD=false
PIN=false
IO_BATCH=""
LOADGEN_BATCH=32
OFFLOAD=true
DIST_ARG=""

while [ $# -gt 0 ]; do
  case "$1" in
    --ports) need_value "$1" $#; PORTS_LIST=$2; shift 2 ;;
    --sizes) need_value "$1" $#; SIZES=$2; shift 2 ;;
    --seconds) need_value "$1" $#; SECONDS_EACH=$2; shift 2 ;;
    --warmup) need_value "$1" $#; WARMUP=$2; shift 2 ;;
    --senders) need_value "$1" $#; SENDERS=$2; shift 2 ;;
    --rate) need_value "$1" $#; RATE=$2; shift 2 ;;
    --jfr) need_value "$1" $#; JFR_RUN=$2; shift 2 ;;
    --keep) KEEP=true; shift ;;
    --pin) PIN=true; shift ;;
    --io-batch) need_value "$1" $#; IO_BATCH=$2; shift 2 ;;
    --loadgen-batch) need_value "$1" $#; LOADGEN_BATCH=$2; shift 2 ;;
    --no-offload) OFFLOAD=false; shift ;;
    --dist) need_value "$1" $#; DIST_ARG=$2; shift 2 ;;
    --rebuild) REBUILD=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) unknown_option "$1" ;;
  esac
done

use_java17
require_tools java ss ps awk tar
[ -r /proc/self/status ] || fail "needs Linux /proc"
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
JCMD=${JAVA_HOME:+$JAVA_HOME/bin/}jcmd
JFR=${JAVA_HOME:+$JAVA_HOME/bin/}jfr

# --- build if needed ---------------------------------------------------------------------------------------
LOADGEN=$ROOT/bench/loadgen/target/vl2-bench-loadgen.jar
DIST=${DIST_ARG:-$(ls "$ROOT"/karaf-assembly/target/vl2-karaf-*.tar.gz 2>/dev/null | head -1 || true)}
if $REBUILD || [ -z "$DIST" ] || [ ! -f "$LOADGEN" ] || [ ! -d "$ROOT/bench/loadgen/target/lib" ]; then
  say "Building vl2: mvn -B -q -DskipTests install"
  (cd "$ROOT" && mvn -B -q -DskipTests install)
  DIST=$(ls "$ROOT"/karaf-assembly/target/vl2-karaf-*.tar.gz | head -1)
fi
if [ -n "$DIST_ARG" ]; then
  [ -f "$DIST_ARG" ] || fail "no distribution at $DIST_ARG"
  DIST=$DIST_ARG
fi

STAMP=$(date +%Y%m%d-%H%M%S)
OUT=$ROOT/bench/target/frame-rate-$STAMP
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/vl2-bench.XXXXXX)
KARAF_SH_PID="" SWITCH_PID="" LOADGEN_PID=""

cleanup() {
  set +e
  [ -n "$LOADGEN_PID" ] && kill "$LOADGEN_PID" 2>/dev/null
  if [ -n "$SWITCH_PID" ] && kill -0 "$SWITCH_PID" 2>/dev/null; then
    kill -TERM "$SWITCH_PID"
    for _ in $(seq 200); do kill -0 "$SWITCH_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SWITCH_PID" 2>/dev/null
  fi
  if [ -n "$KARAF_SH_PID" ]; then
    for _ in $(seq 50); do kill -0 "$KARAF_SH_PID" 2>/dev/null || break; sleep 0.1; done
    kill "$KARAF_SH_PID" 2>/dev/null
  fi
  if [ -d "$WORK/switch/data/log" ]; then cp "$WORK/switch/data/log/karaf.log" "$OUT/" 2>/dev/null; fi
  if $KEEP; then echo "switch-frame-rate: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { # tcp|udp first-candidate
  local flag=t p=$2
  [ "$1" = udp ] && flag=u
  while ss -Hln$flag "sport = :$p" | grep -q .; do p=$((p + 1)); done
  echo "$p"
}

# --- the switch ------------------------------------------------------------------------------------------------
mkdir -p "$WORK/switch"
tar -xzf "$DIST" -C "$WORK/switch" --strip-components=1
UDP_PORT=$(free_port udp 19990)
SSH_PORT=$(free_port tcp 18102)
RMI_REGISTRY_PORT=$(free_port tcp 11100)
RMI_SERVER_PORT=$(free_port tcp 44545)
BUFFER=$((16 * 1024 * 1024))
cat >"$WORK/switch/etc/org.vl2.transport.udp.cfg" <<EOF
# written by bench/switch-frame-rate.sh
bind.address = 127.0.0.1
port = $UDP_PORT
receive.buffer.bytes = $BUFFER
send.buffer.bytes = $BUFFER
EOF
[ -n "$IO_BATCH" ] && echo "io.batch = $IO_BATCH" >>"$WORK/switch/etc/org.vl2.transport.udp.cfg"
echo "io.offload = $OFFLOAD" >>"$WORK/switch/etc/org.vl2.transport.udp.cfg"
# LoadGen's ports all send from 127.0.0.1: lift the quotas of unauthenticated ports (docs/security.md)
cat >>"$WORK/switch/etc/org.vl2.switching.cfg" <<EOF
ports.per.address = 0
ports.per.transport = 0
EOF
sed -i "s/^sshPort *=.*/sshPort = $SSH_PORT/" "$WORK/switch/etc/org.apache.karaf.shell.cfg"
# The distribution ships no login: a user of this run with a random password, its SHA-256 in etc/users.properties
# and the password itself where bin/client reads it ($WORK/client/users.properties, 0600; KARAF_ETC, see switch_stats)
mkdir -m 700 "$WORK/client"
BENCH_PW=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
(umask 077 && echo "bench = $BENCH_PW" >"$WORK/client/users.properties")
cp "$WORK/switch/etc/org.apache.karaf.shell.cfg" "$WORK/client/"
echo "bench = {CRYPT}$(printf %s "$BENCH_PW" | sha256sum | cut -c1-64){CRYPT},_g_:admingroup" >>"$WORK/switch/etc/users.properties"
sed -i -e "s/^rmiRegistryPort *=.*/rmiRegistryPort = $RMI_REGISTRY_PORT/" \
  -e "s/^rmiServerPort *=.*/rmiServerPort = $RMI_SERVER_PORT/" "$WORK/switch/etc/org.apache.karaf.management.cfg"

RMEM_MAX=$(cat /proc/sys/net/core/rmem_max 2>/dev/null || echo '?')
WMEM_MAX=$(cat /proc/sys/net/core/wmem_max 2>/dev/null || echo '?')
say "Starting the switch: UDP 127.0.0.1:$UDP_PORT, socket buffers $BUFFER asked (kernel caps: rmem_max $RMEM_MAX, wmem_max $WMEM_MAX)"
BOOT_START=$(date +%s.%N)
"$WORK/switch/bin/karaf" server >"$OUT/switch.out" 2>&1 &
KARAF_SH_PID=$!
for _ in $(seq 900); do
  ss -Hlun "sport = :$UDP_PORT" | grep -q "$UDP_PORT" && break
  kill -0 "$KARAF_SH_PID" 2>/dev/null || { tail -20 "$OUT/switch.out" >&2; fail "the switch exited during boot"; }
  sleep 0.1
done
ss -Hlun "sport = :$UDP_PORT" | grep -q "$UDP_PORT" || fail "the switch did not listen on UDP $UDP_PORT within 90 s"
BOOT_SECONDS=$(awk -v a="$BOOT_START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
SWITCH_PID=$(ps -o pid= --ppid "$KARAF_SH_PID" | awk 'NR == 1 { print $1 }')
[ -n "$SWITCH_PID" ] || fail "cannot find the switch JVM (child of $KARAF_SH_PID)"
echo "switch JVM pid $SWITCH_PID, listening after ${BOOT_SECONDS} s" >&2
tr '\0' ' ' <"/proc/$SWITCH_PID/cmdline" >"$OUT/switch-cmdline.txt"
LOADGEN_CPUS=""
if $PIN; then
  command -v taskset >/dev/null || fail "--pin needs taskset (util-linux)"
  [ "$(nproc)" -ge 2 ] || fail "--pin needs at least 2 CPUs"
  # -a walks the JVM's threads; one that ends meanwhile fails the walk, so try again (new threads inherit it)
  for try in 1 2 3 4 5; do
    taskset -a -p -c 0 "$SWITCH_PID" >/dev/null 2>&1 && break
    [ "$try" = 5 ] && fail "cannot pin the switch JVM (taskset -a -p -c 0 $SWITCH_PID)"
    sleep 0.2
  done
  LOADGEN_CPUS=1-$(($(nproc) - 1))
  echo "pinned: switch JVM on CPU 0, LoadGen on CPUs $LOADGEN_CPUS" >&2
fi

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

sleep 3     # let the rest of the boot features settle before the first RSS reading
RSS_BOOT=$(rss_kib "$SWITCH_PID")
RSS_MAX=$RSS_BOOT
echo "switch RSS after boot: $(mib "$RSS_BOOT") MiB" >&2

# --- runs ------------------------------------------------------------------------------------------------------
jfr_summary() { # file.jfr forwarded-frames-per-second
  local f=$1
  echo "### JFR: $(basename "$f") (switch receive thread vl2-udp-rx-* only)"
  echo
  echo "Samples in Java code (jdk.ExecutionSample) and in native code, i.e. system calls (jdk.NativeMethodSample):"
  echo
  echo '```'
  for ev in jdk.ExecutionSample jdk.NativeMethodSample; do
    "$JFR" print --stack-depth 1 --events "$ev" "$f" | awk -v ev="$ev" '
      /sampledThread = / { rx = ($0 ~ /vl2-udp-rx/) }
      /stackTrace = \[/ { if (rx) { n++; getline; sub(/^[ \t]+/, ""); sub(/ line:.*/, ""); top[$0]++ } }
      END {
        printf "%s: %d samples; top frames (self):\n", ev, n
        for (m in top) printf "%6d %5.1f%%  %s\n", top[m], 100 * top[m] / n, m | "sort -rn | head -12"
        close("sort -rn | head -12")
      }'
  done
  echo
  echo "Inclusive, Java and native samples together (method anywhere on the stack, top 30):"
  "$JFR" print --stack-depth 64 --events jdk.ExecutionSample,jdk.NativeMethodSample "$f" | awk '
    /sampledThread = / { rx = ($0 ~ /vl2-udp-rx/) }
    /stackTrace = \[/ { if (rx) { n++; inside = 1; split("", seen) } next }
    inside && /^[ \t]*\]/ { inside = 0; next }
    inside { line = $0; sub(/^[ \t]+/, "", line); sub(/\(.*/, "", line)
             if (line != "..." && !(line in seen)) { seen[line] = 1; inc[line]++ } }
    END { for (m in inc) printf "%6d %5.1f%%  %s\n", inc[m], 100 * inc[m] / n, m | "sort -rn | head -30" }'
  echo
  echo "Allocation by the receive thread (jdk.ThreadAllocationStatistics, first to last reading):"
  "$JFR" print --events jdk.ThreadAllocationStatistics "$f" | awk -v fps="$2" '
    function secs(t,  a) { split(t, a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
    /startTime = / { t = $0; sub(/.*startTime = /, "", t) }
    /allocated = / { v = $0; sub(/.*allocated = /, "", v); unit = v; sub(/^[0-9.,]+ */, "", unit); sub(/ .*/, "", v)
                     gsub(/,/, "", v); b = v * ((unit ~ /^kB/) ? 1e3 : (unit ~ /^MB/) ? 1e6 : (unit ~ /^GB/) ? 1e9 : 1) }
    /thread = / && /vl2-udp-rx/ { if (n == 0) { t0 = secs(t); b0 = b } t1 = secs(t); b1 = b; n++ }
    END { if (n < 2 || t1 <= t0) { print "   (not enough readings)"; exit }
          rate = (b1 - b0) / (t1 - t0)
          printf "   %.1f MB/s over %.1f s", rate / 1e6, t1 - t0
          if (fps > 0) printf " = about %.0f bytes per forwarded frame at %d frames/s", rate / fps, fps
          printf "\n" }'
  echo "Where (jdk.ObjectAllocationSample on the receive thread, share of samples by class and allocating frame):"
  "$JFR" print --stack-depth 3 --events jdk.ObjectAllocationSample "$f" | awk '
    /objectClass = / { c = $0; sub(/.*objectClass = /, "", c); sub(/ \(classLoader.*/, "", c) }
    /eventThread = / { rx = ($0 ~ /vl2-udp-rx/) }
    /stackTrace = \[/ { getline; fr = $0; sub(/^[ \t]+/, "", fr); sub(/\(.*/, "", fr)
                        if (rx) { count[c " <- " fr]++; total++ } }
    END { if (total == 0) { print "   (none sampled)"; exit }
          for (k in count) printf "%6d %5.1f%%  %s\n", count[k], 100 * count[k] / total, k | "sort -rn | head -8" }'
  echo
  "$JFR" print --events jdk.GarbageCollection "$f" | awk '
    /^jdk.GarbageCollection/ { n++ }
    END { printf "GCs during the recording: %d\n", n }'
  echo '```'
}

# The switch's own counters (vl2:stats through bin/client); empty if the shell does not answer.
switch_stats() { echo "vl2:stats" | KARAF_ETC=$WORK/client timeout 60 "$WORK/switch/bin/client" -r 5 -b 2>/dev/null | tr -d '\r' || true; }
stat_of() { # stats-text name -> value (digits only), or empty
  echo "$1" | awk -F'|' -v k="$2" '{ n = $1; gsub(/^ +| +$/, "", n); v = $2; gsub(/[^0-9]/, "", v) } n == k { print v; exit }'
}
delta() { # name: the change of a switch counter between STATS_PREV and STATS_NOW, or empty
  local a b
  a=$(stat_of "$STATS_PREV" "$1"); b=$(stat_of "$STATS_NOW" "$1")
  if [ -n "$a" ] && [ -n "$b" ]; then echo $((b - a)); fi
}
STATS_PREV=""

# One LoadGen run against the switch; sets ROW (a table row). With jfr_file set, records a JFR meanwhile.
# Where frames were lost comes from the switch's counters (frames, not packets: with UDP GRO one kernel packet,
# and one drop in /proc/net/udp, can hold 64 frames): before the switch = sent - taken in (its socket was full),
# in the switch = taken in but not forwarded (its drops and TX errors), after = forwarded - received by LoadGen.
run_loadgen() { # ports size [jfr_file]
  local ports=$1 size=$2 jfr_file=${3:-} log ticks0 ticks1 t0 t1 rss_run r result sw_cores mbps jfr_seconds
  jfr_seconds=$(awk -v s="$SECONDS_EACH" 'BEGIN { d = int(s) - 1; print (d < 1 ? 1 : d) }')
  say "LoadGen: $ports ports, $size-byte frames, ${SECONDS_EACH} s (+${WARMUP} s warm-up)"
  log=$OUT/loadgen-${ports}x${size}${jfr_file:+-jfr}.txt
  [ -n "$STATS_PREV" ] || STATS_PREV=$(switch_stats)
  ticks0=$(cpu_ticks "$SWITCH_PID")
  t0=$(date +%s.%N)
  ${LOADGEN_CPUS:+taskset -c "$LOADGEN_CPUS"} "$JAVA" -Xms64m -Xmx256m -jar "$LOADGEN" --switch "127.0.0.1:$UDP_PORT" --ports "$ports" --size "$size" \
    --seconds "$SECONDS_EACH" --warmup "$WARMUP" --senders "$SENDERS" --rate "$RATE" \
    --batch "$LOADGEN_BATCH" --offload "$OFFLOAD" >"$log" 2>&1 &
  LOADGEN_PID=$!
  rss_run=0
  if [ -n "$jfr_file" ]; then
    # start the recording when LoadGen's measurement starts (after its announce phase and warm-up)
    (for _ in $(seq 600); do grep -q '^announce:' "$log" 2>/dev/null && break; sleep 0.1; done
     sleep "$(awk -v w="$WARMUP" 'BEGIN { print w + 0.2 }')"
     "$JCMD" "$SWITCH_PID" JFR.start name=vl2bench settings="$OUT/sampling.jfc" duration="${jfr_seconds}s" \
       filename="$jfr_file" >"$OUT/jcmd.out" 2>&1) &
  fi
  while kill -0 "$LOADGEN_PID" 2>/dev/null; do
    r=$(rss_kib "$SWITCH_PID")
    [ "$r" -gt "$rss_run" ] && rss_run=$r
    sleep 0.5
  done
  wait "$LOADGEN_PID" || { cat "$log" >&2; fail "LoadGen failed ($ports ports, $size bytes)"; }
  LOADGEN_PID=""
  t1=$(date +%s.%N)
  ticks1=$(cpu_ticks "$SWITCH_PID")
  cat "$log" >&2
  [ "$rss_run" -gt "$RSS_MAX" ] && RSS_MAX=$rss_run
  result=$(grep '^RESULT ' "$log" | tail -1)
  get() { echo "$result" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }
  sw_cores=$(awk -v a="$ticks0" -v b="$ticks1" -v hz="$TICKS" -v t0="$t0" -v t1="$t1" \
    'BEGIN { printf "%.2f", (b - a) / hz / (t1 - t0) }')
  mbps=$(awk -v f="$(get forwarded_fps)" -v s="$size" 'BEGIN { printf "%.0f", f * s * 8 / 1e6 }')
  STATS_NOW=$(switch_stats)
  local d_rx d_uni d_flood d_txerr before inside after
  d_rx=$(delta "RX frames"); d_uni=$(delta "Unicast"); d_flood=$(delta "Flooded"); d_txerr=$(delta "TX errors")
  if [ -n "$d_rx" ] && [ -n "$d_uni" ] && [ -n "$d_flood" ] && [ -n "$d_txerr" ]; then
    # floods are the ports' announcements (not in LoadGen's sent count)
    before=$(( $(get sent) - (d_rx - d_flood) ))
    inside=$(( d_rx - d_uni - d_flood + d_txerr ))
    after=$(( d_uni - d_txerr - $(get received) ))
  else
    before="?" inside="?" after="?"
  fi
  STATS_PREV=$STATS_NOW
  ROW="| $ports | $size | $(printf "%'d" "$(get offered_fps)") | $(printf "%'d" "$(get forwarded_fps)") | $mbps | $(get loss_pct) | $before | $inside | $after | $(get unexpected) | $sw_cores | $(get loadgen_cpu_cores) | $(mib "$rss_run") |"
  if [ -n "$jfr_file" ]; then
    for _ in $(seq 100); do [ -s "$jfr_file" ] && break; sleep 0.2; done
    [ -s "$jfr_file" ] || { cat "$OUT/jcmd.out" >&2; fail "no JFR recording in $jfr_file"; }
  fi
}

ROWS=()
for ports in $PORTS_LIST; do
  for size in $SIZES; do
    run_loadgen "$ports" "$size"
    ROWS+=("$ROW")
  done
done

JFR_ROW="" JFR_FILE=""
if [ -n "$JFR_RUN" ]; then
  # A separate run, so that the sampling overhead does not touch the table above. Java and native (system call)
  # samples every 1 ms instead of profile.jfc's 10/20 ms: the receive thread is one of many sampled threads.
  sed -e '/<event name="jdk.ExecutionSample">/,/<\/event>/ s#<setting name="period"\([^>]*\)>[^<]*<#<setting name="period"\1>1 ms<#' \
      -e '/<event name="jdk.NativeMethodSample">/,/<\/event>/ s#<setting name="period"\([^>]*\)>[^<]*<#<setting name="period"\1>1 ms<#' \
      "$(dirname "$(dirname "$(readlink -f "$(command -v "$JAVA")")")")/lib/jfr/profile.jfc" >"$OUT/sampling.jfc"
  JFR_FILE=$OUT/switch-$JFR_RUN.jfr
  say "Profiling run with JFR: $JFR_RUN"
  run_loadgen "${JFR_RUN%x*}" "${JFR_RUN#*x}" "$JFR_FILE"
  JFR_ROW=$ROW
  JFR_FPS=$(grep '^RESULT ' "$OUT/loadgen-${JFR_RUN}-jfr.txt" | tr ' ' '\n' | awk -F= '$1 == "forwarded_fps" { print $2 }')
fi

# --- the switch's own counters ---------------------------------------------------------------------------------
STATS=$(switch_stats)

# --- report -----------------------------------------------------------------------------------------------------
{
  echo "## Switch frame rate ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg))"
  echo
  echo "LoadGen: ${SECONDS_EACH} s per run after ${WARMUP} s warm-up, $SENDERS sender thread(s), rate $([ "$RATE" = 0 ] && echo max || echo "$RATE frames/s"), --batch $LOADGEN_BATCH;"
  echo "switch: io.batch ${IO_BATCH:-default (64)}, io.offload $OFFLOAD (LoadGen --offload $OFFLOAD);"
  $PIN && echo "Pinned: switch JVM on CPU 0, LoadGen on CPUs $LOADGEN_CPUS."
  echo "Distribution: $(basename "$DIST"), sha256 $(sha256sum "$DIST" | cut -c1-12)."
  echo "switch: UDP on 127.0.0.1, SO_RCVBUF/SO_SNDBUF $BUFFER asked (kernel caps at $RMEM_MAX/$WMEM_MAX), boot to listening ${BOOT_SECONDS} s."
  echo
  echo "| ports | frame B | offered fr/s | forwarded fr/s | fwd Mbit/s | loss % | lost before switch | lost in switch | lost after switch | flooded (unknown dst) | switch CPU cores | loadgen CPU cores | switch RSS MiB |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "Switch JVM RSS: $(mib "$RSS_BOOT") MiB after boot, $(mib "$RSS_MAX") MiB at most under load."
  echo
  if echo "$STATS" | grep -q 'Command not found'; then
    echo "vl2:stats: not available in this distribution (the shell bundle's commands did not register; see karaf.log)."
  elif [ -n "$STATS" ]; then
    echo "vl2:stats after all runs:"
    echo
    echo '```'
    echo "$STATS" | tr -d '\r'
    echo '```'
  fi
  if [ -n "$JFR_FILE" ]; then
    echo
    echo "Profiling run (JFR recording, 1 ms sampling: slower than the same row above):"
    echo
    echo "| ports | frame B | offered fr/s | forwarded fr/s | fwd Mbit/s | loss % | lost before switch | lost in switch | lost after switch | flooded (unknown dst) | switch CPU cores | loadgen CPU cores | switch RSS MiB |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    echo "$JFR_ROW"
    echo
    jfr_summary "$JFR_FILE" "$JFR_FPS"
  fi
} | tee "$OUT/report.md"
echo >&2
echo "switch-frame-rate: results in $OUT" >&2

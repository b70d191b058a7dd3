#!/usr/bin/env bash
# Runs the JMH micro-benchmarks of the hot path with short settings and prints the results.
#
#   bench/jmh.sh [--gc] [--long] [REGEX] [-- EXTRA_JMH_ARGS...]
#
#   REGEX    which benchmarks (default: all), e.g. MacTableBench.lookup or SwitchCoreBench
#   --gc     add -prof gc: allocation per operation (gc.alloc.rate.norm, B/op; expect ~0)
#   --long   JMH's own defaults from the annotations (3 x 1 s warm-up, 5 x 1 s measurement) instead of the
#            short ones (2 x 1 s, 3 x 1 s)
#   after --, anything for JMH itself, e.g. -- -p entries=1048576 -t 1
#
# Builds the benchmarks jar if it is missing (mvn -B -q -DskipTests install). Results go to
# bench/target/jmh-<time>.txt (human readable) and .json (for JMH visualisers and comparisons).
# Total time with everything: about 8 minutes short, 12 long (measured on 2 busy cores).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR=$ROOT/bench/jmh/target/benchmarks.jar
GC=false
LONG=false
REGEX=""
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --gc) GC=true; shift ;;
    --long) LONG=true; shift ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "jmh.sh: unknown option $1" >&2; exit 2 ;;
    *) REGEX=$1; shift ;;
  esac
done

if [ -z "${JAVA_HOME:-}" ] && [ -d /usr/lib/jvm/java-17-openjdk-amd64 ]; then
  export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
fi
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

if [ ! -f "$JAR" ]; then
  echo "jmh.sh: building the benchmarks: mvn -B -q -DskipTests install" >&2
  (cd "$ROOT" && mvn -B -q -DskipTests install)
fi

mkdir -p "$ROOT/bench/target"
OUT=$ROOT/bench/target/jmh-$(date +%Y%m%d-%H%M%S)
ARGS=(-f 1)
$LONG || ARGS+=(-wi 2 -w 1s -i 3 -r 1s)
$GC && ARGS+=(-prof gc)
ARGS+=(-rf json -rff "$OUT.json")
echo "jmh.sh: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); java -jar $JAR ${ARGS[*]} ${EXTRA[*]-} $REGEX" >&2
"$JAVA" -jar "$JAR" "${ARGS[@]}" ${EXTRA[@]+"${EXTRA[@]}"} ${REGEX:+"$REGEX"} | tee "$OUT.log" >&2

# The summary table: ns/op and, with --gc, B/op (drop gc.count, gc.time and the MB/s allocation rate).
awk '/^Benchmark/ { on = 1 } on && $0 !~ /:gc\.(count|time|alloc\.rate)[ \t]/' "$OUT.log" >"$OUT.txt"
echo >&2
echo "jmh.sh: $(cut -d' ' -f1-3 /proc/loadavg) load after; results in $OUT.txt and $OUT.json" >&2
cat "$OUT.txt"

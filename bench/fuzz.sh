#!/usr/bin/env bash
# Long fuzzing runs of the decoders: every fuzz target (each *FuzzTest class under bundles/, see docs/testing.md) for
# DURATION, one after the other, each in a JVM of its own, going on past findings. mvn verify fuzzes each for
# 15 s; this is the same test for longer. The corpus a run grows stays in the module's target/jazzer/.cifuzz-corpus
# and is where the next run (and mvn verify) starts; findings are written to target/jazzer/crash-* (timeout-* for a
# hang), with the stack trace in the run's log.
#
#   bench/fuzz.sh [DURATION]                    DURATION per target: 10m (default), 90s, 2h, 1h30m
#   FUZZ_TARGETS='ProtocolFuzzTest SwitchCoreFuzzTest' bench/fuzz.sh 1h    only these targets
#   MVN_ARGS=-o bench/fuzz.sh                   extra Maven arguments (here: offline)
#
# Builds the fuzzed modules once (mvn install -DskipTests, so the targets run against this checkout), then prints
# execs, execs/s and findings per target. Logs: bench/target/fuzz/<time>/<target>.log. Exit status 1 if a target
# had a finding or did not run to the end.
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${1:-10m}"
# DURATION in seconds: 600, 90s, 10m, 2h, 1h30m
seconds=0
rest="$duration"
if [[ "$rest" =~ ^[0-9]+$ ]]; then
    seconds=$rest
    rest=""
fi
while [[ "$rest" =~ ^([0-9]+)([hms])(.*)$ ]]; do
    n=${BASH_REMATCH[1]}
    case ${BASH_REMATCH[2]} in
        h) seconds=$((seconds + n * 3600)) ;;
        m) seconds=$((seconds + n * 60)) ;;
        s) seconds=$((seconds + n)) ;;
    esac
    rest=${BASH_REMATCH[3]}
done
if [ -n "$rest" ] || [ "$seconds" -le 0 ]; then
    echo "usage: bench/fuzz.sh [DURATION]   (DURATION per target, such as 90s, 10m, 2h or 1h30m; default 10m)" >&2
    exit 2
fi

# Targets: module:class, found by name, so that a new *FuzzTest is fuzzed here without editing this script.
targets=()
while IFS= read -r f; do
    class=$(basename "$f" .java)
    if [ -n "${FUZZ_TARGETS:-}" ] && ! [[ " $FUZZ_TARGETS " == *" $class "* ]]; then
        continue
    fi
    targets+=("${f%%/src/test/java/*}:$class")
done < <(find bundles -path '*/src/test/java/*' -name '*FuzzTest.java' | sort)
if [ ${#targets[@]} -eq 0 ]; then
    echo "bench/fuzz.sh: no fuzz target matches FUZZ_TARGETS='${FUZZ_TARGETS:-}'" >&2
    exit 2
fi
modules=$(printf '%s\n' "${targets[@]%%:*}" | sort -u | paste -sd, -)

logs="bench/target/fuzz/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$logs"
echo "Building $modules ..."
# shellcheck disable=SC2086
if ! mvn -B -q ${MVN_ARGS:-} install -DskipTests -pl "$modules" -am >"$logs/build.log" 2>&1; then
    tail -40 "$logs/build.log" >&2
    echo "bench/fuzz.sh: the build failed (log: $logs/build.log)" >&2
    exit 1
fi

echo "Fuzzing ${#targets[@]} targets for ${seconds} s each; logs in $logs"
summary=()
failed=0
for t in "${targets[@]}"; do
    module=${t%%:*}
    class=${t##*:}
    log="$logs/$class.log"
    marker="$logs/.$class.start"
    touch "$marker"
    echo "  $class ($module) ..."
    set +e
    # The fuzz execution of bundles/pom.xml, in this module, for this class only; findings do not stop the run.
    # shellcheck disable=SC2086
    mvn -B -o ${MVN_ARGS:-} surefire:test@fuzz -pl "$module" -Dtest="$class" -Dvl2.fuzz=1 \
        -Dvl2.fuzz.duration="${seconds}s" -Dvl2.fuzz.fork.timeout=$((seconds + 600)) \
        -Djazzer.keep_going="${FUZZ_KEEP_GOING:-100}" >"$log" 2>&1
    rc=$?
    set -e
    done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 || true)
    if [ -n "$done_line" ]; then
        execs=$(awk '{print $2}' <<<"$done_line")
        secs=$(awk '{print $5}' <<<"$done_line")
    else # killed (a hang, a crash of the JVM): the last stats line
        execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
        execs=${execs:-0}
        secs=$seconds
    fi
    rate=$(( secs > 0 ? execs / secs : execs ))
    findings=$(find "$module/target/jazzer" -maxdepth 1 \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \) \
        -newer "$marker" 2>/dev/null | wc -l)
    rm -f "$marker"
    if [ "$rc" -ne 0 ] || [ "$findings" -gt 0 ]; then
        result="FAILED (exit $rc; see $log)"
        failed=1
    else
        result="ok"
    fi
    summary+=("$(printf '%-22s %12s %10s %9s  %s' "$class" "$execs" "$rate" "$findings" "$result")")
done

echo
printf '%-22s %12s %10s %9s  %s\n' "target" "execs" "execs/s" "findings" "result"
printf '%s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
    echo
    echo "Findings are in <module>/target/jazzer/ (crash-*, timeout-*); each log shows the stack trace and the input."
    echo "To keep one as a regression test, move it to the test's src/test/resources/.../<Class>Inputs/<method>/."
fi
exit "$failed"

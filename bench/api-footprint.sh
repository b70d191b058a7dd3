#!/bin/sh
# The switch's boot time and memory with and without the HTTP API (bench/RESULTS.md, "HTTP API").
#
#   bench/api-footprint.sh DIST [PAIRS]
#
# DIST: an unpacked distribution (karaf-assembly/target/vl2-karaf-*.tar.gz). Starts bin/vl2-switch with --api
# 127.0.0.1:18181 and with --api off, alternating, PAIRS times (default 3) after one unmeasured start of each (so the
# bundle caches are warm), on loopback ports of their own (ssh 18102, vl2 19991, raw 19990). Prints per start: the
# seconds until UDP 19991 is bound and until /api/switch answers 401, the JVM's RSS 20 s later, and the load.
set -u
K=${1:?usage: bench/api-footprint.sh DIST [PAIRS]}
PAIRS=${2:-3}
WORK=$(mktemp -d /tmp/vl2-apifp.XXXXXX)
one() { # api|off measure|warm
    mode=$1 dir=$WORK/$1
    if [ "$mode" = api ]; then a="--api 127.0.0.1:18181"; else a="--api off"; fi
    start=$(date +%s.%N)
    "$K/bin/vl2-switch" --data "$dir" $a --ssh-port 18102 --vl2-listen 127.0.0.1:19991 --listen 127.0.0.1:19990 \
        >"$WORK/$mode.out" 2>&1 &
    i=0
    while ! ss -lun | grep -q "127.0.0.1:19991"; do sleep 0.1; i=$((i + 1)); [ $i -lt 3000 ] || break; done
    udp=$(echo "$(date +%s.%N) - $start" | bc)
    http=-
    if [ "$mode" = api ]; then
        i=0
        while ! curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:18181/api/switch | grep -q 401; do
            sleep 0.1; i=$((i + 1)); [ $i -lt 3000 ] || break
        done
        http=$(echo "$(date +%s.%N) - $start" | bc)
    fi
    sleep 20
    pid=$(cat "$dir/karaf.pid")
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    [ "$2" = measure ] && echo "api=$mode udp_bound_s=$udp api_401_s=$http rss_kb=$rss load=$(cut -d' ' -f1-3 /proc/loadavg)"
    kill "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
}
one api warm
one off warm
r=0
while [ $r -lt "$PAIRS" ]; do
    one api measure
    one off measure
    r=$((r + 1))
done
rm -rf "$WORK"

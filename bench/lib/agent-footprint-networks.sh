# agent-footprint.sh --networks N: what more networks cost, one agent process in N networks (issue 13 item 7) against
# N single-network agents. Sourced by agent-footprint.sh once the switch (networks a1..aN) is up; uses its names
# (P, H1, H2, WORK, OUT, VL2, SWITCH_KEY, RUNS, LAUNCHER, JVM, put/get, note/fail, mib, median, list, list_mib,
# run_context, stop_role).
#
#   h2: one agent, --network id=a<i>,tap=vt<i>,address=10.71.<i>.102/24 for i = 1..N (the peer in every network)
#   h1: run r = 1..RUNS, alternately
#       (A) N agents, agent i: --network id=a<i>,tap=vt<i>,address=10.71.<i>.101/24 (own --data, own JVM)
#       (B) one agent with the N --network specs of (A)
#   each measured when a ping h1 -> 10.71.<i>.102 succeeds in every network i, then RSS 2 s later (A: the sum)

net_spec() { # i host-octet: the --network spec of network a<i> for that host
  printf 'id=a%s,tap=vt%s,address=10.71.%s.%s/24,mac=02:00:5e:47:%02x:%02x' "$1" "$1" "$1" "$2" "$1" "$2"
}

start_net_agent() { # role ns data out spec...: an agent in ns with one --network per spec
  local role=$1 ns=$2 data=$3 out=$4 spec args=()
  shift 4
  for spec in "$@"; do args+=(--network "$spec"); done
  EXTRA_JAVA_OPTS="$AGENT_OPTS" ip netns exec "$ns" "$VL2/bin/vl2-agent" --switch "$UL_SW:$VL2_PORT" \
    --switch-key "$SWITCH_KEY" --data "$data" "${args[@]}" </dev/null >"$out" 2>&1 &
  LAUNCHER[$role]=$!
}

pings_in_every_network() { # limit: polls until h1 reaches h2 in each network a1..aN
  local end i ok
  end=$(($(date +%s) + $1))
  while [ "$(date +%s)" -lt "$end" ]; do
    ok=true
    for i in $(seq "$NETWORKS"); do
      ip netns exec "$H1" ping -n -c1 -W0.3 "10.71.$i.102" >/dev/null 2>&1 || { ok=false; break; }
    done
    $ok && return 0
    sleep 0.1
  done
  return 1
}

note "peer agent in $H2: one process in $NETWORKS networks"
specs=()
for i in $(seq "$NETWORKS"); do specs+=("$(net_spec "$i" 102)"); done
start_net_agent h2 "$H2" "$WORK/h2" "$OUT/agent-h2.out" "${specs[@]}"
wait_for 180 agent_up "$OUT/agent-h2.out" || { tail -20 "$OUT/agent-h2.out" >&2; fail "the agent in $H2 did not come up"; }
find_jvm h2

SEP_SUM="" SEP_EACH="" ONE="" SEP_UP="" ONE_UP=""
for run in $(seq "$RUNS"); do
  note "run $run/$RUNS (A): $NETWORKS single-network agents in $H1"
  rm -rf "$WORK"/h1-*
  T0=$(now)
  for i in $(seq "$NETWORKS"); do
    start_net_agent "a$i" "$H1" "$WORK/h1-a$i" "$OUT/agent-h1-a$i-run$run.out" "$(net_spec "$i" 101)"
  done
  pings_in_every_network 600 || fail "(A) no ping across every network within 600 s (see $OUT/agent-h1-a*-run$run.out)"
  SEP_UP="$SEP_UP $(since "$T0")"
  for i in $(seq "$NETWORKS"); do find_jvm "a$i"; done
  sleep 2
  sum=0 each=""
  for i in $(seq "$NETWORKS"); do k=$(rss_kib "${JVM[a$i]}"); sum=$((sum + k)); each="$each/$(mib "$k")"; done
  SEP_SUM="$SEP_SUM $sum"
  SEP_EACH="$SEP_EACH ${each#/}"
  for i in $(seq "$NETWORKS"); do stop_role "a$i" 20; done

  note "run $run/$RUNS (B): one agent in $H1 in $NETWORKS networks"
  rm -rf "$WORK/h1-one"
  specs=()
  for i in $(seq "$NETWORKS"); do specs+=("$(net_spec "$i" 101)"); done
  T0=$(now)
  start_net_agent one "$H1" "$WORK/h1-one" "$OUT/agent-h1-one-run$run.out" "${specs[@]}"
  pings_in_every_network 600 || fail "(B) no ping across every network within 600 s (see $OUT/agent-h1-one-run$run.out)"
  ONE_UP="$ONE_UP $(since "$T0")"
  find_jvm one
  sleep 2
  ONE="$ONE $(rss_kib "${JVM[one]}")"
  put "threads.one.$run" "$(ls "/proc/${JVM[one]}/task" | wc -l)"
  stop_role one 20
done
put load_end "$(cut -d' ' -f1-3 /proc/loadavg)"

{
  echo "### Agent footprint, $NETWORKS networks ($(date -u '+%Y-%m-%d %H:%M UTC'))"
  echo
  echo "\`sudo bench/agent-footprint.sh${ARGS:+ $ARGS}\`: $RUNS run(s) of (A) then (B), encrypted vl2 agents."
  run_context
  echo "Agent heap limit: JAVA_MAX_MEM ${JAVA_MAX_MEM:-128M}."
  echo
  echo "| h1, $NETWORKS networks | median | runs |"
  echo "|---|---:|---|"
  echo "| **(A) $NETWORKS single-network agents: RSS summed (MiB)** | **$(mib "$(echo "$SEP_SUM" | median)")** | $(list_mib "$SEP_SUM") (each: $(list "$SEP_EACH")) |"
  echo "| **(B) one agent in $NETWORKS networks: RSS (MiB)** | **$(mib "$(echo "$ONE" | median)")** | $(list_mib "$ONE") |"
  echo "| (A) start -> a ping across in every network (s) | $(echo "$SEP_UP" | median) | $(list "$SEP_UP") |"
  echo "| (B) start -> a ping across in every network (s) | $(echo "$ONE_UP" | median) | $(list "$ONE_UP") |"
  echo "| peer h2 (one agent in $NETWORKS networks): RSS at the end (MiB) | $(mib "$(rss_kib "${JVM[h2]}")") | |"
  echo "| threads of (B)'s JVM | | $(for r in $(seq "$RUNS"); do printf '%s ' "$(get "threads.one.$r")"; done) |"
} | tee "$OUT/report.md"

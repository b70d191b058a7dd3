package org.vl2.rest.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import org.vl2.api.AgentService;
import org.vl2.api.AgentStatus;
import org.vl2.api.MacTableService;
import org.vl2.api.MacTableStatistics;
import org.vl2.api.MemberInfo;
import org.vl2.api.NetworkInfo;
import org.vl2.api.Networks;
import org.vl2.api.PortCounters;
import org.vl2.api.PortInfo;
import org.vl2.api.SwitchService;
import org.vl2.api.SwitchStatistics;

/**
 * Prometheus metrics, built at scrape time from the counters the switch and the agents keep anyway (no work on the
 * frame path): the Prometheus Java client's data model and its text format writer (both embedded in this bundle).
 *
 * <p>Label cardinality is bounded: {@code network} by the configured networks, {@code port} by
 * {@code metrics.port.limit} (the ports with the lowest numbers; every port still counts in its network's series),
 * {@code reason} and {@code state} by fixed lists, {@code tap} by the agent instances. No MAC, member or address is
 * ever a label.
 */
final class Metrics {

    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final Supplier<SwitchService> switches;
    private final Supplier<MacTableService> macTables;
    private final Supplier<Collection<AgentService>> agents;
    private final int portLimit;
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    Metrics(Supplier<SwitchService> switches, Supplier<MacTableService> macTables,
            Supplier<Collection<AgentService>> agents, int portLimit) {
        this.switches = switches;
        this.macTables = macTables;
        this.agents = agents;
        this.portLimit = portLimit;
    }

    void write(OutputStream out) throws IOException {
        writer.write(out, snapshots());
    }

    MetricSnapshots snapshots() {
        List<MetricSnapshot> all = new ArrayList<>();
        SwitchService sw = switches.get();
        if (sw != null) {
            switchMetrics(sw, all);
        }
        MacTableService mt = macTables.get();
        MacTableStatistics mts = mt == null ? null : mt.statistics();
        if (mts != null) {
            macTable(mts, all);
        }
        Collection<AgentService> a = agents.get();
        if (!a.isEmpty()) {
            agentMetrics(a, all);
        }
        return new MetricSnapshots(all);
    }

    private void switchMetrics(SwitchService sw, List<MetricSnapshot> all) {
        SwitchStatistics s = sw.statistics();
        all.add(gauge("vl2_switch_ports", "Ports of the switch now.", Labels.EMPTY, s.ports()));
        all.add(counter("vl2_switch_received_frames", "Frames received from all ports.", s.rxFrames()));
        all.add(counter("vl2_switch_received_bytes", "Bytes received from all ports.", s.rxBytes()));
        all.add(counter("vl2_switch_transmitted_frames", "Frames sent to ports (a flood counts once per port).",
                s.txFrames()));
        all.add(counter("vl2_switch_transmitted_bytes", "Bytes sent to ports.", s.txBytes()));
        all.add(counter("vl2_switch_unicast_frames", "Frames forwarded to one known port.", s.unicast()));
        all.add(counter("vl2_switch_flooded_frames", "Frames flooded (broadcast, multicast, unknown unicast).",
                s.flooded()));
        all.add(counter("vl2_switch_filtered_frames", "Frames whose destination is behind the ingress port.",
                s.filtered()));
        all.add(counter("vl2_switch_transmit_errors", "Sends that failed in the transport.", s.txErrors()));
        CounterSnapshot.Builder byTransport = CounterSnapshot.builder().name("vl2_transport_transmit_errors")
                .help("Sends that failed, by transport (udp, vl2, vxlan, tcp): refused or reported failed by it.");
        sw.transportErrors().forEach((transport, errors) -> byTransport.dataPoint(CounterDataPointSnapshot.builder()
                .labels(Labels.of("transport", transport)).value(errors).build()));
        all.add(byTransport.build());
        CounterSnapshot.Builder received = CounterSnapshot.builder().name("vl2_transport_received_dropped")
                .help("What a transport dropped on receive before the switch saw it, by transport and reason: "
                        + "datagrams (vxlan) or connections refused or closed (tcp); docs/api.md lists the reasons.");
        sw.transportReceiveDrops().forEach((transport, reasons) -> reasons.forEach((reason, dropped) -> received
                .dataPoint(CounterDataPointSnapshot.builder().labels(Labels.of("transport", transport, "reason",
                        reason)).value(dropped).build())));
        all.add(received.build());
        all.add(counter("vl2_switch_handshakes", "Encrypted handshakes completed (a member joined or renewed its "
                + "session).", s.handshakes()));
        all.add(counter("vl2_switch_cookie_replies", "COOKIE-REPLYs sent: initiations asked to prove their source "
                + "address (handshake flood, or the room for unproven ports full).", s.cookieReplies()));
        all.add(counter("vl2_switch_handshakes_throttled", "Initiations that got neither a handshake nor a cookie "
                + "reply (over the handshake or cookie budgets).", s.handshakesThrottled()));
        all.add(counter("vl2_switch_pair_frames", "Frames forwarded on a pair key: sealed end to end between two "
                + "members, passed on without decrypting.", s.pairFrames()));
        all.add(counter("vl2_switch_pairs_made", "Pair keys both members took.", s.pairsMade()));
        all.add(counter("vl2_switch_pairs_ended", "Pair keys ended (a station moved, a member went, settings "
                + "changed, renewed, refused or unanswered).", s.pairsEnded()));
        CounterSnapshot.Builder drops = CounterSnapshot.builder().name("vl2_switch_dropped_frames")
                .help("Frames and datagrams the switch dropped, by reason (docs/api.md lists them).");
        long[] values = {s.dropRunt(), s.dropOversize(), s.dropSourceMulticast(), s.dropNoPolicy(), s.dropPolicy(),
                s.dropPortLimit(), s.dropPortQuota(), s.dropUnknownNetwork(), s.malformed(), s.badSession(),
                s.dropStorm(), s.dropMacLimit(), s.dropDhcpSpoofed(), s.dropDhcpRate(), s.dropIpGuard(),
                s.dropSealed(), s.pairDrops()};
        for (int i = 0; i < DROP_REASONS.size(); i++) {
            drops.dataPoint(CounterDataPointSnapshot.builder().labels(Labels.of("reason", DROP_REASONS.get(i)))
                    .value(values[i]).build());
        }
        all.add(drops.build());
        ports(sw, all);
    }

    /** The reasons of {@code vl2_switch_dropped_frames}, in the order of {@link SwitchStatistics}. */
    static final List<String> DROP_REASONS = List.of("runt", "oversize", "source_multicast", "no_policy", "policy",
            "port_limit", "port_quota", "unknown_network", "malformed", "bad_session", "storm", "mac_limit",
            "dhcp_spoofed", "dhcp_rate", "ip_guard", "sealed", "pair");

    private void ports(SwitchService sw, List<MetricSnapshot> all) {
        List<PortInfo> ports = sw.ports(); // ordered by id
        List<NetworkInfo> networks = sw.networks();
        Map<Long, long[]> byNetwork = new HashMap<>(); // rxFrames, rxBytes, txFrames, txBytes, rxDrops, txDrops
        for (PortInfo p : ports) {
            long[] sum = byNetwork.computeIfAbsent(p.network(), n -> new long[6]);
            PortCounters c = counters(p);
            sum[0] += c.rxFrames();
            sum[1] += c.rxBytes();
            sum[2] += c.txFrames();
            sum[3] += c.txBytes();
            sum[4] += c.rxDrops();
            sum[5] += c.txDrops();
        }
        GaugeSnapshot.Builder netPorts = GaugeSnapshot.builder().name("vl2_network_ports").help("Ports of a network.");
        GaugeSnapshot.Builder leases = GaugeSnapshot.builder().name("vl2_network_leases")
                .help("IPv4 addresses leased on a network (members and DHCP clients).");
        GaugeSnapshot.Builder free = GaugeSnapshot.builder().name("vl2_network_leases_free")
                .help("IPv4 addresses of a network's pool range not leased (0 without a pool).");
        GaugeSnapshot.Builder members = GaugeSnapshot.builder().name("vl2_network_members")
                .help("Members of a network by state: online (a port), authorized (no port), waiting (refused, not "
                        + "authorized).");
        String[] names = {"vl2_network_received_frames", "vl2_network_received_bytes",
            "vl2_network_transmitted_frames", "vl2_network_transmitted_bytes", "vl2_network_dropped_frames"};
        String[] helps = {"Frames received from the network's ports (ports now).", "Bytes received from the network's"
                + " ports.", "Frames sent to the network's ports.", "Bytes sent to the network's ports.",
            "Frames of the network's ports dropped, by direction (rx: refused from the port; tx: not sent to it)."};
        List<CounterSnapshot.Builder> perNetwork = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            perNetwork.add(CounterSnapshot.builder().name(names[i]).help(helps[i]));
        }
        for (NetworkInfo n : networks) {
            Labels l = Labels.of("network", Networks.format(n.id()));
            netPorts.dataPoint(GaugeDataPointSnapshot.builder().labels(l).value(n.ports()).build());
            leases.dataPoint(GaugeDataPointSnapshot.builder().labels(l).value(n.leases().size()).build());
            free.dataPoint(GaugeDataPointSnapshot.builder().labels(l).value(n.leasesFree()).build());
            Map<String, Integer> byState = new HashMap<>(Map.of(MemberInfo.ONLINE, 0, MemberInfo.AUTHORIZED, 0,
                    MemberInfo.WAITING, 0));
            try {
                sw.members(n.id()).forEach(m -> byState.merge(m.state(), 1, Integer::sum));
            } catch (IllegalArgumentException gone) {
                // removed since networks() was read: its members count as none
            }
            byState.forEach((state, count) -> members.dataPoint(GaugeDataPointSnapshot.builder()
                    .labels(Labels.of("network", Networks.format(n.id()), "state", state)).value(count).build()));
            long[] sum = byNetwork.getOrDefault(n.id(), new long[6]);
            for (int i = 0; i < 4; i++) {
                perNetwork.get(i).dataPoint(CounterDataPointSnapshot.builder().labels(l).value(sum[i]).build());
            }
            perNetwork.get(4).dataPoint(CounterDataPointSnapshot.builder()
                    .labels(Labels.of("direction", "rx", "network", Networks.format(n.id()))).value(sum[4]).build());
            perNetwork.get(4).dataPoint(CounterDataPointSnapshot.builder()
                    .labels(Labels.of("direction", "tx", "network", Networks.format(n.id()))).value(sum[5]).build());
        }
        all.add(netPorts.build());
        all.add(leases.build());
        all.add(free.build());
        all.add(members.build());
        perNetwork.forEach(b -> all.add(b.build()));
        if (portLimit > 0) {
            portSeries(ports.subList(0, Math.min(portLimit, ports.size())), all);
        }
    }

    private static void portSeries(List<PortInfo> ports, List<MetricSnapshot> all) {
        all.add(perPort("vl2_port_received_frames", "Frames received from a port.", ports, PortCounters::rxFrames));
        all.add(perPort("vl2_port_received_bytes", "Bytes received from a port.", ports, PortCounters::rxBytes));
        all.add(perPort("vl2_port_transmitted_frames", "Frames sent to a port.", ports, PortCounters::txFrames));
        all.add(perPort("vl2_port_transmitted_bytes", "Bytes sent to a port.", ports, PortCounters::txBytes));
        CounterSnapshot.Builder drops = CounterSnapshot.builder().name("vl2_port_dropped_frames")
                .help("Frames of a port dropped, by direction (rx: refused from the port; tx: not sent to it).");
        for (PortInfo p : ports) {
            PortCounters c = counters(p);
            drops.dataPoint(CounterDataPointSnapshot.builder().labels(portLabels(p).add("direction", "rx"))
                    .value(c.rxDrops()).build());
            drops.dataPoint(CounterDataPointSnapshot.builder().labels(portLabels(p).add("direction", "tx"))
                    .value(c.txDrops()).build());
        }
        all.add(drops.build());
    }

    private static CounterSnapshot perPort(String name, String help, List<PortInfo> ports,
                                           ToLongFunction<PortCounters> value) {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
        for (PortInfo p : ports) {
            b.dataPoint(CounterDataPointSnapshot.builder().labels(portLabels(p))
                    .value(value.applyAsLong(counters(p))).build());
        }
        return b.build();
    }

    private static Labels portLabels(PortInfo p) {
        return Labels.of("network", Networks.format(p.network()), "port", Integer.toString(p.id().number()));
    }

    private static PortCounters counters(PortInfo p) {
        return p.counters() == null ? PortCounters.ZERO : p.counters();
    }

    private static void macTable(MacTableStatistics m, List<MetricSnapshot> all) {
        all.add(gauge("vl2_mactable_entries", "MAC table entries now (dynamic and static).", Labels.EMPTY, m.size()));
        all.add(gauge("vl2_mactable_static_entries", "Static MAC table entries now.", Labels.EMPTY, m.staticSize()));
        all.add(gauge("vl2_mactable_capacity", "The most entries the MAC table holds.", Labels.EMPTY, m.capacity()));
        all.add(counter("vl2_mactable_learned", "New dynamic entries learned.", m.learned()));
        all.add(counter("vl2_mactable_moves", "Entries that moved to another port.", m.moved()));
        all.add(counter("vl2_mactable_aged", "Entries removed by ageing.", m.aged()));
        all.add(counter("vl2_mactable_evictions", "Entries removed to make room when the table was full.",
                m.evicted()));
        all.add(counter("vl2_mactable_refused", "Learn attempts refused (per-port limit, or full of static entries).",
                m.refused()));
    }

    private static void agentMetrics(Collection<AgentService> agents, List<MetricSnapshot> all) {
        String[][] counters = {
            {"vl2_agent_tap_read_frames", "Frames the agent read from its TAP device and sent to the switch."},
            {"vl2_agent_tap_read_bytes", "Bytes of the frames read from the TAP device."},
            {"vl2_agent_tap_written_frames", "Frames the agent received from the switch and wrote to its TAP device."},
            {"vl2_agent_tap_written_bytes", "Bytes of the frames written to the TAP device."},
            {"vl2_agent_dropped_frames", "Frames the agent did not pass on, in either direction."}};
        List<CounterSnapshot.Builder> builders = new ArrayList<>();
        for (String[] c : counters) {
            builders.add(CounterSnapshot.builder().name(c[0]).help(c[1]));
        }
        CounterSnapshot.Builder handshakes = CounterSnapshot.builder().name("vl2_agent_handshakes")
                .help("Encrypted handshakes the agent completed (the first join, re-joins, rekeys).");
        CounterSnapshot.Builder cookies = CounterSnapshot.builder().name("vl2_agent_cookie_replies")
                .help("COOKIE-REPLYs from the switch: it asked the agent to prove its address (switch under load).");
        CounterSnapshot.Builder discarded = CounterSnapshot.builder().name("vl2_agent_discarded_datagrams")
                .help("Datagrams from the switch's side dropped, by reason (foreign: another port, session or address;"
                        + " malformed; unopened: sealed but did not open; ignored: unauthenticated, not acted on;"
                        + " queue_full: valid control messages the control thread had no room for; not_joined: ROUTES"
                        + " while not joined; pair_mismatch: a frame under a pair key not of the pair's flow).");
        CounterSnapshot.Builder pairFrames = CounterSnapshot.builder().name("vl2_agent_pair_frames")
                .help("Frames sealed (sent) and opened (received) under pair keys: the switch forwarded them without"
                        + " opening them (docs/protocol.md, Pair keys).");
        GaugeSnapshot.Builder pairs = GaugeSnapshot.builder().name("vl2_agent_pairs")
                .help("Pair keys the agent holds now, by role (send, receive; direct: send pairs whose frames go"
                        + " straight to the other member).");
        CounterSnapshot.Builder directFrames = CounterSnapshot.builder().name("vl2_agent_direct_frames")
                .help("A pair's frames sent straight to the other member and received straight from one, not through"
                        + " the switch (docs/protocol.md, Direct paths).");
        CounterSnapshot.Builder probes = CounterSnapshot.builder().name("vl2_agent_direct_probes")
                .help("Direct paths' PROBEs sent, and PROBE-ACKs sent in answer to other members' probes.");
        GaugeSnapshot.Builder state = GaugeSnapshot.builder().name("vl2_agent_state")
                .help("1 for the agent's state now, 0 for the other states (one series per state).");
        GaugeSnapshot.Builder rtt = GaugeSnapshot.builder().name("vl2_agent_switch_rtt_seconds")
                .help("Round trip time of the last acknowledged keepalive (vl2 mode).");
        for (AgentService a : agents) {
            AgentStatus s = a.status();
            Labels l = Labels.of("tap", s.tapName() == null ? "" : s.tapName());
            long[] values = {s.tapRxFrames(), s.tapRxBytes(), s.tapTxFrames(), s.tapTxBytes(), s.drops()};
            for (int i = 0; i < values.length; i++) {
                builders.get(i).dataPoint(CounterDataPointSnapshot.builder().labels(l).value(values[i]).build());
            }
            for (org.vl2.api.AgentState st : org.vl2.api.AgentState.values()) {
                state.dataPoint(GaugeDataPointSnapshot.builder().labels(l.add("state", st.name()))
                        .value(st == s.state() ? 1 : 0).build());
            }
            Map<String, Long> more = a.counters();
            if (more.containsKey(AgentService.HANDSHAKES)) {
                handshakes.dataPoint(CounterDataPointSnapshot.builder().labels(l)
                        .value(more.get(AgentService.HANDSHAKES)).build());
                cookies.dataPoint(CounterDataPointSnapshot.builder().labels(l)
                        .value(more.getOrDefault(AgentService.COOKIE_REPLIES, 0L)).build());
            }
            if (more.containsKey(AgentService.PAIR_FRAMES_SEALED)) {
                pairFrames.dataPoint(CounterDataPointSnapshot.builder().labels(l.add("direction", "sealed"))
                        .value(more.get(AgentService.PAIR_FRAMES_SEALED)).build());
                pairFrames.dataPoint(CounterDataPointSnapshot.builder().labels(l.add("direction", "opened"))
                        .value(more.getOrDefault(AgentService.PAIR_FRAMES_OPENED, 0L)).build());
                pairs.dataPoint(GaugeDataPointSnapshot.builder().labels(l.add("role", "send"))
                        .value(more.getOrDefault(AgentService.PAIRS_SENDING, 0L)).build());
                pairs.dataPoint(GaugeDataPointSnapshot.builder().labels(l.add("role", "receive"))
                        .value(more.getOrDefault(AgentService.PAIRS_RECEIVING, 0L)).build());
            }
            if (more.containsKey(AgentService.DIRECT_FRAMES_SENT)) {
                directFrames.dataPoint(CounterDataPointSnapshot.builder().labels(l.add("direction", "sent"))
                        .value(more.get(AgentService.DIRECT_FRAMES_SENT)).build());
                directFrames.dataPoint(CounterDataPointSnapshot.builder().labels(l.add("direction", "received"))
                        .value(more.getOrDefault(AgentService.DIRECT_FRAMES_RECEIVED, 0L)).build());
                probes.dataPoint(CounterDataPointSnapshot.builder().labels(l.add("kind", "sent"))
                        .value(more.getOrDefault(AgentService.PROBES_SENT, 0L)).build());
                probes.dataPoint(CounterDataPointSnapshot.builder().labels(l.add("kind", "answered"))
                        .value(more.getOrDefault(AgentService.PROBES_ANSWERED, 0L)).build());
                pairs.dataPoint(GaugeDataPointSnapshot.builder().labels(l.add("role", "direct"))
                        .value(more.getOrDefault(AgentService.PAIRS_DIRECT, 0L)).build());
            }
            for (String reason : DISCARD_REASONS) {
                Long v = more.get(AgentService.DISCARDED_PREFIX + reason);
                if (v != null) {
                    discarded.dataPoint(CounterDataPointSnapshot.builder().labels(l.add("reason", reason)).value(v)
                            .build());
                }
            }
            if (s.switchRtt() != null) {
                rtt.dataPoint(GaugeDataPointSnapshot.builder().labels(l).value(s.switchRtt().toNanos() / 1e9).build());
            }
        }
        builders.forEach(b -> all.add(b.build()));
        all.add(handshakes.build());
        all.add(cookies.build());
        all.add(discarded.build());
        all.add(pairFrames.build());
        all.add(pairs.build());
        all.add(directFrames.build());
        all.add(probes.build());
        all.add(state.build());
        all.add(rtt.build());
    }

    /** The reasons of {@code vl2_agent_discarded_datagrams} (AgentService.counters). */
    static final List<String> DISCARD_REASONS = List.of("foreign", "malformed", "unopened", "ignored", "queue_full",
            "not_joined", "pair_mismatch");

    private static CounterSnapshot counter(String name, String help, long value) {
        return CounterSnapshot.builder().name(name).help(help)
                .dataPoint(CounterDataPointSnapshot.builder().value(value).build()).build();
    }

    private static GaugeSnapshot gauge(String name, String help, Labels labels, double value) {
        return GaugeSnapshot.builder().name(name).help(help)
                .dataPoint(GaugeDataPointSnapshot.builder().labels(labels).value(value).build()).build();
    }
}

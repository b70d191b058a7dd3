package org.vl2.rest.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Test;
import org.vl2.api.AgentState;
import org.vl2.api.AgentStatus;
import org.vl2.api.MacAddress;
import org.vl2.api.MacTableStatistics;
import org.vl2.api.MemberInfo;
import org.vl2.api.NetworkInfo;
import org.vl2.api.PortCounters;
import org.vl2.api.PortId;
import org.vl2.api.PortInfo;
import org.vl2.api.SwitchStatistics;
import org.vl2.api.test.FakeAgentService;
import org.vl2.api.test.FakeMacTable;
import org.vl2.api.test.FakeSwitchService;
import org.vl2.json.Views;

/**
 * /metrics parses with the Prometheus project's own text-format parser (prometheus_client, Debian package
 * python3-prometheus-client) and says what the counters say, with the per-port series bounded.
 */
class MetricsTest {

    static FakeSwitchService switchWithPorts(int n) {
        FakeSwitchService sw = new FakeSwitchService();
        sw.networks.add(new NetworkInfo(0x2a, "lab", 1400, "learning", "10.0.0.0/24", null, false, n / 2,
                List.of(new NetworkInfo.Lease("member:300c9c9603b92a4b", "10.0.0.2", null)), NetworkInfo.PRIVATE, 253));
        sw.members.add(new MemberInfo(0x2a, "300c9c9603b92a4b", null, false, null, null, null, false, null, Instant.EPOCH));
        for (int i = 1; i <= n; i++) {
            sw.ports.add(new PortInfo(PortId.of(i), i % 2 == 0 ? 0x2a : 0, "vl2", "vl2", "192.0.2.7:" + (40000 + i),
                    new PortCounters(i, 100L * i, 2L * i, 200L * i, i % 3, 0), Instant.EPOCH, Instant.EPOCH));
        }
        return sw;
    }

    static byte[] scrape(Metrics m) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        m.write(out);
        return out.toByteArray();
    }

    /** {"family": {"type": ..., "samples": [[name, {labels}, value], ...]}} as prometheus_client parses it. */
    static JsonNode parse(byte[] text) throws Exception {
        String python = new File("/usr/bin/python3").canExecute() ? "/usr/bin/python3" : "python3";
        String script = "import sys, json\n"
                + "from prometheus_client.parser import text_string_to_metric_families\n"
                + "out = {}\n"
                + "for f in text_string_to_metric_families(sys.stdin.read()):\n"
                + "    out[f.name] = {'type': f.type, 'samples': [[s.name, s.labels, s.value] for s in f.samples]}\n"
                + "print(json.dumps(out))\n";
        Process p = new ProcessBuilder(python, "-c", script).redirectErrorStream(true).start();
        p.getOutputStream().write(text);
        p.getOutputStream().close();
        byte[] result = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String answer = new String(result, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "the Prometheus text parser (python3-prometheus-client) refused the output or "
                + "is missing (apt-get install python3-prometheus-client):\n" + answer);
        return Views.MAPPER.readTree(answer);
    }

    static double value(JsonNode families, String family, String sample, String... labels) {
        for (JsonNode s : families.get(family).get("samples")) {
            boolean match = s.get(0).asText().equals(sample);
            for (int i = 0; i < labels.length; i += 2) {
                match &= s.get(1).path(labels[i]).asText().equals(labels[i + 1]);
            }
            if (match) {
                return s.get(2).asDouble();
            }
        }
        throw new AssertionError("no " + sample + " " + List.of(labels) + " in " + families.get(family));
    }

    @Test
    void theSwitchsCountersParseAsPrometheusText() throws Exception {
        FakeSwitchService sw = switchWithPorts(6);
        FakeMacTable fdb = new FakeMacTable();
        fdb.statistics = new MacTableStatistics(5, 1, 4096, 0, 300, 40, 3, 7, 2, 1);
        sw.statistics = new SwitchStatistics(6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0,
                31, 32, 33, 41, 42, 43, 44);
        sw.transportErrors.put("udp", 2L);
        sw.transportErrors.put("vl2", 7L);
        sw.transportReceiveDrops.put("vxlan", java.util.Map.of("bad_flags", 5L, "unmapped_vni", 0L));
        sw.transportReceiveDrops.put("tcp", java.util.Map.of("handshake_failed", 8L));
        sw.transportReceiveDrops.put("udp", java.util.Map.of());
        JsonNode f = parse(scrape(new Metrics(() -> sw, () -> fdb, List::of, 1024)));
        assertEquals("counter", f.get("vl2_switch_dropped_frames").get("type").asText());
        assertEquals(Metrics.DROP_REASONS.size(), f.get("vl2_switch_dropped_frames").get("samples").size());
        assertEquals(4, value(f, "vl2_switch_dropped_frames", "vl2_switch_dropped_frames_total", "reason", "storm"));
        assertEquals(9, value(f, "vl2_switch_transmit_errors", "vl2_switch_transmit_errors_total"));
        assertEquals(7, value(f, "vl2_transport_transmit_errors", "vl2_transport_transmit_errors_total",
                "transport", "vl2"));
        assertEquals(2, value(f, "vl2_transport_transmit_errors", "vl2_transport_transmit_errors_total",
                "transport", "udp"));
        assertEquals("counter", f.get("vl2_transport_received_dropped").get("type").asText());
        assertEquals(3, f.get("vl2_transport_received_dropped").get("samples").size(), "udp counts none");
        assertEquals(5, value(f, "vl2_transport_received_dropped", "vl2_transport_received_dropped_total",
                "transport", "vxlan", "reason", "bad_flags"));
        assertEquals(0, value(f, "vl2_transport_received_dropped", "vl2_transport_received_dropped_total",
                "transport", "vxlan", "reason", "unmapped_vni"));
        assertEquals(8, value(f, "vl2_transport_received_dropped", "vl2_transport_received_dropped_total",
                "transport", "tcp", "reason", "handshake_failed"));
        assertEquals(31, value(f, "vl2_switch_handshakes", "vl2_switch_handshakes_total"));
        assertEquals(32, value(f, "vl2_switch_cookie_replies", "vl2_switch_cookie_replies_total"));
        assertEquals(33, value(f, "vl2_switch_handshakes_throttled", "vl2_switch_handshakes_throttled_total"));
        assertEquals(41, value(f, "vl2_switch_pair_frames", "vl2_switch_pair_frames_total"));
        assertEquals(42, value(f, "vl2_switch_dropped_frames", "vl2_switch_dropped_frames_total", "reason", "pair"));
        assertEquals(43, value(f, "vl2_switch_pairs_made", "vl2_switch_pairs_made_total"));
        assertEquals(44, value(f, "vl2_switch_pairs_ended", "vl2_switch_pairs_ended_total"));
        assertEquals(3, value(f, "vl2_port_received_frames", "vl2_port_received_frames_total", "port", "3",
                "network", "0000000000000000"));
        // network 2a: ports 2, 4, 6
        assertEquals(2 + 4 + 6, value(f, "vl2_network_received_frames", "vl2_network_received_frames_total",
                "network", "000000000000002a"));
        assertEquals(1, value(f, "vl2_network_members", "vl2_network_members", "network", "000000000000002a",
                "state", "waiting"));
        assertEquals(1, value(f, "vl2_network_leases", "vl2_network_leases", "network", "000000000000002a"));
        assertEquals(252, value(f, "vl2_network_leases_free", "vl2_network_leases_free", "network",
                "000000000000002a"));
        assertEquals(0, value(f, "vl2_network_leases_free", "vl2_network_leases_free", "network",
                "0000000000000000"), "no pool: nothing free");
        assertEquals(3, value(f, "vl2_mactable_moves", "vl2_mactable_moves_total"));
        assertEquals(2, value(f, "vl2_mactable_evictions", "vl2_mactable_evictions_total"));
        assertEquals(5, value(f, "vl2_mactable_entries", "vl2_mactable_entries"));
    }

    @Test
    void perPortSeriesAreBoundedButEveryPortCountsInItsNetwork() throws Exception {
        FakeSwitchService sw = switchWithPorts(30);
        JsonNode f = parse(scrape(new Metrics(() -> sw, () -> null, List::of, 10)));
        assertEquals(10, f.get("vl2_port_received_frames").get("samples").size());
        long even = 0;
        for (int i = 2; i <= 30; i += 2) {
            even += i;
        }
        assertEquals(even, value(f, "vl2_network_received_frames", "vl2_network_received_frames_total", "network",
                "000000000000002a"));
        JsonNode none = parse(scrape(new Metrics(() -> sw, () -> null, List::of, 0)));
        assertTrue(none.path("vl2_port_received_frames").isMissingNode());
    }

    @Test
    void anAgentsCountersAndState() throws Exception {
        FakeAgentService a = new FakeAgentService();
        a.status = new AgentStatus("vl2tap0", MacAddress.valueOf("02:00:00:00:00:09"), 1400, List.of(), null,
                "192.0.2.1:9991", "192.0.2.1:9991", "192.0.2.9:5000", "vl2", AgentState.RUNNING, null, 11, 1100, 12,
                1200, 1, Instant.EPOCH, Instant.EPOCH, "000000000000002a", "300c9c9603b92a4b", 3, List.of(),
                Duration.ofMillis(2));
        a.counters.put(org.vl2.api.AgentService.HANDSHAKES, 3L);
        a.counters.put(org.vl2.api.AgentService.COOKIE_REPLIES, 1L);
        a.counters.put(org.vl2.api.AgentService.DISCARDED_PREFIX + "unopened", 4L);
        a.counters.put(org.vl2.api.AgentService.DISCARDED_PREFIX + "foreign", 5L);
        a.counters.put(org.vl2.api.AgentService.DISCARDED_PREFIX + "queue_full", 6L);
        a.counters.put(org.vl2.api.AgentService.DISCARDED_PREFIX + "not_joined", 7L);
        a.counters.put(org.vl2.api.AgentService.DISCARDED_PREFIX + "pair_mismatch", 8L);
        a.counters.put(org.vl2.api.AgentService.PAIR_FRAMES_SEALED, 900L);
        a.counters.put(org.vl2.api.AgentService.PAIR_FRAMES_OPENED, 800L);
        a.counters.put(org.vl2.api.AgentService.PAIRS_SENDING, 2L);
        a.counters.put(org.vl2.api.AgentService.PAIRS_RECEIVING, 3L);
        a.counters.put(org.vl2.api.AgentService.DIRECT_FRAMES_SENT, 700L);
        a.counters.put(org.vl2.api.AgentService.DIRECT_FRAMES_RECEIVED, 600L);
        a.counters.put(org.vl2.api.AgentService.PROBES_SENT, 12L);
        a.counters.put(org.vl2.api.AgentService.PROBES_ANSWERED, 13L);
        a.counters.put(org.vl2.api.AgentService.PAIRS_DIRECT, 1L);
        JsonNode f = parse(scrape(new Metrics(() -> null, () -> null, () -> List.of(a), 1024)));
        assertEquals(11, value(f, "vl2_agent_tap_read_frames", "vl2_agent_tap_read_frames_total", "tap", "vl2tap0"));
        assertEquals(1, value(f, "vl2_agent_state", "vl2_agent_state", "tap", "vl2tap0", "state", "RUNNING"));
        assertEquals(0, value(f, "vl2_agent_state", "vl2_agent_state", "tap", "vl2tap0", "state", "FAILED"));
        assertEquals(0.002, value(f, "vl2_agent_switch_rtt_seconds", "vl2_agent_switch_rtt_seconds"), 1e-9);
        assertEquals(3, value(f, "vl2_agent_handshakes", "vl2_agent_handshakes_total", "tap", "vl2tap0"));
        assertEquals(1, value(f, "vl2_agent_cookie_replies", "vl2_agent_cookie_replies_total", "tap", "vl2tap0"));
        assertEquals(4, value(f, "vl2_agent_discarded_datagrams", "vl2_agent_discarded_datagrams_total", "tap",
                "vl2tap0", "reason", "unopened"));
        assertEquals(5, value(f, "vl2_agent_discarded_datagrams", "vl2_agent_discarded_datagrams_total", "reason",
                "foreign"));
        // a full control inbox and a ROUTES while not joined are reasons of their own, not malformed
        assertEquals(6, value(f, "vl2_agent_discarded_datagrams", "vl2_agent_discarded_datagrams_total", "reason",
                "queue_full"));
        assertEquals(7, value(f, "vl2_agent_discarded_datagrams", "vl2_agent_discarded_datagrams_total", "reason",
                "not_joined"));
        assertEquals(8, value(f, "vl2_agent_discarded_datagrams", "vl2_agent_discarded_datagrams_total", "reason",
                "pair_mismatch"));
        // pair keys: frames the switch passed on unopened, and the pairs held now
        assertEquals(900, value(f, "vl2_agent_pair_frames", "vl2_agent_pair_frames_total", "tap", "vl2tap0",
                "direction", "sealed"));
        assertEquals(800, value(f, "vl2_agent_pair_frames", "vl2_agent_pair_frames_total", "direction", "opened"));
        assertEquals(2, value(f, "vl2_agent_pairs", "vl2_agent_pairs", "tap", "vl2tap0", "role", "send"));
        assertEquals(3, value(f, "vl2_agent_pairs", "vl2_agent_pairs", "role", "receive"));
        // direct paths: what bypassed the switch, the probes, the paths up now
        assertEquals(700, value(f, "vl2_agent_direct_frames", "vl2_agent_direct_frames_total", "direction", "sent"));
        assertEquals(600, value(f, "vl2_agent_direct_frames", "vl2_agent_direct_frames_total", "direction",
                "received"));
        assertEquals(12, value(f, "vl2_agent_direct_probes", "vl2_agent_direct_probes_total", "kind", "sent"));
        assertEquals(13, value(f, "vl2_agent_direct_probes", "vl2_agent_direct_probes_total", "kind", "answered"));
        assertEquals(1, value(f, "vl2_agent_pairs", "vl2_agent_pairs", "role", "direct"));
    }
}

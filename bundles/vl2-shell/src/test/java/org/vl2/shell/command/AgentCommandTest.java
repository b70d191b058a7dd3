package org.vl2.shell.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.shell.command.Fixtures.NOW;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vl2.api.AgentRoutes;
import org.vl2.api.AgentState;
import org.vl2.api.AgentStatus;
import org.vl2.api.MacAddress;
import org.vl2.api.test.FakeAgentService;

class AgentCommandTest {

    private static final String PUBLIC_KEY = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
    private static final String SWITCH_KEY = "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=";

    /**
     * Encrypted vl2 mode: joined network 8056c2e21c000001 as port 7, the address from the switch, a keepalive
     * answered.
     */
    private static final AgentStatus RUNNING = new AgentStatus("vl2tap0", MacAddress.valueOf("02:76:6c:32:00:01"),
            1454, List.of("10.1.1.101/24", "fd00:1::101/64"), null, "switch.example.org:9991", "203.0.113.7:9991",
            "192.0.2.5:41234", "vl2", AgentState.RUNNING, null, 1200, 180_000, 1100, 150_000, 3,
            NOW.minusSeconds(3600), NOW.minusSeconds(2), "8056c2e21c000001", "0123456789abcdef", 7,
            List.of("10.1.1.101/24"), Duration.ofNanos(843_700), 0, PUBLIC_KEY, true, SWITCH_KEY, "AES-256-GCM");

    /** Plaintext vl2 mode (the constructor without keys). */
    private static final AgentStatus PLAINTEXT = new AgentStatus("vl2tap0", MacAddress.valueOf("02:76:6c:32:00:01"),
            1400, List.of("10.1.1.101/24"), null, "203.0.113.7:9991", "203.0.113.7:9991", "192.0.2.5:41234", "vl2",
            AgentState.RUNNING, null, 1, 60, 1, 60, 0, NOW.minusSeconds(60), NOW.minusSeconds(1), "0000000000000000",
            "0123456789abcdef", 3, List.of("10.1.1.101/24"), null, 0);

    private static final String PROBLEM = "ICMP port unreachable from 203.0.113.7:9990: is the vl2 switch running"
            + " there and listening on UDP port 9990?";

    /** Raw mode (the constructor without the vl2 fields). */
    private static final AgentStatus UNREACHABLE = new AgentStatus("vl2tap0", MacAddress.valueOf("02:76:6c:32:00:01"),
            1454, List.of(), "br0", "203.0.113.7:9990", null, null, "raw", AgentState.SWITCH_UNREACHABLE, PROBLEM, 0, 0,
            0, 0, 7, NOW.minusSeconds(30), null);

    /** vxlan mode: VNI 42, no network configured, no member, port, assignment or RTT. */
    private static final AgentStatus VXLAN = new AgentStatus("vl2tap0", MacAddress.valueOf("02:76:6c:32:00:01"),
            1450, List.of("10.1.1.101/24"), null, "203.0.113.7:4789", "203.0.113.7:4789", "192.0.2.5:4789", "vxlan",
            AgentState.RUNNING, null, 10, 1000, 20, 2000, 1, NOW.minusSeconds(60), NOW.minusSeconds(1), null, null, 0,
            List.of(), null, 42);

    private final FakeAgentService agent = new FakeAgentService();
    private final AgentCommand command = new AgentCommand();
    private final Out out = new Out();

    @BeforeEach
    void setUp() {
        agent.status = RUNNING;
        command.agents = List.of(agent);
    }

    @Test
    void tableShowsEveryFieldInOrder() {
        command.execute(out.stream, NOW);

        List<String> lines = out.lines();
        assertEquals(List.of("Name", "Value"), Out.tableCells(lines.get(0)));
        assertEquals(List.of(
                List.of("State", "RUNNING"),
                List.of("Mode", "vl2"),
                List.of("Encryption", "encrypted (AES-256-GCM)"),
                List.of("Network", "8056c2e21c000001"),
                List.of("VNI", "-"),
                List.of("Member", "0123456789abcdef"),
                List.of("Public key", PUBLIC_KEY),
                List.of("Port", "7"),
                List.of("TAP", "vl2tap0"),
                List.of("MAC", "02:76:6c:32:00:01"),
                List.of("MTU", "1454"),
                List.of("Addresses", "10.1.1.101/24, fd00:1::101/64"),
                List.of("Assigned", "10.1.1.101/24"),
                List.of("Bridge", "-"),
                List.of("Switch", "switch.example.org:9991"),
                List.of("Switch key", SWITCH_KEY),
                List.of("Switch resolved", "203.0.113.7:9991"),
                List.of("Local address", "192.0.2.5:41234"),
                List.of("Switch RTT", "0.84 ms"),
                List.of("Frames sent", "1200"),
                List.of("Bytes sent", "180000"),
                List.of("Frames received", "1100"),
                List.of("Bytes received", "150000"),
                List.of("Drops", "3"),
                List.of("Up since", "2026-01-01T11:00:00Z (60m ago)"),
                List.of("Last from switch", "2s ago")),
                lines.subList(2, lines.size()).stream().map(Out::tableCells).toList());
    }

    @Test
    void problemRowOnlyWhenThereIsOneAndWrapped() {
        command.execute(out.stream, NOW);
        assertFalse(out.text().contains("Problem"), out.text());

        Out unreachable = new Out();
        AgentCommand.render(UNREACHABLE, NOW, unreachable.stream, true);

        List<String> lines = unreachable.lines();
        assertEquals(List.of("State", "SWITCH_UNREACHABLE"), Out.tableCells(lines.get(2)));
        assertEquals("Problem", Out.tableCells(lines.get(3)).get(0));
        // the long problem wraps onto continuation rows with an empty name cell
        StringBuilder problem = new StringBuilder(Out.tableCells(lines.get(3)).get(1));
        int i = 4;
        while (Out.tableCells(lines.get(i)).get(0).isEmpty()) {
            problem.append(' ').append(Out.tableCells(lines.get(i)).get(1));
            i++;
        }
        assertTrue(i > 4, "expected the problem to wrap: " + unreachable.text());
        assertEquals(PROBLEM, problem.toString());
        assertTrue(lines.stream().allMatch(l -> l.length() <= "Last from switch | ".length()
                + AgentCommand.MAX_VALUE), unreachable.text());
        assertTrue(lines.contains("Addresses        | -"), unreachable.text());
        assertTrue(lines.contains("Encryption       | plaintext"), unreachable.text());
        assertTrue(lines.contains("Public key       | -"), unreachable.text());
        assertTrue(lines.contains("Switch key       | -"), unreachable.text());
        // raw mode has none of what vl2 mode adds
        assertTrue(lines.contains("Network          | -"), unreachable.text());
        assertTrue(lines.contains("VNI              | -"), unreachable.text());
        assertTrue(lines.contains("Member           | -"), unreachable.text());
        assertTrue(lines.contains("Port             | -"), unreachable.text());
        assertTrue(lines.contains("Assigned         | -"), unreachable.text());
        assertTrue(lines.contains("Switch RTT       | -"), unreachable.text());
        assertTrue(lines.contains("Bridge           | br0"), unreachable.text());
        assertTrue(lines.contains("Switch resolved  | -"), unreachable.text());
        assertTrue(lines.contains("Local address    | -"), unreachable.text());
        assertTrue(lines.contains("Last from switch | never"), unreachable.text());
    }

    @Test
    void wrapsAtSpacesOnly() {
        assertEquals(List.of("aaa bbb", "ccc"), AgentCommand.wrap("aaa bbb ccc", 7));
        assertEquals(List.of("aaa", "bbbbbbbbbb", "c"), AgentCommand.wrap("aaa bbbbbbbbbb c", 5));
        assertEquals(List.of("one line"), AgentCommand.wrap("one line", 80));
        // a word that ends exactly at the width stays whole (ShellTable's own wrap drops its last letter)
        assertEquals(List.of("12345 7890", "and"), AgentCommand.wrap("12345 7890 and", 10));
    }

    @Test
    void noFormatKeepsTheProblemOnOneLine() {
        AgentCommand.render(UNREACHABLE, NOW, out.stream, false);

        List<String> lines = out.lines();
        assertEquals(List.of("Problem", PROBLEM), Out.cells(lines.get(1)));
        assertEquals(List.of("Mode", "raw"), Out.cells(lines.get(2)));
        assertEquals(List.of("Encryption", "plaintext"), Out.cells(lines.get(3)));
    }

    @Test
    void noFormat() {
        command.noFormat = true;
        command.execute(out.stream, NOW);

        String text = out.text();
        assertFalse(text.contains("|"), text);
        assertFalse(text.contains("Value"), text);
        List<String> lines = out.lines();
        assertEquals(26, lines.size());
        assertEquals(List.of("State", "RUNNING"), Out.cells(lines.get(0)));
        assertEquals(List.of("Encryption", "encrypted (AES-256-GCM)"), Out.cells(lines.get(2)));
        assertEquals(List.of("Public key", PUBLIC_KEY), Out.cells(lines.get(6)));
        assertEquals(List.of("Port", "7"), Out.cells(lines.get(7)));
        assertEquals(List.of("Switch key", SWITCH_KEY), Out.cells(lines.get(15)));
        assertEquals(List.of("Switch RTT", "0.84 ms"), Out.cells(lines.get(18)));
        assertEquals(List.of("Frames sent", "1200"), Out.cells(lines.get(19)));
    }

    @Test
    void json() {
        command.json = true;
        command.execute(out.stream, NOW);

        Map<String, Object> json = Json.object(out.text().trim());
        assertEquals(List.of("state", "problem", "mode", "encrypted", "cipher", "network", "vni", "memberId", "publicKey",
                "portId", "tapName", "tapMac", "mtu", "addresses", "assignedAddresses", "bridge", "switchAddress",
                "switchKey", "switchResolved", "localAddress", "switchRttMicros", "tapRxFrames", "tapRxBytes",
                "tapTxFrames", "tapTxBytes", "drops", "since", "lastFromSwitch", "lastFromSwitchSecondsAgo"),
                List.copyOf(json.keySet()));
        assertEquals("RUNNING", json.get("state"));
        assertEquals("vl2", json.get("mode"));
        assertEquals(true, json.get("encrypted"));
        assertEquals("AES-256-GCM", json.get("cipher"));
        assertEquals(PUBLIC_KEY, json.get("publicKey"));
        assertEquals(SWITCH_KEY, json.get("switchKey"));
        assertEquals("8056c2e21c000001", json.get("network"));
        assertNull(json.get("vni"), "not vxlan mode");
        assertEquals("0123456789abcdef", json.get("memberId"));
        assertEquals(7L, json.get("portId"));
        assertEquals(List.of("10.1.1.101/24"), json.get("assignedAddresses"));
        assertEquals(843L, json.get("switchRttMicros"));
        assertNull(json.get("problem"));
        assertEquals("02:76:6c:32:00:01", json.get("tapMac"));
        assertEquals(1454L, json.get("mtu"));
        assertEquals(List.of("10.1.1.101/24", "fd00:1::101/64"), json.get("addresses"));
        assertNull(json.get("bridge"));
        assertEquals("203.0.113.7:9991", json.get("switchResolved"));
        assertEquals(1200L, json.get("tapRxFrames"));
        assertEquals(150_000L, json.get("tapTxBytes"));
        assertEquals(3L, json.get("drops"));
        assertEquals("2026-01-01T11:00:00Z", json.get("since"));
        assertEquals("2026-01-01T11:59:58Z", json.get("lastFromSwitch"));
        assertEquals(2L, json.get("lastFromSwitchSecondsAgo"));
    }

    @Test
    void jsonWhenUnreachable() {
        Map<String, Object> json = Json.object(AgentCommand.json(UNREACHABLE, NOW));

        assertEquals("SWITCH_UNREACHABLE", json.get("state"));
        assertEquals(PROBLEM, json.get("problem"));
        assertEquals("raw", json.get("mode"));
        assertEquals(false, json.get("encrypted"));
        assertNull(json.get("publicKey"));
        assertNull(json.get("switchKey"));
        assertNull(json.get("network"));
        assertNull(json.get("vni"));
        assertNull(json.get("memberId"));
        assertNull(json.get("portId"));
        assertEquals(List.of(), json.get("assignedAddresses"));
        assertNull(json.get("switchRttMicros"));
        assertEquals(List.of(), json.get("addresses"));
        assertEquals("br0", json.get("bridge"));
        assertNull(json.get("switchResolved"));
        assertNull(json.get("localAddress"));
        assertNull(json.get("lastFromSwitch"));
        assertNull(json.get("lastFromSwitchSecondsAgo"));
    }

    @Test
    void anEncryptedAgentShowsItsPairsAndWhatWentStraightToOtherMembers() {
        Map<String, Long> counters = Map.of(org.vl2.api.AgentService.PAIRS_SENDING, 2L,
                org.vl2.api.AgentService.PAIRS_DIRECT, 1L, org.vl2.api.AgentService.PAIRS_RECEIVING, 3L,
                org.vl2.api.AgentService.PAIR_FRAMES_SEALED, 900L, org.vl2.api.AgentService.PAIR_FRAMES_OPENED, 800L,
                org.vl2.api.AgentService.DIRECT_FRAMES_SENT, 700L, org.vl2.api.AgentService.DIRECT_FRAMES_RECEIVED,
                600L);
        AgentCommand.render(UNREACHABLE, null, counters, NOW, out.stream, false);
        List<String> lines = out.lines();
        assertTrue(lines.stream().anyMatch(l -> Out.cells(l).equals(List.of("Pairs", "send 2 (direct 1), receive 3"))),
                String.join("\n", lines));
        assertTrue(lines.stream().anyMatch(l -> Out.cells(l).equals(List.of("Pair frames", "sealed 900, opened 800"))));
        assertTrue(lines.stream().anyMatch(l -> Out.cells(l).equals(List.of("Direct frames",
                "sent 700, received 600"))));
        Out plain = new Out();
        AgentCommand.render(PLAINTEXT, NOW, plain.stream, false);
        assertFalse(plain.lines().stream().anyMatch(l -> l.startsWith("Pairs")), "no pair keys, no rows");
    }

    @Test
    void plaintextVl2ShowsTheMembersKeyButNoSwitchKey() {
        AgentCommand.render(PLAINTEXT, NOW, out.stream, false);

        List<String> lines = out.lines();
        assertEquals(List.of("Mode", "vl2"), Out.cells(lines.get(1)));
        assertEquals(List.of("Encryption", "plaintext"), Out.cells(lines.get(2)));
        assertEquals(List.of("Public key", "-"), Out.cells(lines.get(6)), "the old constructor has no keys");
        assertEquals(List.of("Switch key", "-"), Out.cells(lines.get(15)));

        AgentStatus withKey = new AgentStatus(PLAINTEXT.tapName(), PLAINTEXT.tapMac(), PLAINTEXT.mtu(),
                PLAINTEXT.addresses(), null, PLAINTEXT.switchAddress(), PLAINTEXT.switchResolved(),
                PLAINTEXT.localAddress(), "vl2", AgentState.RUNNING, null, 0, 0, 0, 0, 0, PLAINTEXT.since(), null,
                PLAINTEXT.network(), PLAINTEXT.memberId(), 3, List.of(), null, 0, PUBLIC_KEY, false, null);
        Map<String, Object> json = Json.object(AgentCommand.json(withKey, NOW));
        assertEquals(false, json.get("encrypted"));
        assertEquals(PUBLIC_KEY, json.get("publicKey"), "a plaintext member has a key too");
        assertNull(json.get("switchKey"));
    }

    @Test
    void vxlanShowsTheVniAndThatItIsPlaintext() {
        AgentCommand.render(VXLAN, NOW, out.stream, true);

        List<String> lines = out.lines();
        assertEquals(List.of("Mode", "vxlan (plaintext, no identity)"), Out.tableCells(lines.get(3)));
        assertEquals(List.of("Encryption", "plaintext"), Out.tableCells(lines.get(4)));
        assertEquals(List.of("Network", "-"), Out.tableCells(lines.get(5)));
        assertEquals(List.of("VNI", "42"), Out.tableCells(lines.get(6)));
        assertEquals(List.of("Member", "-"), Out.tableCells(lines.get(7)));
        assertEquals(List.of("Public key", "-"), Out.tableCells(lines.get(8)));
        assertEquals(List.of("Port", "-"), Out.tableCells(lines.get(9)));
        assertTrue(lines.contains("Switch           | 203.0.113.7:4789"), out.text());
        assertTrue(lines.contains("Local address    | 192.0.2.5:4789"), out.text());
        assertTrue(lines.contains("MTU              | 1450"), out.text());

        Map<String, Object> json = Json.object(AgentCommand.json(VXLAN, NOW));
        assertEquals("vxlan", json.get("mode"), "the mode itself, for scripts");
        assertEquals(42L, json.get("vni"));
        assertNull(json.get("network"));
        assertNull(json.get("portId"));
        assertEquals("203.0.113.7:4789", json.get("switchAddress"));
    }

    /**
     * An agent with managed routes: after the usual rows, what it accepts, its gateway mode, the routes the switch
     * pushed (installed, or why not) and the kernel routes it installed; in JSON a routes object last.
     */
    @Test
    void routesSection() {
        agent.routes = new AgentRoutes(true, false, "IPv4 forwarding on vl2tap0, lan0; no masquerade", "5:3", List.of(
                new AgentRoutes.Offered("192.168.60.0/24 via 10.50.0.5", true, null),
                new AgentRoutes.Offered("0.0.0.0/0 via 10.50.0.5 metric 100", false,
                        "not accepted (accept.default.route, --accept-default-route is off)")),
                List.of("192.168.60.0/24 via 10.50.0.5 dev vl2tap0"));
        command.noFormat = true;
        command.execute(out.stream, NOW);
        List<String> lines = out.lines();
        int last = lines.indexOf(lines.stream().filter(l -> l.startsWith("Last from switch")).findFirst().orElse(""));
        assertTrue(last > 0, out.text());
        assertEquals(List.of(
                List.of("Accepts routes", "specific yes, default (0.0.0.0/0, ::/0) no"),
                List.of("Gateway mode", "IPv4 forwarding on vl2tap0, lan0; no masquerade"),
                List.of("Routes version", "5:3"),
                List.of("Route", "192.168.60.0/24 via 10.50.0.5: installed"),
                List.of("Route", "0.0.0.0/0 via 10.50.0.5 metric 100: not installed, not accepted"
                        + " (accept.default.route, --accept-default-route is off)"),
                List.of("Kernel route", "192.168.60.0/24 via 10.50.0.5 dev vl2tap0")),
                lines.subList(last + 1, lines.size()).stream().map(Out::cells).toList());

        Out formatted = new Out();
        command.noFormat = false;
        command.execute(formatted.stream, NOW);
        assertTrue(formatted.lines().stream().allMatch(l -> l.length() <= AgentCommand.MAX_VALUE + 40),
                "long routes wrap: " + formatted.text());

        Out json = new Out();
        command.json = true;
        command.execute(json.stream, NOW);
        @SuppressWarnings("unchecked")
        Map<String, Object> routes = (Map<String, Object>) Json.object(json.text().trim()).get("routes");
        assertEquals(List.of("acceptRoutes", "acceptDefaultRoute", "gateway", "version", "offered", "installed"),
                List.copyOf(routes.keySet()));
        assertEquals(false, routes.get("acceptDefaultRoute"));
        assertEquals(List.of("192.168.60.0/24 via 10.50.0.5 dev vl2tap0"), routes.get("installed"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> offered = (List<Map<String, Object>>) routes.get("offered");
        assertEquals(Map.of("route", "192.168.60.0/24 via 10.50.0.5", "installed", true), offered.get(0).entrySet()
                .stream().filter(e -> e.getValue() != null).collect(java.util.stream.Collectors.toMap(
                        Map.Entry::getKey, Map.Entry::getValue)));
        assertEquals(false, offered.get(1).get("installed"));
    }

    /** An agent without managed routes (raw, vxlan, plaintext) shows no routes rows and no routes object. */
    @Test
    void noRoutesSectionWithoutManagedRoutes() {
        command.execute(out.stream, NOW);
        assertFalse(out.text().contains("Routes version"), out.text());
        Out json = new Out();
        command.json = true;
        command.execute(json.stream, NOW);
        assertFalse(Json.object(json.text().trim()).containsKey("routes"));
    }
}

package org.vl2.shell.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.shell.command.Fixtures.NOW;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vl2.api.PortCounters;
import org.vl2.api.PortId;
import org.vl2.api.PortInfo;
import org.vl2.api.test.FakeSwitchService;

class PortsCommandTest {

    private final FakeSwitchService switchService = new FakeSwitchService();
    private final PortsCommand command = new PortsCommand();
    private final Out out = new Out();

    @BeforeEach
    void setUp() {
        switchService.ports.add(new PortInfo(PortId.of(10), 0xabc, "udp", "raw", "[2001:db8::7]:40001",
                new PortCounters(1_000_000, 1_500_000_000L, 3, 4, 5, 6), NOW.minusSeconds(3600), NOW.minusSeconds(300)));
        switchService.ports.add(new PortInfo(PortId.of(2), 0, "udp", "raw", "192.0.2.7:40001",
                new PortCounters(10, 1500, 20, 3000, 0, 0), NOW.minusSeconds(60), NOW.minusMillis(3_400)));
        switchService.ports.add(new PortInfo(PortId.of(3), 0, "tap", null, null, PortCounters.ZERO, NOW, null));
        command.switchService = switchService;
    }

    @Test
    void tableShowsPortsSortedById() throws Exception {
        command.execute(out.stream, NOW);

        List<String> lines = out.lines();
        assertEquals(List.of("Port", "Network", "Transport", "Mode", "Remote", "Member", "Address", "RX frames",
                "RX bytes", "TX frames", "TX bytes", "Drops", "Last seen"), Out.tableCells(lines.get(0)));
        assertEquals(List.of("2", "0000000000000000", "udp", "raw", "192.0.2.7:40001", "-", "-", "10", "1500", "20",
                "3000", "0", "3s ago"), Out.tableCells(lines.get(2)));
        assertEquals(List.of("3", "0000000000000000", "tap", "-", "-", "-", "-", "0", "0", "0", "0", "0", "never"),
                Out.tableCells(lines.get(3)));
        assertEquals(List.of("10", "0000000000000abc", "udp", "raw", "[2001:db8::7]:40001", "-", "-", "1000000",
                "1500000000", "3", "4", "11", "5m ago"), Out.tableCells(lines.get(4)));
        assertEquals(5, lines.size());
    }

    @Test
    void vl2MembersShowTheirNameAndAddressAndTheNetworkFilterKeepsTheirNetworkOnly() throws Exception {
        switchService.networks.add(new org.vl2.api.NetworkInfo(0xa1, "lab", 1400, "learning", "10.1.0.0/24", null,
                true, 1, List.of()));
        switchService.ports.add(new PortInfo(PortId.of(4), 0xa1, "vl2", "vl2", "192.0.2.9:5000", PortCounters.ZERO,
                NOW, NOW, "00000000000000aa", "h1", "10.1.0.1"));
        switchService.ports.add(new PortInfo(PortId.of(5), 0xa1, "vl2", "vl2", "192.0.2.9:5001", PortCounters.ZERO,
                NOW, NOW, "00000000000000bb", null, null));
        command.network = "a1";
        command.execute(out.stream, NOW);

        List<String> lines = out.lines();
        assertEquals(4, lines.size(), String.join("\n", lines));
        assertEquals(List.of("h1", "10.1.0.1"), Out.tableCells(lines.get(2)).subList(5, 7));
        assertEquals(List.of("00000000000000bb", "-"), Out.tableCells(lines.get(3)).subList(5, 7));
    }

    @Test
    void anUnknownNetworkIsAClearError() {
        command.network = "beef";
        org.apache.karaf.shell.support.CommandException e = org.junit.jupiter.api.Assertions.assertThrows(
                org.apache.karaf.shell.support.CommandException.class, () -> command.execute(out.stream, NOW));
        assertTrue(e.getNiceHelp().contains("no network 000000000000beef on this switch"), e.getNiceHelp());
        command.network = "xyz";
        e = org.junit.jupiter.api.Assertions.assertThrows(org.apache.karaf.shell.support.CommandException.class,
                () -> command.execute(out.stream, NOW));
        assertTrue(e.getNiceHelp().contains("not a network id"), e.getNiceHelp());
    }

    @Test
    void countersAreRightAligned() throws Exception {
        command.execute(out.stream, NOW);

        List<String> lines = out.lines();
        // "RX bytes" is as wide as 1500000000 (10): 1500 is padded on the left
        assertTrue(lines.get(2).contains("|       1500 |"), lines.get(2));
        assertTrue(lines.get(2).startsWith("   2 |"), lines.get(2));
        assertTrue(lines.get(4).startsWith("  10 |"), lines.get(4));
    }

    @Test
    void longRemotesAreCut() {
        String remote = "x".repeat(60);
        PortsCommand.render(List.of(new PortInfo(PortId.of(1), 0, "udp", "raw", remote, PortCounters.ZERO, NOW, NOW)),
                NOW, out.stream, true);

        String cell = Out.tableCells(out.lines().get(2)).get(4);
        assertTrue(cell.length() < PortsCommand.MAX_REMOTE, cell);
        assertTrue(remote.startsWith(cell));
    }

    @Test
    void noFormat() throws Exception {
        command.noFormat = true;
        command.execute(out.stream, NOW);

        String text = out.text();
        assertFalse(text.contains("|"), text);
        assertFalse(text.contains("---"), text);
        assertFalse(text.contains("RX frames"), text);
        List<String> lines = out.lines();
        assertEquals(3, lines.size());
        assertEquals(List.of("2", "0000000000000000", "udp", "raw", "192.0.2.7:40001", "-", "-", "10", "1500", "20",
                "3000", "0", "3s ago"), Out.cells(lines.get(0)));
    }

    @Test
    void emptyTableText() throws Exception {
        switchService.ports.clear();
        command.execute(out.stream, NOW);

        assertEquals("No ports", out.lines().get(2));
        assertEquals(3, out.lines().size());
    }

    @Test
    void json() throws Exception {
        command.json = true;
        command.execute(out.stream, NOW);

        List<Map<String, Object>> ports = Json.arrayOfObjects(out.text().trim());
        assertEquals(List.of(2L, 3L, 10L), ports.stream().map(p -> p.get("port")).toList());
        Map<String, Object> p10 = ports.get(2);
        assertEquals("0000000000000abc", p10.get("network"));
        assertEquals("[2001:db8::7]:40001", p10.get("remote"));
        assertEquals(1_500_000_000L, p10.get("rxBytes"));
        assertEquals(5L, p10.get("rxDrops"));
        assertEquals(6L, p10.get("txDrops"));
        assertEquals("2026-01-01T11:00:00Z", p10.get("created"));
        assertEquals("2026-01-01T11:55:00Z", p10.get("lastSeen"));
        assertEquals(300L, p10.get("lastSeenSecondsAgo"));
        Map<String, Object> p3 = ports.get(1);
        assertTrue(p3.containsKey("mode"));
        assertNull(p3.get("mode"));
        assertNull(p3.get("remote"));
        assertNull(p3.get("lastSeen"));
        assertNull(p3.get("lastSeenSecondsAgo"));
    }

    @Test
    void jsonIsExact() {
        String json = PortsCommand.json(List.of(new PortInfo(PortId.of(1), 0, "udp", "raw", "a\"b",
                new PortCounters(1, 2, 3, 4, 5, 6), NOW, NOW.minusSeconds(2))), NOW);

        assertEquals("[{\"port\":1,\"network\":\"0000000000000000\",\"transport\":\"udp\",\"mode\":\"raw\","
                + "\"remote\":\"a\\\"b\",\"member\":null,\"name\":null,\"address\":null,\"rxFrames\":1,\"rxBytes\":2,\"txFrames\":3,\"txBytes\":4,\"rxDrops\":5,"
                + "\"txDrops\":6,\"created\":\"2026-01-01T12:00:00Z\",\"lastSeen\":\"2026-01-01T11:59:58Z\","
                + "\"lastSeenSecondsAgo\":2}]", json);
        assertEquals("[]", PortsCommand.json(List.of(), NOW));
    }
}

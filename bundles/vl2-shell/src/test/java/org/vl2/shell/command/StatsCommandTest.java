package org.vl2.shell.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vl2.api.MacTableStatistics;
import org.vl2.api.SwitchStatistics;
import org.vl2.api.test.FakeMacTable;
import org.vl2.api.test.FakeSwitchService;

class StatsCommandTest {

    private static final SwitchStatistics SWITCH = new SwitchStatistics(2, 1000, 150_000, 1800, 270_000, 700, 290,
            4, 1, 2, 3, 40, 50, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 21, 22, 23, 31, 18, 33, 34);
    private static final MacTableStatistics MACS = new MacTableStatistics(12, 2, 4096, 0, 300, 30, 5, 16, 1, 0);

    private final FakeSwitchService switchService = new FakeSwitchService();
    private final FakeMacTable table = new FakeMacTable();
    private final StatsCommand command = new StatsCommand();
    private final Out out = new Out();

    @BeforeEach
    void setUp() {
        switchService.statistics = SWITCH;
        table.statistics = MACS;
        command.switchService = switchService;
        command.macTable = table;
    }

    @Test
    void tablesListEveryCounter() {
        command.execute(out.stream);

        List<String> lines = out.lines();
        assertEquals(List.of("Switch", "Value"), Out.tableCells(lines.get(0)));
        assertEquals(List.of(
                List.of("Ports", "2"),
                List.of("RX frames", "1000"),
                List.of("RX bytes", "150000"),
                List.of("TX frames", "1800"),
                List.of("TX bytes", "270000"),
                List.of("Unicast", "700"),
                List.of("Flooded", "290"),
                List.of("Filtered", "4"),
                List.of("Drops: runt", "1"),
                List.of("Drops: oversize", "2"),
                List.of("Drops: source multicast", "3"),
                List.of("Drops: no policy", "40"),
                List.of("Drops: by policy", "50"),
                List.of("Drops: port limit", "6"),
                List.of("Drops: port quota", "12"),
                List.of("Drops: unknown network", "8"),
                List.of("Drops: malformed message", "9"),
                List.of("Drops: bad session", "10"),
                List.of("Drops: storm control", "11"),
                List.of("Drops: MAC limit", "13"),
                List.of("Drops: DHCP client MAC", "14"),
                List.of("Drops: DHCP rate", "15"),
                List.of("Drops: IP guard", "16"),
                List.of("Drops: sealed network", "17"),
                List.of("Drops: pair", "18"),
                List.of("Drops: total", "245"),
                List.of("TX errors", "7"),
                List.of("Handshakes", "21"),
                List.of("Cookie replies", "22"),
                List.of("Handshakes throttled", "23"),
                List.of("Pair frames", "31"),
                List.of("Pairs made", "33"),
                List.of("Pairs ended", "34")),
                lines.subList(2, 35).stream().map(Out::tableCells).toList());
        assertEquals("", lines.get(35));
        assertEquals(List.of("MAC table", "Value"), Out.tableCells(lines.get(36)));
        assertEquals(List.of(
                List.of("Entries", "12"),
                List.of("Static entries", "2"),
                List.of("Capacity", "4096"),
                List.of("Per-port limit", "none"),
                List.of("Ageing", "300s"),
                List.of("Learned", "30"),
                List.of("Moved", "5"),
                List.of("Aged", "16"),
                List.of("Evicted", "1"),
                List.of("Refused", "0")),
                lines.subList(38, lines.size()).stream().map(Out::tableCells).toList());
    }

    @Test
    void valuesAreRightAligned() {
        command.execute(out.stream);

        List<String> lines = out.lines();
        assertTrue(lines.get(2).endsWith("|      2"), lines.get(2));
        assertTrue(lines.get(3).endsWith("|   1000"), lines.get(3));
    }

    @Test
    void limitAndAgeingWhenSet() {
        StatsCommand.render(SWITCH, new MacTableStatistics(0, 0, 10, 64, 0, 0, 0, 0, 0, 0), out.stream, true);

        assertTrue(out.lines().contains("Per-port limit |    64"), out.text());
        assertTrue(out.lines().contains("Ageing         | never"), out.text());
    }

    @Test
    void noFormat() {
        command.noFormat = true;
        command.execute(out.stream);

        String text = out.text();
        assertFalse(text.contains("|"), text);
        assertFalse(text.contains("Value"), text);
        List<String> lines = out.lines();
        assertEquals(33 + 10, lines.size());
        assertEquals(List.of("Drops: total", "245"), Out.cells(lines.get(25)));
        assertEquals(List.of("Refused", "0"), Out.cells(lines.get(42)));
    }

    @Test
    void json() {
        command.json = true;
        command.execute(out.stream);

        Map<String, Object> json = Json.object(out.text().trim());
        @SuppressWarnings("unchecked")
        Map<String, Object> sw = (Map<String, Object>) json.get("switch");
        @SuppressWarnings("unchecked")
        Map<String, Object> mt = (Map<String, Object>) json.get("macTable");
        assertEquals(List.of("switch", "macTable"), List.copyOf(json.keySet()));
        assertEquals(List.of("ports", "rxFrames", "rxBytes", "txFrames", "txBytes", "unicast", "flooded", "filtered",
                "dropRunt", "dropOversize", "dropSourceMulticast", "dropNoPolicy", "dropPolicy", "dropPortLimit",
                "dropPortQuota", "dropUnknownNetwork", "malformed", "badSession", "dropStorm", "dropMacLimit",
                "dropDhcpSpoofed", "dropDhcpRate", "dropIpGuard", "dropSealed", "drops", "txErrors", "handshakes",
                "cookieReplies", "handshakesThrottled", "pairFrames", "pairDrops", "pairsMade", "pairsEnded"),
                List.copyOf(sw.keySet()));
        assertEquals(22L, sw.get("cookieReplies"));
        assertEquals(245L, sw.get("drops"));
        assertEquals(31L, sw.get("pairFrames"));
        assertEquals(18L, sw.get("pairDrops"));
        assertEquals(12L, sw.get("dropPortQuota"));
        assertEquals(16L, sw.get("dropIpGuard"));
        assertEquals(17L, sw.get("dropSealed"));
        assertEquals(10L, sw.get("badSession"));
        assertEquals(6L, sw.get("dropPortLimit"));
        assertEquals(7L, sw.get("txErrors"));
        assertEquals(Map.of("size", 12L, "staticSize", 2L, "capacity", 4096L, "perPortLimit", 0L, "ageingSeconds",
                300L, "learned", 30L, "moved", 5L, "aged", 16L, "evicted", 1L, "refused", 0L), mt);
    }
}

package org.vl2.shell.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.api.test.FakeMacTable.dynamic;
import static org.vl2.api.test.FakeMacTable.fixed;

import java.util.List;
import java.util.Map;

import org.apache.karaf.shell.support.CommandException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vl2.api.test.FakeMacTable;

class MacTableCommandTest {

    private final FakeMacTable table = new FakeMacTable();
    private final MacTableCommand command = new MacTableCommand();
    private final Out out = new Out();

    @BeforeEach
    void fill() {
        // deliberately out of order
        table.entries.add(dynamic(0x1, 10, "02:00:00:00:00:0b", 2, 12_900, 3));
        table.entries.add(dynamic(0x0, 0, "02:00:00:00:00:0a", 1, 4_000, 0));
        table.entries.add(fixed(0x0, 0, "02:00:00:00:00:01", 3));
        table.entries.add(dynamic(0x8000_0000_0000_0000L, 0, "02:00:00:00:00:0c", 12, 1_000, 0));
        table.entries.add(dynamic(0x1, 5, "02:00:00:00:00:0b", 1, 0, 7));
        command.macTable = table;
    }

    @Test
    void tableShowsAllColumnsSortedByNetworkVlanMac() throws Exception {
        command.execute(out.stream);

        List<String> lines = out.lines();
        assertEquals(List.of("MAC", "Network", "VLAN", "Port", "Type", "Age", "Moves"), Out.tableCells(lines.get(0)));
        assertTrue(lines.get(1).matches("[-+]+"), lines.get(1));
        assertEquals(List.of("02:00:00:00:00:01", "0000000000000000", "0", "3", "static", "-", "0"),
                Out.tableCells(lines.get(2)));
        assertEquals(List.of("02:00:00:00:00:0a", "0000000000000000", "0", "1", "dynamic", "4s", "0"),
                Out.tableCells(lines.get(3)));
        assertEquals(List.of("02:00:00:00:00:0b", "0000000000000001", "5", "1", "dynamic", "0s", "7"),
                Out.tableCells(lines.get(4)));
        assertEquals(List.of("02:00:00:00:00:0b", "0000000000000001", "10", "2", "dynamic", "12s", "3"),
                Out.tableCells(lines.get(5)));
        // network ids sort as unsigned, like their hex form
        assertEquals(List.of("02:00:00:00:00:0c", "8000000000000000", "0", "12", "dynamic", "1s", "0"),
                Out.tableCells(lines.get(6)));
        assertEquals(7, lines.size());
    }

    @Test
    void numericColumnsAreRightAligned() throws Exception {
        command.execute(out.stream);

        List<String> lines = out.lines();
        // "Port" header is 4 wide: port 3 is printed as "   3", 12 as "  12"
        assertTrue(lines.get(2).contains("|    3 | static "), lines.get(2));
        assertTrue(lines.get(6).contains("|   12 | dynamic"), lines.get(6));
        assertTrue(lines.get(5).contains("|   10 |"), lines.get(5));
        assertTrue(lines.get(5).endsWith("| 12s |     3"), lines.get(5));
    }

    @Test
    void filterByPort() throws Exception {
        command.port = "p1";
        command.execute(out.stream);

        assertEquals(List.of("02:00:00:00:00:0a", "02:00:00:00:00:0b"), firstColumn());
        assertEquals("5", Out.tableCells(out.lines().get(3)).get(2));
    }

    @Test
    void filterByMac() throws Exception {
        command.mac = "02-00-00-00-00-0B";
        command.execute(out.stream);

        assertEquals(List.of("02:00:00:00:00:0b", "02:00:00:00:00:0b"), firstColumn());
    }

    @Test
    void filterByNetworkAndVlan() throws Exception {
        command.network = "1";
        command.execute(out.stream);
        assertEquals(List.of("02:00:00:00:00:0b", "02:00:00:00:00:0b"), firstColumn());

        Out second = new Out();
        command.vlan = "10";
        command.execute(second.stream);
        List<String> lines = second.lines();
        assertEquals(3, lines.size());
        assertEquals(List.of("02:00:00:00:00:0b", "0000000000000001", "10", "2", "dynamic", "12s", "3"),
                Out.tableCells(lines.get(2)));
    }

    @Test
    void filtersCombineAndCanMatchNothing() throws Exception {
        command.port = "3";
        command.vlan = "10";
        command.execute(out.stream);

        assertEquals("No MAC entries", out.lines().get(2));
        assertEquals(3, out.lines().size());
    }

    @Test
    void emptyTableText() {
        MacTableCommand.render(List.of(), out.stream, true);

        List<String> lines = out.lines();
        assertEquals(List.of("MAC", "Network", "VLAN", "Port", "Type", "Age", "Moves"), Out.tableCells(lines.get(0)));
        assertEquals("No MAC entries", lines.get(2));
    }

    @Test
    void noFormatIsTabSeparatedWithoutHeaderOrBorders() throws Exception {
        command.noFormat = true;
        command.execute(out.stream);

        String text = out.text();
        assertFalse(text.contains("|"), text);
        assertFalse(text.contains("\u2502"), text);
        assertFalse(text.contains("---"), text);
        assertFalse(text.contains("MAC"), text);
        List<String> lines = out.lines();
        assertEquals(5, lines.size());
        for (String line : lines) {
            assertEquals(7, line.split("\t").length, line);
        }
        assertEquals(List.of("02:00:00:00:00:01", "0000000000000000", "0", "3", "static", "-", "0"),
                Out.cells(lines.get(0)));
        assertEquals(List.of("02:00:00:00:00:0c", "8000000000000000", "0", "12", "dynamic", "1s", "0"),
                Out.cells(lines.get(4)));
    }

    @Test
    void noFormatOfAnEmptyTablePrintsNothing() {
        MacTableCommand.render(List.of(), out.stream, false);

        assertEquals("", out.text());
    }

    @Test
    void jsonIsExact() {
        String json = MacTableCommand.json(List.of(fixed(0, 0, "02:00:00:00:00:01", 3),
                dynamic(0xabc, 10, "02:00:00:00:00:0b", 2, 12_900, 3)));

        assertEquals("[{\"mac\":\"02:00:00:00:00:01\",\"network\":\"0000000000000000\",\"vlan\":0,\"port\":3,"
                + "\"type\":\"static\",\"ageMillis\":0,\"moves\":0},"
                + "{\"mac\":\"02:00:00:00:00:0b\",\"network\":\"0000000000000abc\",\"vlan\":10,\"port\":2,"
                + "\"type\":\"dynamic\",\"ageMillis\":12900,\"moves\":3}]", json);
    }

    @Test
    void jsonOptionPrintsSortedFilteredEntries() throws Exception {
        command.json = true;
        command.noFormat = true; // --json wins
        command.port = "1";
        command.execute(out.stream);

        List<Map<String, Object>> entries = Json.arrayOfObjects(out.text().trim());
        assertEquals(2, entries.size());
        assertEquals("02:00:00:00:00:0a", entries.get(0).get("mac"));
        assertEquals(5L, entries.get(1).get("vlan"));
        assertEquals("0000000000000001", entries.get(1).get("network"));
        assertEquals(1, out.lines().size());
    }

    @Test
    void jsonOfNothingIsAnEmptyArray() throws Exception {
        table.entries.clear();
        command.json = true;
        command.execute(out.stream);

        assertEquals("[]" + System.lineSeparator(), out.text());
    }

    @Test
    void badMacIsAClearError() {
        command.mac = "zz";

        CommandException e = assertThrows(CommandException.class, () -> command.execute(out.stream));
        assertEquals("Error: not a MAC address: 'zz' (expected six hex octets such as 02:00:5e:10:00:01)",
                e.getMessage());
        assertEquals("", out.text());
    }

    @Test
    void badPortNetworkOrVlanIsAClearError() {
        command.port = "eth0";
        assertEquals("Error: not a port: 'eth0' (expected a port number such as 3)",
                assertThrows(CommandException.class, () -> command.execute(out.stream)).getMessage());

        command.port = null;
        command.network = "zz";
        assertEquals("Error: not a network id: 'zz' (expected up to 16 hex digits)",
                assertThrows(CommandException.class, () -> command.execute(out.stream)).getMessage());

        command.network = null;
        command.vlan = "4096";
        assertEquals("Error: not a VLAN id: '4096' (expected 0 for untagged, or 1 to 4095)",
                assertThrows(CommandException.class, () -> command.execute(out.stream)).getMessage());
        assertEquals("", out.text());
    }

    private List<String> firstColumn() {
        List<String> lines = out.lines();
        return lines.subList(2, lines.size()).stream().map(l -> Out.tableCells(l).get(0)).toList();
    }
}

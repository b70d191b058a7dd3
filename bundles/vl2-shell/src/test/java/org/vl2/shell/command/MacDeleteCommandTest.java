package org.vl2.shell.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.vl2.api.test.FakeMacTable.dynamic;
import static org.vl2.api.test.FakeMacTable.fixed;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vl2.api.test.FakeMacTable;

class MacDeleteCommandTest {

    private final FakeMacTable table = new FakeMacTable();
    private final MacDeleteCommand command = new MacDeleteCommand();
    private final Out out = new Out();

    @BeforeEach
    void setUp() {
        table.entries.add(fixed(0, 0, "02:00:00:00:00:01", 3));
        table.entries.add(dynamic(0, 0, "02:00:00:00:00:02", 1, 0, 0));
        table.entries.add(dynamic(0, 7, "02:00:00:00:00:02", 1, 0, 0));
        table.entries.add(dynamic(5, 0, "02:00:00:00:00:02", 2, 0, 0));
        command.macTable = table;
    }

    @Test
    void removesTheOnlyEntryOfAMac() throws Exception {
        command.mac = "02:00:00:00:00:01";
        command.execute(out.stream);

        assertEquals(3, table.entries.size());
        assertEquals("Removed static entry 02:00:00:00:00:01 (network 0000000000000000, vlan 0, port 3)"
                + System.lineSeparator(), out.text());
    }

    @Test
    void ambiguousMacListsTheCandidatesAndRemovesNothing() {
        command.mac = "02:00:00:00:00:02";

        assertEquals("Error: 02:00:00:00:00:02 has 3 entries (network 0000000000000000 vlan 0, network"
                + " 0000000000000000 vlan 7, network 0000000000000005 vlan 0); choose one with --network and --vlan",
                assertThrows(Exception.class, () -> command.execute(out.stream)).getMessage());
        assertEquals(4, table.entries.size());
    }

    @Test
    void optionsSelectTheEntry() throws Exception {
        command.mac = "02:00:00:00:00:02";
        command.vlan = "7";
        command.execute(out.stream);

        assertEquals("Removed dynamic entry 02:00:00:00:00:02 (network 0000000000000000, vlan 7, port 1)"
                + System.lineSeparator(), out.text());
        assertEquals(3, table.entries.size());

        command.vlan = null;
        command.network = "5";
        command.execute(out.stream);
        assertEquals(2, table.entries.size());
        assertEquals(0, table.entries.stream().filter(e -> e.network() == 5).count());
    }

    @Test
    void unknownMac() {
        command.mac = "02:00:00:00:00:99";

        assertEquals("Error: no MAC table entry for 02:00:00:00:00:99",
                assertThrows(Exception.class, () -> command.execute(out.stream)).getMessage());
    }

    @Test
    void wrongPlaceSaysWhereTheMacIs() {
        command.mac = "02:00:00:00:00:01";
        command.network = "1";
        command.vlan = "3";

        assertEquals("Error: no MAC table entry for 02:00:00:00:00:01 in network 0000000000000001, vlan 3"
                + " (it is in network 0000000000000000 vlan 0)",
                assertThrows(Exception.class, () -> command.execute(out.stream)).getMessage());
        assertEquals(4, table.entries.size());
    }

    @Test
    void badMac() {
        command.mac = "zz";

        assertEquals("Error: not a MAC address: 'zz' (expected six hex octets such as 02:00:5e:10:00:01)",
                assertThrows(Exception.class, () -> command.execute(out.stream)).getMessage());
    }
}

package org.vl2.shell.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vl2.api.MacAddress;
import org.vl2.api.MacEntry;
import org.vl2.api.PortId;
import org.vl2.api.test.FakeMacTable;
import org.vl2.api.test.FakeSwitchService;

class MacAddCommandTest {

    private final FakeMacTable table = new FakeMacTable();
    private final FakeSwitchService switchService = new FakeSwitchService();
    private final MacAddCommand command = new MacAddCommand();
    private final Out out = new Out();

    @BeforeEach
    void setUp() {
        switchService.ports.add(Fixtures.port(3, 0xabc));
        switchService.ports.add(Fixtures.port(1, 0));
        command.macTable = table;
        command.switchService = switchService;
        command.mac = "02:00:5e:10:00:01";
        command.port = "3";
    }

    @Test
    void addsAStaticEntryInThePortsNetwork() throws Exception {
        command.execute(out.stream);

        assertEquals(List.of(new MacEntry(0xabc, 0, MacAddress.valueOf("02:00:5e:10:00:01"), PortId.of(3), true, 0, 0)),
                table.entries);
        assertEquals("Added static entry 02:00:5e:10:00:01 -> port 3 (network 0000000000000abc, vlan 0)"
                + System.lineSeparator(), out.text());
    }

    @Test
    void vlanAndMatchingNetworkOptions() throws Exception {
        command.vlan = "42";
        command.network = "0xABC";
        command.execute(out.stream);

        assertEquals(1, table.entries.size());
        assertEquals(42, table.entries.get(0).vlan());
        assertEquals(0xabc, table.entries.get(0).network());
    }

    @Test
    void refusesAPortThatDoesNotExist() {
        command.port = "7";

        assertEquals("Error: no such port: 7 (ports: 1, 3)",
                assertThrows(Exception.class, () -> command.execute(out.stream)).getMessage());
        assertTrue(table.entries.isEmpty());
        assertEquals("", out.text());
    }

    @Test
    void refusesAnyPortWhenThereAreNone() {
        switchService.ports.clear();

        assertEquals("Error: no such port: 3 (the switch has no ports)",
                assertThrows(Exception.class, () -> command.execute(out.stream)).getMessage());
    }

    @Test
    void refusesANetworkOtherThanThePorts() {
        command.network = "1";

        assertEquals("Error: port 3 is in network 0000000000000abc, not in 0000000000000001",
                assertThrows(Exception.class, () -> command.execute(out.stream)).getMessage());
        assertTrue(table.entries.isEmpty());
    }

    @Test
    void refusesGroupAddresses() {
        command.mac = "01:00:5e:00:00:01";

        assertEquals("Error: 01:00:5e:00:00:01 is a group (multicast or broadcast) address; static entries need a"
                + " unicast MAC", assertThrows(Exception.class, () -> command.execute(out.stream)).getMessage());
        assertTrue(table.entries.isEmpty());
    }

    @Test
    void reportsAFullTable() {
        table.full = true;

        assertEquals("Error: MAC table is full of static entries (capacity 2)",
                assertThrows(Exception.class, () -> command.execute(out.stream)).getMessage());
    }

    @Test
    void badInput() {
        command.mac = "02:00:5e:10:00";
        assertEquals("Error: not a MAC address: '02:00:5e:10:00' (expected six hex octets such as 02:00:5e:10:00:01)",
                assertThrows(Exception.class, () -> command.execute(out.stream)).getMessage());

        command.mac = "02:00:5e:10:00:01";
        command.port = "-1";
        assertEquals("Error: not a port: '-1' (expected a port number such as 3)",
                assertThrows(Exception.class, () -> command.execute(out.stream)).getMessage());

        command.port = "3";
        command.vlan = "x";
        assertEquals("Error: not a VLAN id: 'x' (expected 0 for untagged, or 1 to 4095)",
                assertThrows(Exception.class, () -> command.execute(out.stream)).getMessage());
        assertTrue(table.entries.isEmpty());
    }
}

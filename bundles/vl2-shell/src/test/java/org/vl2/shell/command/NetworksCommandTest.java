package org.vl2.shell.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.shell.command.Fixtures.NOW;

import java.util.List;
import java.util.Map;

import org.apache.karaf.shell.support.CommandException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vl2.api.NetworkInfo;
import org.vl2.api.test.FakeSwitchService;

class NetworksCommandTest {

    private final FakeSwitchService switchService = new FakeSwitchService();
    private final NetworksCommand command = new NetworksCommand();
    private final Out out = new Out();

    @BeforeEach
    void setUp() {
        switchService.networks.add(new NetworkInfo(0x8056c2e21c000001L, "lab", 1400, "hub",
                "10.147.17.0/24 (range 10.147.17.1-10.147.17.253)", "fd00:147::/64", true, 2,
                List.of(new NetworkInfo.Lease("member:00000000000000aa", "10.147.17.1", null),
                        new NetworkInfo.Lease("mac:02:00:00:00:00:07", "10.147.17.2", NOW.plusSeconds(3000))),
                NetworkInfo.PLAINTEXT));
        command.switchService = switchService;
    }

    @Test
    void tableListsEveryNetwork() throws Exception {
        command.execute(out.stream, NOW);
        List<String> lines = out.lines();
        assertEquals(List.of("Network", "Name", "Access", "MTU", "Policy", "Ports", "IPv4 pool", "Leases", "IPv6 prefix", "DHCP"),
                Out.tableCells(lines.get(0)));
        assertEquals(List.of("0000000000000000", "default", "sealed", "1400", "learning", "0", "-", "-", "-", "off"),
                Out.tableCells(lines.get(2)));
        assertEquals(List.of("8056c2e21c000001", "lab", "plaintext", "1400", "hub", "2",
                "10.147.17.0/24 (range 10.147.17.1-10.147.17.253)", "2", "fd00:147::/64", "on"),
                Out.tableCells(lines.get(3)));
    }

    @Test
    void leasesOfOneNetwork() throws Exception {
        command.leases = true;
        command.network = "8056c2e21c000001";
        command.execute(out.stream, NOW);
        List<String> lines = out.lines();
        assertEquals(List.of("8056c2e21c000001", "10.147.17.1", "member:00000000000000aa", "with port"),
                Out.tableCells(lines.get(2)));
        assertEquals(List.of("8056c2e21c000001", "10.147.17.2", "mac:02:00:00:00:00:07", "in 50m"),
                Out.tableCells(lines.get(3)));
    }

    @Test
    void anUnknownOrMalformedNetworkIsAClearError() {
        command.network = "42";
        CommandException e = assertThrows(CommandException.class, () -> command.execute(out.stream, NOW));
        assertTrue(e.getNiceHelp().contains("no network 0000000000000042 on this switch"), e.getNiceHelp());
        command.network = "not-hex";
        e = assertThrows(CommandException.class, () -> command.execute(out.stream, NOW));
        assertTrue(e.getNiceHelp().contains("not a network id"), e.getNiceHelp());
    }

    @Test
    void json() throws Exception {
        command.json = true;
        command.execute(out.stream, NOW);
        List<Map<String, Object>> networks = Json.arrayOfObjects(out.text().trim());
        assertEquals(2, networks.size());
        Map<String, Object> lab = networks.get(1);
        assertEquals("8056c2e21c000001", lab.get("network"));
        assertEquals(1400L, lab.get("mtu"));
        assertEquals("plaintext", lab.get("access"));
        assertEquals(true, lab.get("dhcp"));
        assertTrue(out.text().contains("\"leases\":[{\"address\":\"10.147.17.1\",\"holder\":\"member:00000000000000aa\","
                + "\"expires\":null},"), out.text());
    }

    @Test
    void theCompleterOffersTheNetworkIds() {
        NetworkCompleter c = new NetworkCompleter();
        c.switchService = switchService;
        assertEquals(List.of("0000000000000000", "8056c2e21c000001"), c.values());
    }
}

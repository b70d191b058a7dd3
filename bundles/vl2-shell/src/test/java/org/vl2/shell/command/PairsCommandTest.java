package org.vl2.shell.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.apache.karaf.shell.support.CommandException;
import org.junit.jupiter.api.Test;
import org.vl2.api.MacAddress;
import org.vl2.api.PairInfo;
import org.vl2.api.PortId;
import org.vl2.api.test.FakeSwitchService;

class PairsCommandTest {

    private final FakeSwitchService switchService = new FakeSwitchService();
    private final PairsCommand command = new PairsCommand();
    private final Out out = new Out();

    private void twoPairs() {
        switchService.pairs.add(new PairInfo(0, 0x1a2b3c01, -1, MacAddress.valueOf("02:00:00:00:00:0a"),
                MacAddress.valueOf("02:00:00:00:00:0b"), PortId.of(3), PortId.of(4), "active", Duration.ofSeconds(42)));
        switchService.pairs.add(new PairInfo(0, 0x1a2b3c02, 42, MacAddress.valueOf("02:00:00:00:00:0b"),
                MacAddress.valueOf("02:00:00:00:00:0a"), PortId.of(4), PortId.of(3), "offered", Duration.ZERO));
        command.switchService = switchService;
    }

    @Test
    void listsEachPairsFlowPortsStateAndAge() throws Exception {
        twoPairs();
        command.execute(out.stream);
        List<String> lines = out.lines();
        assertEquals(List.of("Network", "From port", "To port", "VLAN", "Source MAC", "Destination MAC", "State", "Age",
                "Index"), Out.tableCells(lines.get(0)));
        assertEquals(List.of("0000000000000000", "3", "4", "-", "02:00:00:00:00:0a", "02:00:00:00:00:0b", "active",
                "42s", "1a2b3c01"), Out.tableCells(lines.get(2)));
        assertEquals(List.of("0000000000000000", "4", "3", "42", "02:00:00:00:00:0b", "02:00:00:00:00:0a", "offered",
                "0s", "1a2b3c02"), Out.tableCells(lines.get(3)));
    }

    @Test
    void noPairsSaysWhenThereWouldBe() throws Exception {
        command.switchService = switchService;
        command.execute(out.stream);
        assertTrue(out.text().contains("No pair keys"), out.text());
        assertTrue(out.text().contains("learning policy and without ip.guard"), out.text());
    }

    @Test
    void jsonHasEveryFieldButNoKey() throws Exception {
        twoPairs();
        command.json = true;
        command.execute(out.stream);
        com.fasterxml.jackson.databind.JsonNode a = org.vl2.json.Views.MAPPER.readTree(String.join("\n", out.lines()));
        assertEquals(2, a.size());
        assertEquals("1a2b3c01", a.get(0).get("index").asText());
        assertFalse(a.get(0).has("vlan"), "untagged: no vlan");
        assertEquals(42, a.get(1).get("vlan").asInt());
        assertEquals(3, a.get(0).get("sender").asInt());
        assertEquals(4, a.get(0).get("receiver").asInt());
        assertEquals("active", a.get(0).get("state").asText());
        assertEquals(42, a.get(0).get("ageSeconds").asLong());
        assertFalse(a.get(0).has("key"));
    }

    @Test
    void anUnknownNetworkIsAClearError() {
        command.switchService = switchService;
        command.network = "42";
        CommandException e = assertThrows(CommandException.class, () -> command.execute(out.stream));
        assertTrue(e.getMessage().contains("no network 0000000000000042"), e.getMessage());
    }
}

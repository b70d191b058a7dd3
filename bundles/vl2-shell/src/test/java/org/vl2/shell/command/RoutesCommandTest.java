package org.vl2.shell.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.apache.karaf.shell.support.CommandException;
import org.junit.jupiter.api.Test;
import org.vl2.api.NetworkRoute;
import org.vl2.api.test.FakeSwitchService;

class RoutesCommandTest {

    private final FakeSwitchService switchService = new FakeSwitchService();
    private final RoutesCommand command = new RoutesCommand();
    private final Out out = new Out();

    @Test
    void listsEachRouteWithWhetherItIsInForce() throws Exception {
        switchService.routes.add(new NetworkRoute(0, "0.0.0.0/0", "10.1.0.5", 100, true, (0xabL << 32) | 3));
        switchService.routes.add(new NetworkRoute(0, "0.0.0.0/0", "10.1.0.6", 200, false, (0xabL << 32) | 3));
        command.switchService = switchService;
        command.execute(out.stream);
        List<String> lines = out.lines();
        assertEquals(List.of("Network", "Destination", "Gateway", "Metric", "In force", "Version"),
                Out.tableCells(lines.get(0)));
        assertEquals(List.of("0000000000000000", "0.0.0.0/0", "10.1.0.5", "100", "yes", "ab:3"),
                Out.tableCells(lines.get(2)));
        assertEquals(List.of("0000000000000000", "0.0.0.0/0", "10.1.0.6", "200", "no (gateway not a member now)",
                "ab:3"), Out.tableCells(lines.get(3)));
    }

    @Test
    void jsonHasTheSameFieldsAsTheApi() throws Exception {
        switchService.routes.add(new NetworkRoute(0, "10.9.0.0/16", "10.1.0.5", 100, true, (0xabL << 32) | 3));
        command.switchService = switchService;
        command.json = true;
        command.execute(out.stream);
        com.fasterxml.jackson.databind.JsonNode a = org.vl2.json.Views.MAPPER.readTree(String.join("\n", out.lines()));
        assertEquals(1, a.size());
        assertEquals("10.9.0.0/16", a.get(0).get("destination").asText());
        assertEquals("ab:3", a.get(0).get("version").asText(), "the version as the table and the agent write it");
        assertTrue(a.get(0).get("inForce").asBoolean());
    }

    @Test
    void anUnknownNetworkIsAClearError() {
        command.switchService = switchService;
        command.network = "42";
        CommandException e = assertThrows(CommandException.class, () -> command.execute(out.stream));
        assertTrue(e.getMessage().contains("no network 0000000000000042"), e.getMessage());
    }
}

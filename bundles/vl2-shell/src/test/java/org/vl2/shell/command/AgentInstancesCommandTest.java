package org.vl2.shell.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.shell.command.Fixtures.NOW;

import java.util.List;
import java.util.Map;

import org.apache.karaf.shell.support.CommandException;
import org.junit.jupiter.api.Test;
import org.vl2.api.AgentState;
import org.vl2.api.AgentStatus;
import org.vl2.api.MacAddress;
import org.vl2.api.test.FakeAgentService;

/** {@code vl2:agent} in a process whose agent is in several networks: one instance (and table) per network. */
class AgentInstancesCommandTest {

    private final Out out = new Out();

    private static FakeAgentService agent(String tap, String network) {
        FakeAgentService a = new FakeAgentService();
        a.status = new AgentStatus(tap, MacAddress.valueOf("02:76:6c:32:00:01"), 1400, List.of(), null,
                "203.0.113.7:9991", "203.0.113.7:9991", "192.0.2.5:41234", "vl2", AgentState.RUNNING, null, 1, 60, 1,
                60, 0, NOW.minusSeconds(60), NOW.minusSeconds(1), network, "0123456789abcdef", 3, List.of(), null, 0);
        return a;
    }

    private static AgentCommand command(FakeAgentService... agents) {
        AgentCommand c = new AgentCommand();
        c.agents = List.of(agents);
        return c;
    }

    /** A --no-format row {@code name<TAB>value} (the name padded). */
    private static boolean row(List<String> lines, String name, String value) {
        return lines.stream().anyMatch(l -> Out.cells(l).equals(List.of(name, value)));
    }

    @Test
    void aTablePerInstanceSortedByNetwork() {
        AgentCommand c = command(agent("vl2-2b", "000000000000002b"), agent("vl2-2a", "000000000000002a"));
        c.noFormat = true;
        c.execute(out.stream, NOW);

        List<String> lines = out.lines();
        int blank = lines.indexOf("");
        assertTrue(blank > 0, out.text());
        List<String> first = lines.subList(0, blank);
        List<String> second = lines.subList(blank + 1, lines.size());
        assertTrue(row(first, "Network", "000000000000002a") && row(first, "TAP", "vl2-2a"), out.text());
        assertTrue(row(second, "Network", "000000000000002b") && row(second, "TAP", "vl2-2b"), out.text());
        assertEquals(first.size(), second.size(), out.text());
    }

    @Test
    void jsonIsAnArrayOfTheInstances() {
        AgentCommand c = command(agent("vl2-2b", "000000000000002b"), agent("vl2-2a", "000000000000002a"));
        c.json = true;
        c.execute(out.stream, NOW);

        List<Map<String, Object>> all = Json.arrayOfObjects(out.text().strip());
        assertEquals(List.of("vl2-2a", "vl2-2b"), all.stream().map(m -> m.get("tapName")).toList());
    }

    @Test
    void networkOptionShowsOneInstanceAndRefusesAnother() throws Exception {
        AgentCommand c = command(agent("vl2-2b", "000000000000002b"), agent("vl2-2a", "000000000000002a"));
        c.network = "0x2B";
        c.noFormat = true;
        java.io.PrintStream was = System.out;
        System.setOut(out.stream);
        try {
            c.execute();
        } finally {
            System.setOut(was);
        }
        assertTrue(row(out.lines(), "TAP", "vl2-2b") && !out.text().contains("vl2-2a"), out.text());

        c.network = "2c";
        CommandException e = assertThrows(CommandException.class, c::execute);
        assertTrue(e.getMessage().contains("network 000000000000002c"), e.getMessage());
    }

    @Test
    void completerOffersTheInstancesNetworks() {
        AgentNetworkCompleter completer = new AgentNetworkCompleter();
        assertEquals(List.of(), completer.values());
        completer.agents = List.of(agent("vl2-2b", "000000000000002b"), agent("vl2tap0", null),
                agent("vl2-2a", "000000000000002a"));
        assertEquals(List.of("000000000000002a", "000000000000002b"), completer.values());
    }
}

package org.vl2.shell.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.vl2.api.test.FakeMacTable.dynamic;
import static org.vl2.api.test.FakeMacTable.fixed;

import java.util.ArrayList;
import java.util.List;

import org.apache.karaf.shell.api.console.CommandLine;
import org.junit.jupiter.api.Test;
import org.vl2.api.test.FakeMacTable;
import org.vl2.api.test.FakeSwitchService;

class CompletersTest {

    @Test
    void portsFromTheSwitchInNumericOrder() {
        FakeSwitchService sw = new FakeSwitchService();
        sw.ports.add(Fixtures.port(10, 0));
        sw.ports.add(Fixtures.port(2, 0));
        sw.ports.add(Fixtures.port(1, 5));
        PortCompleter completer = new PortCompleter();
        completer.switchService = sw;

        assertEquals(List.of("1", "2", "10"), completer.values());
        assertEquals(List.of("1", "10"), complete(completer::complete, "1"));
    }

    @Test
    void distinctMacsFromTheTable() {
        FakeMacTable table = new FakeMacTable();
        table.entries.add(dynamic(0, 0, "02:00:00:00:00:0b", 1, 0, 0));
        table.entries.add(dynamic(0, 7, "02:00:00:00:00:0b", 1, 0, 0));
        table.entries.add(fixed(0, 0, "02:00:00:00:00:01", 2));
        table.entries.add(fixed(0, 0, "0a:00:00:00:00:01", 2));
        MacCompleter completer = new MacCompleter();
        completer.macTable = table;

        assertEquals(List.of("02:00:00:00:00:01", "02:00:00:00:00:0b", "0a:00:00:00:00:01"), completer.values());
        assertEquals(List.of("02:00:00:00:00:01", "02:00:00:00:00:0b"), complete(completer::complete, "02"));
    }

    @Test
    void policiesFromTheSwitch() {
        FakeSwitchService sw = new FakeSwitchService();
        PolicyCompleter completer = new PolicyCompleter();
        completer.switchService = sw;

        assertEquals(List.of("hub", "learning"), completer.values());
        assertEquals(List.of("hub"), complete(completer::complete, "h"));
        assertEquals(List.of("hub", "learning"), complete(completer::complete, ""));
    }

    private interface Complete {
        int complete(org.apache.karaf.shell.api.console.Session session, CommandLine line, List<String> candidates);
    }

    /** Candidates for completing {@code typed} as the last argument (trimmed: Karaf appends a space). */
    private static List<String> complete(Complete completer, String typed) {
        List<String> candidates = new ArrayList<>();
        completer.complete(null, new Line(typed), candidates);
        return candidates.stream().map(String::trim).sorted().toList();
    }

    /** The command line {@code vl2:x <typed>} with the cursor at its end. */
    private record Line(String typed) implements CommandLine {
        @Override
        public int getCursorArgumentIndex() {
            return 1;
        }

        @Override
        public String getCursorArgument() {
            return typed;
        }

        @Override
        public int getArgumentPosition() {
            return typed.length();
        }

        @Override
        public String[] getArguments() {
            return new String[] {"vl2:x", typed};
        }

        @Override
        public int getBufferPosition() {
            return getBuffer().length();
        }

        @Override
        public String getBuffer() {
            return "vl2:x " + typed;
        }
    }
}

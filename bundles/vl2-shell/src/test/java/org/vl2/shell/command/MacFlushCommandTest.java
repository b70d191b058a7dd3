package org.vl2.shell.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.vl2.api.test.FakeMacTable.dynamic;
import static org.vl2.api.test.FakeMacTable.fixed;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vl2.api.test.FakeMacTable;

class MacFlushCommandTest {

    private static final String NL = System.lineSeparator();

    private final FakeMacTable table = new FakeMacTable();
    private final MacFlushCommand command = new MacFlushCommand();
    private final Out out = new Out();

    @BeforeEach
    void setUp() {
        table.entries.add(fixed(0, 0, "02:00:00:00:00:01", 1));
        table.entries.add(dynamic(0, 0, "02:00:00:00:00:02", 1, 0, 0));
        table.entries.add(dynamic(0, 0, "02:00:00:00:00:03", 2, 0, 0));
        table.entries.add(dynamic(9, 4, "02:00:00:00:00:03", 2, 0, 0));
        command.macTable = table;
    }

    @Test
    void flushesAllDynamicEntries() throws Exception {
        command.execute(out.stream);

        assertEquals("Flushed 3 dynamic entries" + NL, out.text());
        assertEquals(1, table.entries.size());
        assertEquals(true, table.entries.get(0).isStatic());
    }

    @Test
    void flushesOnePort() throws Exception {
        command.port = "1";
        command.execute(out.stream);

        assertEquals("Flushed 1 dynamic entry behind port 1" + NL, out.text());
        assertEquals(3, table.entries.size());
    }

    @Test
    void flushesOneMacEverywhere() throws Exception {
        command.mac = "02:00:00:00:00:03";
        command.execute(out.stream);

        assertEquals("Flushed 2 dynamic entries for 02:00:00:00:00:03" + NL, out.text());
        assertEquals(2, table.entries.size());
    }

    @Test
    void nothingToFlush() throws Exception {
        command.port = "5";
        command.execute(out.stream);

        assertEquals("Flushed 0 dynamic entries behind port 5" + NL, out.text());
    }

    @Test
    void portAndMacTogetherAreRefused() {
        command.port = "1";
        command.mac = "02:00:00:00:00:03";

        assertEquals("Error: use either --port or --mac, not both",
                assertThrows(Exception.class, () -> command.execute(out.stream)).getMessage());
        assertEquals(4, table.entries.size());
    }

    @Test
    void badInput() {
        command.port = "x";
        assertEquals("Error: not a port: 'x' (expected a port number such as 3)",
                assertThrows(Exception.class, () -> command.execute(out.stream)).getMessage());
        command.port = null;
        command.mac = "02:00";
        assertEquals("Error: not a MAC address: '02:00' (expected six hex octets such as 02:00:5e:10:00:01)",
                assertThrows(Exception.class, () -> command.execute(out.stream)).getMessage());
        assertEquals(4, table.entries.size());
    }
}

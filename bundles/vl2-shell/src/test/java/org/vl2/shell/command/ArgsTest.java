package org.vl2.shell.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Instant;

import org.apache.karaf.shell.support.CommandException;
import org.junit.jupiter.api.Test;
import org.vl2.api.MacAddress;
import org.vl2.api.PortId;

class ArgsTest {

    @Test
    void parsesGoodInput() throws Exception {
        assertEquals(MacAddress.valueOf("02:00:5e:10:00:01"), Args.mac("02-00-5E-10-00-01"));
        assertEquals(PortId.of(3), Args.port("p3"));
        assertEquals(0xabcL, Args.network("0xabc"));
        assertEquals(0, Args.vlan("0"));
        assertEquals(4095, Args.vlan(" 4095 "));
    }

    @Test
    void badMacIsOneErrorLine() {
        CommandException e = assertThrows(CommandException.class, () -> Args.mac("zz"));

        assertEquals("Error: not a MAC address: 'zz' (expected six hex octets such as 02:00:5e:10:00:01)",
                e.getMessage());
    }

    @Test
    void badPortNetworkAndVlan() {
        assertEquals("Error: not a port: 'x' (expected a port number such as 3)",
                assertThrows(CommandException.class, () -> Args.port("x")).getMessage());
        assertEquals("Error: not a port: '0' (expected a port number such as 3)",
                assertThrows(CommandException.class, () -> Args.port("0")).getMessage());
        assertEquals("Error: not a network id: 'xyz' (expected up to 16 hex digits)",
                assertThrows(CommandException.class, () -> Args.network("xyz")).getMessage());
        for (String bad : new String[] {"4096", "-1", "ten", ""}) {
            assertEquals("Error: not a VLAN id: '" + bad + "' (expected 0 for untagged, or 1 to 4095)",
                    assertThrows(CommandException.class, () -> Args.vlan(bad)).getMessage());
        }
    }

    @Test
    void karafPrintsTheNiceHelpAsTheWholeErrorLine() {
        // Karaf's ShellUtil.logException prints getNiceHelp() of a CommandException and nothing else;
        // without an explicit help text that would be "Error executing command: " + message
        CommandException e = Args.error("something");

        assertEquals("Error: something", e.getMessage());
        assertEquals("\u001B[31mError: something\u001B[39m", e.getNiceHelp());
        assertEquals(null, e.getCause());
    }

    @Test
    void secondsAreWhole() {
        assertEquals("0s", Formats.seconds(999));
        assertEquals("12s", Formats.seconds(12_900));
        assertEquals("0s", Formats.seconds(-5));
    }

    @Test
    void agoSwitchesUnits() {
        Instant now = Instant.parse("2026-01-01T12:00:00Z");

        assertEquals("never", Formats.ago(null, now));
        assertEquals("0s ago", Formats.ago(now, now));
        assertEquals("0s ago", Formats.ago(now.plusSeconds(5), now));
        assertEquals("3s ago", Formats.ago(now.minusMillis(3_700), now));
        assertEquals("119s ago", Formats.ago(now.minusSeconds(119), now));
        assertEquals("2m ago", Formats.ago(now.minusSeconds(120), now));
        assertEquals("119m ago", Formats.ago(now.minusSeconds(7199), now));
        assertEquals("2h ago", Formats.ago(now.minusSeconds(7200), now));
        assertEquals("47h ago", Formats.ago(now.minusSeconds(48 * 3600 - 1), now));
        assertEquals("2d ago", Formats.ago(now.minusSeconds(48 * 3600), now));
    }

    @Test
    void countPluralises() {
        assertEquals("0 entries", Formats.count(0, "entry", "entries"));
        assertEquals("1 entry", Formats.count(1, "entry", "entries"));
        assertEquals("2 entries", Formats.count(2, "entry", "entries"));
    }
}

package org.vl2.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ValueTypesTest {

    @Test
    void portIdsParseAndValidate() {
        assertEquals(PortId.of(3), PortId.valueOf("3"));
        assertEquals(PortId.of(3), PortId.valueOf("p3"));
        assertEquals("3", PortId.of(3).toString());
        assertTrue(PortId.FLOOD.isFlood());
        assertThrows(IllegalArgumentException.class, () -> PortId.of(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PortId.valueOf("x"));
        assertTrue(e.getMessage().contains("'x'"));
        assertThrows(IllegalArgumentException.class, () -> PortId.valueOf("-1"));
    }

    @Test
    void networkIdsAreSixteenHexDigits() {
        assertEquals("0000000000000000", Networks.format(Networks.DEFAULT));
        assertEquals("8056c2e21c000001", Networks.format(Networks.parse("8056c2e21c000001")));
        assertEquals(-1L, Networks.parse("ffffffffffffffff"));
        assertEquals(0x2aL, Networks.parse("0x2a"));
        assertThrows(IllegalArgumentException.class, () -> Networks.parse("12345678901234567"));
        assertThrows(IllegalArgumentException.class, () -> Networks.parse("xyz"));
        assertThrows(IllegalArgumentException.class, () -> Networks.parse(""));
    }

    @Test
    void statisticsSumTheDrops() {
        SwitchStatistics s = new SwitchStatistics(0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
        assertEquals(59, s.drops());
        SwitchStatistics hygiene = new SwitchStatistics(0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                13, 14, 15, 16);
        assertEquals(59 + 12 + 13 + 14 + 15 + 16, hygiene.drops(), "the quota and per-port hygiene drops count too");
        assertEquals(0, s.dropIpGuard(), "zero in counters from before them");
    }

    @Test
    void endpointsPrintAsIpDoes() throws Exception {
        assertEquals("192.0.2.7:9990", Endpoints.format(new java.net.InetSocketAddress("192.0.2.7", 9990)));
        assertEquals("[2001:db8::7]:9990",
                Endpoints.format(new java.net.InetSocketAddress("2001:0db8:0:0:0:0:0:7", 9990)));
        assertEquals("fd00:1::1:0:0:1", Endpoints.format(java.net.InetAddress.getByName("fd00:1:0:0:1:0:0:1")));
        assertEquals("::1", Endpoints.format(java.net.InetAddress.getByName("::1")));
        assertEquals("switch.example.org:9990",
                Endpoints.format(java.net.InetSocketAddress.createUnresolved("switch.example.org", 9990)));
    }
}

package org.vl2.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class Ipv4PoolTest {

    static Inet4Address ip(String s) {
        try {
            return (Inet4Address) InetAddress.getByName(s);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void defaultRangeIsEveryHostButTheServer() {
        Ipv4Pool p = Ipv4Pool.parse("10.147.17.0/24", null);
        assertEquals(ip("10.147.17.0"), p.network());
        assertEquals(24, p.prefixLength());
        assertEquals(ip("255.255.255.0"), p.netmask());
        assertEquals(ip("10.147.17.255"), p.broadcast());
        assertEquals(ip("10.147.17.254"), p.serverAddress());
        assertEquals(253, p.rangeSize());
        assertEquals("10.147.17.0/24 (range 10.147.17.1-10.147.17.253)", p.toString());
        assertEquals(p, Ipv4Pool.parse(" 10.147.17.0/24 ", "  "));
    }

    @Test
    void subnetAndRangeMembership() {
        Ipv4Pool p = Ipv4Pool.parse("10.147.17.0/24", "10.147.17.10-10.147.17.200");
        assertEquals(191, p.rangeSize());
        assertEquals("10.147.17.0/24 (range 10.147.17.10-10.147.17.200)", p.toString());
        assertFalse(p.inSubnet(ip("10.147.17.0")), "network address");
        assertTrue(p.inSubnet(ip("10.147.17.1")));
        assertTrue(p.inSubnet(ip("10.147.17.254")));
        assertFalse(p.inSubnet(ip("10.147.17.255")), "broadcast address");
        assertFalse(p.inSubnet(ip("10.147.18.1")));
        assertFalse(p.inSubnet(null));
        assertFalse(p.inRange(ip("10.147.17.9")));
        assertTrue(p.inRange(ip("10.147.17.10")));
        assertTrue(p.inRange(ip("10.147.17.200")));
        assertFalse(p.inRange(ip("10.147.17.201")));
        assertFalse(p.inRange(null));
        assertNotEquals(p, Ipv4Pool.parse("10.147.17.0/24", null));
    }

    @Test
    void explicitRangeNeverIncludesTheServerAddress() {
        Ipv4Pool p = Ipv4Pool.parse("10.1.1.0/24", " 10.1.1.250 - 10.1.1.254 ");
        assertEquals(4, p.rangeSize());
        assertTrue(p.inRange(ip("10.1.1.253")));
        assertFalse(p.inRange(ip("10.1.1.254")));
    }

    @Test
    void smallestAndLargestPools() {
        Ipv4Pool p30 = Ipv4Pool.parse("192.168.7.4/30", null);
        assertEquals(ip("192.168.7.6"), p30.serverAddress());
        assertEquals(ip("192.168.7.7"), p30.broadcast());
        assertEquals(1, p30.rangeSize());
        assertTrue(p30.inRange(ip("192.168.7.5")));
        assertEquals(ip("255.255.255.252"), p30.netmask());

        Ipv4Pool p8 = Ipv4Pool.parse("10.0.0.0/8", null);
        assertEquals((1 << 24) - 3, p8.rangeSize());
        assertEquals(ip("10.255.255.254"), p8.serverAddress());
        assertEquals(ip("255.0.0.0"), p8.netmask());

        // the top of the address space: unsigned arithmetic
        Ipv4Pool high = Ipv4Pool.parse("224.0.0.0/8", "224.0.0.1-224.255.255.253");
        assertTrue(high.inRange(ip("224.200.0.1")));
        assertEquals(ip("224.255.255.255"), high.broadcast());
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.1.1.0", "10.1.1/24", "10.1.1.256/24", "10.1.1.0/abc", "10.1.1.0/", "a.b.c.d/24",
            "10.1.1.0/24/1", "1.2.3.4.5/24", "10.1.1.0/024", "10..1.0/24", "-10.1.1.0/24", "10.1.1.0 /24",
            "/24", "10.1.1.0/-1", "10.1.1.1000/24"})
    void badCidr(String cidr) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ipv4Pool.parse(cidr, null));
        assertEquals("not an IPv4 CIDR: '" + cidr
                + "' (expected a network address and prefix length such as 10.147.17.0/24)", e.getMessage());
    }

    @Test
    void missingCidr() {
        for (String missing : new String[] {null, "", "  "}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Ipv4Pool.parse(missing, null));
            assertEquals("IPv4 pool is missing (expected a CIDR such as 10.147.17.0/24)", e.getMessage());
        }
    }

    @Test
    void hostBitsSet() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ipv4Pool.parse("10.147.17.5/24", null));
        assertEquals("'10.147.17.5/24' has host bits set (expected the network address: 10.147.17.0/24)",
                e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 7, 31, 32})
    void unsupportedPrefix(int prefix) {
        String cidr = "0.0.0.0/" + prefix;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ipv4Pool.parse(cidr, null));
        assertTrue(e.getMessage().startsWith("prefix length /" + prefix + " of '" + cidr + "' is not supported"
                + " (expected /8 to /30"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.1.1.5", "10.1.1.5-", "-10.1.1.5", "x-y", "10.1.1.5-10.1.1", "10.1.1.5..10.1.1.9",
            "10.1.1.5-10.1.1.9-10.1.1.10"})
    void badRangeSyntax(String range) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ipv4Pool.parse("10.1.1.0/24", range));
        assertEquals("not an IPv4 range: '" + range + "' (expected first-last such as 10.147.17.10-10.147.17.200)",
                e.getMessage());
    }

    @Test
    void rangeOutsideTheSubnet() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ipv4Pool.parse("10.1.1.0/24", "10.1.2.5-10.1.2.9"));
        assertEquals("range '10.1.2.5-10.1.2.9': 10.1.2.5 is not a host address of 10.1.1.0/24"
                + " (expected addresses within 10.1.1.1-10.1.1.254)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Ipv4Pool.parse("10.1.1.0/24", "10.1.1.5-10.1.2.9"));
        assertTrue(e.getMessage().contains("10.1.2.9 is not a host address of 10.1.1.0/24"), e.getMessage());
        // network and broadcast addresses are in the subnet but are no hosts
        e = assertThrows(IllegalArgumentException.class, () -> Ipv4Pool.parse("10.1.1.0/24", "10.1.1.0-10.1.1.9"));
        assertTrue(e.getMessage().contains("10.1.1.0 is not a host address"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Ipv4Pool.parse("10.1.1.0/24", "10.1.1.5-10.1.1.255"));
        assertTrue(e.getMessage().contains("10.1.1.255 is not a host address"), e.getMessage());
    }

    @Test
    void reversedRange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ipv4Pool.parse("10.1.1.0/24", "10.1.1.9-10.1.1.5"));
        assertEquals("range '10.1.1.9-10.1.1.5' is reversed (expected first <= last)", e.getMessage());
    }

    @Test
    void rangeOfOnlyTheServerAddress() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ipv4Pool.parse("10.1.1.0/24", "10.1.1.254-10.1.1.254"));
        assertEquals("range '10.1.1.254-10.1.1.254' holds no address to lease: 10.1.1.254 is the server address of"
                + " 10.1.1.0/24 (expected a range within 10.1.1.1-10.1.1.253)", e.getMessage());
    }

    @Test
    void singleAddressRange() {
        Ipv4Pool p = Ipv4Pool.parse("10.1.1.0/24", "10.1.1.7-10.1.1.7");
        assertEquals(1, p.rangeSize());
        assertTrue(p.inRange(ip("10.1.1.7")));
        assertFalse(p.inRange(ip("10.1.1.8")));
    }

    @Test
    void strictDottedQuad() {
        assertEquals(0x0A01_0203L, Ipv4Pool.parseAddress("10.1.2.3"));
        assertEquals(0xFFFF_FFFFL, Ipv4Pool.parseAddress("255.255.255.255"));
        for (String bad : new String[] {"", "1.2.3", "1.2.3.4.", "1.2.3.256", "1.2.3.-4", "1.2.3.4 ", "localhost",
                "1.2.3.0004", "1,2,3,4"}) {
            assertEquals(-1, Ipv4Pool.parseAddress(bad), bad);
        }
    }
}

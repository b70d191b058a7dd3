package org.vl2.switching.internal.vl2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;

import org.junit.jupiter.api.Test;

/** Unauthenticated answers per source and second: an IPv4 address, or an IPv6 /64 as one source. */
class SourceBudgetTest {

    private static final long SECOND = 1_000_000_000L;

    private static InetSocketAddress at(String address, int port) {
        return new InetSocketAddress(address, port);
    }

    @Test
    void eachSourceGetsItsBudgetPerSecond() {
        SourceBudget b = new SourceBudget(3);
        for (int i = 0; i < 3; i++) {
            assertTrue(b.allow(at("192.0.2.1", 1000 + i), 10));
        }
        assertFalse(b.allow(at("192.0.2.1", 2000), 20), "other ports of the address are the same source");
        assertTrue(b.allow(at("192.0.2.2", 1000), 30), "another address has its own budget");
        assertTrue(b.allow(at("192.0.2.1", 1000), 10 + SECOND), "a new second, a new budget");
    }

    @Test
    void anIpv6Slash64IsOneSource() {
        SourceBudget b = new SourceBudget(2);
        assertTrue(b.allow(at("2001:db8:1:2::1", 9), 0));
        assertTrue(b.allow(at("2001:db8:1:2:ffff:ffff:ffff:fffe", 9), 0));
        assertFalse(b.allow(at("2001:db8:1:2:1234::7", 9), 0), "the whole /64 shares the budget");
        assertTrue(b.allow(at("2001:db8:1:3::1", 9), 0), "the next /64 is another source");
        assertTrue(b.allow(at("0.0.0.1", 9), 0), "an IPv4 address never counts as an IPv6 prefix");
    }

    @Test
    void theTableIsBoundedPerSecond() {
        SourceBudget b = new SourceBudget(1);
        for (int i = 0; i < SourceBudget.MAX_SOURCES; i++) {
            assertTrue(b.allow(at("10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255), 1), 5));
        }
        assertFalse(b.allow(at("172.16.0.1", 1), 5), "new sources beyond the bound wait");
        assertEquals(SourceBudget.MAX_SOURCES, b.sources());
        assertTrue(b.allow(at("172.16.0.1", 1), 5 + SECOND));
        assertEquals(1, b.sources());
    }
}

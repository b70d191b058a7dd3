package org.vl2.transport.vxlan.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;

import org.junit.jupiter.api.Test;

class VtepCacheTest {

    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void aVtepIsItsAddressAndTheConfiguredPortAndTheSameObjectEachTime() throws Exception {
        VtepCache c = new VtepCache(4789, Map.of());
        InetSocketAddress a = c.of(ip("192.0.2.1"));
        assertEquals(new InetSocketAddress(ip("192.0.2.1"), 4789), a);
        // a new InetAddress object for the same IP, as each received datagram brings
        assertSame(a, c.of(InetAddress.getByAddress(new byte[] {(byte) 192, 0, 2, 1})));
        assertEquals(new InetSocketAddress(ip("2001:db8::1"), 4789), c.of(ip("2001:db8::1")));
    }

    @Test
    void aStaticRemoteKeepsItsOwnPort() throws Exception {
        InetSocketAddress stat = new InetSocketAddress(ip("192.0.2.9"), 8472);
        VtepCache c = new VtepCache(4789, Map.of(stat.getAddress(), stat));
        assertSame(stat, c.of(ip("192.0.2.9")));
        assertEquals(4789, c.of(ip("192.0.2.10")).getPort());
    }

    @Test
    void itIsBounded() throws Exception {
        VtepCache c = new VtepCache(4789, Map.of());
        for (int i = 0; i < VtepCache.MAX_ENTRIES + 10; i++) {
            c.of(InetAddress.getByAddress(new byte[] {10, (byte) (i >> 16), (byte) (i >> 8), (byte) i}));
            assertTrue(c.size() <= VtepCache.MAX_ENTRIES);
        }
        assertEquals(new InetSocketAddress(ip("10.0.0.1"), 4789), c.of(ip("10.0.0.1")));
    }
}

package org.vl2.netio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.junit.jupiter.api.Test;
import org.vl2.netio.internal.SockAddr;
import org.vl2.netio.internal.Sys;

class SockAddrTest {

    private final ByteBuffer b = ByteBuffer.allocateDirect(64).order(ByteOrder.nativeOrder());

    @Test
    void thisJdkEncodesIpv4WithoutAllocating() {
        assertTrue(SockAddr.encodesIpv4WithoutAllocation(), "Inet4Address.hashCode() is no longer the address");
    }

    @Test
    void ipv4RoundTripsAndIsCached() throws Exception {
        SockAddr cache = new SockAddr();
        InetSocketAddress a = new InetSocketAddress(InetAddress.getByName("192.0.2.200"), 40_001);
        assertEquals(SockAddr.IN_SIZE, SockAddr.encode(b, 8, a, Sys.AF_INET));
        assertEquals((byte) 0x9c, b.get(10), "port in network order");
        assertEquals((byte) 192, b.get(12), "address in network order");
        InetSocketAddress first = cache.decode(b, 8);
        assertEquals(a, first);
        assertSame(first, cache.decode(b, 8));
        InetSocketAddress other = new InetSocketAddress(InetAddress.getByName("192.0.2.200"), 40_002);
        SockAddr.encode(b, 8, other, Sys.AF_INET);
        assertEquals(other, cache.decode(b, 8));
        assertNotSame(first, cache.decode(b, 8));
    }

    @Test
    void ipv4ToADualStackSocketIsMappedAndComesBackAsIpv4() throws Exception {
        InetSocketAddress a = new InetSocketAddress(InetAddress.getByName("10.1.2.3"), 5);
        assertEquals(SockAddr.IN6_SIZE, SockAddr.encode(b, 0, a, Sys.AF_INET6));
        assertEquals((byte) 0xff, b.get(8 + 10));
        assertEquals(a, new SockAddr().decode(b, 0));
    }

    @Test
    void ipv6KeepsItsScope() throws Exception {
        InetSocketAddress a = new InetSocketAddress(Inet6Address.getByAddress(null,
                InetAddress.getByName("fe80::1").getAddress(), 3), 4789);
        assertEquals(SockAddr.IN6_SIZE, SockAddr.encode(b, 0, a, Sys.AF_INET6));
        InetSocketAddress back = new SockAddr().decode(b, 0);
        assertEquals(a, back);
        assertEquals(3, ((Inet6Address) back.getAddress()).getScopeId());
        assertEquals(-1, SockAddr.encode(b, 0, a, Sys.AF_INET), "no IPv6 from an IPv4 socket");
    }
}

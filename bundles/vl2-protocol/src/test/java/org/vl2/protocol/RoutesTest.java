package org.vl2.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.List;

import org.junit.jupiter.api.Test;

class RoutesTest {

    @Test
    void parsesAndPrintsRoutesOfBothFamilies() throws Exception {
        Route r = Route.parse("10.9.0.0/16 via 10.147.17.5 metric 100");
        assertEquals(InetAddress.getByName("10.9.0.0"), r.destination());
        assertEquals(16, r.prefixLength());
        assertEquals(InetAddress.getByName("10.147.17.5"), r.gateway());
        assertEquals(100, r.metric());
        assertEquals("10.9.0.0/16 via 10.147.17.5 metric 100", r.toString());
        assertEquals(r, Route.parse(r.toString()));
        Route d = Route.parse("  0.0.0.0/0   VIA 10.147.17.5 ");
        assertTrue(d.isDefault());
        assertEquals("0.0.0.0/0 via 10.147.17.5", d.toString());
        Route v6 = Route.parse("fd00:9::/48 via fd00:147::5");
        assertFalse(v6.ipv4());
        assertEquals(v6, Route.parse(v6.toString()));
        assertTrue(Route.parse("::/0 via fd00:147::5").isDefault());
    }

    @Test
    void refusesMalformedRoutesSayingWhy() {
        String[][] bad = {
                {"10.9.0.0/16", "expected CIDR via ADDRESS"},
                {"10.9.0.0/16 gw 10.0.0.1", "expected CIDR via ADDRESS"},
                {"10.9.0.0 via 10.0.0.1", "needs a prefix length"},
                {"10.9.0.0/33 via 10.0.0.1", "prefix length 33"},
                {"10.9.0.1/16 via 10.0.0.1", "host bits set (the network is 10.9.0.0/16)"},
                {"10.9.0.0/16 via fd00::1", "different families"},
                {"10.9.0.0/16 via example.org", "gateway 'example.org' is not an IPv4 or IPv6 address"},
                {"10.9.0.0/16 via 10.0.0.1 metric -1", "metric"},
                {"10.9.0.0/16 via 10.0.0.1 metric x", "metric 'x'"},
                {"10.9.0.0/16 via 0.0.0.0", "not a unicast address"},
                {"10.9.0.0/16 via 10.0.0.1 weight 3", "expected CIDR via ADDRESS"},
        };
        for (String[] b : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Route.parse(b[0]), b[0]);
            assertTrue(e.getMessage().contains(b[1]), b[0] + ": " + e.getMessage());
        }
    }

    @Test
    void coversAndOverlaps() throws Exception {
        Route r = Route.parse("10.9.0.0/16 via 10.147.17.5");
        assertTrue(r.covers(InetAddress.getByName("10.9.200.1")));
        assertFalse(r.covers(InetAddress.getByName("10.10.0.1")));
        assertFalse(r.covers(InetAddress.getByName("fd00::1")));
        assertTrue(Route.parse("0.0.0.0/0 via 10.0.0.1").covers(InetAddress.getByName("192.0.2.7")));
        assertTrue(Route.overlaps(InetAddress.getByName("10.0.0.0"), 8, InetAddress.getByName("10.9.0.0"), 16));
        assertFalse(Route.overlaps(InetAddress.getByName("10.0.0.0"), 16, InetAddress.getByName("10.9.0.0"), 16));
    }

    @Test
    void bodyRoundTripsAndRejectsInconsistentLengths() throws Exception {
        Routes routes = new Routes(0x2aL, (7L << 32) | 3, List.of(Route.parse("10.9.0.0/16 via 10.147.17.5 metric 9"),
                Route.parse("::/0 via fd00:147::5"), Route.parse("0.0.0.0/0 via 10.147.17.6 metric 2000000000")));
        for (ByteBuffer b : new ByteBuffer[] {ByteBuffer.allocate(200), ByteBuffer.allocateDirect(200)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN)}) {
            routes.encode(b, 5);
            assertEquals(routes, Routes.decode(b, 5, routes.length()));
            assertThrows(ProtocolException.class, () -> Routes.decode(b, 5, routes.length() - 1));
            assertThrows(ProtocolException.class, () -> Routes.decode(b, 5, 10));
            b.put(5 + Routes.FIXED_LENGTH, (byte) 5);
            assertThrows(ProtocolException.class, () -> Routes.decode(b, 5, routes.length()));
        }
        Routes none = new Routes(1, 1, List.of());
        ByteBuffer b = ByteBuffer.allocate(Routes.FIXED_LENGTH);
        none.encode(b, 0);
        assertEquals(none, Routes.decode(b, 0, Routes.FIXED_LENGTH));
        ByteBuffer ack = ByteBuffer.allocate(Routes.ACK_LENGTH);
        Routes.encodeAck(ack, 0, 0x2a, 99);
        assertEquals(0x2a, Routes.ackNetwork(ack, 0));
        assertEquals(99, Routes.ackVersion(ack, 0));
    }

    @Test
    void aNewEpochAlwaysWinsAndWithinOneTheCounterOrders() {
        long epoch = 0x1234L << 32;
        assertTrue(Routes.newer(epoch | 2, epoch | 1));
        assertFalse(Routes.newer(epoch | 1, epoch | 2));
        assertFalse(Routes.newer(epoch | 2, epoch | 2));
        assertTrue(Routes.newer((0x9L << 32) | 1, epoch | 5)); // the switch restarted
        assertTrue(Routes.newer(epoch | 1, 0));                 // nothing held yet
    }

    @Test
    void randomBodiesGiveRoutesOrAProtocolExceptionAndNothingElse() {
        java.util.Random random = new java.util.Random(0x72L);
        int decoded = 0;
        for (int i = 0; i < 20_000; i++) {
            int count = random.nextInt(4);
            byte[] bytes = new byte[Routes.FIXED_LENGTH + Routes.ENTRY_LENGTH * count + random.nextInt(2)];
            random.nextBytes(bytes);
            bytes[16] = 0;
            bytes[17] = (byte) count;
            for (int e = 0; e < count; e++) {
                int p = Routes.FIXED_LENGTH + e * Routes.ENTRY_LENGTH;
                bytes[p] = (byte) (random.nextBoolean() ? 4 : 6);
                bytes[p + 1] = (byte) random.nextInt(random.nextBoolean() ? 1 : 130);
                bytes[p + 4] &= 0x7f;
            }
            try {
                Routes.decode(ByteBuffer.wrap(bytes), 0, bytes.length);
                decoded++;
            } catch (ProtocolException expected) {
                // fine: malformed
            }
        }
        assertTrue(decoded > 100, "some random bodies decode: " + decoded);
    }
}

package org.vl2.ipam;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.ipam.DhcpTestFrames.ip4;
import static org.vl2.ipam.Ipv4PoolTest.ip;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.vl2.api.MacAddress;
import org.vl2.ipam.DhcpTestFrames.Reply;

/**
 * {@link DhcpServer#handle} on whatever frames a port can send into a network: it returns NOT_MINE, REPLY or
 * CONSUMED and throws nothing, leaves the frame as it was, reads only between its position and limit, and writes
 * only well-formed replies (Ethernet, IPv4 and UDP lengths and checksums, BOOTP layout, options; or an ARP reply)
 * that fit in {@link DhcpServer#MIN_OUT_CAPACITY} and are no longer than the request (unless a DHCP request is too
 * short for the reply's options: then the reply has no padding at all); its leases stay consistent.
 *
 * <p>An input is a sequence of frames, each {@code [u16 length][frame][u8 time step]} (the clock advances by the
 * step times 15 s, so offers and leases expire), so that the fuzzer can play whole exchanges. Two servers, each
 * with its own lease table, get the same frames: one in an exact-size array, the other in a direct little-endian
 * buffer between bytes that differ from the frame's; their answers must be identical.
 *
 * <p>Fuzzed for {@code vl2.fuzz.duration} by {@code mvn verify} (see bundles/pom.xml); seeds (DISCOVER, REQUEST,
 * INFORM, RELEASE, DECLINE, ARP, tagged and not) in {@code DhcpServerFuzzTestInputs/frames}.
 */
class DhcpServerFuzzTest {

    private static final long SERVER_MAC = 0x0200_5e00_00feL;
    private static final int SERVER = ip4("10.1.1.14");
    private static final Instant START = Instant.parse("2026-11-21T10:00:00Z");

    private final ByteBuffer direct = ByteBuffer.allocateDirect(70_000).order(ByteOrder.LITTLE_ENDIAN);

    private record Side(MutableClock clock, LeaseTable leases, DhcpServer server, ByteBuffer out) {
    }

    private static Side side(ByteBuffer out) throws Exception {
        MutableClock clock = new MutableClock(START);
        // a /28: 13 addresses to lease, so that a few clients exhaust it
        LeaseTable leases = LeaseTable.load(Ipv4Pool.parse("10.1.1.0/28", null), null, clock, Duration.ofMinutes(3));
        DhcpServer server = new DhcpServer(leases, MacAddress.of(SERVER_MAC), 1400, Duration.ofHours(1),
                ip("10.1.1.1"), List.of(ip("10.1.1.1"), ip("9.9.9.9")));
        return new Side(clock, leases, server, out);
    }

    @FuzzTest
    void frames(byte[] input) throws Exception {
        Side exact = side(ByteBuffer.allocate(DhcpServer.MIN_OUT_CAPACITY));
        Side windowed = side(ByteBuffer.allocateDirect(DhcpServer.MIN_OUT_CAPACITY).order(ByteOrder.LITTLE_ENDIAN));
        int i = 0;
        while (i + 2 <= input.length) {
            int length = Math.min(((input[i] & 0xFF) << 8) | (input[i + 1] & 0xFF), input.length - i - 2);
            byte[] frame = new byte[length];
            System.arraycopy(input, i + 2, frame, 0, length);
            i += 2 + length;
            int step = i < input.length ? input[i++] & 0xFF : 0;

            int a = handle(exact, ByteBuffer.wrap(frame.clone()), frame);
            int b = handle(windowed, place(frame), frame);
            assertEquals(a, b, "the buffer layout changed the answer");
            if (a == DhcpServer.REPLY) {
                assertArrayEquals(bytes(exact.out()), bytes(windowed.out()), "the buffer layout changed the reply");
                checkReply(exact.out(), frame);
            }
            assertEquals(exact.leases().leases(), windowed.leases().leases());
            checkLeases(exact.leases());
            exact.clock().advance(Duration.ofSeconds(15L * step));
            windowed.clock().advance(Duration.ofSeconds(15L * step));
        }
    }

    private static int handle(Side s, ByteBuffer frame, byte[] content) {
        int position = frame.position();
        int limit = frame.limit();
        s.out().position(7).limit(100);   // handle clears it
        int result = s.server().handle(frame, s.out());
        assertTrue(result == DhcpServer.NOT_MINE || result == DhcpServer.REPLY || result == DhcpServer.CONSUMED
                || result == DhcpServer.REFUSED, "result " + result);
        assertEquals(position, frame.position(), "frame position moved");
        assertEquals(limit, frame.limit(), "frame limit moved");
        for (int j = 0; j < content.length; j++) {
            assertEquals(content[j], frame.get(position + j), "the frame was changed");
        }
        return result;
    }

    /** An independent parse of the reply: Ethernet from the server to the client, then ARP or DHCP. */
    private static void checkReply(ByteBuffer out, byte[] request) {
        assertEquals(0, out.position());
        assertTrue(out.limit() <= DhcpServer.MIN_OUT_CAPACITY, "reply of " + out.limit() + " bytes");
        ByteBuffer w = ByteBuffer.wrap(bytes(out));
        assertTrue(w.limit() >= 42, "reply of " + w.limit() + " bytes");
        assertEquals(SERVER_MAC, mac(w, 6), "from the server's MAC");
        int l3 = 14;
        int type = w.getShort(12) & 0xFFFF;
        if (type == 0x8100) {
            assertEquals(ByteBuffer.wrap(request).getShort(14), w.getShort(14), "the request's VLAN tag");
            type = w.getShort(16) & 0xFFFF;
            l3 = 18;
        }
        if (type == 0x0806) {
            assertEquals(0x0001_0800, w.getInt(l3), "ARP for IPv4 over Ethernet");
            assertEquals(0x0604, w.getShort(l3 + 4));
            assertEquals(2, w.getShort(l3 + 6), "an ARP reply");
            assertEquals(SERVER_MAC, mac(w, l3 + 8));
            assertEquals(SERVER, w.getInt(l3 + 14), "for the server address");
            assertEquals(mac(w, 0), mac(w, l3 + 18), "to the asker");
            assertTrue(!MacAddress.isMulticast(mac(w, 0)) && mac(w, 0) != 0, "to a unicast MAC");
            assertTrue(w.limit() <= request.length, "an ARP reply longer than its request (amplification)");
            return;
        }
        Reply r = Reply.parse(out, Math.min(300, DhcpTestFrames.bootpLength(ByteBuffer.wrap(request))));
        if (w.limit() > request.length) {
            assertEquals((byte) 255, w.get(w.limit() - 1), "a reply longer than its request (amplification) with "
                    + "padding: " + w.limit() + " bytes for " + request.length);
        }
        assertEquals(2, r.op, "BOOTREPLY");
        assertEquals(SERVER, r.ipSrc);
        assertEquals(67, r.sport);
        assertEquals(68, r.dport);
        assertTrue(r.ethDst == r.chaddr || r.ethDst == MacAddress.MASK, "to the client or broadcast");
        int mt = r.messageType();
        assertTrue(mt == DhcpTestFrames.OFFER || mt == DhcpTestFrames.ACK || mt == DhcpTestFrames.NAK, "type " + mt);
        assertEquals(SERVER, r.optionInt(54), "server id");
        if (r.yiaddr != 0) {
            assertTrue(mt != DhcpTestFrames.NAK);
            Ipv4Pool pool = Ipv4Pool.parse("10.1.1.0/28", null);
            assertTrue(pool.isHost(r.yiaddr) && r.yiaddr != SERVER, "offers a host address of the pool, not "
                    + Ipv4Pool.format(r.yiaddr));
        }
    }

    /** Every live lease on a host address of the pool, never the server's, one per address and key. */
    private static void checkLeases(LeaseTable t) {
        Set<String> keys = new HashSet<>();
        Set<Integer> addresses = new HashSet<>();
        for (Lease l : t.leases()) {
            int a = Ipv4Pool.toInt(l.address());
            assertTrue(t.pool().isHost(a), l.toString());
            assertNotEquals(t.pool().serverInt(), a, l.toString());
            assertTrue(keys.add(l.key()) && addresses.add(a), "twice: " + l);
        }
    }

    /** The frame in the direct buffer, behind and before the complement of its own bytes. */
    private ByteBuffer place(byte[] frame) {
        int at = 13;
        ByteBuffer b = direct.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int end = Math.min(b.capacity(), at + frame.length + 8);
        for (int j = 0; j < end; j++) {
            b.put(j, (byte) ~(frame.length == 0 ? 0x5A : frame[Math.floorMod(j - at, frame.length)]));
        }
        b.put(at, frame);
        return b.clear().position(at).limit(at + frame.length);
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    private static long mac(ByteBuffer w, int at) {
        return ((w.getInt(at) & 0xFFFF_FFFFL) << 16) | (w.getShort(at + 4) & 0xFFFF);
    }
}

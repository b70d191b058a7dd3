package org.vl2.transport.vxlan.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;
import org.vl2.protocol.VxlanHeader;

/**
 * The VXLAN transport's receive path on any datagram ({@link VxlanTransport#deliver}, which checks the header with
 * {@link VxlanHeader} and maps the VNI): each datagram is either counted as exactly one kind of drop (too short,
 * no I flag, unmapped VNI) or handed to the switch once, as the frame behind the 8-byte header, with the network
 * its VNI maps to and the VTEP of its source; nothing throws. {@link FlowHash} over any part of the datagram reads
 * only that part, and {@link FlowHash#index} stays in range.
 *
 * <p>Input: byte 0 picks the source (one of four addresses), the rest is the datagram. Fuzzed for
 * {@code vl2.fuzz.duration} by {@code mvn verify} (see bundles/pom.xml); seeds in
 * {@code VxlanFuzzTestInputs/datagrams}.
 */
class VxlanFuzzTest {

    private static final List<InetSocketAddress> SOURCES = List.of(source("127.0.0.1", 4789),
            source("10.0.0.2", 40000), source("::1", 4789), source("192.0.2.1", 1));
    private static VxlanTransport transport;
    private static int port;

    private final Recorder switchCore = new Recorder();
    private ByteBuffer heap = ByteBuffer.allocate(0);

    /** The switch as the transport sees it: records the frame handed over. */
    private static final class Recorder implements FrameReceiver {
        int calls;
        SocketAddress remote;
        long network;
        int position;
        int limit;

        @Override
        public void receive(Transport t, SocketAddress source, ByteBuffer frame) {
            throw new AssertionError("a VXLAN datagram handed over as a raw frame");
        }

        @Override
        public void receiveFrame(Transport t, SocketAddress remote, long network, ByteBuffer frame) {
            calls++;
            assertSame(transport, t);
            this.remote = remote;
            this.network = network;
            this.position = frame.position();
            this.limit = frame.limit();
        }
    }

    @BeforeAll
    static void open() throws Exception {
        port = VxlanTransportTest.freePort();
        int range = VxlanTransportTest.freeRange(2);
        transport = new VxlanTransport(new Cfg().bind("127.0.0.1").port(port).range(range, range + 1)
                .vni("42=a1", "7=0", "16777215=ffffffffffffffff"));
    }

    @AfterAll
    static void close() {
        transport.deactivate();
    }

    @FuzzTest
    void datagrams(byte[] input) {
        InetSocketAddress from = SOURCES.get(input.length == 0 ? 0 : (input[0] & 0xFF) % SOURCES.size());
        byte[] datagram = input.length == 0 ? input : Arrays.copyOfRange(input, 1, input.length);
        deliver(from, datagram);
        flowHash(datagram);
    }

    private void deliver(InetSocketAddress from, byte[] datagram) {
        ByteBuffer b = place(datagram);
        int at = b.position();
        int limit = b.limit();
        long[] before = {transport.malformedDrops(), transport.badFlagsDrops(), transport.unmappedVniDrops()};
        switchCore.calls = 0;
        transport.deliver(switchCore, from, b);
        long[] after = {transport.malformedDrops(), transport.badFlagsDrops(), transport.unmappedVniDrops()};
        long drops = after[0] - before[0] + after[1] - before[1] + after[2] - before[2];
        assertEquals(1, drops + switchCore.calls, "one outcome per datagram");
        if (switchCore.calls == 0) {
            assertEquals(at, b.position(), "a dropped datagram is left as it was");
            assertEquals(limit, b.limit());
            return;
        }
        assertTrue(datagram.length >= 8 + 14, "no Ethernet header behind the VXLAN header: " + datagram.length);
        assertTrue((datagram[0] & 0x08) != 0, "no I flag");
        int vni = ((datagram[4] & 0xFF) << 16) | ((datagram[5] & 0xFF) << 8) | (datagram[6] & 0xFF);
        assertEquals(vni == 42 ? 0xa1L : vni == 7 ? 0L : vni == 0xFF_FFFF ? -1L : Long.MIN_VALUE, switchCore.network,
                "network of VNI " + vni);
        assertEquals(at + VxlanHeader.LENGTH, switchCore.position, "the frame starts behind the header");
        assertEquals(limit, switchCore.limit, "and ends with the datagram");
        assertEquals(new InetSocketAddress(from.getAddress(), port), switchCore.remote, "the source's VTEP");
    }

    /** The hash of every prefix window [offset, offset + length) must not depend on bytes outside it. */
    private void flowHash(byte[] datagram) {
        ByteBuffer exact = ByteBuffer.wrap(datagram);
        int n = datagram.length;
        for (int offset : new int[] {0, Math.min(n, VxlanHeader.LENGTH), n / 2}) {
            int length = n - offset;
            byte[] window = Arrays.copyOfRange(datagram, offset, n);
            int h = FlowHash.of(exact, offset, length);
            assertEquals(h, FlowHash.of(ByteBuffer.wrap(window), 0, length), "bytes before the window counted");
            ByteBuffer padded = place(window);
            assertEquals(h, FlowHash.of(padded, padded.position(), length), "bytes outside the window counted");
            for (int buckets : new int[] {1, 3, 4, 64}) {
                int i = FlowHash.index(h, buckets);
                assertTrue(i >= 0 && i < buckets, "index " + i + " of " + buckets);
            }
        }
    }

    /** The bytes behind and before the complement of their own bytes, in a reused buffer. */
    private ByteBuffer place(byte[] bytes) {
        if (heap.capacity() < bytes.length + 40) {
            heap = ByteBuffer.allocate(bytes.length + 1024);
        }
        int at = 13;
        ByteBuffer b = heap.duplicate();
        int end = Math.min(b.capacity(), at + bytes.length + 8);
        for (int j = 0; j < end; j++) {
            b.put(j, (byte) ~(bytes.length == 0 ? 0x5A : bytes[Math.floorMod(j - at, bytes.length)]));
        }
        b.put(at, bytes);
        return b.clear().position(at).limit(at + bytes.length);
    }

    private static InetSocketAddress source(String ip, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName(ip), port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}

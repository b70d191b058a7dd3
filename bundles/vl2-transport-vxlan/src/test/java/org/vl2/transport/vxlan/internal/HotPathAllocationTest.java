package org.vl2.transport.vxlan.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;

import org.junit.jupiter.api.Test;
import org.vl2.api.PortId;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;
import org.vl2.protocol.VxlanHeader;

/** Decapsulating a frame of a known VTEP and encapsulating one must not allocate: both run once per frame. */
class HotPathAllocationTest {

    private static final class Counting implements FrameReceiver {
        long frames;
        long bytes;

        @Override
        public void receive(Transport transport, SocketAddress source, ByteBuffer frame) {
            throw new AssertionError("raw receive");
        }

        @Override
        public void receiveFrame(Transport transport, SocketAddress remote, long network, ByteBuffer frame) {
            frames++;
            bytes += frame.remaining() + network;
        }

        @Override
        public PortId attachPort(Transport transport, SocketAddress remote, long network) {
            return PortId.of(1);
        }

        @Override
        public boolean detachPort(Transport transport, SocketAddress remote, long network) {
            return true;
        }
    }

    private static com.sun.management.ThreadMXBean bean() {
        java.lang.management.ThreadMXBean plain = ManagementFactory.getThreadMXBean();
        assumeTrue(plain instanceof com.sun.management.ThreadMXBean);
        com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) plain;
        assumeTrue(bean.isThreadAllocatedMemorySupported() && bean.isThreadAllocatedMemoryEnabled());
        return bean;
    }

    /** Runs {@code work} until warm, then asserts every run tiny and one exactly zero (as the MAC table's test). */
    private static void allocatesNothing(Runnable work, String what) {
        com.sun.management.ThreadMXBean bean = bean();
        long tid = Thread.currentThread().getId();
        work.run(); // the first run links call sites and fills caches
        long min = Long.MAX_VALUE;
        for (int run = 0; run < 5; run++) {
            long before = bean.getThreadAllocatedBytes(tid);
            work.run();
            long used = bean.getThreadAllocatedBytes(tid) - before;
            assertTrue(used < 16 * 1024, used + " bytes allocated by " + what);
            min = Math.min(min, used);
        }
        assertEquals(0, min, "bytes allocated by " + what);
    }

    @Test
    void decapsulationAllocatesNothing() throws Exception {
        int port = VxlanTransportTest.freePort();
        int base = VxlanTransportTest.freeRange(2);
        VxlanTransport t = new VxlanTransport(new Cfg().bind("127.0.0.1").port(port).range(base, base + 1)
                .vni("42=2a", "43=2b").allowed(sourcesAllowed())); // the source check is on the hot path
        try {
            Counting rx = new Counting();
            // a new address object per datagram, as DatagramChannel.receive hands them out
            InetSocketAddress[] sources = new InetSocketAddress[64];
            for (int i = 0; i < sources.length; i++) {
                sources[i] = new InetSocketAddress("10.0.0." + (i + 1), 40000 + i);
            }
            ByteBuffer d = ByteBuffer.allocateDirect(200);
            ByteBuffer bad = ByteBuffer.allocateDirect(200);
            bad.put(0, (byte) 0x08).putInt(4, 7 << 8); // unmapped VNI
            allocatesNothing(() -> {
                for (int i = 0; i < 100_000; i++) {
                    d.clear();
                    VxlanHeader.write(d, 0, 42 + (i & 1));
                    d.limit(8 + 60);
                    t.deliver(rx, sources[i & 63], d);
                    bad.clear().limit(100);
                    t.deliver(rx, sources[i & 63], bad);
                }
            }, "200,000 datagrams");
            assertEquals(600_000, rx.frames);
            assertEquals(600_000, t.unmappedVniDrops());
        } finally {
            t.deactivate();
        }
    }

    @Test
    void encapsulationAllocatesNothing() throws Exception {
        int port = VxlanTransportTest.freePort();
        int base = VxlanTransportTest.freeRange(4);
        VxlanTransport t = new VxlanTransport(new Cfg().bind("127.0.0.1").port(port).range(base, base + 3)
                .vni("42=2a"));
        try (DatagramChannel sink = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            sink.setOption(StandardSocketOptions.SO_RCVBUF, 1 << 16); // fills up: sends that fail must not allocate
            SocketAddress to = sink.getLocalAddress();
            ByteBuffer[] flows = new ByteBuffer[16];
            for (int i = 0; i < flows.length; i++) {
                ByteBuffer heap = Frames.tcp4(0x0A01_0101, 0x0A01_0102, 40000 + i, 80);
                flows[i] = ByteBuffer.allocateDirect(heap.remaining()).put(heap).flip();
            }
            allocatesNothing(() -> {
                for (int i = 0; i < 5_000; i++) {
                    t.sendFrame(to, 42, flows[i & 15]);
                    t.sendFrame(to, 0, flows[i & 15]); // no VNI
                }
            }, "10,000 sendFrame calls");
            assertEquals(0, t.sendFailures());
        } finally {
            t.deactivate();
        }
    }

    /** The 64 sources of the decapsulation run: 10.0.0.1 .. 10.0.0.64. */
    private static String[] sourcesAllowed() {
        String[] a = new String[64];
        for (int i = 0; i < a.length; i++) {
            a[i] = "10.0.0." + (i + 1);
        }
        return a;
    }
}

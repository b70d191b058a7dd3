package org.vl2.netio;

import org.vl2.netio.internal.UdpBatchSocket;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/**
 * The receive-forward-flush loop of a switch allocates nothing per datagram once warm: slots, headers and
 * source addresses are reused (measured with the thread's allocation counter, so other threads do not count).
 */
class HotPathAllocationTest {

    private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    @Test
    void receivingQueueingAndFlushingAllocateNothingPerDatagram() throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (DatagramEndpoint sw = UdpBatchSocket.open(LOOPBACK, 4 << 20, 4 << 20, 32, true);
             DatagramEndpoint sink = UdpBatchSocket.open(LOOPBACK, 4 << 20, 4 << 20, 32, true);
             DatagramChannel peer = DatagramChannel.open()) {
            peer.bind(LOOPBACK);
            ByteBuffer frame = ByteBuffer.allocateDirect(64);
            forward(sw, sink, peer, frame, 2_000); // warm-up: first use of every view, JIT
            long self = Thread.currentThread().getId();
            long before = threads.getThreadAllocatedBytes(self);
            int n = forward(sw, sink, peer, frame, 5_000);
            long allocated = threads.getThreadAllocatedBytes(self) - before;
            assertEquals(5_000, n);
            assertTrue(allocated < 5_000, allocated + " bytes allocated for 5000 datagrams");
        }
    }

    /**
     * Another thread sends {@code count} datagrams from the peer, never more than 128 ahead of what was received (so
     * no socket buffer overflows); this thread receives them and forwards each to the sink.
     */
    private static int forward(DatagramEndpoint sw, DatagramEndpoint sink, DatagramChannel peer, ByteBuffer frame,
                               int count) throws Exception {
        AtomicInteger got = new AtomicInteger();
        InetSocketAddress target = sw.localAddress();
        Thread sender = new Thread(() -> {
            try {
                for (int sent = 0; sent < count; sent++) {
                    while (sent - got.get() > 128) {
                        Thread.onSpinWait();
                    }
                    frame.clear();
                    peer.send(frame, target);
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        sender.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        InetSocketAddress to = sink.localAddress();
        int received = 0;
        while (received < count && System.nanoTime() < deadline) {
            int n = sw.receive(100);
            for (int i = 0; i < n; i++) {
                sw.queue(to, sw.datagram(i));
            }
            sw.flush();
            received += n;
            got.lazySet(received);
            sink.receive(0);
        }
        sender.join(5_000);
        return received;
    }
}

package org.vl2.netio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.vl2.netio.internal.Sys;
import org.vl2.netio.internal.UdpBatchSocket;

import com.sun.jna.Memory;

/** The batched endpoint: the contract, and what only it does (many per system call, UDP GSO/GRO). */
class UdpBatchSocketTest extends DatagramEndpointTest {

    @BeforeAll
    static void linux() {
        assertNull(UdpBatchSocket.unavailableReason(), "batched UDP must work on the Linux build machine");
    }

    @Override
    DatagramEndpoint open(InetSocketAddress bind, int receiveBufferBytes, int sendBufferBytes, int batch)
            throws IOException {
        return UdpBatchSocket.open(bind, receiveBufferBytes, sendBufferBytes, batch);
    }

    @Test
    void theFactoryOpensABatchedEndpointHere() throws IOException {
        assertNull(DatagramEndpoints.batchedUnavailableReason());
        try (DatagramEndpoint e = DatagramEndpoints.open(LOOPBACK, 1 << 16, 1 << 16, 8, true)) {
            assertInstanceOf(UdpBatchSocket.class, e);
            assertEquals(8, e.batchSize());
        }
        assertThrows(IllegalArgumentException.class, () -> UdpBatchSocket.open(LOOPBACK, 1 << 16, 1 << 16, 0));
        assertThrows(IllegalArgumentException.class,
                () -> DatagramEndpoints.open(LOOPBACK, 1 << 16, 1 << 16, DatagramEndpoint.MAX_BATCH + 1, false));
    }

    /**
     * A connected socket (the agent's link) waits in a blocking recvmmsg: a datagram ends the wait with what is
     * queued, a timeout ends it with 0, a close from another thread ends it at once.
     */
    @Test
    void aConnectedSocketWaitsInTheReceiveItselfAndACloseEndsTheWait() throws Exception {
        DatagramEndpoint a = endpoint(LOOPBACK, 8);
        DatagramEndpoint b = endpoint(LOOPBACK, 8);
        a.connect(b.localAddress());
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            assertEquals(0, a.receive(20), "a timeout");
            Future<Integer> waiting = pool.submit(() -> a.receive(30_000));
            assertTrue(b.send(a.localAddress(), payload(1, 40)));
            assertEquals(1, waiting.get(5, TimeUnit.SECONDS));
            assertEquals(40, a.datagram(0).remaining());
            assertEquals(b.localAddress(), a.source(0));
            Future<Integer> closed = pool.submit(() -> a.receive(30_000));
            a.close();
            ExecutionException e = assertThrows(ExecutionException.class, () -> closed.get(5, TimeUnit.SECONDS));
            assertInstanceOf(ClosedChannelException.class, e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aFullBatchLeavesByItselfAndTheRestAtTheFlush() throws IOException {
        DatagramEndpoint a = endpoint(LOOPBACK, 8);
        DatagramEndpoint b = endpoint(LOOPBACK, 8);
        for (int n = 0; n < 20; n++) {
            assertTrue(a.queue(b.localAddress(), payload(n, 60 + n)));
        }
        assertEquals(4, a.queued(), "two full batches left with the queue() that found the slots full");
        assertEquals(16, receiveAll(b, 16, new ArrayList<>()).size());
        assertEquals(0, a.flush());
        assertEquals(4, receiveAll(b, 4, new ArrayList<>()).size());
    }

    @Test
    void whatAFlushDropsIsReportedByTheTagItWasQueuedWith() throws IOException {
        DatagramEndpoint a = endpoint(LOOPBACK, 8);
        DatagramEndpoint b = endpoint(LOOPBACK, 8);
        List<String> refused = refusals(a);
        InetSocketAddress nowhere = new InetSocketAddress(LOOPBACK.getAddress(), 0); // the kernel refuses port 0
        assertTrue(a.queue(b.localAddress(), payload(1, 64), "p1"));
        assertTrue(a.queue(nowhere, payload(2, 70), "p2"), "a batched endpoint only copies it");
        assertTrue(a.queue(b.localAddress(), payload(3, 80), "p1"));
        assertTrue(a.queue(nowhere, payload(4, 90), null));
        assertEquals(2, a.flush());
        assertEquals(List.of("p2:1:70", "null:1:90"), refused, "only the refused ones, each with its tag and size");
        assertEquals(List.of(payload(1, 64), payload(3, 80)), receiveAll(b, 2, new ArrayList<>()));
    }

    /**
     * A second send side on the same socket (another thread's): it queues apart from the endpoint's own queue, leaves
     * from the same address at its own flush, in order, reports refusals by tag like the endpoint; once the socket is
     * closed its flush drops and reports what it held.
     */
    @Test
    void aSecondSendSideQueuesApartAndFlushesFromTheSameSocket() throws IOException {
        DatagramEndpoint a = endpoint(LOOPBACK, 8);
        DatagramEndpoint b = endpoint(LOOPBACK, 8);
        List<String> refused = refusals(a);
        DatagramEndpoint.SendSide side = a.newSendSide(4);
        assertTrue(a.queue(b.localAddress(), payload(100, 60), "own"));
        for (int n = 0; n < 6; n++) {
            assertTrue(side.queue(b.localAddress(), payload(n, 60 + n), "side"));
        }
        assertEquals(1, a.queued(), "the endpoint's own queue is untouched");
        assertEquals(2, side.queued(), "four left with the queue that found the side's slots full");
        assertEquals(0, side.flush());
        List<ByteBuffer> got = receiveAll(b, 6, new ArrayList<>());
        for (int n = 0; n < 6; n++) {
            assertEquals(payload(n, 60 + n), got.get(n), "datagram " + n + " in order");
        }
        assertEquals(0, a.flush());
        assertEquals(List.of(payload(100, 60)), receiveAll(b, 1, new ArrayList<>()));
        assertTrue(side.queue(new InetSocketAddress(LOOPBACK.getAddress(), 0), payload(7, 70), "p0"));
        assertEquals(1, side.flush());
        assertTrue(side.queue(b.localAddress(), payload(8, 80), "late"));
        a.close();
        assertEquals(1, side.flush(), "closed: dropped");
        assertEquals(List.of("p0:1:70", "late:1:80"), refused, "each reported with its tag and size");
    }

    @Test
    void aDroppedOffloadedMessageIsReportedWithAllItsDatagrams() throws IOException {
        UdpBatchSocket a = offloaded(8);
        List<String> refused = refusals(a);
        InetSocketAddress nowhere = new InetSocketAddress(LOOPBACK.getAddress(), 0);
        for (int n = 0; n < 3; n++) {
            assertTrue(a.queue(nowhere, payload(n, 100), "p7"));
        }
        assertTrue(a.queue(nowhere, payload(3, 100), "p8"), "another tag: another message, even to the same place");
        assertEquals(4, a.flush());
        int p7 = 0;
        int p8 = 0;
        for (String r : refused) {
            String[] f = r.split(":");
            int datagrams = Integer.parseInt(f[1]);
            assertEquals(100 * datagrams, Integer.parseInt(f[2]), r);
            if (f[0].equals("p7")) {
                p7 += datagrams;
            } else {
                assertEquals("p8", f[0]);
                p8 += datagrams;
            }
        }
        assertEquals(3, p7, "the GSO message's three datagrams, whether refused whole or one by one");
        assertEquals(1, p8);
    }

    private UdpBatchSocket offloaded(int batch) throws IOException {
        UdpBatchSocket s = UdpBatchSocket.open(LOOPBACK, 1 << 20, 1 << 20, batch, true);
        open.add(s);
        assertEquals("gso+gro", s.offload(), "this kernel has UDP GSO and GRO");
        return s;
    }

    @Test
    void anOffloadedBurstReachesAPlainSocketAsTheSameDatagrams() throws IOException {
        UdpBatchSocket a = offloaded(8);
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(LOOPBACK);
            InetSocketAddress peer = (InetSocketAddress) ch.getLocalAddress();
            int[] sizes = {100, 100, 100, 40, 100, 100, 60, 60, 70};  // -> [100x3 + 40] [100x2] [60x2] [70]
            for (int n = 0; n < sizes.length; n++) {
                assertTrue(a.queue(peer, payload(n, sizes[n])));
            }
            assertEquals(sizes.length, a.queued());
            assertEquals(0, a.flush());
            ch.configureBlocking(true);
            for (int n = 0; n < sizes.length; n++) {
                ByteBuffer in = ByteBuffer.allocate(2000);
                assertEquals(a.localAddress(), ch.receive(in));
                assertEquals(payload(n, sizes[n]), in.flip(), "datagram " + n);
            }
        }
        assertEquals(0, a.offloadFallbacks());
    }

    @Test
    void aBurstBetweenOffloadedSocketsIsCutBackIntoItsDatagrams() throws IOException {
        UdpBatchSocket a = offloaded(4);
        UdpBatchSocket b = offloaded(4);
        UdpBatchSocket c = offloaded(4);
        int count = 150; // more than one message holds (64), and interleaved with another destination
        for (int n = 0; n < count; n++) {
            assertTrue(a.queue(b.localAddress(), payload(n, 64)));
            if (n % 50 == 0) {
                assertTrue(a.queue(c.localAddress(), payload(n, 64)));
            }
        }
        assertEquals(0, a.flush());
        List<InetSocketAddress> from = new ArrayList<>();
        List<ByteBuffer> got = receiveAll(b, count, from);
        assertEquals(count, got.size());
        for (int n = 0; n < count; n++) {
            assertEquals(payload(n, 64), got.get(n), "datagram " + n);
            assertEquals(a.localAddress(), from.get(n));
        }
        assertEquals(3, receiveAll(c, 3, new ArrayList<>()).size());
    }

    @Test
    void offloadedDatagramsTheKernelRefusesGoOneByOneAndThatSizeIsNotOffloadedAgain() throws IOException {
        UdpBatchSocket a = offloaded(4);
        UdpBatchSocket b = offloaded(4);
        // SO_NO_CHECK (no UDP checksums) makes the kernel refuse every GSO message with EINVAL, as it does for
        // segments larger than the path MTU
        try (Memory one = new Memory(4)) {
            one.setInt(0, 1);
            assertEquals(0, Sys.setsockopt(a.fd(), Sys.SOL_SOCKET, 11 /* SO_NO_CHECK */, one, 4));
        }
        for (int round = 0; round < 2; round++) {
            for (int n = 0; n < 3; n++) {
                assertTrue(a.queue(b.localAddress(), payload(n, 1000)));
            }
            assertEquals(0, a.flush());
            assertEquals(List.of(payload(0, 1000), payload(1, 1000), payload(2, 1000)),
                    receiveAll(b, 3, new ArrayList<>()), "round " + round);
            assertEquals(1, a.offloadFallbacks(), "refused once, then 1000-byte datagrams go without GSO");
        }
    }

    /** What {@code endpoint}'s flushes refuse from now on, as "tag:datagrams:bytes" in the order reported. */
    private static List<String> refusals(DatagramEndpoint endpoint) {
        List<String> refused = new ArrayList<>();
        endpoint.setRefusals((tag, datagrams, bytes) -> refused.add(tag + ":" + datagrams + ":" + bytes));
        return refused;
    }
}

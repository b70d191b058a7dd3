package org.vl2.netio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.vl2.netio.internal.Sys;

import com.sun.jna.Memory;

class UdpBatchSocketTest {

    private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeAll
    static void linux() {
        assertNull(UdpBatchSocket.unavailableReason(), "batched UDP must work on the Linux build machine");
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    private UdpBatchSocket socket(InetSocketAddress bind, int batch) throws IOException {
        UdpBatchSocket s = UdpBatchSocket.open(bind, 1 << 20, 1 << 20, batch);
        open.add(s);
        return s;
    }

    private static ByteBuffer payload(int n, int size) {
        ByteBuffer b = ByteBuffer.allocate(size);
        for (int i = 0; i < size; i++) {
            b.put((byte) (n * 7 + i));
        }
        return b.flip();
    }

    /** Receives until {@code count} datagrams came (bounded wait) and returns copies. */
    private static List<ByteBuffer> receiveAll(UdpBatchSocket s, int count, List<InetSocketAddress> from)
            throws IOException {
        List<ByteBuffer> got = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (got.size() < count && System.nanoTime() < deadline) {
            int n = s.receive(200);
            for (int i = 0; i < n; i++) {
                ByteBuffer d = s.datagram(i);
                assertEquals(ByteOrder.BIG_ENDIAN, d.order(), "network byte order, as the switch's frame views need");
                ByteBuffer copy = ByteBuffer.allocate(d.remaining());
                copy.put(d).flip();
                got.add(copy);
                from.add(s.source(i));
            }
        }
        return got;
    }

    @Test
    void aBatchGoesOutInOneFlushAndArrivesWholeInOrder() throws IOException {
        UdpBatchSocket a = socket(LOOPBACK, 8);
        UdpBatchSocket b = socket(LOOPBACK, 8);
        for (int n = 0; n < 20; n++) { // more than the batch: queue() flushes when the slots are full
            ByteBuffer p = payload(n, 60 + n);
            assertTrue(a.queue(b.localAddress(), p));
            assertEquals(0, p.position(), "position unchanged");
        }
        assertEquals(4, a.queued());
        assertEquals(0, a.takeAutoFlushDropped(), "the two flushes queue() did sent everything");
        assertEquals(0, a.flush());
        assertEquals(0, a.queued());
        List<InetSocketAddress> from = new ArrayList<>();
        List<ByteBuffer> got = receiveAll(b, 20, from);
        assertEquals(20, got.size());
        for (int n = 0; n < 20; n++) {
            assertEquals(payload(n, 60 + n), got.get(n), "datagram " + n);
            assertEquals(a.localAddress(), from.get(n));
            assertSame(from.get(0), from.get(n), "sources come from the cache");
        }
        assertInstanceOf(Inet4Address.class, from.get(0).getAddress());
    }

    @Test
    void talksWithPlainJavaSocketsBothWays() throws IOException {
        UdpBatchSocket s = socket(LOOPBACK, 4);
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(LOOPBACK);
            InetSocketAddress peer = (InetSocketAddress) ch.getLocalAddress();
            ByteBuffer big = payload(3, UdpBatchSocket.MAX_DATAGRAM);
            assertTrue(s.send(peer, big));
            ByteBuffer in = ByteBuffer.allocate(70_000);
            assertEquals(s.localAddress(), ch.receive(in));
            assertEquals(big, in.flip());

            ch.send(payload(9, 1514), s.localAddress());
            List<InetSocketAddress> from = new ArrayList<>();
            List<ByteBuffer> got = receiveAll(s, 1, from);
            assertEquals(payload(9, 1514), got.get(0));
            assertEquals(peer, from.get(0));
        }
    }

    @Test
    void aDatagramTheKernelRefusesIsDroppedAndTheRestOfTheBatchStillGoes() throws IOException {
        UdpBatchSocket a = socket(LOOPBACK, 8);
        UdpBatchSocket b = socket(LOOPBACK, 8);
        assertTrue(a.queue(b.localAddress(), payload(1, 64)));
        // port 0 is not a destination: sendmmsg stops at it with EINVAL
        assertTrue(a.queue(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), payload(2, 64)));
        assertTrue(a.queue(b.localAddress(), payload(3, 64)));
        assertEquals(1, a.flush());
        List<ByteBuffer> got = receiveAll(b, 2, new ArrayList<>());
        assertEquals(List.of(payload(1, 64), payload(3, 64)), got);
    }

    @Test
    void refusesWhatItCannotSend() throws IOException {
        UdpBatchSocket a = socket(LOOPBACK, 2);
        InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("::1"), 9);
        assertFalse(a.queue(v6, payload(1, 10)), "IPv6 destination from an IPv4 socket");
        assertFalse(a.send(v6, payload(1, 10)));
        assertFalse(a.queue(InetSocketAddress.createUnresolved("example.invalid", 9), payload(1, 10)));
        assertFalse(a.queue(a.localAddress(), ByteBuffer.allocate(UdpBatchSocket.MAX_DATAGRAM + 1)));
        assertEquals(0, a.queued());
    }

    @Test
    void dualStackSocketSeesIpv4PeersAsIpv4() throws IOException {
        UdpBatchSocket s = socket(new InetSocketAddress(InetAddress.getByName("::"), 0), 4);
        UdpBatchSocket v4 = socket(LOOPBACK, 4);
        UdpBatchSocket v6 = socket(new InetSocketAddress(InetAddress.getByName("::1"), 0), 4);
        int port = s.localAddress().getPort();
        assertTrue(v4.send(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), payload(1, 32)));
        assertTrue(v6.send(new InetSocketAddress(InetAddress.getByName("::1"), port), payload(2, 32)));
        List<InetSocketAddress> from = new ArrayList<>();
        receiveAll(s, 2, from);
        assertEquals(List.of(v4.localAddress(), v6.localAddress()), from);
        // and answers both through the same socket (IPv4 as ::ffff:127.0.0.1)
        assertTrue(s.queue(from.get(0), payload(3, 16)));
        assertTrue(s.queue(from.get(1), payload(4, 16)));
        assertEquals(0, s.flush());
        assertEquals(List.of(payload(3, 16)), receiveAll(v4, 1, new ArrayList<>()));
        assertEquals(List.of(payload(4, 16)), receiveAll(v6, 1, new ArrayList<>()));
    }

    @Test
    void anAddressInUseIsABindException() throws IOException {
        UdpBatchSocket a = socket(LOOPBACK, 2);
        BindException e = assertThrows(BindException.class,
                () -> UdpBatchSocket.open(a.localAddress(), 1 << 16, 1 << 16, 2));
        assertTrue(e.getMessage().contains("Address already in use"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> UdpBatchSocket.open(LOOPBACK, 1 << 16, 1 << 16, 0));
    }

    @Test
    void waitsBoundedAndWakesUpAtOnce() throws Exception {
        UdpBatchSocket s = socket(LOOPBACK, 2);
        long t0 = System.nanoTime();
        assertEquals(0, s.receive(100));
        assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(90), "waited for the timeout");
        assertEquals(0, s.receive(0), "no wait");

        CompletableFuture<Integer> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return s.receive(30_000);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(50); // let it block (if it has not yet, the wake-up still ends its wait: eventfd keeps it)
        s.wakeup();
        assertEquals(0, waiting.get(5, TimeUnit.SECONDS));
    }

    @Test
    void closedSocketRefusesEverything() throws IOException {
        UdpBatchSocket s = UdpBatchSocket.open(LOOPBACK, 1 << 16, 1 << 16, 2);
        InetSocketAddress self = s.localAddress();
        s.close();
        s.close(); // idempotent
        assertFalse(s.isOpen());
        assertThrows(ClosedChannelException.class, () -> s.receive(0));
        assertFalse(s.send(self, payload(1, 8)));
        s.wakeup(); // harmless
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

    @Test
    void closingFromAnotherThreadEndsAWaitingReceive() throws Exception {
        UdpBatchSocket s = UdpBatchSocket.open(LOOPBACK, 1 << 16, 1 << 16, 2);
        CompletableFuture<Throwable> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                while (true) {
                    s.receive(30_000);
                }
            } catch (IOException e) {
                return e;
            }
        });
        Thread.sleep(50);
        s.close();
        assertInstanceOf(ClosedChannelException.class, waiting.get(5, TimeUnit.SECONDS));
    }

    @Test
    void aConnectedSocketHearsThatItsPeerIsGone() throws Exception {
        UdpBatchSocket s = socket(LOOPBACK, 2);
        InetSocketAddress gone;
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(LOOPBACK);
            gone = (InetSocketAddress) ch.getLocalAddress();
        }
        s.connect(gone);
        assertEquals(InetAddress.getLoopbackAddress(), s.localAddress().getAddress(), "the route's address");
        assertTrue(s.send(gone, payload(1, 10)));
        // loopback answers with ICMP port unreachable at once
        assertThrows(PortUnreachableException.class, () -> {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (System.nanoTime() < deadline) {
                s.receive(100);
            }
        });
    }
}

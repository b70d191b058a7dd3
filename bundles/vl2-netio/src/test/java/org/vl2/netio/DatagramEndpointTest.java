package org.vl2.netio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
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
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link DatagramEndpoint}, run against each implementation (a subclass each), on loopback.
 */
abstract class DatagramEndpointTest {

    static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    final List<AutoCloseable> open = new ArrayList<>();

    /** An endpoint of the implementation under test; {@code batch} is what a caller would ask for. */
    abstract DatagramEndpoint open(InetSocketAddress bind, int receiveBufferBytes, int sendBufferBytes, int batch)
            throws IOException;

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    DatagramEndpoint endpoint(InetSocketAddress bind, int batch) throws IOException {
        DatagramEndpoint s = open(bind, 1 << 20, 1 << 20, batch);
        open.add(s);
        return s;
    }

    static ByteBuffer payload(int n, int size) {
        ByteBuffer b = ByteBuffer.allocate(size);
        for (int i = 0; i < size; i++) {
            b.put((byte) (n * 7 + i));
        }
        return b.flip();
    }

    /** Receives until {@code count} datagrams came (bounded wait) and returns copies. */
    static List<ByteBuffer> receiveAll(DatagramEndpoint s, int count, List<InetSocketAddress> from)
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
        DatagramEndpoint a = endpoint(LOOPBACK, 8);
        DatagramEndpoint b = endpoint(LOOPBACK, 8);
        for (int n = 0; n < 20; n++) { // more than the batch: queue() flushes when the slots are full
            ByteBuffer p = payload(n, 60 + n);
            assertTrue(a.queue(b.localAddress(), p));
            assertEquals(0, p.position(), "position unchanged");
        }
        assertEquals(20 % a.batchSize(), a.queued(), "what the flushes queue() did left over");
        assertEquals(0, a.takeAutoFlushDropped(), "the flushes queue() did sent everything");
        assertEquals(0, a.flush());
        assertEquals(0, a.queued());
        List<InetSocketAddress> from = new ArrayList<>();
        List<ByteBuffer> got = receiveAll(b, 20, from);
        assertEquals(20, got.size());
        for (int n = 0; n < 20; n++) {
            assertEquals(payload(n, 60 + n), got.get(n), "datagram " + n);
            assertEquals(a.localAddress(), from.get(n));
        }
        assertInstanceOf(Inet4Address.class, from.get(0).getAddress());
    }

    @Test
    void talksWithPlainJavaSocketsBothWays() throws IOException {
        DatagramEndpoint s = endpoint(LOOPBACK, 4);
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(LOOPBACK);
            InetSocketAddress peer = (InetSocketAddress) ch.getLocalAddress();
            ByteBuffer big = payload(3, DatagramEndpoint.MAX_DATAGRAM);
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
        DatagramEndpoint a = endpoint(LOOPBACK, 8);
        DatagramEndpoint b = endpoint(LOOPBACK, 8);
        assertTrue(a.queue(b.localAddress(), payload(1, 64)));
        // port 0 is not a destination: the kernel refuses it (EINVAL), at once or when the batch is flushed
        boolean taken = a.queue(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), payload(2, 64));
        assertTrue(a.queue(b.localAddress(), payload(3, 64)));
        assertEquals(1, (taken ? 0 : 1) + a.flush(), "refused by queue() or counted by flush(), once");
        List<ByteBuffer> got = receiveAll(b, 2, new ArrayList<>());
        assertEquals(List.of(payload(1, 64), payload(3, 64)), got);
    }

    @Test
    void refusesWhatItCannotSend() throws IOException {
        DatagramEndpoint a = endpoint(LOOPBACK, 2);
        InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("::1"), 9);
        assertFalse(a.queue(v6, payload(1, 10)), "IPv6 destination from an IPv4 socket");
        assertFalse(a.send(v6, payload(1, 10)));
        assertFalse(a.queue(InetSocketAddress.createUnresolved("example.invalid", 9), payload(1, 10)));
        assertFalse(a.queue(a.localAddress(), ByteBuffer.allocate(DatagramEndpoint.MAX_DATAGRAM + 1)));
        assertFalse(a.send(a.localAddress(), ByteBuffer.allocate(DatagramEndpoint.MAX_DATAGRAM + 1)));
        assertEquals(0, a.queued());
    }

    @Test
    void dualStackSocketSeesIpv4PeersAsIpv4() throws IOException {
        DatagramEndpoint s = endpoint(new InetSocketAddress(InetAddress.getByName("::"), 0), 4);
        DatagramEndpoint v4 = endpoint(LOOPBACK, 4);
        DatagramEndpoint v6 = endpoint(new InetSocketAddress(InetAddress.getByName("::1"), 0), 4);
        int port = s.localAddress().getPort();
        assertTrue(v4.send(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), payload(1, 32)));
        // one at a time: the two arrive in a known order
        List<InetSocketAddress> from = new ArrayList<>();
        receiveAll(s, 1, from);
        assertTrue(v6.send(new InetSocketAddress(InetAddress.getByName("::1"), port), payload(2, 32)));
        receiveAll(s, 1, from);
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
        DatagramEndpoint a = endpoint(LOOPBACK, 2);
        BindException e = assertThrows(BindException.class, () -> open(a.localAddress(), 1 << 16, 1 << 16, 2));
        assertTrue(e.getMessage().contains("Address already in use"), e.getMessage());
    }

    @Test
    void waitsBoundedAndWakesUpAtOnce() throws Exception {
        DatagramEndpoint s = endpoint(LOOPBACK, 2);
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
        // Whether the receive is already waiting or not, the wake-up ends its wait: it is kept until the next wait.
        s.wakeup();
        assertEquals(0, waiting.get(5, TimeUnit.SECONDS));
    }

    @Test
    void closedSocketRefusesEverything() throws IOException {
        DatagramEndpoint s = open(LOOPBACK, 1 << 16, 1 << 16, 2);
        InetSocketAddress self = s.localAddress();
        s.close();
        s.close(); // idempotent
        assertFalse(s.isOpen());
        assertThrows(ClosedChannelException.class, () -> s.receive(0));
        assertFalse(s.send(self, payload(1, 8)));
        boolean taken = s.queue(self, payload(1, 8));
        assertEquals(taken ? 1 : 0, s.flush(), "taken after close: dropped at the flush");
        s.wakeup(); // harmless
    }

    @Test
    void closingFromAnotherThreadEndsAWaitingReceive() throws Exception {
        DatagramEndpoint s = open(LOOPBACK, 1 << 16, 1 << 16, 2);
        CompletableFuture<Throwable> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                while (true) {
                    s.receive(30_000);
                }
            } catch (IOException e) {
                return e;
            }
        });
        // Closing before the receive waits ends it too: the next receive sees the endpoint closed.
        s.close();
        assertInstanceOf(ClosedChannelException.class, waiting.get(5, TimeUnit.SECONDS));
    }

    @Test
    void aConnectedSocketHearsThatItsPeerIsGone() throws Exception {
        DatagramEndpoint s = endpoint(LOOPBACK, 2);
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

    @Test
    void aReceivedDatagramIsReadInPlaceAndItsSourceKept() throws IOException {
        DatagramEndpoint a = endpoint(LOOPBACK, 4);
        DatagramEndpoint b = endpoint(LOOPBACK, 4);
        assertTrue(a.send(b.localAddress(), payload(5, 100)));
        assertTrue(a.send(b.localAddress(), payload(6, 100)));
        List<InetSocketAddress> from = new ArrayList<>();
        assertEquals(2, receiveAll(b, 2, from).size());
        assertSame(from.get(0), from.get(1), "one peer, one address object");
    }
}

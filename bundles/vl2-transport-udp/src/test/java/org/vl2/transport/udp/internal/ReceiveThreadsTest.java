package org.vl2.transport.udp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.annotation.Annotation;
import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.vl2.api.spi.FrameReceiver;

/**
 * {@code io.threads}: several sockets on one port, each with a receive thread; the vl2 transport keeps every session
 * index (byte 7) on one thread whatever the source, the raw transport every source on one thread; answers leave from
 * the one address and port.
 */
class ReceiveThreadsTest {

    private record Received(String thread, SocketAddress source, byte key, byte n) {
    }

    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private final List<UdpEndpoint> transports = new ArrayList<>();
    private final List<DatagramChannel> peers = new ArrayList<>();

    @AfterEach
    void tearDown() throws IOException {
        transports.forEach(UdpEndpoint::close);
        for (DatagramChannel p : peers) {
            p.close();
        }
    }

    static Vl2TransportConfig vl2Config(int port, int threads, int batch) {
        return new Vl2TransportConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return Vl2TransportConfig.class;
            }

            @Override
            public String bind_address() {
                return "127.0.0.1";
            }

            @Override
            public int port() {
                return port;
            }

            @Override
            public int receive_buffer_bytes() {
                return 1 << 20;
            }

            @Override
            public int send_buffer_bytes() {
                return 1 << 20;
            }

            @Override
            public int io_batch() {
                return batch;
            }

            @Override
            public boolean io_offload() {
                return true;
            }

            @Override
            public int io_threads() {
                return threads;
            }
        };
    }

    private DatagramChannel peer() throws IOException {
        DatagramChannel p = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        p.configureBlocking(true);
        peers.add(p);
        return p;
    }

    /** Answers every datagram on the receiving thread (queued on that thread's socket) and records the thread. */
    private FrameReceiver echo(UdpEndpoint t) {
        return (tr, source, d) -> {
            int at = d.position();
            received.add(new Received(Thread.currentThread().getName(), source, d.get(at + 7), d.get(at + 8)));
            assertTrue(t.send(source, d));
        };
    }

    private static ByteBuffer keyed(int key, int n) {
        ByteBuffer b = ByteBuffer.allocate(40);
        b.put(0, (byte) 0x56).put(7, (byte) key).put(8, (byte) n);
        return b;
    }

    /** Where the next datagram to {@code p} came from; a bounded wait, so a lost answer fails instead of hanging. */
    private static SocketAddress answerFrom(DatagramChannel p) throws IOException {
        p.socket().setSoTimeout(5000);
        DatagramPacket in = new DatagramPacket(new byte[100], 100);
        p.socket().receive(in);
        return in.getSocketAddress();
    }

    private List<Received> take(int count) throws InterruptedException {
        List<Received> got = new ArrayList<>();
        while (got.size() < count) {
            Received r = received.poll(5, TimeUnit.SECONDS);
            assertNotNull(r, "received " + got.size() + " of " + count);
            got.add(r);
        }
        return got;
    }

    @Test
    void theVl2TransportKeepsEachSessionIndexOnOneThreadWhateverItsSourceAndAnswersFromItsPort() throws Exception {
        Vl2Transport t = new Vl2Transport(vl2Config(UdpTransportTest.freePort(), 2, UdpEndpoint.DEFAULT_BATCH));
        transports.add(t);
        assertEquals(2, t.receiveThreads());
        t.start(echo(t));
        InetSocketAddress to = new InetSocketAddress("127.0.0.1", t.boundPort());
        List<DatagramChannel> from = List.of(peer(), peer(), peer());
        for (int n = 0; n < 6; n++) {
            for (int key = 0; key < 4; key++) {
                // a member's NAT mapping changes: the same index from another source port
                from.get((key + n) % 3).send(keyed(key, n), to);
            }
        }
        Map<Integer, String> threadOf = new HashMap<>();
        Map<Integer, Integer> next = new HashMap<>();
        for (Received r : take(24)) {
            String was = threadOf.putIfAbsent((int) r.key(), r.thread());
            assertTrue(was == null || was.equals(r.thread()), "index " + r.key() + " on " + was + " and " + r.thread());
            assertEquals(next.merge((int) r.key(), 1, Integer::sum) - 1, r.n(), "in order within an index");
        }
        assertEquals(Set.of("vl2-vl2-rx-0-" + t.localAddress(), "vl2-vl2-rx-1-" + t.localAddress()),
                new HashSet<>(threadOf.values()), "both threads receive");
        assertEquals(threadOf.get(0), threadOf.get(2));
        assertEquals(threadOf.get(1), threadOf.get(3));
        // every answer came back from the transport's one address and port, whichever socket queued it
        for (DatagramChannel p : from) {
            for (int i = 0; i < 8; i++) {
                assertEquals(to, answerFrom(p), "answer " + (i + 1) + " of 8 to " + p.getLocalAddress());
            }
        }
    }

    /**
     * A send on one transport's receive thread through another transport (the switch forwarding from a vl2 port to
     * a raw one) goes at once from the other's socket: a loop finds its own socket only on its own transport.
     */
    @Test
    void aSendOnAnotherTransportsReceiveThreadGoesAtOnce() throws Exception {
        Vl2Transport a = new Vl2Transport(vl2Config(UdpTransportTest.freePort(), 2, UdpEndpoint.DEFAULT_BATCH));
        transports.add(a);
        Vl2Transport b = new Vl2Transport(vl2Config(UdpTransportTest.freePort(), 3, UdpEndpoint.DEFAULT_BATCH));
        transports.add(b);
        SocketAddress out = peer().getLocalAddress();
        DatagramChannel outPeer = peers.get(peers.size() - 1);
        a.start((tr, source, d) -> assertTrue(b.send(out, d)));
        b.start(echo(b));
        DatagramChannel in = peer();
        for (int key = 0; key < 4; key++) {
            in.send(keyed(key, key), new InetSocketAddress("127.0.0.1", a.boundPort()));
        }
        for (int i = 0; i < 4; i++) {
            assertEquals(new InetSocketAddress("127.0.0.1", b.boundPort()), answerFrom(outPeer), "forwarded " + (i + 1));
        }
        assertEquals(0, b.sendFailures());
    }

    @Test
    void theRawTransportKeepsEachSourceOnOneThread() throws Exception {
        UdpTransport t = new UdpTransport(UdpTransportTest.config("127.0.0.1", UdpTransportTest.freePort(), "raw",
                1 << 20, UdpEndpoint.DEFAULT_BATCH, "", 2));
        transports.add(t);
        assertEquals(2, t.receiveThreads());
        t.start(echo(t));
        InetSocketAddress to = new InetSocketAddress("127.0.0.1", t.boundPort());
        List<DatagramChannel> from = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            from.add(peer());
        }
        for (int n = 0; n < 5; n++) {
            for (int i = 0; i < 4; i++) {
                from.get(i).send(keyed(i, n), to); // the key varies by source, not by index
            }
        }
        Map<SocketAddress, String> threadOf = new HashMap<>();
        for (Received r : take(20)) {
            String was = threadOf.putIfAbsent(r.source(), r.thread());
            assertTrue(was == null || was.equals(r.thread()), r.source() + " on " + was + " and " + r.thread());
        }
    }

    @Test
    void theThreadCountChangesInPlaceAndZeroIsOnePerCore() throws Exception {
        int port = UdpTransportTest.freePort();
        Vl2Transport t = new Vl2Transport(vl2Config(port, 1, UdpEndpoint.DEFAULT_BATCH));
        transports.add(t);
        t.start(echo(t));
        assertEquals(1, t.receiveThreads());
        t.modified(vl2Config(port, 3, UdpEndpoint.DEFAULT_BATCH));
        assertEquals(3, t.receiveThreads());
        assertEquals(port, t.boundPort());
        DatagramChannel p = peer();
        p.send(keyed(5, 0), new InetSocketAddress("127.0.0.1", port));
        assertEquals("vl2-vl2-rx-2-" + t.localAddress(), take(1).get(0).thread(), "index 5 on the third socket");
        t.modified(vl2Config(port, 0, UdpEndpoint.DEFAULT_BATCH));
        assertEquals(Math.min(Runtime.getRuntime().availableProcessors(), UdpEndpoint.AUTO_THREADS_MAX),
                t.receiveThreads());
        t.modified(vl2Config(port, 65, UdpEndpoint.DEFAULT_BATCH));
        assertEquals(Math.min(Runtime.getRuntime().availableProcessors(), UdpEndpoint.AUTO_THREADS_MAX),
                t.receiveThreads(), "an invalid count is refused, the last good one stays");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Vl2Transport(vl2Config(UdpTransportTest.freePort(), -1, 8)));
        assertTrue(e.getMessage().contains("io.threads=-1"), e.getMessage());
    }

    @Test
    void aSecondTransportOnTheSamePortIsRefusedAsBefore() throws Exception {
        Vl2Transport t = new Vl2Transport(vl2Config(UdpTransportTest.freePort(), 2, UdpEndpoint.DEFAULT_BATCH));
        transports.add(t);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new Vl2Transport(vl2Config(t.boundPort(), 2, UdpEndpoint.DEFAULT_BATCH)));
        assertTrue(e.getMessage().contains("cannot listen on UDP 127.0.0.1:" + t.boundPort()), e.getMessage());
    }
}

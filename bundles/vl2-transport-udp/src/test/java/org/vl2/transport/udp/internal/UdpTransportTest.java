package org.vl2.transport.udp.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.annotation.Annotation;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vl2.api.PortId;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;
import org.vl2.netio.SendBatch;

/** Runs the transport on real loopback sockets, with batched I/O (and, in {@link NioUdpTransportTest}, without). */
class UdpTransportTest {

    private record Received(Transport transport, SocketAddress source, byte[] frame) {
    }

    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private final FrameReceiver receiver = (t, source, frame) -> {
        byte[] copy = new byte[frame.remaining()];
        frame.get(copy); // moves the position: allowed for receivers
        received.add(new Received(t, source, copy));
    };

    private UdpTransport transport;
    private DatagramChannel peer;

    /** Datagrams per system call in this run of the tests: {@link NioUdpTransportTest} runs them with 0. */
    int ioBatch() {
        return UdpEndpoint.DEFAULT_BATCH;
    }

    UdpTransportConfig config(String bind, int port, String mode, int rcvbuf) {
        return config(bind, port, mode, rcvbuf, ioBatch());
    }

    static UdpTransportConfig config(String bind, int port, String mode, int rcvbuf, int batch) {
        return config(bind, port, mode, rcvbuf, batch, "");
    }

    static UdpTransportConfig config(String bind, int port, String mode, int rcvbuf, int batch, String network) {
        return config(bind, port, mode, rcvbuf, batch, network, 0);
    }

    static UdpTransportConfig config(String bind, int port, String mode, int rcvbuf, int batch, String network,
                                     int threads) {
        return new UdpTransportConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return UdpTransportConfig.class;
            }

            @Override
            public String bind_address() {
                return bind;
            }

            @Override
            public int port() {
                return port;
            }

            @Override
            public String mode() {
                return mode;
            }

            @Override
            public String network() {
                return network;
            }

            @Override
            public int receive_buffer_bytes() {
                return rcvbuf;
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

    /**
     * Reads from the (non-blocking) peer until {@code count} frames came or 10 s passed; frame i must be
     * {@code frame(size, i)}: all arrive, in order. Returns how many came.
     */
    private int receiveInOrder(int count, int size, String what) throws IOException {
        peer.configureBlocking(false);
        ByteBuffer in = ByteBuffer.allocate(2000);
        int got = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        // waits in select (a spin would starve the transport's threads of a shared core)
        try (Selector readable = Selector.open()) {
            peer.register(readable, SelectionKey.OP_READ);
            long left;
            while (got < count && (left = deadline - System.nanoTime()) > 0) {
                in.clear();
                if (peer.receive(in) != null) {
                    in.flip();
                    byte[] f = new byte[in.remaining()];
                    in.get(f);
                    assertArrayEquals(frame(size, got), f, what + " " + got + " in order");
                    got++;
                } else {
                    readable.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                    readable.selectedKeys().clear();
                }
            }
        }
        return got;
    }

    static int freePort() throws IOException {
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(new InetSocketAddress("127.0.0.1", 0));
            return ((InetSocketAddress) ch.getLocalAddress()).getPort();
        }
    }

    @BeforeEach
    void setUp() throws IOException {
        transport = new UdpTransport(config("127.0.0.1", freePort(), "raw", 1 << 20));
        peer = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        peer.configureBlocking(true);
    }

    @AfterEach
    void tearDown() throws IOException {
        transport.deactivate();
        peer.close();
    }

    private InetSocketAddress switchAddress() {
        return new InetSocketAddress("127.0.0.1", transport.boundPort());
    }

    private static byte[] frame(int length, int seed) {
        byte[] f = new byte[length];
        for (int i = 0; i < length; i++) {
            f[i] = (byte) (i * 31 + seed);
        }
        return f;
    }

    @Test
    void deliversEachDatagramAsOneFrameWithItsSource() throws Exception {
        transport.start(receiver);
        byte[] f = frame(60, 1);
        peer.send(ByteBuffer.wrap(f), switchAddress());
        Received r = received.poll(5, TimeUnit.SECONDS);
        assertNotNull(r, "frame not delivered within 5 s");
        assertArrayEquals(f, r.frame());
        assertEquals(peer.getLocalAddress(), r.source());
        assertEquals(transport, r.transport());
    }

    @Test
    void sendsAFrameAsOneDatagramAndLeavesTheBufferAsItWas() throws Exception {
        byte[] f = frame(1514, 7);
        ByteBuffer buf = ByteBuffer.allocateDirect(2000);
        buf.position(100);
        buf.put(f);
        buf.position(100).limit(100 + f.length);
        assertTrue(transport.send(peer.getLocalAddress(), buf));
        assertEquals(100, buf.position());
        assertEquals(100 + f.length, buf.limit());
        ByteBuffer in = ByteBuffer.allocate(4000);
        SocketAddress from = peer.receive(in);
        assertEquals(switchAddress(), from);
        in.flip();
        byte[] got = new byte[in.remaining()];
        in.get(got);
        assertArrayEquals(f, got);
    }

    @Test
    void largeDatagramsAreNotTruncatedSoTheSwitchCanCountThemAsOversize() throws Exception {
        transport.start(receiver);
        byte[] big = frame(9300, 3);
        peer.send(ByteBuffer.wrap(big), switchAddress());
        Received r = received.poll(5, TimeUnit.SECONDS);
        assertNotNull(r);
        assertEquals(9300, r.frame().length);
    }

    @Test
    void stopEndsDeliveryAndStartResumesIt() throws Exception {
        transport.start(receiver);
        transport.start(receiver); // idempotent
        transport.stop();
        peer.send(ByteBuffer.wrap(frame(60, 1)), switchAddress());
        assertNull(received.poll(700, TimeUnit.MILLISECONDS));
        transport.start(receiver);
        // the datagram queued while stopped is delivered now
        assertNotNull(received.poll(5, TimeUnit.SECONDS));
        peer.send(ByteBuffer.wrap(frame(60, 2)), switchAddress());
        assertNotNull(received.poll(5, TimeUnit.SECONDS));
    }

    @Test
    void aReceiverThatThrowsDoesNotStopTheTransport() throws Exception {
        FrameReceiver flaky = new FrameReceiver() {
            int calls;

            @Override
            public void receive(Transport t, SocketAddress source, ByteBuffer frame) {
                if (calls++ == 0) {
                    throw new IllegalStateException("test: first frame fails");
                }
                receiver.receive(t, source, frame);
            }
        };
        transport.start(flaky);
        peer.send(ByteBuffer.wrap(frame(60, 1)), switchAddress());
        peer.send(ByteBuffer.wrap(frame(60, 2)), switchAddress());
        Received r = received.poll(5, TimeUnit.SECONDS);
        assertNotNull(r);
        assertArrayEquals(frame(60, 2), r.frame());
    }

    @Test
    void describesItself() {
        assertEquals("udp", transport.name());
        assertEquals("raw", transport.mode());
        assertEquals("127.0.0.1:" + transport.boundPort(), transport.localAddress());
    }

    @Test
    void badConfigurationNamesTheProperty() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new UdpTransport(config("127.0.0.1", 70000, "raw", 1 << 20)));
        assertTrue(e.getMessage().contains("port=70000"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new UdpTransport(config("127.0.0.1", 9990, "vxlan", 1 << 20)));
        assertTrue(e.getMessage().contains("mode=vxlan"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new UdpTransport(config("no-such-host.invalid", 9990, "raw", 1 << 20)));
        assertTrue(e.getMessage().contains("bind.address=no-such-host.invalid"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new UdpTransport(config("127.0.0.1", 9990, "raw", 10)));
        assertTrue(e.getMessage().contains("receive.buffer.bytes=10"), e.getMessage());
    }

    @Test
    void rawPortsLandInTheirOwnNetworkOnLoopbackUnlessConfiguredOtherwise() throws Exception {
        assertEquals("127.0.0.1", UdpTransportConfig.class.getMethod("bind_address").getDefaultValue(),
                "a stock installation exposes no plaintext listener beyond this host");
        assertEquals("", UdpTransportConfig.class.getMethod("network").getDefaultValue());
        assertEquals(org.vl2.api.Networks.RAW, UdpTransport.network(config("127.0.0.1", 9990, "raw", 1 << 20, 0, " ")));
        assertEquals(0x2aL, UdpTransport.network(config("127.0.0.1", 9990, "raw", 1 << 20, 0, "2a")));
        assertTrue(transport.loopbackOnly());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new UdpTransport(config("127.0.0.1", 9990, "raw", 1 << 20, 0, "lab")));
        assertTrue(e.getMessage().contains("network=lab"), e.getMessage());
    }

    @Test
    void aPortInUseGivesAClearError() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new UdpTransport(config("127.0.0.1", transport.boundPort(), "raw", 1 << 20)));
        assertTrue(e.getMessage().contains("cannot listen on UDP 127.0.0.1:" + transport.boundPort()), e.getMessage());
        assertTrue(e.getMessage().contains("another switch"), e.getMessage());
    }

    @Test
    void sendingAfterCloseFailsQuietly() {
        transport.deactivate();
        assertFalse(transport.send(peer.socket().getLocalSocketAddress(), ByteBuffer.allocateDirect(60)));
        assertEquals(1, transport.sendFailures());
    }

    @Test
    void anInvalidChangeKeepsTheLastGoodConfiguration() throws Exception {
        transport.start(receiver);
        int port = transport.boundPort();
        transport.modified(config("127.0.0.1", 0, "raw", 1 << 20));
        transport.modified(config("127.0.0.1", port, "bogus", 1 << 20));
        assertEquals(port, transport.boundPort());
        peer.send(ByteBuffer.wrap(frame(60, 1)), switchAddress());
        assertNotNull(received.poll(5, TimeUnit.SECONDS));
    }

    @Test
    void aNewPortIsBoundInPlaceAndDeliveryGoesOn() throws Exception {
        transport.start(receiver);
        int next = freePort();
        transport.modified(config("127.0.0.1", next, "raw", 1 << 20));
        assertEquals(next, transport.boundPort());
        assertEquals("127.0.0.1:" + next, transport.localAddress());
        peer.send(ByteBuffer.wrap(frame(60, 5)), new InetSocketAddress("127.0.0.1", next));
        Received r = received.poll(5, TimeUnit.SECONDS);
        assertNotNull(r);
        assertArrayEquals(frame(60, 5), r.frame());
    }

    @Test
    void aPortInUseAtRuntimeKeepsTheOldSocket() throws Exception {
        transport.start(receiver);
        int port = transport.boundPort();
        try (DatagramChannel taken = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            int busy = ((InetSocketAddress) taken.getLocalAddress()).getPort();
            transport.modified(config("127.0.0.1", busy, "raw", 1 << 20));
        }
        assertEquals(port, transport.boundPort());
        peer.send(ByteBuffer.wrap(frame(60, 9)), switchAddress());
        assertNotNull(received.poll(5, TimeUnit.SECONDS));
    }

    @Test
    void anIpv4WildcardListensOnIpv4Only() throws Exception {
        UdpTransport any = new UdpTransport(config("0.0.0.0", freePort(), "raw", 1 << 20));
        try {
            assertEquals("0.0.0.0:" + any.boundPort(), any.localAddress());
        } finally {
            any.deactivate();
        }
    }

    @Test
    void anIpv6AddressGetsAnIpv6Socket() throws Exception {
        UdpTransport v6 = new UdpTransport(config("::1", freePort(), "raw", 1 << 20));
        try (DatagramChannel peer6 = DatagramChannel.open().bind(new InetSocketAddress("::1", 0))) {
            v6.start(receiver);
            peer6.send(ByteBuffer.wrap(frame(60, 4)), new InetSocketAddress("::1", v6.boundPort()));
            Received r = received.poll(5, TimeUnit.SECONDS);
            assertNotNull(r);
            assertTrue(v6.localAddress().startsWith("[0:0:0:0:0:0:0:1]:") || v6.localAddress().startsWith("[::1]:"),
                    v6.localAddress());
        } finally {
            v6.deactivate();
        }
    }

    @Test
    void reportsItsIoMode() {
        assertEquals(ioBatch(), transport.batchSize());
    }

    @Test
    void framesSentWhileHandlingABatchAllLeave() throws Exception {
        // An echo port: everything the switch sends from its receive thread is queued and flushed per batch.
        FrameReceiver echo = (t, source, frame) -> assertTrue(t.send(source, frame));
        transport.start(echo);
        int count = 200; // fits the peer's default receive buffer (about 256 small datagrams), and seeds stay distinct
        for (int i = 0; i < count; i++) {
            peer.send(ByteBuffer.wrap(frame(100, i)), switchAddress());
        }
        assertEquals(count, receiveInOrder(count, 100, "echo"));
        assertEquals(0, transport.sendFailures());
    }

    @Test
    void aFrameTheKernelRefusesAtFlushIsATransmitErrorOfItsPort() throws Exception {
        BlockingQueue<String> failed = new LinkedBlockingQueue<>();
        InetSocketAddress nowhere = new InetSocketAddress("127.0.0.1", 0); // port 0: the kernel says EINVAL
        PortId port = PortId.of(7);
        transport.start(new FrameReceiver() {
            @Override
            public void receive(Transport t, SocketAddress source, ByteBuffer frame) {
                t.send(nowhere, frame, port);
                t.send(source, frame, PortId.of(8));
            }

            @Override
            public void transmitFailed(Transport t, PortId p, int frames, long bytes) {
                failed.add(p + " " + frames + " " + bytes);
            }
        });
        peer.send(ByteBuffer.wrap(frame(60, 1)), switchAddress());
        ByteBuffer in = ByteBuffer.allocate(2000);
        assertEquals(switchAddress(), peer.receive(in), "the other frame of the batch still leaves");
        if (ioBatch() > 0) {
            assertEquals(port + " 1 60", failed.poll(5, TimeUnit.SECONDS), "the port it was for, and its bytes");
        }
        assertEquals(1, transport.sendFailures());
    }

    /**
     * A thread that ends send batches of its own and is none of this transport's receive loops (the TCP transport's
     * loop forwarding a TCP member's frames to UDP members): batched, its frames wait on a send side of its own for
     * the end of its batch and then all leave, in order (one sendmmsg, GSO); on NIO they go at once.
     */
    @Test
    void framesFromAnotherBatchingThreadLeaveInOrderWhenItsBatchEnds() throws Exception {
        transport.start(receiver);
        peer.configureBlocking(false);
        int count = 100; // fits the peer's receive buffer; distinct seeds
        PortId port = PortId.of(3); // one port object, as the switch's: GSO joins only datagrams of one tag
        SendBatch batch = SendBatch.enter();
        try {
            for (int i = 0; i < count; i++) {
                assertTrue(transport.send(peer.getLocalAddress(), ByteBuffer.wrap(frame(100, i)), port));
            }
            ByteBuffer in = ByteBuffer.allocate(2000);
            if (ioBatch() > 0) {
                assertEquals(1, batch.pending(), "one deferred flush for the whole burst");
                assertNull(peer.receive(in), "nothing left before the batch ended (loopback delivers at once)");
            }
            batch.end();
            assertEquals(count, receiveInOrder(count, 100, "frame"));
            assertEquals(0, transport.sendFailures());
        } finally {
            SendBatch.leave();
        }
    }

    /** What such a batch's flush drops is counted, as the receive loops' flushes are: by port, a transmit error. */
    @Test
    void aFrameRefusedAtAnotherThreadsBatchEndIsATransmitErrorOfItsPort() throws Exception {
        BlockingQueue<String> failed = new LinkedBlockingQueue<>();
        transport.start(new FrameReceiver() {
            @Override
            public void receive(Transport t, SocketAddress source, ByteBuffer frame) {
            }

            @Override
            public void transmitFailed(Transport t, PortId p, int frames, long bytes) {
                failed.add(p + " " + frames + " " + bytes);
            }
        });
        SendBatch batch = SendBatch.enter();
        try {
            // port 0: the kernel refuses it (EINVAL) at the sendmmsg, or at once on NIO
            boolean taken = transport.send(new InetSocketAddress("127.0.0.1", 0), ByteBuffer.wrap(frame(60, 1)),
                    PortId.of(7));
            assertEquals(ioBatch() > 0, taken, "queued where batched");
            assertTrue(transport.send(peer.getLocalAddress(), ByteBuffer.wrap(frame(60, 2)), PortId.of(8)));
            batch.end();
        } finally {
            SendBatch.leave();
        }
        ByteBuffer in = ByteBuffer.allocate(2000);
        assertEquals(switchAddress(), peer.receive(in), "the other frame still leaves");
        if (ioBatch() > 0) {
            assertEquals(PortId.of(7) + " 1 60", failed.poll(5, TimeUnit.SECONDS), "the port, and its bytes");
        }
        assertEquals(1, transport.sendFailures());
    }

    @Test
    void theIoModeChangesInPlace() throws Exception {
        transport.start(receiver);
        int port = transport.boundPort();
        int other = ioBatch() == 0 ? 16 : 0;
        transport.modified(config("127.0.0.1", port, "raw", 1 << 20, other));
        assertEquals(other, transport.batchSize());
        assertEquals(port, transport.boundPort());
        peer.send(ByteBuffer.wrap(frame(60, 8)), switchAddress());
        Received r = received.poll(5, TimeUnit.SECONDS);
        assertNotNull(r, "delivery goes on after the change");
        assertArrayEquals(frame(60, 8), r.frame());
        transport.modified(config("127.0.0.1", port, "raw", 1 << 20, 5000));
        assertEquals(other, transport.batchSize(), "an invalid batch size is refused");
    }

    @Test
    void anInvalidBatchSizeNamesTheProperty() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new UdpTransport(config("127.0.0.1", 9990, "raw", 1 << 20, -1)));
        assertTrue(e.getMessage().contains("io.batch=-1"), e.getMessage());
    }
}

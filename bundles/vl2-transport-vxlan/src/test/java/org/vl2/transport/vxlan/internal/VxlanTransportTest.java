package org.vl2.transport.vxlan.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vl2.api.PortId;
import org.vl2.api.spi.Transport;
import org.vl2.api.test.RecordingFrameReceiver;
import org.vl2.api.test.RecordingFrameReceiver.PortCall;
import org.vl2.api.test.RecordingFrameReceiver.Received;
import org.vl2.protocol.VxlanHeader;

/** Runs the transport on real loopback sockets, against a fake switch. */
class VxlanTransportTest {

    private static final Random RANDOM = new Random();

    /**
     * The switch: the api test-jar's recorder (frames, attach/detach calls), counting raw receive calls (VXLAN
     * decapsulates itself: there must be none) and handing out the port calls one batch at a time.
     */
    private static class FakeSwitch extends RecordingFrameReceiver {
        final AtomicInteger rawCalls = new AtomicInteger();

        @Override
        public void receive(Transport transport, SocketAddress source, ByteBuffer frame) {
            rawCalls.incrementAndGet();
        }

        List<PortCall> drainPorts() {
            List<PortCall> out = new ArrayList<>(portCalls);
            portCalls.subList(0, out.size()).clear();
            return out;
        }
    }

    private final FakeSwitch sw = new FakeSwitch();
    private VxlanTransport transport;
    private DatagramSocket peer;
    private int port;
    private int rangeMin;

    /** A UDP port free on every address (so also for a 0.0.0.0 bind). */
    static int freePort() throws IOException {
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(new InetSocketAddress("0.0.0.0", 0));
            return ((InetSocketAddress) ch.getLocalAddress()).getPort();
        }
    }

    /** The first of {@code n} consecutive UDP ports free on every address, below the ephemeral range. */
    static int freeRange(int n) throws IOException {
        for (int attempt = 0; attempt < 100; attempt++) {
            int base = 20000 + RANDOM.nextInt(12000);
            List<DatagramChannel> held = new ArrayList<>();
            try {
                for (int p = base; p < base + n; p++) {
                    DatagramChannel ch = DatagramChannel.open();
                    held.add(ch);
                    ch.bind(new InetSocketAddress("0.0.0.0", p));
                }
                return base;
            } catch (IOException busy) {
                // try another base
            } finally {
                for (DatagramChannel ch : held) {
                    ch.close();
                }
            }
        }
        throw new IOException("no " + n + " consecutive free UDP ports found");
    }

    static InetSocketAddress loopback(int port) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    /** Datagrams per system call in this run of the tests: {@link NioVxlanTransportTest} runs them with 0. */
    int ioBatch() {
        return VxlanTransport.DEFAULT_BATCH;
    }

    /** VNIs 7, 9, 42 (2a), 43 (2b) and 44 (2c) mapped: no VNI is a network without a mapping. */
    private Cfg config() {
        return new Cfg().bind("127.0.0.1").port(port).range(rangeMin, rangeMin + 3).io(ioBatch(), true)
                .vni("7=7", "9=9", "42=2a", "43=2b", "44=2c");
    }

    @BeforeEach
    void setUp() throws IOException {
        port = freePort();
        rangeMin = freeRange(4);
        transport = new VxlanTransport(config());
        peer = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        peer.setSoTimeout(5000);
    }

    @AfterEach
    void tearDown() {
        transport.deactivate();
        peer.close();
    }

    private static byte[] frame(int length, int seed) {
        byte[] f = new byte[length];
        for (int i = 0; i < length; i++) {
            f[i] = (byte) (i * 31 + seed);
        }
        f[0] = 0x02; // unicast destination, as a frame would have
        return f;
    }

    private static byte[] vxlan(int flags, int vni, byte[] frame) {
        ByteBuffer b = ByteBuffer.allocate(8 + frame.length);
        b.put((byte) flags).put((byte) 0).putShort((short) 0).putInt(vni << 8).put(frame);
        return b.array();
    }

    private void peerSends(byte[] datagram, int toPort) throws IOException {
        peer.send(new DatagramPacket(datagram, datagram.length, loopback(toPort)));
    }

    /** What the peer receives next, or null within {@code millis}. */
    private DatagramPacket peerReceives(int millis) throws IOException {
        DatagramPacket p = new DatagramPacket(new byte[70000], 70000);
        peer.setSoTimeout(millis);
        try {
            peer.receive(p);
            return p;
        } catch (SocketTimeoutException e) {
            return null;
        }
    }

    private static byte[] payload(DatagramPacket p) {
        byte[] b = new byte[p.getLength()];
        System.arraycopy(p.getData(), p.getOffset(), b, 0, p.getLength());
        return b;
    }

    private Received nextFrame() throws InterruptedException {
        Received g = sw.frames.poll(5, TimeUnit.SECONDS);
        assertNotNull(g, "frame not delivered within 5 s");
        return g;
    }

    @Test
    void describesItself() {
        assertEquals("vxlan", transport.name());
        assertEquals("vxlan", transport.mode());
        assertEquals("127.0.0.1:" + port, transport.localAddress());
        assertEquals(port, transport.boundPort());
    }

    @Test
    void aFrameArrivesAsThePortOfItsVtepAtTheVxlanPortNotTheSourcePort() throws Exception {
        transport.start(sw);
        byte[] f = frame(60, 1);
        peerSends(vxlan(0x08, 42, f), port);
        Received g = nextFrame();
        assertArrayEquals(f, g.frame());
        assertEquals(42L, g.network()); // 42=2a
        assertEquals(loopback(port), g.source());
        assertNotEquals(port, peer.getLocalPort());
        assertEquals(transport, g.transport());
        // a kernel VTEP sends each flow from another source port: still the same port of the switch
        try (DatagramSocket other = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            byte[] d = vxlan(0x08, 42, frame(100, 2));
            other.send(new DatagramPacket(d, d.length, loopback(port)));
        }
        assertEquals(g.source(), nextFrame().source());
        assertEquals(0, sw.rawCalls.get());
    }

    @Test
    void largeFramesAreNotTruncatedSoTheSwitchCanCountThemAsOversize() throws Exception {
        transport.start(sw);
        byte[] big = frame(9300, 3);
        peerSends(vxlan(0x08, 42, big), port);
        assertArrayEquals(big, nextFrame().frame());
    }

    @Test
    void dropsAreCountedPerReason() throws Exception {
        transport.start(sw);
        peerSends(vxlan(0x08, 42, frame(13, 1)), port); // 21 bytes: no room for an Ethernet header
        peerSends(new byte[3], port);
        peerSends(vxlan(0x00, 42, frame(60, 2)), port); // I flag missing
        peerSends(vxlan(0xF7, 42, frame(60, 2)), port); // everything but the I flag
        peerSends(vxlan(0x08, 0, frame(60, 3)), port); // VNI 0: never mapped
        for (int i = 0; i < 3; i++) {
            peerSends(vxlan(0x08, 0, frame(60, 3)), port); // counted each time, warned once
        }
        byte[] good = frame(60, 4);
        peerSends(vxlan(0x88, 7, good), port); // reserved bits ignored
        // one thread handles datagrams in order: once the good one is here, the others have been counted
        Received g = nextFrame();
        assertArrayEquals(good, g.frame());
        assertEquals(7L, g.network());
        assertNull(sw.frames.poll(200, TimeUnit.MILLISECONDS));
        assertEquals(2, transport.malformedDrops());
        assertEquals(2, transport.badFlagsDrops());
        assertEquals(4, transport.unmappedVniDrops());
        assertEquals(Map.of("malformed", 2L, "bad_flags", 2L, "unmapped_vni", 4L, "refused_vtep", 0L),
                transport.receiveDrops(), "the same counters through the Transport service, for /metrics");
    }

    /** Waits (up to 5 s) until a counter reaches {@code n}. */
    private static void awaitCount(java.util.function.LongSupplier counter, long n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (counter.getAsLong() < n && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(n, counter.getAsLong(), "counted within 5 s");
    }

    @Test
    void onlyAllowedVtepsAreHeardAndTheRestIsCounted() throws Exception {
        transport.start(sw);
        transport.modified(config().allowed("192.0.2.7"));
        peerSends(vxlan(0x08, 42, frame(60, 1)), port); // from 127.0.0.1: not allowed
        peerSends(vxlan(0x08, 42, frame(60, 2)), port);
        awaitCount(transport::refusedVtepDrops, 2); // handled before the list changes again
        transport.modified(config().allowed("192.0.2.7", "127.0.0.1"));
        peerSends(vxlan(0x08, 42, frame(60, 3)), port);
        assertArrayEquals(frame(60, 3), nextFrame().frame(), "the refused ones never reached the switch");
        assertEquals(2, transport.refusedVtepDrops());
        assertEquals(0, transport.unmappedVniDrops());
    }

    @Test
    void withoutAMappingEveryVniIsDropped() throws Exception {
        transport.start(sw);
        transport.modified(config().vni(new String[0]));
        peerSends(vxlan(0x08, 42, frame(60, 1)), port);
        peerSends(vxlan(0x08, 1, frame(60, 2)), port);
        awaitCount(transport::unmappedVniDrops, 2); // handled before the mapping comes back
        transport.modified(config());
        peerSends(vxlan(0x08, 7, frame(60, 3)), port);
        assertArrayEquals(frame(60, 3), nextFrame().frame());
        assertEquals(2, transport.unmappedVniDrops());
    }

    @Test
    void anExplicitMappingAcceptsOnlyItsVnisAndAppliesInPlace() throws Exception {
        transport.start(sw);
        transport.modified(config().vni("100=abc", "200=0"));
        peerSends(vxlan(0x08, 100, frame(60, 1)), port);
        peerSends(vxlan(0x08, 42, frame(60, 2)), port); // was mapped, no longer
        peerSends(vxlan(0x08, 200, frame(60, 3)), port);
        assertEquals(0xabcL, nextFrame().network());
        Received g = nextFrame();
        assertEquals(0L, g.network()); // VNI 200 is the default network
        assertArrayEquals(frame(60, 3), g.frame());
        assertEquals(1, transport.unmappedVniDrops());
        assertEquals(port, transport.boundPort()); // same socket
    }

    @Test
    void sendFrameEncapsulatesWithTheVniAndLeavesTheBufferAsItWas() throws Exception {
        transport.modified(config().vni("4660=1234"));
        byte[] f = frame(1514, 7);
        ByteBuffer buf = ByteBuffer.allocateDirect(2000);
        buf.position(100);
        buf.put(f);
        buf.position(100).limit(100 + f.length);
        assertTrue(transport.sendFrame(peer.getLocalSocketAddress(), 0x1234, buf));
        assertEquals(100, buf.position());
        assertEquals(100 + f.length, buf.limit());
        DatagramPacket p = peerReceives(5000);
        assertNotNull(p);
        byte[] got = payload(p);
        assertEquals(8 + f.length, got.length);
        assertArrayEquals(new byte[] {0x08, 0, 0, 0, 0x00, 0x12, 0x34, 0}, java.util.Arrays.copyOf(got, 8));
        assertArrayEquals(f, java.util.Arrays.copyOfRange(got, 8, got.length));
        assertEquals(InetAddress.getLoopbackAddress(), p.getAddress());
        assertTrue(p.getPort() >= rangeMin && p.getPort() <= rangeMin + 3, "source port " + p.getPort());
        // the header goes over a heap buffer too, and a shorter frame after a longer one is not padded
        byte[] small = frame(60, 8);
        assertTrue(transport.sendFrame(peer.getLocalSocketAddress(), 0x1234, ByteBuffer.wrap(small)));
        assertArrayEquals(vxlan(0x08, 0x1234, small), payload(peerReceives(5000)));
        buf.position(100).limit(100 + f.length); // and a longer one after a shorter one
        assertTrue(transport.sendFrame(peer.getLocalSocketAddress(), 0x1234, buf));
        assertArrayEquals(vxlan(0x08, 0x1234, f), payload(peerReceives(5000)));
    }

    @Test
    void aNetworkWithoutVniIsNotSent() throws Exception {
        ByteBuffer f = ByteBuffer.wrap(frame(60, 1));
        assertFalse(transport.sendFrame(peer.getLocalSocketAddress(), 0, f)); // the default network: no VNI
        assertFalse(transport.sendFrame(peer.getLocalSocketAddress(), 1L << 24, f));
        transport.modified(config().vni("5=abc"));
        assertFalse(transport.sendFrame(peer.getLocalSocketAddress(), 5, f));
        assertNull(peerReceives(300));
        assertTrue(transport.sendFrame(peer.getLocalSocketAddress(), 0xabc, f));
        assertEquals(5, VxlanHeader.vni(ByteBuffer.wrap(payload(peerReceives(5000))), 0));
        assertEquals(0, transport.sendFailures());
    }

    @Test
    void theSourcePortIsTheFlowsAndFlowsSpreadOverTheRange() throws Exception {
        Set<Integer> used = new HashSet<>();
        for (int i = 0; i < 64; i++) {
            ByteBuffer f = Frames.tcp4(0x0A01_0101, 0x0A01_0102, 40000 + i, 80);
            int expected = rangeMin + FlowHash.index(Frames.hash(f), 4);
            for (int repeat = 0; repeat < 2; repeat++) {
                assertTrue(transport.sendFrame(peer.getLocalSocketAddress(), 42, f));
                DatagramPacket p = peerReceives(5000);
                assertNotNull(p);
                assertEquals(expected, p.getPort(), "flow " + i);
                used.add(p.getPort());
            }
        }
        assertEquals(4, used.size(), "64 flows over 4 source ports: " + used);
    }

    @Test
    void sendSendsADatagramAsItIsFromTheVxlanPort() throws Exception {
        byte[] d = vxlan(0x08, 9, frame(60, 5));
        ByteBuffer buf = ByteBuffer.wrap(d);
        assertTrue(transport.send(peer.getLocalSocketAddress(), buf));
        assertEquals(0, buf.position());
        DatagramPacket p = peerReceives(5000);
        assertArrayEquals(d, payload(p));
        assertEquals(port, p.getPort());
    }

    @Test
    void staticRemotesAreAttachedOnStartAndNotDetachedOnStop() throws Exception {
        transport.modified(config().vni("42=2a", "43=2b").remotes("42=127.0.0.2", "43=127.0.0.3:5555"));
        assertTrue(sw.drainPorts().isEmpty()); // not started: nobody to attach to yet
        transport.start(sw);
        assertEquals(List.of(
                new PortCall(true, new InetSocketAddress("127.0.0.2", port), 0x2a),
                new PortCall(true, new InetSocketAddress("127.0.0.3", 5555), 0x2b)), sw.drainPorts());
        transport.start(sw); // idempotent
        transport.stop();
        assertEquals(List.of(), sw.drainPorts());
        transport.start(sw); // e.g. after a restart of the transport: attach is idempotent on the switch
        assertEquals(2, sw.drainPorts().size());
    }

    @Test
    void aStaticRemoteIsItsOwnPortWhenItSends() throws Exception {
        int vtepPort = freePort();
        transport.modified(config().remotes("42=127.0.0.1:" + vtepPort));
        transport.start(sw);
        peerSends(vxlan(0x08, 42, frame(60, 1)), port);
        assertEquals(new InetSocketAddress("127.0.0.1", vtepPort), nextFrame().source());
        assertEquals(List.of(new PortCall(true, new InetSocketAddress("127.0.0.1", vtepPort), 42)),
                sw.drainPorts());
    }

    @Test
    void changedRemotesAreAttachedAndDetached() throws Exception {
        transport.modified(config().remotes("42=127.0.0.2", "43=127.0.0.3"));
        transport.start(sw);
        sw.drainPorts();
        transport.modified(config().remotes("43=127.0.0.3", "44=127.0.0.4"));
        assertEquals(List.of(
                new PortCall(false, new InetSocketAddress("127.0.0.2", port), 42),
                new PortCall(true, new InetSocketAddress("127.0.0.4", port), 44)), sw.drainPorts());
        // a remote whose VNI now maps to another network is another port
        transport.modified(config().vni("43=99", "44=2c").remotes("43=127.0.0.3", "44=127.0.0.4"));
        assertEquals(List.of(
                new PortCall(false, new InetSocketAddress("127.0.0.3", port), 43),
                new PortCall(true, new InetSocketAddress("127.0.0.3", port), 0x99)), sw.drainPorts());
    }

    @Test
    void aNewPortIsBoundInPlaceAndIsThePortOfEveryVtep() throws Exception {
        transport.modified(config().remotes("42=127.0.0.2"));
        transport.start(sw);
        sw.drainPorts();
        int next = freePort();
        transport.modified(config().port(next).remotes("42=127.0.0.2"));
        assertEquals(next, transport.boundPort());
        assertEquals("127.0.0.1:" + next, transport.localAddress());
        assertEquals(List.of(
                new PortCall(false, new InetSocketAddress("127.0.0.2", port), 42),
                new PortCall(true, new InetSocketAddress("127.0.0.2", next), 42)), sw.drainPorts());
        peerSends(vxlan(0x08, 42, frame(60, 5)), next);
        Received g = nextFrame();
        assertArrayEquals(frame(60, 5), g.frame());
        assertEquals(loopback(next), g.source());
        // the old port is free again
        try (DatagramChannel ch = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", port))) {
            assertTrue(ch.isOpen());
        }
    }

    @Test
    void aNewSourceRangeIsUsedAndTheOldOneReleased() throws Exception {
        // overlapping: the two shared ports are kept, two are released, two are bound
        transport.modified(config().range(rangeMin + 2, rangeMin + 5));
        Set<Integer> used = new HashSet<>();
        for (int i = 0; i < 32; i++) {
            assertTrue(transport.sendFrame(peer.getLocalSocketAddress(), 42,
                    Frames.tcp4(0x0A01_0101, 0x0A01_0102, 40000 + i, 80)));
            used.add(peerReceives(5000).getPort());
        }
        assertEquals(Set.of(rangeMin + 2, rangeMin + 3, rangeMin + 4, rangeMin + 5), used);
        for (int p = rangeMin; p < rangeMin + 2; p++) {
            DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", p)).close();
        }
    }

    @Test
    void anInvalidChangeKeepsTheLastGoodConfiguration() throws Exception {
        transport.start(sw);
        transport.modified(config().port(0));
        transport.modified(config().vni("42=zz"));
        transport.modified(config().range("1-100"));
        assertEquals(port, transport.boundPort());
        peerSends(vxlan(0x08, 42, frame(60, 1)), port);
        assertEquals(42L, nextFrame().network()); // still 42=2a
    }

    @Test
    void aBusyVxlanPortGivesAClearError() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new VxlanTransport(config().range(rangeMin + 10, rangeMin + 11)));
        assertTrue(e.getMessage().contains("cannot listen on UDP 127.0.0.1:" + port), e.getMessage());
        assertTrue(e.getMessage().contains("kernel vxlan device"), e.getMessage());
    }

    @Test
    void aBusySourcePortGivesAClearErrorAndReleasesWhatWasBound() throws Exception {
        int other = freePort();
        int base = freeRange(3);
        try (DatagramChannel taken = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", base + 1))) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> new VxlanTransport(config().port(other).range(base, base + 2)));
            assertTrue(e.getMessage().contains("cannot bind source port 127.0.0.1:" + (base + 1)
                    + " of source.port.range=" + base + "-" + (base + 2)), e.getMessage());
            // at runtime: the old sockets stay
            transport.modified(config().range(base, base + 2));
        }
        assertTrue(transport.sendFrame(peer.getLocalSocketAddress(), 42, ByteBuffer.wrap(frame(60, 1))));
        int from = peerReceives(5000).getPort();
        assertTrue(from >= rangeMin && from <= rangeMin + 3, "source port " + from);
        // nothing of the failed attempts is left bound
        for (int p : new int[] {other, base, base + 2}) {
            DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", p)).close();
        }
    }

    @Test
    void fromAllAddressesToOneOnTheSamePorts() throws Exception {
        transport.deactivate();
        transport = new VxlanTransport(config().bind("0.0.0.0"));
        transport.start(sw);
        assertEquals("0.0.0.0:" + port, transport.localAddress());
        // 127.0.0.1:port cannot be bound while 0.0.0.0:port is: the transport closes its sockets first
        transport.modified(config());
        assertEquals("127.0.0.1:" + port, transport.localAddress());
        peerSends(vxlan(0x08, 42, frame(60, 1)), port);
        assertArrayEquals(frame(60, 1), nextFrame().frame());
        assertTrue(transport.sendFrame(peer.getLocalSocketAddress(), 42, ByteBuffer.wrap(frame(60, 2))));
        assertNotNull(peerReceives(5000));
    }

    @Test
    void aFailedMoveBindsThePreviousConfigurationAgain() throws Exception {
        transport.deactivate();
        transport = new VxlanTransport(config().bind("0.0.0.0"));
        transport.start(sw);
        int base = freeRange(2);
        try (DatagramChannel taken = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", base + 1))) {
            // needs the old VXLAN port on another address (close first), and then fails on a busy source port
            transport.modified(config().range(base, base + 1));
        }
        assertEquals("0.0.0.0:" + port, transport.localAddress());
        peerSends(vxlan(0x08, 42, frame(60, 3)), port);
        assertArrayEquals(frame(60, 3), nextFrame().frame());
        assertTrue(transport.sendFrame(peer.getLocalSocketAddress(), 42, ByteBuffer.wrap(frame(60, 4))));
        int from = peerReceives(5000).getPort();
        assertTrue(from >= rangeMin && from <= rangeMin + 3, "source port " + from);
    }

    @Test
    void stopEndsDeliveryAndStartResumesIt() throws Exception {
        transport.start(sw);
        transport.stop();
        peerSends(vxlan(0x08, 42, frame(60, 1)), port);
        assertNull(sw.frames.poll(700, TimeUnit.MILLISECONDS));
        transport.start(sw);
        assertNotNull(sw.frames.poll(5, TimeUnit.SECONDS)); // queued while stopped
    }

    @Test
    void aReceiverThatThrowsDoesNotStopTheTransport() throws Exception {
        FakeSwitch flaky = new FakeSwitch() {
            int calls;

            @Override
            public void receiveFrame(Transport t, SocketAddress remote, long network, ByteBuffer frame) {
                if (calls++ == 0) {
                    throw new IllegalStateException("test: first frame fails");
                }
                sw.receiveFrame(t, remote, network, frame);
            }
        };
        transport.start(flaky);
        peerSends(vxlan(0x08, 42, frame(60, 1)), port);
        peerSends(vxlan(0x08, 42, frame(60, 2)), port);
        assertArrayEquals(frame(60, 2), nextFrame().frame());
    }

    @Test
    void sendingAfterCloseFailsQuietly() {
        transport.deactivate();
        assertFalse(transport.sendFrame(peer.getLocalSocketAddress(), 42, ByteBuffer.wrap(frame(60, 1))));
        assertFalse(transport.send(peer.getLocalSocketAddress(), ByteBuffer.wrap(frame(60, 1))));
        assertEquals(2, transport.sendFailures());
    }

    @Test
    void ipv6VtepsWork() throws Exception {
        int p6 = freePort();
        int base = freeRange(2);
        VxlanTransport v6 = new VxlanTransport(new Cfg().bind("::1").port(p6).range(base, base + 1)
                .io(ioBatch(), true).vni("42=2a"));
        try (DatagramSocket peer6 = new DatagramSocket(new InetSocketAddress("::1", 0))) {
            peer6.setSoTimeout(5000);
            v6.start(sw);
            byte[] d = vxlan(0x08, 42, frame(60, 4));
            peer6.send(new DatagramPacket(d, d.length, new InetSocketAddress("::1", p6)));
            Received g = nextFrame();
            assertEquals(new InetSocketAddress("::1", p6), g.source());
            assertTrue(v6.sendFrame(peer6.getLocalSocketAddress(), 42, ByteBuffer.wrap(frame(60, 5))));
            DatagramPacket p = new DatagramPacket(new byte[2000], 2000);
            peer6.receive(p);
            assertArrayEquals(vxlan(0x08, 42, frame(60, 5)), payload(p));
            assertTrue(v6.localAddress().startsWith("[::1]:"), v6.localAddress());
        } finally {
            v6.deactivate();
        }
    }

    @Test
    void reportsItsIoMode() {
        assertEquals(ioBatch(), transport.batchSize());
    }

    /** {@code count} frames of one TCP flow, all of one size, numbered in their payload. */
    private static List<byte[]> oneFlow(int count) {
        List<byte[]> frames = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ByteBuffer f = Frames.ipv4(Frames.DST, Frames.SRC, -1, 0x0A01_0101, 0x0A01_0102, 6, 40000, 80, i, 64, 0,
                    200);
            byte[] b = new byte[f.remaining()];
            f.get(b);
            frames.add(b);
        }
        return frames;
    }

    @Test
    void framesForwardedWhileHandlingABatchAllLeaveInOrderFromTheirFlowsSourcePort() throws Exception {
        // A switch that sends every frame to the peer again: from the receive thread, so queued and flushed per
        // batch, where same-sized frames of one flow to one VTEP leave as one UDP GSO message.
        SocketAddress to = peer.getLocalSocketAddress();
        transport.start(new FakeSwitch() {
            @Override
            public void receiveFrame(Transport t, SocketAddress remote, long network, ByteBuffer frame) {
                assertTrue(t.sendFrame(to, network, frame));
            }
        });
        List<byte[]> frames = oneFlow(64); // one full GSO message, and well within the peer's receive buffer
        int expected = rangeMin + FlowHash.index(Frames.hash(ByteBuffer.wrap(frames.get(0))), 4);
        try (DatagramSocket vtep = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            for (byte[] f : frames) {
                byte[] d = vxlan(0x08, 42, f);
                vtep.send(new DatagramPacket(d, d.length, loopback(port)));
            }
        }
        for (int i = 0; i < frames.size(); i++) {
            DatagramPacket p = peerReceives(5000);
            assertNotNull(p, "frame " + i + " not forwarded within 5 s");
            assertArrayEquals(vxlan(0x08, 42, frames.get(i)), payload(p), "frame " + i + " in order, one datagram");
            assertEquals(expected, p.getPort(), "the flow's source port");
        }
        assertEquals(0, transport.sendFailures());
    }

    @Test
    void aFrameTheKernelRefusesAtFlushIsATransmitErrorOfItsPort() throws Exception {
        BlockingQueue<String> failed = new LinkedBlockingQueue<>();
        InetSocketAddress nowhere = new InetSocketAddress("127.0.0.1", 0); // port 0: the kernel says EINVAL
        SocketAddress to = peer.getLocalSocketAddress();
        PortId refusedPort = PortId.of(7);
        transport.start(new FakeSwitch() {
            @Override
            public void receiveFrame(Transport t, SocketAddress remote, long network, ByteBuffer frame) {
                t.sendFrame(nowhere, network, frame, refusedPort);
                t.sendFrame(to, network, frame, PortId.of(8));
            }

            @Override
            public void transmitFailed(Transport t, PortId p, int frames, long bytes) {
                failed.add(p + " " + frames + " " + bytes);
            }
        });
        peerSends(vxlan(0x08, 42, frame(60, 1)), port);
        assertNotNull(peerReceives(5000), "the other frame of the batch still leaves");
        if (ioBatch() > 0) {
            assertEquals(refusedPort + " 1 60", failed.poll(5, TimeUnit.SECONDS),
                    "the port it was for, in frame bytes (without the VXLAN header)");
        }
        assertEquals(1, transport.sendFailures());
    }

    @Test
    void theIoModeChangesInPlace() throws Exception {
        transport.start(sw);
        int other = ioBatch() == 0 ? 16 : 0;
        transport.modified(config().io(other, true));
        assertEquals(other, transport.batchSize());
        assertEquals(port, transport.boundPort());
        peerSends(vxlan(0x08, 42, frame(60, 8)), port);
        assertArrayEquals(frame(60, 8), nextFrame().frame(), "delivery goes on after the change");
        assertTrue(transport.sendFrame(peer.getLocalSocketAddress(), 42, ByteBuffer.wrap(frame(60, 9))));
        int from = peerReceives(5000).getPort();
        assertTrue(from >= rangeMin && from <= rangeMin + 3, "source port " + from);
        transport.modified(config().io(5000, true));
        assertEquals(other, transport.batchSize(), "an invalid batch size is refused");
    }
}

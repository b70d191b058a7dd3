package org.vl2.tap.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vl2.api.MacAddress;
import org.vl2.tap.TapDevice;
import org.vl2.tap.TapException;
import org.vl2.tap.TapSettings;

/**
 * Real TAP devices in the host's network namespace, as root. Every interface gets a unique {@code vl2t...}
 * name and is deleted after each test even if it fails. Frames only ever go to 10.213.x.0/24, a subnet that
 * exists only on the test's own TAP device, so nothing leaves the machine.
 */
class LinuxTapDeviceTest {

    private static final int ARP = 0x0806;
    private static final int IPV4 = 0x0800;

    private final Kernel kernel = new Kernel();
    private LinuxTapFactory factory;

    @BeforeEach
    void setUp() {
        Kernel.assumeRootAndTun();
        factory = new LinuxTapFactory();
        factory.activate();
    }

    @AfterEach
    void tearDown() {
        if (factory != null) {
            factory.deactivate(); // closes devices a failed test left open
        }
        kernel.cleanup();
    }

    private TapDevice create(TapSettings.Builder b) throws TapException {
        TapDevice d = factory.create(b.build());
        kernel.remember(d.name());
        return d;
    }

    @Test
    void createsNamedDeviceWithMtuMacAndAddresses() throws Exception {
        String name = kernel.uniqueName();
        int x = ThreadLocalRandom.current().nextInt(1, 255);
        MacAddress mac = MacAddress.valueOf("02:76:6c:32:" + Kernel.hex(x) + ":01");
        try (TapDevice tap = create(TapSettings.builder().name(name).mtu(1400).mac(mac)
                .ipv4("10.213." + x + ".101/24").ipv6("fd00:213:" + Integer.toHexString(x) + "::1/64"))) {
            assertEquals(name, tap.name());
            assertEquals(1400, tap.mtu());
            assertEquals(1400 + 22, tap.maxFrameLength());
            assertEquals(mac, tap.mac());
            assertTrue(tap.isOpen());

            String link = Kernel.link(name);
            assertTrue(link.startsWith(tap.ifIndex() + ": " + name + ":"), link);
            assertTrue(link.contains(" mtu 1400 "), link);
            assertTrue(link.contains("link/ether " + mac + " "), link);
            assertTrue(link.matches(".*<[^>]*\\bUP\\b[^>]*>.*"), "not UP: " + link);

            String addr = Kernel.addr(name);
            assertTrue(addr.contains("inet 10.213." + x + ".101/24 brd 10.213." + x + ".255 "), addr);
            assertTrue(addr.contains("inet6 fd00:213:" + Integer.toHexString(x) + "::1/64 "), addr);
        }
        assertTrue(Kernel.await(2000, () -> !Kernel.exists(name)), "close() did not delete " + name);
    }

    @Test
    void kernelChoosesTheNameWhenNoneIsGiven() throws Exception {
        try (TapDevice tap = create(TapSettings.builder())) {
            assertTrue(tap.name().matches("tap\\d+"), tap.name());
            assertTrue(Kernel.exists(tap.name()));
            assertEquals(1500, tap.mtu());
            assertFalse(tap.mac().isMulticast());
            assertTrue(Kernel.link(tap.name()).contains("link/ether " + tap.mac() + " "));
        }
    }

    @Test
    void nameTemplateIsNumberedByTheKernel() throws Exception {
        String prefix = Kernel.PREFIX + Kernel.suffix(4);
        try (TapDevice tap = create(TapSettings.builder().name(prefix + "%d"))) {
            assertTrue(tap.name().matches(prefix + "\\d+"), tap.name());
            assertTrue(Kernel.exists(tap.name()));
        }
    }

    @Test
    void downWhenAsked() throws Exception {
        try (TapDevice tap = create(TapSettings.builder().name(kernel.uniqueName()).up(false))) {
            String link = Kernel.link(tap.name());
            assertFalse(link.matches(".*<[^>]*\\bUP\\b[^>]*>.*"), "UP: " + link);
        }
    }

    @Test
    void closeDeletesTheDeviceAndIsIdempotent() throws Exception {
        String name = kernel.uniqueName();
        TapDevice tap = create(TapSettings.builder().name(name));
        assertTrue(Kernel.exists(name));
        tap.close();
        assertFalse(tap.isOpen());
        assertTrue(Kernel.await(2000, () -> !Kernel.exists(name)), "close() did not delete " + name);
        tap.close();
        ByteBuffer buf = ByteBuffer.allocateDirect(2048);
        assertEquals(-1, tap.read(buf));
        assertEquals(-1, tap.read(buf, 0));
        TapException e = assertThrows(TapException.class, () -> tap.write(buf));
        assertTrue(e.getMessage().contains("is closed"), e.getMessage());
    }

    @Test
    void invalidNamesAreRejectedBeforeAnySystemCall() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TapSettings.builder().name("vl2t-much-too-long"));
        assertTrue(e.getMessage().startsWith("name: 'vl2t-much-too-long' is too long"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TapSettings.builder().name("vl2t/x"));
        assertThrows(IllegalArgumentException.class, () -> TapSettings.builder().name(".."));
    }

    @Test
    void nameInUseSaysHowToFixIt() throws Exception {
        String name = kernel.uniqueName();
        try (TapDevice first = create(TapSettings.builder().name(name))) {
            TapException e = assertThrows(TapException.class, () -> factory.create(
                    TapSettings.builder().name(name).build()));
            assertTrue(e.getMessage().startsWith("TAP device " + name + " exists: choose another --tap name, or"
                    + " delete it with 'ip link del " + name + "' if it is a leftover"), e.getMessage());
            assertTrue(e.getMessage().contains("EBUSY"), e.getMessage());
            assertTrue(first.isOpen());
            assertTrue(Kernel.exists(name), "the failed attempt must not delete the existing device");
        }
        // a name taken by a device that is not a TAP at all
        TapException e = assertThrows(TapException.class, () -> factory.create(TapSettings.builder().name("lo").build()));
        assertTrue(e.getMessage().startsWith("device lo exists and is not a TAP device"), e.getMessage());
        assertTrue(!e.getMessage().contains("ip link del"), "never suggest deleting a real interface: " + e.getMessage());
    }

    @Test
    void persistentTapOfTheSameNameIsNotHijacked() throws Exception {
        String name = kernel.uniqueName();
        Kernel.run("tuntap", "add", "dev", name, "mode", "tap");
        TapException e = assertThrows(TapException.class, () -> factory.create(TapSettings.builder().name(name).build()));
        assertTrue(e.getMessage().startsWith("TAP device " + name + " exists"), e.getMessage());
    }

    @Test
    void missingBridgeIsReportedAndNothingIsLeftBehind() {
        String name = kernel.uniqueName();
        String bridge = Kernel.PREFIX + "nobr" + Kernel.suffix(3);
        TapException e = assertThrows(TapException.class,
                () -> factory.create(TapSettings.builder().name(name).bridge(bridge).build()));
        assertTrue(e.getMessage().startsWith("bridge " + bridge + " not found: create it with 'ip link add " + bridge
                + " type bridge'"), e.getMessage());
        assertTrue(e.getMessage().contains("ENODEV"), e.getMessage());
        assertTrue(Kernel.await(2000, () -> !Kernel.exists(name)), "half-configured " + name + " left behind");
    }

    @Test
    void notABridgeIsReported() {
        String name = kernel.uniqueName();
        TapException e = assertThrows(TapException.class,
                () -> factory.create(TapSettings.builder().name(name).bridge("lo").build()));
        assertTrue(e.getMessage().startsWith("lo is not a Linux bridge"), e.getMessage());
    }

    @Test
    void enslavesToABridge() throws Exception {
        String bridge = kernel.uniqueName();
        Kernel.run("link", "add", bridge, "type", "bridge");
        try (TapDevice tap = create(TapSettings.builder().name(kernel.uniqueName()).bridge(bridge))) {
            String link = Kernel.link(tap.name());
            assertTrue(link.contains(" master " + bridge + " "), link);
        }
    }

    @Test
    void rejectsHeapAndEmptyBuffers() throws Exception {
        try (TapDevice tap = create(TapSettings.builder().name(kernel.uniqueName()).up(false))) {
            assertThrows(IllegalArgumentException.class, () -> tap.read(ByteBuffer.allocate(2048)));
            assertThrows(IllegalArgumentException.class, () -> tap.write(ByteBuffer.allocate(60)));
            assertThrows(IllegalArgumentException.class, () -> tap.read(ByteBuffer.allocateDirect(0)));
            assertThrows(java.nio.ReadOnlyBufferException.class,
                    () -> tap.read(ByteBuffer.allocateDirect(100).asReadOnlyBuffer()));
            ByteBuffer runt = ByteBuffer.allocateDirect(5);
            TapException e = assertThrows(TapException.class, () -> tap.write(runt));
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().contains("14-byte Ethernet header"), e.getMessage());
        }
    }

    @Test
    void timedReadReturnsZero() throws Exception {
        try (TapDevice tap = create(TapSettings.builder().name(kernel.uniqueName()).up(false))) {
            ByteBuffer buf = ByteBuffer.allocateDirect(tap.maxFrameLength());
            assertEquals(0, tap.read(buf, 0));
            long t0 = System.nanoTime();
            assertEquals(0, tap.read(buf, 150));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(ms >= 140 && ms < 2000, "timed read took " + ms + " ms");
            assertEquals(0, buf.position());
            assertEquals(buf.capacity(), buf.limit());
        }
    }

    @Test
    void awaitReadableWaitsWithoutReading() throws Exception {
        try (TapDevice down = create(TapSettings.builder().name(kernel.uniqueName()).up(false))) { // no frames
            long t0 = System.nanoTime();
            assertEquals(0, down.awaitReadable(150), "nothing queued: the timeout passes");
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(ms >= 140 && ms < 2000, "timed wait took " + ms + " ms");
            assertEquals(0, down.awaitReadable(0));
        }
        int x = ThreadLocalRandom.current().nextInt(1, 255);
        String subnet = "10.214." + x + ".";
        TapDevice tap = create(TapSettings.builder().name(kernel.uniqueName()).ipv4(subnet + "1/24"));
        try (DatagramSocket udp = new DatagramSocket()) {
            ByteBuffer buf = ByteBuffer.allocateDirect(tap.maxReadLength() + 1);
            byte[] payload = {1};
            udp.send(new DatagramPacket(payload, 1, InetAddress.getByName(subnet + "2"), 9)); // ARP for .2 goes out
            assertEquals(1, tap.awaitReadable(5000), "a frame is queued");
            assertEquals(1, tap.awaitReadable(0), "still queued: waiting did not take it");
            assertTrue(tap.read(buf.clear(), 0) > 0, "and the read gets it");
        } finally {
            tap.close();
        }
        assertEquals(-1, tap.awaitReadable(-1), "closed");
    }

    @Test
    void closeWakesUpABlockedReader() throws Exception {
        TapDevice tap = create(TapSettings.builder().name(kernel.uniqueName()).up(false)); // down: no frames
        ByteBuffer buf = ByteBuffer.allocateDirect(tap.maxFrameLength());
        AtomicInteger reads = new AtomicInteger();
        AtomicLong returnedAt = new AtomicLong();
        CompletableFuture<Integer> reader = CompletableFuture.supplyAsync(() -> {
            try {
                int n;
                while ((n = tap.read(buf)) > 0) {
                    reads.incrementAndGet();
                    buf.clear();
                }
                returnedAt.set(System.nanoTime());
                return n;
            } catch (TapException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(300); // let it block in poll(2)
        assertFalse(reader.isDone(), "the reader should be blocked");
        long t0 = System.nanoTime();
        tap.close();
        long closed = System.nanoTime();
        int result = reader.get(2, TimeUnit.SECONDS);
        assertEquals(-1, result);
        assertEquals(0, reads.get());
        System.out.println("close(): reader returned -1 after " + TimeUnit.NANOSECONDS.toMicros(returnedAt.get() - t0)
                + " us; close() itself (includes the kernel deleting the interface) took "
                + TimeUnit.NANOSECONDS.toMicros(closed - t0) + " us");
    }

    @Test
    void deviceDeletedBehindOurBackIsReported() throws Exception {
        String name = kernel.uniqueName();
        try (TapDevice tap = create(TapSettings.builder().name(name).up(false))) {
            Kernel.run("link", "del", name);
            ByteBuffer buf = ByteBuffer.allocateDirect(tap.maxFrameLength());
            TapException e = assertThrows(TapException.class, () -> tap.read(buf, 1000));
            assertTrue(e.getMessage().startsWith("TAP device " + name + " was deleted by someone else"), e.getMessage());
            assertThrows(TapException.class, () -> tap.write(arpRequest(MacAddress.valueOf("02:00:00:00:00:01"))));
        }
    }

    @Test
    void factoryDeactivationClosesOpenDevices() throws Exception {
        String name = kernel.uniqueName();
        TapDevice tap = create(TapSettings.builder().name(name));
        factory.deactivate();
        assertFalse(tap.isOpen());
        assertTrue(Kernel.await(2000, () -> !Kernel.exists(name)));
    }

    /**
     * The kernel ARPs for a UDP destination on the TAP's subnet: read sees the ARP request; an ARP reply
     * written from a fake MAC teaches the kernel the neighbour; then the queued datagram comes out of the
     * TAP addressed to that MAC. Then a too-small buffer shows the truncation contract.
     */
    @Test
    void framesFlowBothWays() throws Exception {
        int x = ThreadLocalRandom.current().nextInt(1, 255);
        String subnet = "10.213." + x + ".";
        MacAddress fake = MacAddress.valueOf("02:76:6c:32:" + Kernel.hex(x) + ":02");
        try (TapDevice tap = create(TapSettings.builder().name(kernel.uniqueName()).ipv4(subnet + "1/24"));
                DatagramSocket udp = new DatagramSocket()) {
            ByteBuffer buf = ByteBuffer.allocateDirect(tap.maxFrameLength());
            byte[] payload = "vl2-tap test".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            udp.send(new DatagramPacket(payload, payload.length, InetAddress.getByName(subnet + "2"), 9));

            // 1. the ARP request for .2, from the TAP's MAC
            readUntil(tap, buf, f -> f.getShort(12) == ARP && f.getShort(20) == 1
                    && ipAt(f, 38).equals(subnet + "2"));
            assertEquals(0, buf.position());
            assertEquals(42, buf.limit()); // ARP frames from Linux are not padded
            assertEquals(MacAddress.BROADCAST, macAt(buf, 0));
            assertEquals(tap.mac(), macAt(buf, 6));
            assertEquals(tap.mac(), macAt(buf, 22));
            assertEquals(subnet + "1", ipAt(buf, 28));

            // 2. the reply from the fake neighbour, written from position 2 of a larger buffer; write leaves
            // position and limit alone
            ByteBuffer reply = ByteBuffer.allocateDirect(50);
            reply.position(2);
            reply.put(arpReply(fake, tap.mac(), new byte[] {10, (byte) 213, (byte) x, 2},
                    new byte[] {10, (byte) 213, (byte) x, 1}));
            reply.limit(44).position(2);
            tap.write(reply);
            assertEquals(2, reply.position());
            assertEquals(44, reply.limit());
            assertTrue(Kernel.await(2000, () -> Kernel.run("neigh", "show", "dev", tap.name())
                    .contains(subnet + "2 lladdr " + fake)), () -> Kernel.run("neigh", "show", "dev", tap.name()));

            // 3. the datagram itself, now addressed to the fake MAC
            buf.clear();
            readUntil(tap, buf, f -> f.getShort(12) == IPV4 && f.get(23) == 17 && ipAt(f, 30).equals(subnet + "2"));
            assertEquals(fake, macAt(buf, 0));
            assertEquals(tap.mac(), macAt(buf, 6));
            assertEquals(9, buf.getShort(36)); // UDP destination port
            assertEquals(14 + 20 + 8 + payload.length, buf.remaining());

            // 4. truncation: a frame longer than the room is cut to the room, and read returns the room
            udp.send(new DatagramPacket(payload, payload.length, InetAddress.getByName(subnet + "2"), 9));
            ByteBuffer small = ByteBuffer.allocateDirect(64);
            small.position(4).limit(24);
            assertEquals(20, tap.read(small, 2000)); // every frame is longer than 20 bytes
            assertEquals(4, small.position());
            assertEquals(24, small.limit());
            assertEquals(0, small.getInt(0)); // stored at the position, not at 0
            MacAddress dst = macAt(small, 0);
            assertTrue(dst.equals(fake) || dst.isMulticast(), "not a destination MAC: " + dst);
        }
    }

    /** Reads frames (skipping others, e.g. IPv6 router solicitations) until one matches, within 5 s. */
    private static void readUntil(TapDevice tap, ByteBuffer buf, Predicate<ByteBuffer> match) throws TapException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        StringBuilder seen = new StringBuilder();
        while (System.nanoTime() < deadline) {
            buf.clear();
            int n = tap.read(buf, 500);
            if (n > 0) {
                assertEquals(n, buf.remaining());
                if (n >= 42 && match.test(buf)) {
                    return;
                }
                seen.append(String.format(" [%d bytes, type 0x%04x]", n, buf.getShort(12) & 0xFFFF));
            }
        }
        fail("expected frame not read within 5 s; saw" + seen);
    }

    private static MacAddress macAt(ByteBuffer b, int at) {
        byte[] m = new byte[6];
        for (int i = 0; i < 6; i++) {
            m[i] = b.get(b.position() + at + i);
        }
        return MacAddress.of(m);
    }

    private static String ipAt(ByteBuffer b, int at) {
        int p = b.position() + at;
        return (b.get(p) & 0xFF) + "." + (b.get(p + 1) & 0xFF) + "." + (b.get(p + 2) & 0xFF) + "." + (b.get(p + 3) & 0xFF);
    }

    private static ByteBuffer arpReply(MacAddress from, MacAddress to, byte[] fromIp, byte[] toIp) {
        ByteBuffer f = ByteBuffer.allocateDirect(42);
        f.put(to.toBytes()).put(from.toBytes()).putShort((short) ARP);
        f.putShort((short) 1).putShort((short) IPV4).put((byte) 6).put((byte) 4).putShort((short) 2);
        f.put(from.toBytes()).put(fromIp).put(to.toBytes()).put(toIp);
        return f.flip();
    }

    private static ByteBuffer arpRequest(MacAddress from) {
        return arpReply(from, MacAddress.BROADCAST, new byte[4], new byte[4]);
    }
}

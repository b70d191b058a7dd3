package org.vl2.tap.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vl2.api.MacAddress;
import org.vl2.tap.TapDevice;
import org.vl2.tap.TapException;
import org.vl2.tap.TapSettings;
import org.vl2.tap.TsoSegmenter;
import org.vl2.tap.VirtioNetHeader;

/**
 * TAP offload on real devices, as root: the virtio header on reads and writes, the fallback when the kernel
 * refuses TUNSETOFFLOAD, and a real TCP transfer (iperf3) between two network namespaces whose TAP devices are
 * joined by {@link TapBridge} threads (segmenter on one side, coalescer on the other). Traffic stays inside the
 * test's own subnets on its own devices and namespaces, which are deleted after each test.
 */
class OffloadTapTest {

    private final Kernel kernel = new Kernel();
    private final Netns netns = new Netns();
    private LinuxTapFactory factory;

    @BeforeEach
    void setUp() {
        Kernel.assumeRootAndTun();
        factory = new LinuxTapFactory();
        factory.activate();
    }

    @AfterEach
    void tearDown() {
        try {
            if (factory != null) {
                factory.deactivate(); // closes (and so deletes) the devices, wherever they are
            }
        } finally {
            netns.close();
            kernel.cleanup();
        }
    }

    private TapDevice create(TapSettings.Builder b) throws TapException {
        TapDevice d = factory.create(b.build());
        kernel.remember(d.name());
        return d;
    }

    @Test
    void withoutOffloadNothingChanges() throws Exception {
        try (TapDevice tap = create(TapSettings.builder().name(kernel.uniqueName()).up(false))) {
            assertFalse(tap.offload());
            assertEquals(tap.maxFrameLength(), tap.maxReadLength());
            assertFalse(tap.toString().contains("offload"), tap.toString());
        }
    }

    /**
     * A UDP datagram the kernel sends out of an offload TAP comes behind a virtio header asking for the UDP
     * checksum to be completed (TUN_F_CSUM); the segmenter completes it in place. A plain frame written behind an
     * all-zero header (an ARP reply) is taken in; a header that does not fit the frame is refused with EINVAL.
     */
    @Test
    void readsAndWritesCarryTheVirtioHeader() throws Exception {
        int x = ThreadLocalRandom.current().nextInt(1, 255);
        String subnet = "10.213." + x + ".";
        MacAddress fake = MacAddress.valueOf("02:76:6c:33:" + Kernel.hex(x) + ":02");
        try (TapDevice tap = create(TapSettings.builder().name(kernel.uniqueName()).ipv4(subnet + "1/24").offload(true));
                DatagramSocket udp = new DatagramSocket()) {
            assertTrue(tap.offload());
            assertEquals(10 + 14 + 8 + 65_535, tap.maxReadLength());
            assertTrue(tap.toString().contains("offload"), tap.toString());
            assertTrue(tap.settings().offload());

            // the datagram makes the kernel ask for .2: an ARP request behind an all-zero header
            byte[] payload = new byte[333];
            ThreadLocalRandom.current().nextBytes(payload);
            udp.send(new DatagramPacket(payload, payload.length, InetAddress.getByName(subnet + "2"), 9));
            ByteBuffer buf = ByteBuffer.allocateDirect(tap.maxReadLength() + 1);
            int arp = readUntil(tap, buf, 0x0806, 0);
            assertEquals(10 + 42, arp);
            assertEquals(0, VirtioNetHeader.flags(buf, 0));
            assertEquals(VirtioNetHeader.GSO_NONE, VirtioNetHeader.gsoType(buf, 0));

            // an ARP reply behind an all-zero header teaches the kernel the neighbour
            ByteBuffer w = ByteBuffer.allocateDirect(10 + 42);
            VirtioNetHeader.putPlain(w, 0);
            w.position(10);
            w.put(tap.mac().toBytes()).put(fake.toBytes()).putShort((short) 0x0806);
            w.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) 2);
            w.put(fake.toBytes()).put(new byte[] {10, (byte) 213, (byte) x, 2});
            w.put(tap.mac().toBytes()).put(new byte[] {10, (byte) 213, (byte) x, 1});
            w.flip();
            tap.write(w);
            assertTrue(Kernel.await(2000, () -> Kernel.run("neigh", "show", "dev", tap.name())
                    .contains(subnet + "2 lladdr " + fake)), () -> Kernel.run("neigh", "show", "dev", tap.name()));

            // then the datagram itself, its UDP checksum left to complete
            int n = readUntil(tap, buf, 0x0800, 17);
            assertEquals(10 + 14 + 20 + 8 + payload.length, n);
            assertEquals(VirtioNetHeader.GSO_NONE, VirtioNetHeader.gsoType(buf, 0));
            assertEquals(VirtioNetHeader.F_NEEDS_CSUM, VirtioNetHeader.flags(buf, 0), VirtioNetHeader.toString(buf, 0));
            assertEquals(34, VirtioNetHeader.csumStart(buf, 0));
            assertEquals(6, VirtioNetHeader.csumOffset(buf, 0));

            int read = n;
            int[] frames = {0};
            TsoSegmenter segmenter = new TsoSegmenter(tap.mtu());
            TsoSegmenter.Result r = segmenter.segment(buf, 0, n, ByteBuffer.allocateDirect(segmenter.maxSegmentLength()),
                    0, (frame, offset, length) -> {
                        frames[0]++;
                        assertEquals(10, offset);
                        assertEquals(read - 10, length);
                        // the completed UDP checksum verifies: pseudo header + UDP header + data sums to 0xFFFF
                        long s = 17 + (length - 34);
                        for (int i = 26; i < 34; i += 2) {
                            s += frame.getShort(offset + i) & 0xFFFF;
                        }
                        for (int i = 34; i + 1 < length; i += 2) {
                            s += frame.getShort(offset + i) & 0xFFFF;
                        }
                        if ((length & 1) == 1) {
                            s += (frame.get(offset + length - 1) & 0xFF) << 8;
                        }
                        while ((s >>> 16) != 0) {
                            s = (s & 0xFFFF) + (s >>> 16);
                        }
                        assertEquals(0xFFFF, s, "UDP checksum");
                    });
            assertEquals(TsoSegmenter.Result.PASSED, r);
            assertEquals(1, frames[0]);

            // csum_start + csum_offset beyond the frame: refused
            ByteBuffer bad = ByteBuffer.allocateDirect(10 + 60);
            VirtioNetHeader.put(bad, 0, VirtioNetHeader.F_NEEDS_CSUM, 0, 0, 0, 100, 16);
            bad.put(10, tap.mac().toBytes()).put(16, fake.toBytes()).putShort(22, (short) 0x0800);
            TapException e = assertThrows(TapException.class, () -> tap.write(bad));
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().contains("10-byte virtio header"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> tap.read(ByteBuffer.allocateDirect(9)));
        }
    }

    /** Reads (skipping others) until a frame of this EtherType (and IP protocol, if not 0) comes, within 5 s. */
    private static int readUntil(TapDevice tap, ByteBuffer buf, int etherType, int protocol) throws TapException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            buf.clear();
            int n = tap.read(buf, 500);
            if (n > 10 + 24 && (buf.getShort(10 + 12) & 0xFFFF) == etherType
                    && (protocol == 0 || buf.get(10 + 23) == protocol)) {
                return n;
            }
        }
        throw new AssertionError("no frame of type " + Integer.toHexString(etherType) + " within 5 s");
    }

    /** A kernel that refuses TUNSETOFFLOAD (here: a flag it does not know) gives a device without offload. */
    @Test
    void fallsBackToNoOffloadWhenTheKernelRefuses() throws Exception {
        String name = kernel.uniqueName();
        TapSettings s = TapSettings.builder().name(name).up(false).offload(true).build();
        LinuxTapDevice tap = LinuxTapDevice.create(s, d -> { }, LinuxTapDevice.OFFLOAD_FLAGS | 0x4000_0000);
        try {
            assertFalse(tap.offload());
            assertTrue(tap.settings().offload(), "the settings still say what was asked for");
            assertEquals(name, tap.name());
            assertEquals(tap.maxFrameLength(), tap.maxReadLength());
            assertTrue(Kernel.exists(name));
            // no IFF_VNET_HDR: tun_flags in sysfs (0x4000 would be set with it)
            String flags = java.nio.file.Files.readString(java.nio.file.Path.of("/sys/class/net", name, "tun_flags"))
                    .trim();
            assertEquals(0, Integer.decode(flags) & 0x4000, "tun_flags " + flags);
        } finally {
            tap.close();
        }
        LinuxTapDevice ok = LinuxTapDevice.create(s, d -> { });
        try {
            assertTrue(ok.offload());
            String flags = java.nio.file.Files.readString(java.nio.file.Path.of("/sys/class/net", name, "tun_flags"))
                    .trim();
            assertEquals(0x4000, Integer.decode(flags) & 0x4000, "tun_flags " + flags);
        } finally {
            ok.close();
        }
    }

    /**
     * iperf3 over TCP (IPv4, then IPv6) between two namespaces, each with an offload TAP, bridged by TapBridge:
     * the transfer completes, the sending TAP hands out superframes and the receiving TAP takes coalesced ones.
     */
    @Test
    void tcpTransferThroughSegmenterAndCoalescer() throws Exception {
        assumeIperf3();
        Pair p = pair(true);
        TapBridge ab = new TapBridge(p.a, p.b, true).start();
        TapBridge ba = new TapBridge(p.b, p.a, true).start();
        try {
            double v4 = iperf(p, p.ipv4B, 2);
            double v6 = iperf(p, p.ipv6B, 2);
            System.out.printf("offload bridge: IPv4 %.2f Gbit/s, IPv6 %.2f Gbit/s%n", v4 / 1e9, v6 / 1e9);
        } finally {
            ab.stop();
            ba.stop();
        }
        System.out.println(ab.stats());
        System.out.println(ba.stats());
        assertNull(ab.failure, () -> "bridge failed: " + ab.failure);
        assertNull(ba.failure, () -> "bridge failed: " + ba.failure);
        assertTrue(ab.superframes.get() > 0, "no superframes were read: " + ab.stats());
        assertTrue(ab.longestRead.get() > 10 + p.a.maxFrameLength(), ab.stats());
        assertTrue(ab.longestRead.get() <= p.a.maxReadLength(), ab.stats());
        assertTrue(ab.coalescedWrites.get() > 0, "no coalesced writes: " + ab.stats());
        assertEquals(0, ab.notDelivered.get(), ab.stats());
        assertEquals(0, ba.notDelivered.get(), ba.stats());
    }

    static void assumeIperf3() {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                java.nio.file.Files.isExecutable(java.nio.file.Path.of("/usr/bin/iperf3")),
                "needs iperf3 (/usr/bin/iperf3)");
    }

    /** Two TAP devices, each moved into a namespace of its own, on one subnet (IPv4 and IPv6). */
    record Pair(TapDevice a, TapDevice b, String nsA, String nsB, String ipv4B, String ipv6B) {
    }

    Pair pair(boolean offload) throws TapException {
        return pair(factory, kernel, netns, offload);
    }

    static Pair pair(LinuxTapFactory factory, Kernel kernel, Netns netns, boolean offload) throws TapException {
        int x = ThreadLocalRandom.current().nextInt(1, 255);
        String nsA = netns.create();
        String nsB = netns.create();
        TapDevice a = factory.create(TapSettings.builder().name(kernel.uniqueName()).up(false).offload(offload).build());
        TapDevice b = factory.create(TapSettings.builder().name(kernel.uniqueName()).up(false).offload(offload).build());
        assertEquals(offload, a.offload());
        assertEquals(offload, b.offload());
        String hex = Integer.toHexString(x);
        Netns.moveAndConfigure(a.name(), nsA, "10.214." + x + ".1/24", "fd00:214:" + hex + "::1/64");
        Netns.moveAndConfigure(b.name(), nsB, "10.214." + x + ".2/24", "fd00:214:" + hex + "::2/64");
        return new Pair(a, b, nsA, nsB, "10.214." + x + ".2", "fd00:214:" + hex + "::2");
    }

    double iperf(Pair p, String server, int seconds) {
        return iperf(netns, p, server, seconds, "");
    }

    /** Runs an iperf3 test from namespace A to B; returns the receiver's bit rate. */
    static double iperf(Netns netns, Pair p, String server, int seconds, String label) {
        int port = 5201 + ThreadLocalRandom.current().nextInt(1000);
        netns.start(p.nsB(), "iperf3", "-s", "-1", "-p", String.valueOf(port));
        assertTrue(netns.awaitListening(p.nsB(), port, 5000), "iperf3 server did not start");
        Kernel.Result r = netns.run(seconds + 30, p.nsA(), "iperf3", "-c", server, "-p", String.valueOf(port), "-t",
                String.valueOf(seconds), "-f", "m", "--connect-timeout", "5000");
        assertEquals(0, r.exitCode, () -> "iperf3 " + label + " failed: " + r.output);
        Matcher m = Pattern.compile("([0-9.]+) Mbits/sec\\s+receiver").matcher(r.output);
        assertTrue(m.find(), () -> "no receiver rate in: " + r.output);
        double bits = Double.parseDouble(m.group(1)) * 1e6;
        assertTrue(bits > 0, r.output);
        return bits;
    }
}

package org.vl2.switching.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vl2.api.MacAddress;
import org.vl2.api.Networks;
import org.vl2.api.test.FakeMacTable;
import org.vl2.api.test.FakeTransport;
import org.vl2.api.test.TestFrames;
import org.vl2.ipam.Ipv4Pool;

/**
 * Per-port hygiene through the whole switch (raw ports in a network with a pool and DHCP): the MAC limit per port,
 * DHCP only for the sending station and within the port's rate, and the optional IPv4/ARP source guard.
 */
class PortHygieneTest {

    private static final long SECOND = 1_000_000_000L;
    private static final String BCAST = "ff:ff:ff:ff:ff:ff";
    private static final long HOST = 0x0200_0000_000aL;
    private static final long OTHER = 0x0200_0000_000bL;
    private static final int SERVER = 0x0a00_00fe; // 10.0.0.254: the pool's last host

    private final SocketAddress a = TestFrames.endpoint(41001);
    private final SocketAddress b = TestFrames.endpoint(41002);
    private final AtomicLong clock = new AtomicLong(1_000 * SECOND);
    private final FakeMacTable fdb = new FakeMacTable();
    private final FakeTransport udp = new FakeTransport("udp");
    private SwitchCore sw;

    @TempDir
    Path state;

    @BeforeEach
    void setUp() throws Exception {
        sw = newSwitch(new HygieneSettings(HygieneSettings.DEFAULT_DHCP_RATE, false));
    }

    @AfterEach
    void tearDown() {
        sw.deactivate();
    }

    private SwitchCore newSwitch(HygieneSettings hygiene) throws Exception {
        SwitchCore s = new SwitchCore(fdb, Fakes.defaults(), clock::get, false, state);
        s.bindPolicy(new LearningPolicy());
        s.attach(udp, Networks.DEFAULT); // raw ports in network 0, opened to plaintext: the operator's choice
        s.bindNetwork(new NetworkDefinition(new NetworkSettings(Networks.DEFAULT, "default", 1400, null,
                Ipv4Pool.parse("10.0.0.0/24", null), null, true, Duration.ofHours(1), null, List.of(), false, Set.of(),
                hygiene, true)));
        return s;
    }

    private void restart(HygieneSettings hygiene) throws Exception {
        sw.deactivate();
        sw = newSwitch(hygiene);
    }

    // ---- MAC limit ----------------------------------------------------------------------------------------

    @Test
    void stationsOverThePortsMacLimitAreDroppedCountedAndReportedOnceAMinute() {
        fdb.perPortLimit = 2;
        udp.inject(b, TestFrames.frame(BCAST, "02:00:00:00:01:01", -1, 46));
        udp.inject(a, TestFrames.frame(BCAST, "02:00:00:00:00:01", -1, 46));
        udp.inject(a, TestFrames.frame(BCAST, "02:00:00:00:00:02", -1, 46));
        assertEquals(2, udp.sentTo(b), "within the limit: flooded");

        udp.inject(a, TestFrames.frame(BCAST, "02:00:00:00:00:03", -1, 46));
        assertEquals(2, udp.sentTo(b), "the third station of a is not let in");
        assertEquals(1, sw.statistics().dropMacLimit());
        PortGuard guard = port(a).guard;
        assertEquals(0, guard.macLimitRefused, "reported at once");
        long reported = guard.macLimitReported;

        udp.inject(a, TestFrames.frame(BCAST, "02:00:00:00:00:04", -1, 46));
        assertEquals(1, guard.macLimitRefused, "not reported again within the minute, but counted");
        assertEquals(reported, guard.macLimitReported);
        udp.inject(a, TestFrames.frame(BCAST, "02:00:00:00:00:01", -1, 46));
        assertEquals(3, udp.sentTo(b), "known stations go on");

        clock.addAndGet(PortHygiene.REPORT_INTERVAL_NANOS);
        udp.inject(a, TestFrames.frame(BCAST, "02:00:00:00:00:05", -1, 46));
        assertEquals(0, guard.macLimitRefused, "a minute later: reported with the count since");
        assertEquals(3, sw.statistics().dropMacLimit());
        assertEquals(3, sw.port(port(a).id).orElseThrow().counters().rxDrops());
    }

    // ---- DHCP ---------------------------------------------------------------------------------------------

    @Test
    void aDhcpRequestForAnotherMacIsDroppedAndCounted() {
        udp.inject(b, TestFrames.frame(BCAST, MacAddress.toString(OTHER), -1, 46)); // someone to flood to
        udp.clear();
        udp.inject(a, dhcp(HOST, OTHER, 1, 0)); // from HOST, asking for OTHER
        assertNull(udp.last(a), "no offer");
        assertEquals(0, udp.sentTo(b), "not forwarded either");
        assertEquals(1, sw.statistics().dropDhcpSpoofed());
        assertTrue(sw.network(Networks.DEFAULT).orElseThrow().leases().isEmpty());

        udp.inject(a, dhcp(HOST, HOST, 1, 0));
        assertNotNull(udp.last(a), "a station asking for itself gets an offer");
    }

    @Test
    void dhcpIsRateLimitedPerPort() throws Exception {
        restart(new HygieneSettings(2, false));
        for (int i = 0; i < 3; i++) {
            udp.inject(a, dhcp(HOST, HOST, 1, 0));
        }
        assertEquals(2, udp.sentTo(a), "a second's burst of 2, then nothing");
        assertEquals(1, sw.statistics().dropDhcpRate());
        udp.inject(b, dhcp(OTHER, OTHER, 1, 0));
        assertEquals(1, udp.sentTo(b), "another port has its own budget");
        udp.clear();
        clock.addAndGet(SECOND / 2);
        udp.inject(a, dhcp(HOST, HOST, 1, 0));
        udp.inject(a, dhcp(HOST, HOST, 1, 0));
        assertEquals(1, udp.sentTo(a), "half a second refills one");
        assertEquals(2, sw.statistics().dropDhcpRate());
        assertThrows(IllegalArgumentException.class, () -> HygieneSettings.from(
                FakeConfigAdmin.annotation(NetworkConfig.class, java.util.Map.of("id", "1", "dhcp.rate.per.port",
                        -1)), "org.vl2.network~x", true));
    }

    // ---- IPv4 source guard --------------------------------------------------------------------------------

    @Test
    void withTheGuardAPortSendsOnlyFromItsLeasesAndArpsOnlyForThem() throws Exception {
        restart(new HygieneSettings(HygieneSettings.DEFAULT_DHCP_RATE, true));
        udp.inject(b, ipv4(OTHER, 0x0a00_0063, 0x0a00_0001)); // b has no lease: dropped, but it is a port now
        assertEquals(1, sw.statistics().dropIpGuard());
        udp.clear();

        int leased = lease(a, HOST);
        udp.inject(a, ipv4(HOST, leased, 0x0a00_0063));
        assertEquals(1, udp.sentTo(b), "from its lease: forwarded");
        udp.inject(a, ipv4(HOST, leased + 1, 0x0a00_0063));
        udp.inject(a, arp(HOST, leased + 1));
        assertEquals(1, udp.sentTo(b), "from another address, IPv4 or ARP: dropped");
        assertEquals(3, sw.statistics().dropIpGuard());
        udp.inject(a, arp(HOST, 0));
        udp.inject(a, arp(HOST, leased));
        assertEquals(3, udp.sentTo(b), "an ARP probe (0.0.0.0) and ARP for its lease pass");
        ByteBuffer v6 = TestFrames.frame(BCAST, MacAddress.toString(HOST), -1, 46);
        v6.put(12, (byte) 0x86).put(13, (byte) 0xdd);
        udp.inject(a, v6);
        assertEquals(4, udp.sentTo(b), "IPv6 is not guarded");
        ByteBuffer qinq = TestFrames.frame(BCAST, MacAddress.toString(HOST), 5, 46);
        qinq.put(16, (byte) 0x81).put(17, (byte) 0x00);
        udp.inject(a, qinq);
        assertEquals(4, udp.sentTo(b), "a second tag hides the payload: dropped");
        assertEquals(4, sw.statistics().dropIpGuard());

        restart(new HygieneSettings(HygieneSettings.DEFAULT_DHCP_RATE, true));
        udp.clear();
        udp.inject(b, ipv4(OTHER, 0x0a00_0063, 0x0a00_0001));
        udp.inject(a, ipv4(HOST, leased, 0x0a00_0063));
        assertEquals(1, udp.sentTo(b), "after a restart (new ports, no bindings) the lease of the source MAC counts");
        udp.inject(b, ipv4(OTHER, leased, 0x0a00_0001));
        assertEquals(0, udp.sentTo(a), "another MAC with that address: dropped");
    }

    @Test
    void theGuardAllocatesNothingForAllowedFrames() throws Exception {
        java.lang.management.ThreadMXBean plain = java.lang.management.ManagementFactory.getThreadMXBean();
        org.junit.jupiter.api.Assumptions.assumeTrue(plain instanceof com.sun.management.ThreadMXBean);
        com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) plain;
        org.junit.jupiter.api.Assumptions.assumeTrue(bean.isThreadAllocatedMemorySupported()
                && bean.isThreadAllocatedMemoryEnabled());
        restart(new HygieneSettings(HygieneSettings.DEFAULT_DHCP_RATE, true));
        int leased = lease(a, HOST);
        SwitchPort p = port(a);
        PortHygiene guard = new PortHygiene(fdb, new SwitchCounters(), clock::get);
        ByteBuffer[] frames = {ipv4(HOST, leased, 0x0a00_0063), arp(HOST, leased), arp(HOST, 0)};
        org.vl2.api.EthernetFrame[] views = new org.vl2.api.EthernetFrame[frames.length];
        for (int i = 0; i < frames.length; i++) {
            views[i] = new org.vl2.api.EthernetFrame().wrap(frames[i]);
        }
        Runnable work = () -> {
            for (int i = 0; i < 300_000; i++) {
                int k = i % frames.length;
                if (!guard.sourceAllowed(p, p.network, frames[k], views[k])) {
                    throw new AssertionError("refused frame " + k);
                }
            }
        };
        work.run();
        long tid = Thread.currentThread().getId();
        long before = bean.getThreadAllocatedBytes(tid);
        long empty = bean.getThreadAllocatedBytes(tid) - before; // what measuring itself costs
        long min = Long.MAX_VALUE;
        for (int run = 0; run < 5; run++) { // as the MAC table's test: every run tiny, at least one exactly zero
            before = bean.getThreadAllocatedBytes(tid);
            work.run();
            long used = bean.getThreadAllocatedBytes(tid) - before - empty;
            assertTrue(used < 16 * 1024, used + " bytes allocated by 300,000 guarded frames");
            min = Math.min(min, used);
        }
        assertEquals(0, min, "bytes allocated by 300,000 guarded frames");
    }

    @Test
    void theGuardNeedsAPool() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HygieneSettings.from(
                FakeConfigAdmin.annotation(NetworkConfig.class, java.util.Map.of("id", "1", "ip.guard", true)),
                "org.vl2.network~x", false));
        assertTrue(e.getMessage().contains("ip.guard=true"), e.getMessage());
    }

    @Test
    void leasesAreOnDiskOnceTheSwitchHasStopped() throws Exception {
        int leased = lease(a, HOST);
        sw.deactivate();
        String file = Files.readString(state.resolve("leases").resolve(Networks.format(Networks.DEFAULT) + ".leases"));
        assertTrue(file.contains("mac:" + MacAddress.toString(HOST) + " " + dotted(leased) + " "), file);
        sw = newSwitch(HygieneSettings.DEFAULTS);
    }

    // ---- helpers --------------------------------------------------------------------------------------------

    private SwitchPort port(SocketAddress remote) {
        for (SwitchPort p : sw.registry.all()) {
            if (remote.equals(p.remote)) {
                return p;
            }
        }
        throw new AssertionError("no port for " + remote);
    }

    /** DISCOVER and REQUEST from {@code mac} on {@code port}: the address acknowledged. */
    private int lease(SocketAddress port, long mac) {
        udp.inject(port, dhcp(mac, mac, 1, 0));
        byte[] offer = udp.last(port);
        assertNotNull(offer, "an offer");
        int yiaddr = ByteBuffer.wrap(offer).getInt(14 + 20 + 8 + 16);
        udp.inject(port, dhcp(mac, mac, 3, yiaddr));
        byte[] ack = udp.last(port);
        assertEquals(5, ack[14 + 20 + 8 + 240 + 2], "an ACK");
        udp.clear();
        return yiaddr;
    }

    /** A broadcast DHCP message (1 DISCOVER, 3 REQUEST for {@code requested}) from {@code src} for {@code chaddr}. */
    static ByteBuffer dhcp(long src, long chaddr, int type, int requested) {
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + 8 + 300);
        b.put(MacAddress.of(MacAddress.MASK).toBytes()).put(MacAddress.of(src).toBytes()).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + 8 + 300)).putInt(0);
        b.put((byte) 64).put((byte) 17).putShort((short) 0).putInt(0).putInt(-1);
        b.putShort((short) 68).putShort((short) 67).putShort((short) (8 + 300)).putShort((short) 0);
        int bp = b.position();
        b.put((byte) 1).put((byte) 1).put((byte) 6).put((byte) 0).putInt(0x1234_5678);
        b.position(bp + 28);
        b.put(MacAddress.of(chaddr).toBytes());
        b.position(bp + 236);
        b.putInt(0x6382_5363).put((byte) 53).put((byte) 1).put((byte) type);
        if (requested != 0) {
            b.put((byte) 50).put((byte) 4).putInt(requested).put((byte) 54).put((byte) 4).putInt(SERVER);
        }
        b.put((byte) 255);
        return b.clear();
    }

    private static String dotted(int a) {
        return (a >>> 24) + "." + (a >>> 16 & 0xff) + "." + (a >>> 8 & 0xff) + "." + (a & 0xff);
    }

    private static ByteBuffer ipv4(long src, int from, int to) {
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + 8);
        b.put(MacAddress.of(MacAddress.MASK).toBytes()).put(MacAddress.of(src).toBytes()).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) 28).putInt(0);
        b.put((byte) 64).put((byte) 17).putShort((short) 0).putInt(from).putInt(to);
        b.putShort((short) 5000).putShort((short) 5001).putShort((short) 8).putShort((short) 0);
        return b.clear();
    }

    private static ByteBuffer arp(long src, int spa) {
        ByteBuffer b = ByteBuffer.allocate(14 + 28);
        b.put(MacAddress.of(MacAddress.MASK).toBytes()).put(MacAddress.of(src).toBytes()).putShort((short) 0x0806);
        b.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) 1);
        b.put(MacAddress.of(src).toBytes()).putInt(spa).put(new byte[6]).putInt(0x0a00_0063);
        return b.clear();
    }
}

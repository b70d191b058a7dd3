package org.vl2.switching.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vl2.api.NetworkInfo;
import org.vl2.api.PortInfo;
import org.vl2.api.test.FakeMacTable;
import org.vl2.api.test.FakeTransport;
import org.vl2.api.test.TestFrames;
import org.vl2.ipam.Ipv4Pool;
import org.vl2.protocol.ErrorCode;
import org.vl2.protocol.FrameHeader;
import org.vl2.protocol.Join;
import org.vl2.protocol.Keepalive;
import org.vl2.protocol.Leave;
import org.vl2.protocol.ProtocolError;
import org.vl2.protocol.Welcome;
import org.vl2.protocol.Wire;

/** The switch side of the vl2 protocol (docs/protocol.md), networks and leases, through the core's receive path. */
class Vl2ProtocolTest {

    private static final long SECOND = 1_000_000_000L;
    private static final long NET_A = 0xa1L;
    private static final long NET_B = 0xb2L;
    private static final String BCAST = "ff:ff:ff:ff:ff:ff";
    private static final org.vl2.crypto.Identity IDENTITY = org.vl2.crypto.Identity.generate();

    @TempDir
    Path leaseDir;

    private final AtomicLong clock = new AtomicLong(1_000 * SECOND);
    private FakeMacTable fdb;
    private FakeTransport vl2;
    private FakeTransport udp;
    private SwitchCore sw;

    @AfterEach
    void stopSwitch() {
        sw.deactivate(); // waits for its lease writes before the state directory is deleted
    }

    @BeforeEach
    void setUp() throws Exception {
        fdb = new FakeMacTable();
        sw = newSwitch();
        sw.bindNetwork(new NetworkDefinition(network(NET_A, "10.147.17.0/24", "fd00:a1::")));
        sw.bindNetwork(new NetworkDefinition(network(NET_B, "10.147.18.0/24", null)));
    }

    private SwitchCore newSwitch() {
        vl2 = new FakeTransport("vl2", "vl2");
        udp = new FakeTransport("udp");
        SwitchCore s = new SwitchCore(fdb, Fakes.defaults(), clock::get, false, leaseDir, IDENTITY);
        s.bindPolicy(new LearningPolicy());
        s.bindPolicy(new HubPolicy());
        s.attach(vl2);
        s.attach(udp);
        return s;
    }

    static NetworkSettings network(long id, String pool, String ipv6) throws Exception {
        return new NetworkSettings(id, "net-" + Long.toHexString(id), 1400, null,
                pool == null ? null : Ipv4Pool.parse(pool, null),
                ipv6 == null ? null : (Inet6Address) InetAddress.getByName(ipv6), pool != null,
                Duration.ofHours(1), null, List.of()).withPlaintext(true); // these tests drive plaintext joins
    }

    /** A simulated vl2 agent: joins, sends and reads what the switch sent it. */
    private final class Member {
        final SocketAddress address;
        final long id;
        final String mac;
        Welcome welcome;

        Member(int udpPort, long id, String mac) {
            this.address = TestFrames.endpoint(udpPort);
            this.id = id;
            this.mac = mac;
        }

        Welcome join(long network) throws Exception {
            return join(network, null);
        }

        Welcome join(long network, String requested) throws Exception {
            ByteBuffer b = ByteBuffer.allocate(64);
            new Join(network, id, 77, 1518, Join.CAP_IPV6,
                    requested == null ? null : (Inet4Address) InetAddress.getByName(requested), "host-" + id)
                    .encode(b);
            vl2.inject(address, b.flip());
            byte[] answer = vl2.last(address);
            assertNotNull(answer, "the switch answers a JOIN");
            assertEquals(Wire.WELCOME, Wire.type(ByteBuffer.wrap(answer)), "a WELCOME");
            welcome = Welcome.decode(ByteBuffer.wrap(answer));
            vl2.clear();
            return welcome;
        }

        ProtocolError joinRefused(long network, String requested) throws Exception {
            ByteBuffer b = ByteBuffer.allocate(64);
            new Join(network, id, 78, 1518, 0,
                    requested == null ? null : (Inet4Address) InetAddress.getByName(requested), "").encode(b);
            vl2.inject(address, b.flip());
            byte[] answer = vl2.last(address);
            assertNotNull(answer);
            assertTrue(answer.length <= 64, "never longer than the JOIN");
            return ProtocolError.decode(ByteBuffer.wrap(answer));
        }

        void send(String dst, SocketAddress from) {
            ByteBuffer f = TestFrames.frame(dst, mac, -1, 46);
            ByteBuffer d = ByteBuffer.allocateDirect(FrameHeader.LENGTH + f.remaining());
            FrameHeader.write(d, 0, welcome.port(), welcome.token());
            d.position(FrameHeader.LENGTH);
            d.put(f);
            vl2.inject(from, d.flip());
        }

        void send(String dst) {
            send(dst, address);
        }

        /** The Ethernet frame of the last FRAME the switch sent this member; checks its header. */
        byte[] lastFrame() {
            return lastFrame(address);
        }

        byte[] lastFrame(SocketAddress to) {
            byte[] d = vl2.last(to);
            if (d == null) {
                return null;
            }
            ByteBuffer b = ByteBuffer.wrap(d);
            assertEquals(Wire.FRAME, Wire.type(b));
            assertEquals(welcome.port(), FrameHeader.port(b), "the FRAME names the receiver's own port");
            assertEquals(welcome.token(), FrameHeader.token(b), "and its session token");
            return Arrays.copyOfRange(d, FrameHeader.LENGTH, d.length);
        }
    }

    @Test
    void aJoinGetsAPortAnAddressFromThePoolTheMtuAndTheKeepaliveInterval() throws Exception {
        Member m = new Member(40001, 0x1111L, "02:00:00:00:00:01");
        Welcome w = m.join(NET_A);
        assertEquals(NET_A, w.network());
        assertEquals(77, w.nonce());
        assertEquals("10.147.17.1", w.ipv4().getHostAddress());
        assertEquals(24, w.ipv4Prefix());
        // a plaintext member only claims its id: its interface id is a hash of it, never an authenticated member's
        java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
        sha.update("vl2 plaintext member ".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        long iid = java.nio.ByteBuffer.wrap(sha.digest(java.nio.ByteBuffer.allocate(8).putLong(0x1111L).array()))
                .getLong(); // docs/protocol.md
        byte[] expected = InetAddress.getByName("fd00:a1::").getAddress();
        java.nio.ByteBuffer.wrap(expected).putLong(8, iid);
        assertEquals(InetAddress.getByAddress(expected), w.ipv6(), "IPv6 = prefix + hash of the member id");
        assertNotEquals(InetAddress.getByName("fd00:a1::1111"), w.ipv6());
        assertEquals(64, w.ipv6Prefix());
        assertEquals(1400, w.mtu());
        assertEquals(10, w.keepaliveSeconds());
        PortInfo p = sw.ports().get(0);
        assertEquals(w.port(), p.id().number());
        assertEquals("vl2", p.mode());
        assertEquals(NET_A, p.network());
        assertEquals("0000000000001111", p.member());
        assertEquals("host-4369", p.name());
        assertEquals("10.147.17.1", p.address());
        NetworkInfo n = sw.network(NET_A).orElseThrow();
        assertEquals(1, n.ports());
        assertEquals(List.of(new NetworkInfo.Lease("plaintext:0000000000001111", "10.147.17.1", null)), n.leases());
        assertEquals(253, n.leaseCapacity(), "a /24 less network, broadcast and the switch's own address");
        assertEquals(252, n.leasesFree());
    }

    @Test
    void framesBetweenMembersCarryTheReceiversHeaderAndTheFrameUnchanged() throws Exception {
        Member a = new Member(40001, 1, "02:00:00:00:00:01");
        Member b = new Member(40002, 2, "02:00:00:00:00:02");
        a.join(NET_A);
        b.join(NET_A);
        a.send(BCAST);
        byte[] expected = new byte[60];
        TestFrames.frame(BCAST, a.mac, -1, 46).get(expected);
        assertArrayEquals(expected, b.lastFrame());
        assertNull(vl2.last(a.address), "never back to the ingress port");
        vl2.clear();
        b.send(a.mac); // a is learned: unicast
        assertNotNull(a.lastFrame());
        assertEquals(1, sw.statistics().unicast());
    }

    @Test
    void aFrameMessageRefusedAtTheFlushLeavesTheMembersTxInFrameBytes() throws Exception {
        Member a = new Member(40001, 1, "02:00:00:00:00:01");
        Member b = new Member(40002, 2, "02:00:00:00:00:02");
        a.join(NET_A);
        b.join(NET_A);
        a.send(BCAST);     // b learns nothing yet, a is learned
        PortInfo pb = sw.port(org.vl2.api.PortId.of(b.welcome.port())).orElseThrow();
        long errors = sw.statistics().txErrors();
        vl2.batched = true;
        b.send(a.mac);     // FRAME header + 60-byte frame, queued for a
        b.send(BCAST);     // and again to a
        PortInfo pa = sw.port(org.vl2.api.PortId.of(a.welcome.port())).orElseThrow();
        assertEquals(2, vl2.queued());
        assertEquals(1, vl2.flush(1), "the second is refused at the flush");
        org.vl2.api.PortCounters after = sw.port(pa.id()).orElseThrow().counters();
        assertEquals(pa.counters().txFrames() - 1, after.txFrames());
        assertEquals(pa.counters().txBytes() - 60, after.txBytes(), "the frame's bytes, not the FRAME message's");
        assertEquals(pa.counters().txDrops() + 1, after.txDrops());
        assertEquals(errors + 1, sw.statistics().txErrors());
        assertEquals(pb.counters().txFrames(), sw.port(pb.id()).orElseThrow().counters().txFrames());
    }

    @Test
    void rawPortsAndPlaintextMembersShareANetworkOnlyWhereTheOperatorSaysSo() throws Exception {
        FakeTransport raw = new FakeTransport("udp2");
        sw.attach(raw, NET_A); // network=a1 in the raw transport's configuration; a1 is open to plaintext
        Member m = new Member(40001, 1, "02:00:00:00:00:01");
        m.join(NET_A);
        SocketAddress port = TestFrames.endpoint(50000);
        raw.inject(port, TestFrames.frame(BCAST, "02:00:00:00:00:aa", -1, 46));
        assertNotNull(m.lastFrame(), "the raw broadcast reaches the member in a FRAME");
        m.send("02:00:00:00:00:aa");
        byte[] got = raw.last(port);
        assertEquals(60, got.length, "and the member's unicast reaches the raw port as a bare frame");
    }

    @Test
    void theDefaultNetworkIsSealedAndRawPortsHaveTheirOwn() throws Exception {
        assertEquals(ErrorCode.NOT_AUTHORIZED, new Member(40001, 1, "02:00:00:00:00:01").joinRefused(0, null).code(),
                "no plaintext join into the default network");
        SocketAddress port = TestFrames.endpoint(50000);
        udp.inject(port, TestFrames.frame(BCAST, "02:00:00:00:00:aa", -1, 46));
        assertEquals(org.vl2.api.Networks.RAW, sw.ports().get(0).network(), "a raw port lands in the raw network");
        NetworkInfo rawNet = sw.network(org.vl2.api.Networks.RAW).orElseThrow();
        assertEquals("raw", rawNet.name());
        assertEquals(NetworkInfo.PLAINTEXT, rawNet.access());
        assertEquals(NetworkInfo.SEALED, sw.network(0).orElseThrow().access());
    }

    @Test
    void framesNeverCrossNetworks() throws Exception {
        Member a = new Member(40001, 1, "02:00:00:00:00:01");
        Member b = new Member(40002, 2, "02:00:00:00:00:02");
        Member c = new Member(40003, 3, "02:00:00:00:00:03");
        a.join(NET_A);
        b.join(NET_A);
        c.join(NET_B);
        c.send(BCAST);
        c.send(a.mac);
        assertNull(vl2.last(a.address));
        assertNull(vl2.last(b.address));
        a.send(BCAST);
        assertNotNull(b.lastFrame());
        assertNull(vl2.last(c.address));
        assertEquals("10.147.18.1", c.welcome.ipv4().getHostAddress(), "each network its own pool");
    }

    @Test
    void refusedJoinsAnswerWithTheReasonAndTheNonce() throws Exception {
        Member m = new Member(40001, 1, "02:00:00:00:00:01");
        ProtocolError e = m.joinRefused(0xdeadL, null);
        assertEquals(ErrorCode.UNKNOWN_NETWORK, e.code());
        assertEquals(78, e.nonce());
        assertEquals("no such network", e.message(), "generic: an unauthenticated answer names nothing");

        new Member(40002, 2, "02:00:00:00:00:02").join(NET_A, "10.147.17.50");
        e = m.joinRefused(NET_A, "10.147.17.50");
        assertEquals(ErrorCode.ADDRESS_CONFLICT, e.code(), "a static address someone else holds");
        e = m.joinRefused(NET_A, "192.0.2.1");
        assertEquals(ErrorCode.ADDRESS_CONFLICT, e.code(), "or outside the pool");
        assertEquals(1, sw.ports().size(), "no port for a refused member");
    }

    @Test
    void aStaticAddressInsideThePoolIsGranted() throws Exception {
        Welcome w = new Member(40001, 1, "02:00:00:00:00:01").join(NET_A, "10.147.17.50");
        assertEquals("10.147.17.50", w.ipv4().getHostAddress());
    }

    @Test
    void aFrameOrKeepaliveForAnUnknownSessionGetsUnknownPortNoLongerThanItself() throws Exception {
        SocketAddress stranger = TestFrames.endpoint(40009);
        ByteBuffer ka = ByteBuffer.allocate(24);
        new Keepalive(false, 42, 1234, 1).encode(ka);
        vl2.inject(stranger, ka.flip());
        byte[] answer = vl2.last(stranger);
        assertEquals(24, answer.length);
        ProtocolError e = ProtocolError.decode(ByteBuffer.wrap(answer));
        assertEquals(ErrorCode.UNKNOWN_PORT, e.code());
        assertEquals(42, e.port());

        Member m = new Member(40001, 1, "02:00:00:00:00:01");
        m.join(NET_A);
        long good = m.welcome.token();
        m.welcome = new Welcome(m.welcome.network(), 0, m.welcome.port(), good + 1, 0, 0, null, 0, null, 0);
        m.send(BCAST); // wrong token
        ProtocolError wrong = ProtocolError.decode(ByteBuffer.wrap(vl2.last(m.address)));
        assertEquals(ErrorCode.UNKNOWN_PORT, wrong.code(), "a stale session is told to re-join");
        assertEquals(2, sw.statistics().badSession());
        assertEquals(0, sw.ports().get(0).counters().rxFrames());
    }

    @Test
    void aKeepaliveIsEchoedAsAnAckOfTheSameSize() throws Exception {
        Member m = new Member(40001, 1, "02:00:00:00:00:01");
        m.join(NET_A);
        clock.addAndGet(5 * SECOND);
        ByteBuffer ka = ByteBuffer.allocate(24);
        new Keepalive(false, m.welcome.port(), m.welcome.token(), 99).encode(ka);
        vl2.inject(m.address, ka.flip());
        Keepalive ack = Keepalive.decode(ByteBuffer.wrap(vl2.last(m.address)));
        assertTrue(ack.ack());
        assertEquals(99, ack.sequence());
        assertEquals(m.welcome.port(), ack.port());
        clock.addAndGet(26 * SECOND);
        sw.expireIdlePorts();
        assertEquals(1, sw.ports().size(), "the keepalive kept the port alive (31 s after join, 26 s after it)");
    }

    @Test
    void aSessionFromANewAddressKeepsItsPortAndMacs() throws Exception {
        Member a = new Member(40001, 1, "02:00:00:00:00:01");
        Member b = new Member(40002, 2, "02:00:00:00:00:02");
        a.join(NET_A);
        b.join(NET_A);
        a.send(BCAST);
        SocketAddress natted = TestFrames.endpoint(41001);
        a.send(BCAST, natted);
        assertEquals(1, sw.ports().stream().filter(p -> p.remote().equals("127.0.0.1:41001")).count());
        assertEquals(2, sw.ports().size(), "no new port");
        vl2.clear();
        b.send(a.mac);
        assertNotNull(a.lastFrame(natted), "frames follow the member to its new address");
        assertNull(vl2.last(a.address));
    }

    @Test
    void aSilentMemberExpiresAfterThreeIntervalsAndItsAddressIsFreed() throws Exception {
        Member a = new Member(40001, 1, "02:00:00:00:00:01");
        a.join(NET_A);
        a.send(BCAST);
        assertEquals(1, fdb.size());
        clock.addAndGet(29 * SECOND);
        sw.expireIdlePorts();
        assertEquals(1, sw.ports().size());
        clock.addAndGet(2 * SECOND);
        sw.expireIdlePorts();
        assertTrue(sw.ports().isEmpty());
        assertEquals(0, fdb.size(), "its MACs are flushed");
        assertTrue(sw.network(NET_A).orElseThrow().leases().isEmpty(), "its lease is freed");
    }

    @Test
    void aLeaveRemovesThePortAtOnceButKeepsTheAddressForAWhile() throws Exception {
        Member a = new Member(40001, 1, "02:00:00:00:00:01");
        a.join(NET_A);
        ByteBuffer l = ByteBuffer.allocate(16);
        new Leave(a.welcome.port(), a.welcome.token()).encode(l);
        vl2.inject(a.address, l.flip());
        assertTrue(sw.ports().isEmpty());
        NetworkInfo.Lease lease = sw.network(NET_A).orElseThrow().leases().get(0);
        assertNotNull(lease.expires(), "kept, but now with an expiry");
        assertEquals("10.147.17.1", a.join(NET_A).ipv4().getHostAddress(), "a quick return gets it back");
    }

    @Test
    void aRejoinKeepsThePortAndTheAddressWithAFreshToken() throws Exception {
        Member a = new Member(40001, 1, "02:00:00:00:00:01");
        Welcome first = a.join(NET_A);
        Welcome second = a.join(NET_A);
        assertEquals(first.port(), second.port());
        assertEquals(first.ipv4(), second.ipv4());
        assertNotEquals(first.token(), second.token());
        assertEquals(1, sw.ports().size());
    }

    @Test
    void leasesSurviveASwitchRestart() throws Exception {
        new Member(40001, 1, "02:00:00:00:00:01").join(NET_A);
        Member b = new Member(40002, 2, "02:00:00:00:00:02");
        assertEquals("10.147.17.2", b.join(NET_A).ipv4().getHostAddress());
        sw.deactivate();

        sw = newSwitch();
        sw.bindNetwork(new NetworkDefinition(network(NET_A, "10.147.17.0/24", null)));
        assertEquals("10.147.17.2", b.join(NET_A).ipv4().getHostAddress(), "b re-joins first, still gets .2");
    }

    @Test
    void removingANetworkRemovesItsPorts() throws Exception {
        NetworkDefinition def = new NetworkDefinition(network(0xc3L, null, null));
        sw.bindNetwork(def);
        Member a = new Member(40001, 1, "02:00:00:00:00:01");
        assertNull(a.join(0xc3L).ipv4(), "no pool, no address");
        sw.unbindNetwork(def);
        assertTrue(sw.ports().isEmpty());
        assertEquals(ErrorCode.UNKNOWN_NETWORK, a.joinRefused(0xc3L, null).code());
    }

    @Test
    void aDuplicateNetworkIdIsIgnored() throws Exception {
        sw.bindNetwork(new NetworkDefinition(network(NET_A, "10.9.0.0/16", null)));
        assertEquals("10.147.17.0/24", sw.network(NET_A).orElseThrow().ipv4Pool().split(" ")[0]);
    }

    @Test
    void theSwitchAnswersArpForItsDhcpAddress() throws Exception {
        SocketAddress raw = TestFrames.endpoint(50000);
        sw.bindNetwork(new NetworkDefinition(network(0, "10.0.0.0/24", null))); // the default network, plaintext
        FakeTransport udp = new FakeTransport("udp0");
        sw.attach(udp, 0L); // network=0 in the raw transport's configuration
        ByteBuffer arp = ByteBuffer.allocateDirect(42);
        arp.put(new byte[] {-1, -1, -1, -1, -1, -1, 2, 0, 0, 0, 0, (byte) 0xaa, 8, 6});
        arp.put(new byte[] {0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, (byte) 0xaa, 10, 0, 0, 7, 0, 0, 0, 0, 0, 0,
                10, 0, 0, (byte) 254});
        udp.inject(raw, arp.flip());
        byte[] reply = udp.last(raw);
        assertNotNull(reply, "an ARP reply from the switch");
        assertEquals(2, reply[21], "opcode reply");
        assertArrayEquals(new byte[] {10, 0, 0, (byte) 254}, Arrays.copyOfRange(reply, 28, 32));
    }

    @Test
    void joiningAndLeavingInALoopDoesNotGrowTheSessionTable() throws Exception {
        sw.bindNetwork(new NetworkDefinition(network(0xc4L, null, null))); // no pool: leaves keep no lease to run out of
        Member keeper = new Member(40100, 0x77, "02:00:00:00:00:77");
        keeper.join(NET_A);
        for (int i = 0; i < 5_000; i++) {
            Member m = new Member(40001, 1000 + i, "02:00:00:00:10:01");
            m.join(0xc4L);
            ByteBuffer l = ByteBuffer.allocate(16);
            new Leave(m.welcome.port(), m.welcome.token()).encode(l);
            vl2.inject(m.address, l.flip());
        }
        assertEquals(1, sw.ports().size());
        assertEquals(16, sw.registry.sessionCapacity(), "the table follows the live ports, not the numbers handed out");
        keeper.send(BCAST);
        assertNotNull(sw.registry.session(keeper.welcome.port()), "the live one is still found");
    }

    @Test
    void garbageOnTheVl2PortIsCountedAndNeverThrows() {
        Random r = new Random(7);
        SocketAddress from = TestFrames.endpoint(40000);
        for (int i = 0; i < 20_000; i++) {
            byte[] junk = new byte[r.nextInt(100)];
            r.nextBytes(junk);
            if (junk.length > 1 && r.nextBoolean()) {
                junk[0] = (byte) Wire.MAGIC;
                junk[1] = (byte) (r.nextInt(4) == 0 ? 2 : Wire.VERSION);
            }
            vl2.inject(from, ByteBuffer.wrap(junk));
        }
        assertTrue(sw.statistics().malformed() + sw.statistics().badSession() > 0);
        assertTrue(sw.ports().isEmpty());
        for (List<byte[]> answers : vl2.sent.values()) {
            for (byte[] answer : answers) {
                assertTrue(answer.length <= 100, "no amplification");
            }
        }
    }

    @Test
    void encapsulatedPortsAreKeyedByRemoteAndNetwork() {
        FakeTransport vxlan = new FakeTransport("vxlan", "vxlan");
        sw.attach(vxlan);
        SocketAddress vtep = TestFrames.endpoint(4789);
        assertNotNull(sw.ingress().attachPort(vxlan, vtep, NET_A), "a static VTEP");
        assertNull(sw.ingress().attachPort(vxlan, vtep, 0xeeL), "not for a network the switch lacks");
        sw.ingress().receiveFrame(vxlan, vtep, NET_B, TestFrames.frame(BCAST, "02:00:00:00:00:0b", -1, 46));
        assertEquals(2, sw.ports().size(), "one VTEP, two networks: two ports");
        sw.ingress().receiveFrame(vxlan, vtep, 0xeeL, TestFrames.frame(BCAST, "02:00:00:00:00:0e", -1, 46));
        assertEquals(1, sw.statistics().dropUnknownNetwork());
        sw.ingress().receiveFrame(vxlan, TestFrames.endpoint(4790), NET_A, TestFrames.frame(BCAST, "02:00:00:00:00:0c", -1, 46));
        assertEquals(1, vxlan.sentTo(vtep), "a flood reaches the static VTEP before it said anything");
        clock.addAndGet(400 * SECOND);
        sw.expireIdlePorts();
        assertEquals(1, sw.ports().size(), "the static VTEP stays, learned ones expire");
        assertTrue(sw.ingress().detachPort(vxlan, vtep, NET_A));
        assertTrue(sw.ports().isEmpty());
    }
}

package org.vl2.switching.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vl2.api.PortInfo;
import org.vl2.api.test.FakeMacTable;
import org.vl2.api.test.FakeTransport;
import org.vl2.api.test.TestFrames;
import org.vl2.crypto.Handshake;
import org.vl2.crypto.Identity;
import org.vl2.crypto.Initiator;
import org.vl2.protocol.Join;
import org.vl2.crypto.Session;
import org.vl2.protocol.Welcome;
import org.vl2.protocol.Wire;

/**
 * Forged sources (docs/security.md, "Forged sources"): a raw, VXLAN or plaintext port's source address is only
 * claimed, so the switch bounds what forged ones can do: ports per source address (IPv6 /64) and per transport,
 * room reserved for encrypted members, probation for ports that never received a unicast, and so at most
 * {@code ports.per.address} copies of one flooded frame toward one address.
 */
class ForgedSourceTest {

    private static final long SECOND = 1_000_000_000L;
    private static final long PUB = 0xa1L;
    private static final String BCAST = "ff:ff:ff:ff:ff:ff";

    @TempDir
    Path stateDir;

    private final AtomicLong clock = new AtomicLong(1_000 * SECOND);
    private final Identity switchIdentity = Identity.generate();
    private final FakeTransport udp = new FakeTransport("udp");
    private final FakeTransport vl2 = new FakeTransport("vl2", "vl2");
    private SwitchCore sw;

    @AfterEach
    void stopSwitch() {
        if (sw != null) {
            sw.deactivate(); // waits for its lease writes before the state directory is deleted
        }
    }

    private SwitchCore start(SwitchConfig config) throws Exception {
        sw = new SwitchCore(new FakeMacTable(), config, clock::get, false, stateDir, switchIdentity);
        sw.bindPolicy(new LearningPolicy());
        sw.attach(udp);
        sw.attach(vl2);
        sw.bindNetwork(new NetworkDefinition(Vl2ProtocolTest.network(PUB, "10.1.0.0/24", null)));
        return sw;
    }

    private static SocketAddress at(String ip, int port) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(ip), port);
    }

    private static String mac(int n) {
        return String.format("02:00:00:%02x:%02x:%02x", n >> 16 & 0xff, n >> 8 & 0xff, n & 0xff);
    }

    /** K raw ports claiming to be {@code victim} (distinct UDP ports, distinct MACs), each announced once. */
    private void forge(FakeTransport t, String victim, int k) throws Exception {
        for (int i = 0; i < k; i++) {
            t.inject(at(victim, 10_000 + i), TestFrames.frame(BCAST, mac(0x100000 + i), -1, 46));
        }
    }

    /** Datagrams the transport sent to any port of {@code ip}. */
    private static int copiesTo(FakeTransport t, Predicate<InetAddress> ip) {
        int n = 0;
        for (Map.Entry<SocketAddress, List<byte[]>> e : t.sent.entrySet()) {
            if (e.getKey() instanceof InetSocketAddress a && ip.test(a.getAddress())) {
                n += e.getValue().size();
            }
        }
        return n;
    }

    private static Predicate<InetAddress> is(String ip) throws Exception {
        InetAddress a = InetAddress.getByName(ip);
        return a::equals;
    }

    @Test
    void kForgedPortsAtOneVictimGetAtMostTheQuotaOfCopiesOfABroadcast() throws Exception {
        start(Fakes.quotas(1024, 8, 512, 25, 30));
        forge(udp, "192.0.2.7", 100);
        assertEquals(8, sw.ports().size(), "8 ports for the victim's address, not 100");
        assertEquals(92, sw.statistics().dropPortQuota());
        assertEquals(0, sw.statistics().dropPortLimit());
        assertEquals(92, sw.statistics().drops(), "counted among the drops");

        udp.clear();
        SocketAddress attacker = at("198.51.100.1", 4000);
        udp.inject(attacker, TestFrames.frame(BCAST, mac(1), -1, 46));
        assertEquals(8, copiesTo(udp, is("192.0.2.7")), "one broadcast: at most ports.per.address copies");

        // other addresses are not affected
        SocketAddress real = at("198.51.100.2", 5000);
        udp.inject(real, TestFrames.frame(BCAST, mac(2), -1, 46));
        assertEquals(10, sw.ports().size());
    }

    @Test
    void ipv6SourcesAreGroupedBySlash64() throws Exception {
        start(Fakes.quotas(1024, 4, 512, 25, 30));
        for (int i = 1; i <= 20; i++) {
            udp.inject(at("2001:db8:1:2::" + Integer.toHexString(i), 9990), TestFrames.frame(BCAST, mac(i), -1, 46));
        }
        assertEquals(4, sw.ports().size(), "one /64 holds at most ports.per.address ports, whatever its hosts");
        udp.inject(at("2001:db8:1:3::1", 9990), TestFrames.frame(BCAST, mac(99), -1, 46));
        assertEquals(5, sw.ports().size(), "the next /64 is another address");
    }

    @Test
    void eachTransportHoldsAtMostItsQuota() throws Exception {
        start(Fakes.quotas(1024, 0, 6, 0, 30));
        FakeTransport other = new FakeTransport("udp2");
        sw.attach(other);
        for (int i = 1; i <= 50; i++) {
            udp.inject(at("203.0.113." + i, 9990), TestFrames.frame(BCAST, mac(i), -1, 46));
        }
        assertEquals(6, sw.ports().size());
        assertEquals(44, sw.statistics().dropPortQuota());
        other.inject(at("203.0.113.200", 4789), TestFrames.frame(BCAST, mac(200), -1, 46));
        assertEquals(7, sw.ports().size(), "a flood on one listener leaves the others their room");
    }

    @Test
    void aFloodOfUnauthenticatedPortsNeverBlocksAnEncryptedMember() throws Exception {
        int maxPorts = 1024;
        start(Fakes.quotas(maxPorts, 8, 512, 25, 30)); // the defaults
        FakeTransport second = new FakeTransport("udp2");
        sw.attach(second);
        // the attacker tries for every port of the switch and more, on two listeners, from as many (forged)
        // addresses, so that neither ports.per.address nor ports.per.transport alone stops it
        int attempts = 2 * maxPorts;
        for (int i = 0; i < attempts; i++) {
            (i % 2 == 0 ? udp : second).inject(at("10." + (i >> 16) + "." + (i >> 8 & 0xff) + "." + (i & 0xff), 9990),
                    TestFrames.frame(BCAST, mac(i), -1, 46));
        }
        assertEquals(768, sw.ports().size(), "75 % of max.ports for unauthenticated ports");
        assertEquals(attempts - 768, sw.statistics().dropPortQuota());
        assertEquals(0, sw.statistics().dropPortLimit());

        int members = 0;
        for (int i = 0; i < 10; i++) {
            // the room beside the reserve is full: like an agent, a member answers the COOKIE-REPLY it gets
            Member m = agent(Identity.generate(), at("192.0.2.50", 40000 + i));
            assertNotNull(m, "members still join");
            confirm(m);
            members++;
        }
        assertEquals(768 + members, sw.ports().size());
        assertEquals(members, sw.registry.all().stream().filter(SwitchPort::authenticated).count());
        assertEquals(768, sw.registry.unauthenticated());
        System.out.printf("port-table exhaustion: %d forged endpoints (max.ports=%d) took %d ports and were refused "
                + "%d times; %d encrypted members joined after them%n", attempts, maxPorts, sw.registry.unauthenticated(),
                sw.statistics().dropPortQuota(), members);
    }

    @Test
    void encryptedMembersCountForTheirAddressOnlyUntilTheirFirstMessageOpens() throws Exception {
        start(Fakes.quotas(8, 2, 1, 50, 30));
        SocketAddress nat = at("192.0.2.60", 40000);
        Member first = member(Identity.generate(), nat);
        Member second = member(Identity.generate(), at("192.0.2.60", 40001));
        assertNotNull(first);
        assertNotNull(second);
        assertNull(encryptedJoin(Identity.generate(), at("192.0.2.60", 40002)),
                "a third unconfirmed member at one address: its initiation proved a key, not the address");
        assertEquals(1, sw.statistics().dropPortQuota());
        confirm(first);
        confirm(second);
        assertEquals(0, sw.registry.unauthenticatedAt(nat), "their first sealed message proved the address");
        for (int i = 2; i < 8; i++) {
            Member m = member(Identity.generate(), at("192.0.2.60", 40000 + i));
            assertNotNull(m, "members behind one NAT address: bound by max.ports only, once they talk");
            confirm(m);
        }
        assertEquals(8, sw.ports().size());
        assertNull(encryptedJoin(Identity.generate(), at("192.0.2.61", 40000)), "max.ports");
        assertEquals(1, sw.statistics().dropPortLimit());
        udp.inject(at("192.0.2.62", 9990), TestFrames.frame(BCAST, mac(1), -1, 46));
        assertEquals(8, sw.ports().size());
    }

    @Test
    void forgedEncryptedJoinsAtAVictimGetAtMostTheQuotaOfCopies() throws Exception {
        start(Fakes.quotas(1024, 8, 512, 25, 30));
        String victim = "192.0.2.7";
        int joined = 0;
        for (int i = 0; i < 50; i++) { // below the handshake gate's load threshold: no cookie asked
            if (encryptedJoin(Identity.generate(), at(victim, 20_000 + i)) != null) {
                joined++;
            }
        }
        assertEquals(8, joined, "fresh keys, forged source: they never send a message that opens");
        forge(udp, victim, 10);
        assertEquals(8, sw.ports().size(), "and raw ports share the address's quota");

        Member real = member(Identity.generate(), at("198.51.100.9", 40000));
        confirm(real);
        vl2.clear();
        udp.clear();
        send(real, Wire.FRAME, TestFrames.frame(BCAST, mac(77), -1, 46));
        assertEquals(8, copiesTo(vl2, is(victim)) + copiesTo(udp, is(victim)),
                "one broadcast: at most ports.per.address copies toward the victim");
    }

    @Test
    void spoofedInitiationsFromManyAddressesNeverTakeTheReserve() throws Exception {
        start(Fakes.quotas(16, 8, 512, 25, 30)); // 12 ports beside the reserve of 4
        int joined = 0;
        for (int i = 1; i <= 40; i++) { // one per address, slower than the handshake gate's load threshold
            if (encryptedJoin(Identity.generate(), at("203.0.113." + i, 20_000)) != null) {
                joined++;
            }
        }
        assertEquals(12, joined, "unconfirmed members fill the room beside the reserve, then cookies are asked");
        assertEquals(12, sw.registry.unconfirmed());
        assertTrue(sw.registry.addressProofRequired());

        // an agent whose address receives: a COOKIE-REPLY first, then with the cookie its handshake, in the reserve
        SocketAddress home = at("198.51.100.20", 40000);
        assertEquals(12, sw.statistics().handshakes(), "a handshake counts when its RESPONSE goes out");
        long cookies = sw.statistics().cookieReplies();
        assertTrue(cookies >= 28, "the 28 refused got a COOKIE-REPLY each: " + cookies);
        assertNull(member(Identity.generate(), home), "without a cookie: a COOKIE-REPLY, no state");
        assertEquals(Handshake.COOKIE_REPLY, vl2.last(home)[2]);
        assertEquals(cookies + 1, sw.statistics().cookieReplies());
        assertEquals(12, sw.statistics().handshakes());
        assertEquals(12, sw.ports().size());
        confirm(agent(Identity.generate(), home));
        assertEquals(13, sw.ports().size());
        assertEquals(13, sw.statistics().handshakes());
        assertEquals(12, sw.registry.unconfirmed());
    }

    @Test
    void underPressureAPortThatNeverReceivedAUnicastExpiresAfterTheProbationTimeout() throws Exception {
        start(Fakes.quotas(1024, 1, 512, 25, 30)); // one port per address: every address is at its quota
        SocketAddress forged = at("192.0.2.7", 10_000);
        SocketAddress real = at("198.51.100.5", 9990);
        SocketAddress peer = at("198.51.100.6", 9990);
        udp.inject(forged, TestFrames.frame(BCAST, mac(1), -1, 46));
        udp.inject(real, TestFrames.frame(BCAST, mac(2), -1, 46));
        udp.inject(peer, TestFrames.frame(BCAST, mac(3), -1, 46));
        udp.inject(peer, TestFrames.frame(mac(2), mac(3), -1, 46)); // a station answers the real port: it receives
        udp.inject(real, TestFrames.frame(mac(3), mac(2), -1, 46)); // and the peer

        clock.addAndGet(29 * SECOND);
        sw.expireIdlePorts();
        assertEquals(3, sw.ports().size(), "within the probation timeout");
        clock.addAndGet(2 * SECOND);
        sw.expireIdlePorts();
        List<PortInfo> ports = sw.ports();
        assertEquals(2, ports.size(), "the port that only ever sent is gone after 30 s silent: " + ports);
        assertFalse(ports.stream().anyMatch(p -> p.remote().startsWith("192.0.2.7")));
        assertEquals(0, sw.registry.unauthenticatedAt(forged), "and its quota is free again");

        clock.addAndGet(250 * SECOND);
        sw.expireIdlePorts();
        assertEquals(2, sw.ports().size(), "ports that received keep the idle timeout (300 s)");
        clock.addAndGet(20 * SECOND);
        sw.expireIdlePorts();
        assertTrue(sw.ports().isEmpty());
        assertEquals(0, sw.registry.unauthenticated());
    }

    @Test
    void aShorterIdleTimeoutStillWinsAndProbationZeroIsOff() throws Exception {
        start(Fakes.config("learning", 1522, 10, 1024, 1000, true, 1, 512, 25, 30));
        udp.inject(at("192.0.2.7", 1), TestFrames.frame(BCAST, mac(1), -1, 46));
        clock.addAndGet(11 * SECOND);
        sw.expireIdlePorts();
        assertTrue(sw.ports().isEmpty(), "min(idle, probation)");

        start(Fakes.config("learning", 1522, 300, 1024, 1000, true, 1, 512, 25, 0));
        udp.inject(at("192.0.2.7", 1), TestFrames.frame(BCAST, mac(1), -1, 46));
        clock.addAndGet(299 * SECOND);
        sw.expireIdlePorts();
        assertEquals(1, sw.ports().size(), "no probation: the idle timeout only");
    }

    @Test
    void withoutPressureAQuietSeedVPortKeepsTheIdleTimeout() throws Exception {
        start(Fakes.quotas(1024, 8, 4, 25, 30));
        udp.inject(at("192.0.2.20", 40000), TestFrames.frame(BCAST, mac(1), -1, 46)); // announces itself, then waits
        udp.inject(at("192.0.2.21", 40000), TestFrames.frame(BCAST, mac(2), -1, 46));
        clock.addAndGet(31 * SECOND);
        sw.expireIdlePorts();
        assertEquals(2, sw.ports().size(), "2 of ports.per.transport=4: no pressure, no probation");

        udp.inject(at("192.0.2.22", 40000), TestFrames.frame(BCAST, mac(3), -1, 46)); // 3 of 4: pressure
        clock.addAndGet(SECOND);
        sw.expireIdlePorts();
        assertEquals(2, sw.ports().size(), "one quiet port gave its room back, which ended the pressure");
        assertTrue(sw.ports().stream().anyMatch(p -> p.remote().startsWith("192.0.2.22")));
        clock.addAndGet(30 * SECOND);
        sw.expireIdlePorts();
        assertEquals(2, sw.ports().size(), "2 of 4: no pressure, the idle timeout applies");
    }

    @Test
    void aStaticVtepIsNotBoundByTheQuotas() throws Exception {
        start(Fakes.quotas(1024, 1, 512, 25, 30));
        SocketAddress vtep = at("192.0.2.9", 4789);
        udp.inject(at("192.0.2.9", 1), TestFrames.frame(BCAST, mac(1), -1, 46)); // fills the address's quota
        assertEquals(1, sw.registry.unauthenticatedAt(vtep));
        assertNotNull(sw.ingress().attachPort(udp, vtep, PUB), "configured by the operator: not refused"); // PUB: plaintext
        assertEquals(2, sw.ports().size());
        assertEquals(1, sw.registry.unauthenticatedAt(vtep), "nor counted");
        clock.addAndGet(1_000 * SECOND);
        sw.expireIdlePorts();
        assertEquals(1, sw.ports().size(), "and it never expires");
    }

    /** A raw transport listening where a real one would (the fakes say "test"). */
    private static FakeTransport listeningOn(String name, String local) {
        return new FakeTransport(name) {
            @Override
            public String localAddress() {
                return local;
            }
        };
    }

    @Test
    void theSwitchsOwnListenersAreNeverLearnedAsPorts() throws Exception {
        start(Fakes.quotas(1024, 0, 0, 0, 30));
        FakeTransport raw1 = listeningOn("raw1", "0.0.0.0:9990");
        FakeTransport raw2 = listeningOn("raw2", "127.0.0.1:9991");
        sw.attach(raw1);
        sw.attach(raw2);
        // the loop: a port on raw1 for raw2's listener and one on raw2 for raw1's; each flood would come back
        raw1.inject(at("127.0.0.1", 9991), TestFrames.frame(BCAST, mac(1), -1, 46));
        raw2.inject(at("127.0.0.1", 9990), TestFrames.frame(BCAST, mac(2), -1, 46));
        raw2.inject(at("0.0.0.0", 9990), TestFrames.frame(BCAST, mac(3), -1, 46));
        assertTrue(sw.ports().isEmpty(), "no port for the switch's own listeners: " + sw.ports());
        assertEquals(3, sw.statistics().dropPortQuota());

        raw1.inject(at("127.0.0.1", 40000), TestFrames.frame(BCAST, mac(4), -1, 46)); // a VPort on this host
        raw1.inject(at("192.0.2.1", 9991), TestFrames.frame(BCAST, mac(5), -1, 46)); // another host's port 9991
        assertEquals(2, sw.ports().size());
        assertEquals(-1, PortQuotas.listenerPort("test"));
        assertEquals(4789, PortQuotas.listenerPort("[::]:4789"));
        assertEquals(-1, PortQuotas.listenerPort("[::1]"));
    }

    /**
     * The measurement for docs/security.md (printed, not timed): the worst case a forged-source flood reaches,
     * with the default quotas and without them. The attacker forges as many ports at the victim's address as the
     * switch takes (on two transports), then sends broadcasts from one port of its own: the factor is datagrams
     * (and bytes) toward the victim per datagram the attacker sends.
     */
    @Test
    void worstCaseAmplificationFactor() throws Exception {
        double bounded = amplification(Fakes.quotas(1024, 8, 512, 25, 30), 1000);
        assertEquals(8.0, bounded, 0.0, "at most ports.per.address copies per frame");
        double unbounded = amplification(Fakes.quotas(1024, 0, 0, 0, 0), 1000);
        assertEquals(1000.0, unbounded, 0.0, "without quotas: one copy per forged port");
        System.out.printf("forged-source amplification: %.1f datagrams (and bytes) toward one address per "
                + "datagram sent with the default quotas (ports.per.address=8); %.1f without quotas (1000 forged "
                + "ports)%n", bounded, unbounded);
    }

    private double amplification(SwitchConfig config, int forged) throws Exception {
        FakeTransport second = new FakeTransport("udp2");
        start(config);
        sw.attach(second);
        forge(udp, "192.0.2.7", forged / 2);
        forge(second, "192.0.2.7", forged - forged / 2);
        udp.clear();
        second.clear();
        SocketAddress attacker = at("198.51.100.1", 4000);
        int sent = 100; // within storm control's burst (1000 floods/s)
        long bytes = 0;
        for (int i = 0; i < sent; i++) {
            ByteBuffer f = TestFrames.frame(BCAST, mac(1), -1, 46);
            bytes += f.remaining();
            udp.inject(attacker, f);
        }
        int copies = copiesTo(udp, is("192.0.2.7")) + copiesTo(second, is("192.0.2.7"));
        long copyBytes = 0;
        for (FakeTransport t : List.of(udp, second)) {
            for (Map.Entry<SocketAddress, List<byte[]>> e : t.sent.entrySet()) {
                if (((InetSocketAddress) e.getKey()).getAddress().equals(InetAddress.getByName("192.0.2.7"))) {
                    for (byte[] d : e.getValue()) {
                        copyBytes += d.length;
                    }
                }
            }
        }
        assertEquals((double) copies / sent, (double) copyBytes / bytes, 0.0, "raw copies are as long as the frame");
        return (double) copies / sent;
    }

    @Test
    void quotaSettingsAreValidated() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Settings.from(Fakes.quotas(1024, -1, 512, 25, 30)));
        assertTrue(e.getMessage().contains("ports.per.address=-1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Settings.from(Fakes.quotas(1024, 8, 512, 101, 30)));
        assertTrue(e.getMessage().contains("ports.reserved.percent=101"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Settings.from(Fakes.quotas(1024, 8, 70000, 25, 30)));
        assertTrue(e.getMessage().contains("ports.per.transport=70000"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Settings.from(Fakes.quotas(1024, 8, 512, 25, -1)));
        assertTrue(e.getMessage().contains("port.probation.seconds=-1"), e.getMessage());
        assertEquals(768, Settings.from(Fakes.quotas(1024, 8, 512, 25, 30)).quotas().unauthenticatedRoom(1024));
        assertEquals(0, Settings.from(Fakes.quotas(1024, 8, 512, 100, 30)).quotas().unauthenticatedRoom(1024));
    }

    /** An encrypted member as the switch sees it: its WELCOME and session. */
    private record Member(Welcome welcome, Session session, SocketAddress from) {
    }

    /** The encrypted handshake of a new member from {@code from}; its WELCOME, or null if refused. */
    private Welcome encryptedJoin(Identity member, SocketAddress from) throws Exception {
        Member m = member(member, from);
        return m == null ? null : m.welcome;
    }

    private Member member(Identity member, SocketAddress from) throws Exception {
        ByteBuffer join = ByteBuffer.allocate(64);
        new Join(PUB, member.memberId(), 99, 1518, 0, null, "agent").encode(join);
        Initiator i = Initiator.create(member, switchIdentity.publicKey(), 0x1000, join.array(), null);
        vl2.clear();
        vl2.inject(from, ByteBuffer.wrap(i.initiation()));
        byte[] answer = vl2.last(from);
        if (answer == null || answer[2] != 9) {
            return null;
        }
        Initiator.Completion c = i.consume(ByteBuffer.wrap(answer));
        return new Member(Welcome.decode(ByteBuffer.wrap(c.payload())), c.session(), from);
    }

    /** Like an agent: the handshake, once more with the cookie if the switch answered a COOKIE-REPLY; or null. */
    private Member agent(Identity member, SocketAddress from) throws Exception {
        ByteBuffer join = ByteBuffer.allocate(64);
        new Join(PUB, member.memberId(), 99, 1518, 0, null, "agent").encode(join);
        byte[] cookie = null;
        for (int attempt = 0; attempt < 2; attempt++) {
            Initiator i = Initiator.create(member, switchIdentity.publicKey(), 0x3000 + attempt, join.array(), cookie);
            vl2.clear();
            vl2.inject(from, ByteBuffer.wrap(i.initiation()));
            byte[] answer = vl2.last(from);
            if (answer != null && answer[2] == Handshake.COOKIE_REPLY && cookie == null) {
                cookie = i.consumeCookieReply(ByteBuffer.wrap(answer));
                continue;
            }
            if (answer == null || answer[2] != 9) {
                return null;
            }
            Initiator.Completion c = i.consume(ByteBuffer.wrap(answer));
            return new Member(Welcome.decode(ByteBuffer.wrap(c.payload())), c.session(), from);
        }
        return null;
    }

    /** The member's first sealed message (a KEEPALIVE): it holds the keys, so its address receives. */
    private void confirm(Member m) throws Exception {
        send(m, Wire.KEEPALIVE, ByteBuffer.allocate(8));
    }

    /** A sealed message of the member: header, body sealed in place, tag. */
    private void send(Member m, int type, ByteBuffer body) throws Exception {
        int n = body.remaining();
        ByteBuffer b = ByteBuffer.allocate(16 + n + 16);
        b.put(0, (byte) Wire.MAGIC).put(1, (byte) Wire.VERSION).put(2, (byte) type).put(3, (byte) Wire.FLAG_SEALED)
                .putInt(4, m.session.remoteIndex()).put(16, body, body.position(), n);
        m.session.seal(b, 0, 16, n, System.nanoTime());
        vl2.inject(m.from, b);
    }
}

package org.vl2.switching.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.vl2.api.SwitchStatistics;
import org.vl2.api.test.FakeMacTable;
import org.vl2.api.test.FakeTransport;
import org.vl2.api.test.TestFrames;
import org.vl2.crypto.CipherSuite;
import org.vl2.crypto.Identity;
import org.vl2.crypto.Initiator;
import org.vl2.crypto.Session;
import org.vl2.ipam.Ipv4Pool;
import org.vl2.protocol.Join;
import org.vl2.protocol.Pair;
import org.vl2.protocol.Wire;
import org.vl2.switching.internal.vl2.HandshakeWorker;

/**
 * A switch with one learning network and encrypted members as their agents would be, for the tests of pair keys
 * ({@link PairsTest}) and direct paths ({@link DirectPathsTest}): members join, send frames, read and acknowledge the
 * PAIRs the switch sends them.
 */
abstract class PairsFixture {

    static final long NET = 0x2bL;
    static final long SECOND = 1_000_000_000L;

    @TempDir
    Path stateDir;

    final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    final Identity switchIdentity = Identity.generate();
    FakeTransport vl2;
    FakeMacTable fdb;
    SwitchCore sw;

    void start(boolean pairs, boolean ipGuard) {
        start(Fakes.pairs(pairs), ipGuard);
    }

    /** The switch with {@code config}, the UDP transport {@link #vl2} attached, network {@link #NET}. */
    void start(SwitchConfig config, boolean ipGuard) {
        vl2 = new FakeTransport("vl2", "vl2");
        fdb = new FakeMacTable();
        sw = new SwitchCore(fdb, config, clock::get, false, stateDir, switchIdentity,
                new HandshakeWorker(HandshakeWorker.Mode.INLINE));
        sw.bindPolicy(new LearningPolicy());
        sw.attach(vl2);
        Ipv4Pool pool = Ipv4Pool.parse("10.1.0.0/24", null);
        sw.bindNetwork(new NetworkDefinition(new NetworkSettings(NET, "lab", 1400, null, pool, null, false,
                Duration.ofHours(1), null, List.of(), false, java.util.Set.of(),
                new HygieneSettings(HygieneSettings.DEFAULTS.dhcpRate(), ipGuard), false)));
    }

    @AfterEach
    void stopSwitch() {
        if (sw != null) {
            sw.deactivate();
        }
    }

    /** An encrypted member: its own identity, address and station, reached through {@link #transport}. */
    final class Member {
        final Identity identity = Identity.generate();
        final FakeTransport transport;
        final long mac;
        SocketAddress address;
        Session session;
        int seen;

        Member(int port, long mac) {
            this(port, mac, vl2);
        }

        Member(int port, long mac, FakeTransport transport) {
            this.address = TestFrames.endpoint(port);
            this.mac = mac;
            this.transport = transport;
        }

        Member join(int capabilities) throws Exception {
            ByteBuffer join = ByteBuffer.allocate(64);
            new Join(NET, identity.memberId(), 99, 1518, capabilities, null, "m").encode(join);
            Initiator i = Initiator.create(identity, switchIdentity.publicKey(), 0x1000 + address.hashCode() % 1000,
                    join.array(), null);
            transport.inject(address, ByteBuffer.wrap(i.initiation()));
            session = i.consume(ByteBuffer.wrap(transport.last(address))).session();
            transport.inject(address, ByteBuffer.wrap(seal(Wire.KEEPALIVE, new byte[8]))); // confirms the session
            seen = transport.sentTo(address);
            return this;
        }

        /** A NAT rebinding: the member's next session message comes from {@code port}, and moves its port there. */
        void moveTo(int port) throws Exception {
            address = TestFrames.endpoint(port);
            seen = 0;
            transport.inject(address, ByteBuffer.wrap(seal(Wire.KEEPALIVE, new byte[8])));
        }

        byte[] seal(int type, byte[] body) throws Exception {
            return PairsFixture.seal(session, session.remoteIndex(), type, body);
        }

        /** A frame from this member's station to {@code dst}, through its session. */
        void send(long dst) throws Exception {
            transport.inject(address, ByteBuffer.wrap(seal(Wire.FRAME, frame(dst, mac, 1))));
        }

        /** What the switch sent this member since the last call, in order. */
        List<byte[]> received() {
            List<byte[]> all = transport.sent.getOrDefault(address, List.of());
            List<byte[]> news = new ArrayList<>(all.subList(seen, all.size()));
            seen = all.size();
            return news;
        }

        /** The PAIRs among {@code datagrams}, opened with this member's session. */
        List<Pair> pairs(List<byte[]> datagrams) throws Exception {
            List<Pair> found = new ArrayList<>();
            for (byte[] d : datagrams) {
                if (d[2] == Wire.PAIR) {
                    assertEquals(Wire.FLAG_SEALED, d[3], "pairs travel sealed only");
                    ByteBuffer b = ByteBuffer.wrap(d.clone());
                    int n = session.open(b, 0, 16, d.length - 16, System.nanoTime());
                    found.add(Pair.decode(b, 16, n));
                }
            }
            return found;
        }

        /** The one PAIR the switch sent since the last look. */
        Pair pair() throws Exception {
            List<Pair> p = pairs(received());
            assertEquals(1, p.size(), "one PAIR: " + p);
            return p.get(0);
        }

        void ack(Pair p, int status) throws Exception {
            ack(p.index(), p.role(), status);
        }

        /** A PAIR-ACK for pair {@code index} with this role and status, whatever this member holds. */
        void ack(int index, int role, int status) throws Exception {
            byte[] body = new byte[Pair.ACK_LENGTH];
            Pair.encodeAck(ByteBuffer.wrap(body), 0, NET, index, role, status);
            transport.inject(address, ByteBuffer.wrap(seal(Wire.PAIR_ACK, body)));
        }
    }

    static byte[] seal(Session s, int index, int type, byte[] body) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(16 + body.length + 16);
        b.put(0, (byte) Wire.MAGIC).put(1, (byte) Wire.VERSION).put(2, (byte) type).put(3, (byte) Wire.FLAG_SEALED)
                .putInt(4, index).put(16, body);
        s.seal(b, 0, 16, body.length, System.nanoTime());
        return b.array();
    }

    static byte[] frame(long dst, long src, int n) {
        ByteBuffer f = ByteBuffer.allocate(60);
        f.putShort((short) (dst >>> 32)).putInt((int) dst).putShort((short) (src >>> 32)).putInt((int) src)
                .putShort((short) 0x0800).putInt(n);
        return f.array();
    }

    SwitchStatistics stats() {
        return sw.statistics();
    }

    /** A and B joined with pair keys, B's station known; A's first frame to B has keyed the flow (RECEIVE to B). */
    Member[] keyedFlow(int capsA, int capsB) throws Exception {
        return keyedFlow(new Member(5001, 0x02000000000aL).join(capsA), new Member(5002, 0x02000000000bL).join(capsB));
    }

    /** {@link #keyedFlow(int, int)} with members that joined already. */
    Member[] keyedFlow(Member a, Member b) throws Exception {
        b.send(a.mac); // unknown: flooded to A; the switch learns B's station
        a.received();
        a.send(b.mac); // known unicast from A to B
        return new Member[] {a, b};
    }

    /** A keyed flow both ends took: A, B, the PAIRs each got, and a sealer as A's agent holds it. */
    record Keyed(Member a, Member b, Pair receive, Pair send, Session sealer) {

        /** A frame of the flow as A's agent sends it on the pair. */
        ByteBuffer frame(int n) throws Exception {
            return ByteBuffer.wrap(seal(sealer, send.index(), Wire.FRAME, PairsFixture.frame(b.mac, a.mac, n)));
        }
    }

    /** {@link #keyedFlow}, both ends acknowledging: the pair is in use. */
    Keyed activePair() throws Exception {
        return activePair(Join.CAP_PAIRS, Join.CAP_PAIRS);
    }

    /** {@link #activePair()} with members that joined with these capabilities. */
    Keyed activePair(int capsA, int capsB) throws Exception {
        return active(keyedFlow(capsA, capsB));
    }

    /** Flow {@code m} (its RECEIVE sent), both ends acknowledging. */
    Keyed active(Member[] m) throws Exception {
        Pair receive = m[1].pair();
        m[1].ack(receive, Pair.TAKEN);
        Pair send = m[0].pair();
        m[0].ack(send, Pair.TAKEN);
        return new Keyed(m[0], m[1], receive, send, Session.pair(CipherSuite.ofWireId(send.suite()), send.index(),
                send.key(), Duration.ofSeconds(120), System.nanoTime()));
    }
}

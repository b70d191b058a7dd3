package org.vl2.switching.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vl2.api.test.FakeTransport;
import org.vl2.api.test.TestFrames;
import org.vl2.crypto.Handshake;
import org.vl2.crypto.Identity;
import org.vl2.crypto.Initiator;
import org.vl2.crypto.Session;
import org.vl2.protocol.Join;
import org.vl2.protocol.Wire;
import org.vl2.switching.internal.vl2.HandshakeWorker;

/**
 * Handshakes run on the handshake thread, not on the receive thread that forwards the members' frames: the switch
 * here holds a MANUAL worker, so what waits for it is visible and nothing depends on timing.
 */
class HandshakeThreadTest {

    private static final long NET = 0xa1L;
    private static final String BCAST = "ff:ff:ff:ff:ff:ff";

    @TempDir
    Path stateDir;

    private final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    private final Identity switchIdentity = Identity.generate();
    /** The handshake thread's clock: still, so nothing queued here waits too long (HandshakeWorkerTest moves it). */
    private final HandshakeWorker worker = new HandshakeWorker(HandshakeWorker.Mode.MANUAL, () -> 0L);
    private FakeTransport vl2;
    private SwitchCore sw;

    @BeforeEach
    void setUp() throws Exception {
        vl2 = new FakeTransport("vl2", "vl2");
        sw = Fakes.vl2Switch(vl2, 4096, clock::get, stateDir, switchIdentity, worker);
        sw.bindNetwork(new NetworkDefinition(Vl2ProtocolTest.network(NET, "10.1.0.0/20", null)
                .withPlaintext(false)));
    }

    @AfterEach
    void stopSwitch() {
        sw.deactivate();
    }

    /** An encrypted member: its initiation, and once answered its session. */
    private final class Member {
        final SocketAddress address;
        final String mac;
        Initiator initiator;
        Session session;

        Member(SocketAddress address, String mac) {
            this.address = address;
            this.mac = mac;
        }

        void initiate(byte[] cookie) throws Exception {
            Identity id = Identity.generate();
            ByteBuffer join = ByteBuffer.allocate(64);
            new Join(NET, id.memberId(), 7, 1518, 0, null, "m").encode(join);
            initiator = Initiator.create(id, switchIdentity.publicKey(), 0x100, join.array(), cookie);
            vl2.inject(address, ByteBuffer.wrap(initiator.initiation()));
        }

        /** Takes the switch's RESPONSE; false if the last answer is none or something else. */
        boolean answered() throws Exception {
            byte[] answer = vl2.last(address);
            if (answer == null || answer[2] != Handshake.RESPONSE) {
                return false;
            }
            session = initiator.consume(ByteBuffer.wrap(answer)).session();
            return true;
        }

        void send(String dst) throws Exception {
            ByteBuffer f = TestFrames.frame(dst, mac, -1, 46);
            byte[] frame = new byte[f.remaining()];
            f.get(frame);
            ByteBuffer b = ByteBuffer.allocate(16 + frame.length + 16);
            b.put(0, (byte) Wire.MAGIC).put(1, (byte) Wire.VERSION).put(2, (byte) Wire.FRAME)
                    .put(3, (byte) Wire.FLAG_SEALED).putInt(4, session.remoteIndex()).put(16, frame);
            session.seal(b, 0, 16, frame.length, System.nanoTime());
            vl2.inject(address, b);
        }
    }

    private Member joined(int i) throws Exception {
        Member m = new Member(TestFrames.endpoint(41000 + i), String.format("02:00:00:00:01:%02x", i));
        m.initiate(null);
        assertEquals(1, worker.runQueued());
        assertTrue(m.answered(), "member " + i + " answered by the handshake thread");
        return m;
    }

    private static SocketAddress source(int i) {
        return new InetSocketAddress("10.9." + (i >> 8) + "." + (i & 0xff), 40000);
    }

    @Test
    void framesAreForwardedWhileHandshakesWaitForTheHandshakeThread() throws Exception {
        Member alice = joined(1);
        Member bob = joined(2);
        alice.send(BCAST); // each member's first message confirms its session
        bob.send(BCAST);

        List<Member> storm = new ArrayList<>();
        for (int i = 0; i < 50; i++) { // below the load threshold: no cookies asked
            Member m = new Member(source(i), "02:00:00:00:02:01");
            m.initiate(null);
            storm.add(m);
        }
        assertEquals(50, worker.queued(), "the receive thread only queued the handshakes");
        for (Member m : storm) {
            assertNull(vl2.last(m.address), "no Diffie-Hellman on the receive thread");
        }

        int before = vl2.sentTo(bob.address);
        alice.send("02:00:00:00:01:02");
        assertEquals(before + 1, vl2.sentTo(bob.address), "alice's frame reached bob with 50 handshakes waiting");
        assertEquals(Wire.FRAME, vl2.last(bob.address)[2]);

        assertEquals(50, worker.runQueued());
        for (Member m : storm) {
            assertTrue(m.answered(), "each queued initiation answered by the handshake thread");
        }
        assertEquals(52, sw.statistics().handshakes());

        // the lane of a rekey: members that proved their keys, by their address; not a newcomer's, not a removed port
        assertTrue(sw.registry.establishedAt(alice.address));
        assertFalse(sw.registry.establishedAt(storm.get(0).address), "answered, but no message opened yet");
        SwitchPort a = sw.registry.sealedSession(alice.session.remoteIndex());
        sw.registry.remove(a, "test", false);
        assertFalse(sw.registry.establishedAt(alice.address));
    }

    @Test
    void aBackloggedWorkerAsksForCookiesAndAFullQueueDropsAndCountsInitiations() throws Exception {
        int members = HandshakeWorker.CAPACITY + 10;
        int cookieReplies = 0;
        for (int i = 0; i < members; i++) {
            clock.addAndGet(10_000_000L); // 100 members a second: below the handshake budget
            Member m = new Member(source(i), "02:00:00:00:03:01");
            int queued = worker.queued();
            m.initiate(null);
            if (worker.queued() > queued) {
                continue; // queued without a cookie
            }
            byte[] reply = vl2.last(m.address);
            assertNotNull(reply, "initiation " + i + ": neither queued nor answered");
            assertEquals(Handshake.COOKIE_REPLY, reply[2]);
            assertTrue(worker.queued() > HandshakeWorker.CAPACITY / 2 || cookieReplies > 0
                    || sw.statistics().handshakesThrottled() > 0, "cookies only once the worker is behind");
            cookieReplies++;
            m.initiate(m.initiator.consumeCookieReply(ByteBuffer.wrap(reply))); // proves its address: queued if room
        }
        assertTrue(cookieReplies > 0, "a backlog asks for cookies");
        assertEquals(HandshakeWorker.CAPACITY, worker.queued());
        assertEquals(10, sw.statistics().handshakesThrottled(), "what found the queue full, counted");
        assertEquals(HandshakeWorker.CAPACITY, worker.runQueued());
        assertEquals(HandshakeWorker.CAPACITY, sw.statistics().handshakes());
    }
}

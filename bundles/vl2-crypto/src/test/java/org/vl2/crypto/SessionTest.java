package org.vl2.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.crypto.HandshakeTest.assertReason;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vl2.crypto.CryptoException.Reason;

/** Sealing, opening, the window and the limits, with ChaCha20-Poly1305; {@link AesGcmSessionTest}: the same with AES. */
class SessionTest {

    private Session agent;
    private Session sw;
    private long now;

    /** The suite the sessions of every test use. */
    CipherSuite suite() {
        return CipherSuite.CHACHA20_POLY1305;
    }

    @BeforeEach
    void handshake() throws CryptoException {
        Fixtures.Pair p = Fixtures.handshake(Session.Limits.DEFAULT, suite());
        assertEquals(suite(), p.agent().cipher());
        agent = p.agent();
        sw = p.sw();
        now = System.nanoTime();
    }

    @Test
    void sealWritesCounterAndTagAndOpenRestoresThePayload() throws CryptoException {
        for (int len : new int[] {0, 1, 63, 64, 1400, 9000}) {
            for (ByteBuffer buf : new ByteBuffer[] {ByteBuffer.allocate(10000), ByteBuffer.allocateDirect(10000),
                    ByteBuffer.allocate(10000).order(ByteOrder.LITTLE_ENDIAN)}) {
                byte[] payload = random(len, len);
                Fixtures.frame(buf, 1, payload);
                long counter = agent.sent();
                int sealed = agent.seal(buf, 0, 16, len, now);
                assertEquals(16 + len + 16, sealed);
                assertEquals(counter, new java.math.BigInteger(1, bytes(buf, 8, 8)).longValueExact(),
                        "counter at 8, big-endian whatever the buffer's order");
                assertArrayEquals(new byte[] {0x56, 1, 3, 1, 0, 0, 0, 1}, bytes(buf, 0, 8), "the rest untouched");
                assertEquals(len, sw.open(buf, 0, 16, sealed - 16, now));
                assertArrayEquals(payload, bytes(buf, 16, len));
            }
        }
    }

    /**
     * A switch thread relays between two members: it opens what one sent and seals it for the other, both ways.
     * Each session keeps its own Cipher or AES-GCM engine on the thread (whose key schedule then stays), where one
     * per direction would change keys at every frame.
     */
    @Test
    void aRelayingThreadKeepsEachSessionsCipher() throws CryptoException {
        Fixtures.Pair a = Fixtures.handshake(Session.Limits.DEFAULT, suite(), 0x1111, 0x2221);
        Fixtures.Pair b = Fixtures.handshake(Session.Limits.DEFAULT, suite(), 0x1112, 0x2222);
        Object aOpen = a.sw().perThread(true);
        Object aSeal = a.sw().perThread(false);
        Object bOpen = b.sw().perThread(true);
        Object bSeal = b.sw().perThread(false);
        assertTrue(aOpen != bOpen && aSeal != bSeal && aOpen != aSeal, "one per session and direction");
        ByteBuffer buf = ByteBuffer.allocateDirect(2000);
        for (int round = 0; round < 20; round++) {
            relay(buf, a, b, random(100 + round, round));
            relay(buf, b, a, random(1400 - round, -round));
            assertTrue(a.sw().perThread(true) == aOpen && a.sw().perThread(false) == aSeal
                    && b.sw().perThread(true) == bOpen && b.sw().perThread(false) == bSeal, "kept in round " + round);
        }
    }

    /** More sessions than a thread has Cipher slots: those that share a slot take turns, every frame still opens. */
    @Test
    void sessionsSharingACipherSlotTakeTurns() throws CryptoException {
        List<Fixtures.Pair> members = new ArrayList<>();
        for (int i = 0; i < 2 * Session.CIPHER_SLOTS + 3; i++) {
            members.add(Fixtures.handshake(Session.Limits.DEFAULT, suite(), 0x100 + i, 0x7000 + i));
        }
        ByteBuffer buf = ByteBuffer.allocate(2000);
        Random rnd = new Random(7);
        for (int n = 0; n < 400; n++) {
            Fixtures.Pair from = members.get(rnd.nextInt(members.size()));
            Fixtures.Pair to = members.get(rnd.nextInt(members.size()));
            relay(buf, from, to, random(rnd.nextInt(1500), n));
        }
    }

    /** {@code from}'s agent seals, the switch opens it on from's session and seals it on to's, to's agent opens. */
    private void relay(ByteBuffer buf, Fixtures.Pair from, Fixtures.Pair to, byte[] payload) throws CryptoException {
        Fixtures.frame(buf, 1, payload);
        int sealed = from.agent().seal(buf, 0, 16, payload.length, now);
        assertEquals(payload.length, from.sw().open(buf, 0, 16, sealed - 16, now));
        sealed = to.sw().seal(buf, 0, 16, payload.length, now);
        assertEquals(payload.length, to.agent().open(buf, 0, 16, sealed - 16, now));
        assertArrayEquals(payload, bytes(buf, 16, payload.length));
    }

    @Test
    void longerHeadersAndOffsetsInsideTheBuffer() throws CryptoException {
        ByteBuffer buf = ByteBuffer.allocate(200);
        byte[] header = random(24, 1);
        header[0] = 0x56;
        byte[] payload = random(40, 2);
        buf.put(30, header).put(54, payload);
        int sealed = sw.seal(buf, 30, 24, 40, now);
        assertEquals(80, sealed);
        assertEquals(40, agent.open(buf, 30, 24, 56, now));
        assertArrayEquals(payload, bytes(buf, 54, 40));
        byte[] expected = header.clone();
        java.util.Arrays.fill(expected, 8, 16, (byte) 0); // counter 0
        assertArrayEquals(expected, bytes(buf, 30, 24), "header kept but for the counter");
        // the open of a sliced heap buffer (arrayOffset != 0)
        ByteBuffer slice = ByteBuffer.allocate(300).position(50).slice();
        Fixtures.frame(slice, 1, payload);
        sealed = sw.seal(slice, 0, 16, 40, now);
        assertEquals(40, agent.open(slice, 0, 16, sealed - 16, now));
        assertArrayEquals(payload, bytes(slice, 16, 40));
    }

    @Test
    void anyFlippedBitInASealedFrameIsRejectedAndMovesNothing() throws CryptoException {
        byte[] payload = random(100, 3);
        ByteBuffer buf = Fixtures.frame(ByteBuffer.allocate(200), 1, payload);
        int sealed = agent.seal(buf, 0, 16, payload.length, now);
        byte[] good = bytes(buf, 0, sealed);
        for (int at = 0; at < sealed; at++) {
            for (int bit = 0; bit < 8; bit += 3) {
                ByteBuffer bad = ByteBuffer.wrap(good.clone());
                bad.put(at, (byte) (bad.get(at) ^ 1 << bit));
                CryptoException e = assertThrows(CryptoException.class, () -> sw.open(bad, 0, 16, sealed - 16, now),
                        "flip at " + at);
                // a flipped counter bit: a counter the sender never used, so the tag fails (or it is over 2^60)
                assertTrue(e.reason() == Reason.AUTH_FAILED || at == 8 && bit >= 3, e.getMessage());
            }
        }
        assertFalse(sw.isConfirmed(), "nothing authenticated yet");
        // forged counters (up to 2^56 above) did not move the window: counter 0 still opens
        assertEquals(100, sw.open(ByteBuffer.wrap(good), 0, 16, sealed - 16, now));
        assertTrue(sw.isConfirmed());
        assertArrayEquals(payload, bytes(ByteBuffer.wrap(good), 16, 100));
    }

    @Test
    void replayedFrameIsRejected() throws CryptoException {
        byte[] sealed = sealOne(agent, 0);
        open(sw, sealed.clone());
        assertReason(Reason.REPLAYED, () -> open(sw, sealed.clone()));
        // the same for direct buffers
        byte[] second = sealOne(agent, 1);
        ByteBuffer direct = ByteBuffer.allocateDirect(second.length).put(second).clear();
        sw.open(direct, 0, 16, second.length - 16, now);
        direct.clear().put(second).clear();
        assertReason(Reason.REPLAYED, () -> sw.open(direct, 0, 16, second.length - 16, now));
    }

    @Test
    void failedOpenThenTheGenuineFrameWithTheSameCounter() throws CryptoException {
        // the JDK refuses to initialise a Cipher twice in a row with one key and nonce: the forged frame's failed
        // open must not make the genuine one with the same counter fail
        byte[] genuine = sealOne(agent, 0);
        byte[] forged = genuine.clone();
        forged[20] ^= 1;
        assertReason(Reason.AUTH_FAILED, () -> open(sw, forged.clone()));
        assertReason(Reason.AUTH_FAILED, () -> open(sw, forged.clone()));
        open(sw, genuine);
    }

    @Test
    void windowAcceptsOutOfOrderWithinAndRejectsBelowAndDuplicates() throws CryptoException {
        int window = Session.REPLAY_WINDOW;
        assertTrue(window >= 2048);
        byte[][] frames = new byte[window + 2][];
        for (int c = 0; c < frames.length; c++) {
            frames[c] = sealOne(agent, c);
        }
        int top = window + 1;
        open(sw, frames[top]);
        open(sw, frames[top - 2048]); // 2048 back: inside
        open(sw, frames[2]); // window - 1 back: the oldest that is inside
        assertReason(Reason.OUTSIDE_WINDOW, () -> open(sw, frames[1])); // exactly window back
        assertReason(Reason.OUTSIDE_WINDOW, () -> open(sw, frames[0]));
        assertReason(Reason.REPLAYED, () -> open(sw, frames[2]));
        assertReason(Reason.REPLAYED, () -> open(sw, frames[top - 2048]));
        for (int c = top - 1; c > 2; c--) {
            if (c != top - 2048) {
                open(sw, frames[c]);
            }
        }
        for (int c = 2; c <= top; c++) {
            int k = c;
            assertReason(Reason.REPLAYED, () -> open(sw, frames[k]));
        }
    }

    @Test
    void farJumpsForwardForgetTheOldWindow() throws CryptoException {
        byte[] c0 = sealOne(agent, 0);
        byte[] c1 = sealOne(agent, 1);
        open(sw, c0);
        long far = 1_000_000_007L;
        agent.skipTo(far);
        open(sw, sealOne(agent, far));
        assertReason(Reason.OUTSIDE_WINDOW, () -> open(sw, c1));
        // a jump of exactly the ring (4096): the bits of the old words are cleared, not taken as seen
        agent.skipTo(far + 4096 - 100);
        byte[] older = sealOne(agent, far + 4096 - 100);
        agent.skipTo(far + 4096);
        open(sw, sealOne(agent, far + 4096));
        open(sw, older);
        agent.skipTo(far + 4096 + 1);
        byte[] next = sealOne(agent, far + 4097);
        open(sw, next);
    }

    @Test
    void counterLimits() throws CryptoException {
        agent.skipTo(Session.REJECT_AFTER_MESSAGES - 1);
        byte[] last = sealOne(agent, Session.REJECT_AFTER_MESSAGES - 1);
        open(sw, last);
        ByteBuffer buf = Fixtures.frame(ByteBuffer.allocate(64), 1, new byte[8]);
        assertReason(Reason.EXHAUSTED, () -> agent.seal(buf, 0, 16, 8, now));
        assertReason(Reason.EXHAUSTED, () -> agent.seal(buf, 0, 16, 8, now), "stays exhausted");
        assertEquals(Session.REJECT_AFTER_MESSAGES, agent.sent());
        // a counter at 2^60 or "negative" is refused before any decryption
        for (long c : new long[] {Session.REJECT_AFTER_MESSAGES, -1L, Long.MIN_VALUE}) {
            ByteBuffer forged = ByteBuffer.allocate(48);
            forged.putLong(8, c);
            assertReason(Reason.EXHAUSTED, () -> sw.open(forged, 0, 16, 32, now));
        }
    }

    @Test
    void rekeyAfterTimeOrMessagesAndExpiry() throws CryptoException {
        long created = agent.createdNanos();
        assertFalse(agent.needsRekey(created + Duration.ofSeconds(120).toNanos() - 1));
        assertTrue(agent.needsRekey(created + Duration.ofSeconds(120).toNanos()));
        assertFalse(agent.isExpired(created + Duration.ofSeconds(180).toNanos() - 1));
        assertTrue(agent.isExpired(created + Duration.ofSeconds(180).toNanos()));

        byte[] frame = sealOne(agent, 0);
        long late = sw.createdNanos() + Duration.ofSeconds(180).toNanos();
        assertReason(Reason.EXPIRED, () -> sw.open(ByteBuffer.wrap(frame), 0, 16, frame.length - 16, late));
        ByteBuffer buf = Fixtures.frame(ByteBuffer.allocate(64), 1, new byte[8]);
        assertReason(Reason.EXPIRED, () -> agent.seal(buf, 0, 16, 8, created + Duration.ofSeconds(180).toNanos()));

        Fixtures.Pair p = Fixtures.handshake(new Session.Limits(3, Duration.ofSeconds(10), Duration.ofSeconds(20)),
                suite());
        long t = p.agent().createdNanos();
        sealOne(p.agent(), 0);
        sealOne(p.agent(), 1);
        assertFalse(p.agent().needsRekey(t));
        sealOne(p.agent(), 2);
        assertTrue(p.agent().needsRekey(t), "3 messages sealed");
        assertTrue(p.sw().needsRekey(p.sw().createdNanos() + Duration.ofSeconds(10).toNanos()));
        assertTrue(p.sw().isExpired(p.sw().createdNanos() + Duration.ofSeconds(20).toNanos()));
    }

    @Test
    void limitsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> new Session.Limits(0, Duration.ofSeconds(1), Duration.ofSeconds(2)));
        assertThrows(IllegalArgumentException.class,
                () -> new Session.Limits(Session.REJECT_AFTER_MESSAGES + 1, Duration.ofSeconds(1), Duration.ofSeconds(2)));
        assertThrows(IllegalArgumentException.class, () -> new Session.Limits(1, Duration.ZERO, Duration.ofSeconds(2)));
        assertThrows(IllegalArgumentException.class,
                () -> new Session.Limits(1, Duration.ofSeconds(3), Duration.ofSeconds(2)));
    }

    @Test
    void malformedBoundsAreRejectedOnOpenAndProgrammingErrorsOnSeal() {
        ByteBuffer buf = ByteBuffer.allocate(64);
        assertReason(Reason.MALFORMED, () -> sw.open(buf, 0, 16, 15, now), "shorter than the tag");
        assertReason(Reason.MALFORMED, () -> sw.open(buf, 0, 16, -20, now));
        assertReason(Reason.MALFORMED, () -> sw.open(buf, 0, 15, 16, now), "header too short for the counter");
        assertReason(Reason.MALFORMED, () -> sw.open(buf, 40, 16, 16, now), "past the limit");
        assertReason(Reason.MALFORMED, () -> sw.open(buf, -1, 16, 16, now));
        assertReason(Reason.MALFORMED, () -> sw.open(buf, Integer.MAX_VALUE, 16, 16, now));
        assertThrows(IndexOutOfBoundsException.class, () -> agent.seal(buf, 0, 16, 33, now), "no room for the tag");
        assertThrows(IndexOutOfBoundsException.class, () -> agent.seal(buf, 0, 8, 8, now));
        assertEquals(0, agent.sent(), "nothing sealed, no counter used");
    }

    @Test
    void sealFromManyThreadsUsesEveryCounterOnce() throws Exception {
        int threads = 4;
        int each = 1000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<List<byte[]>>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                results.add(pool.submit(() -> {
                    List<byte[]> out = new ArrayList<>();
                    ByteBuffer buf = ByteBuffer.allocateDirect(200);
                    for (int k = 0; k < each; k++) {
                        Fixtures.frame(buf, 1, new byte[100]);
                        int n = agent.seal(buf, 0, 16, 100, System.nanoTime());
                        out.add(bytes(buf, 0, n));
                    }
                    return out;
                }));
            }
            List<byte[]> all = new ArrayList<>();
            for (Future<List<byte[]>> f : results) {
                all.addAll(f.get());
            }
            all.sort(Comparator.comparingLong(b -> ByteBuffer.wrap(b).getLong(8)));
            for (int k = 0; k < all.size(); k++) {
                assertEquals(k, ByteBuffer.wrap(all.get(k)).getLong(8), "counters 0.." + (threads * each - 1));
                open(sw, all.get(k));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Two receive threads open the same messages at once (a member's datagrams arriving by two ways, a replay racing
     * the original): every counter opens exactly once.
     */
    @Test
    void concurrentOpensAcceptEachCounterOnce() throws Exception {
        int n = 3000;
        List<byte[]> all = new ArrayList<>();
        for (long c = 0; c < n; c++) {
            all.add(sealOne(agent, c));
        }
        java.util.concurrent.atomic.AtomicIntegerArray opened = new java.util.concurrent.atomic.AtomicIntegerArray(n);
        java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
        Runnable opener = () -> {
            ByteBuffer buf = ByteBuffer.allocate(100);
            try {
                start.await();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            for (int k = 0; k < n; k++) {
                byte[] m = all.get(k);
                buf.clear();
                buf.put(m).flip();
                try {
                    sw.open(buf, 0, 16, m.length - 16, now);
                    opened.incrementAndGet(k);
                } catch (CryptoException e) {
                    assertEquals(Reason.REPLAYED, e.reason(), "message " + k);
                }
            }
        };
        Thread other = new Thread(opener, "second-receive-thread");
        other.start();
        opener.run();
        other.join(30_000);
        for (int k = 0; k < n; k++) {
            assertEquals(1, opened.get(k), "message " + k + " opened once");
        }
    }

    /**
     * The opener flag is held by another thread (as while it accepts a counter): an open decrypts meanwhile and waits
     * only to mark its counter seen. Before, the flag was held across the decryption, so one thread's AEAD work (or
     * an attacker's forged messages) held up every other thread opening on the session.
     */
    @Test
    void openDecryptsWhileAnotherThreadHoldsTheOpenerFlag() throws Exception {
        byte[] m = sealOne(agent, 0);
        ByteBuffer buf = ByteBuffer.wrap(m.clone());
        byte[] plain = random(30, 0);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        sw.holdOpenerForTest();
        Future<Integer> opened;
        try {
            opened = pool.submit(() -> sw.open(buf, 0, 16, m.length - 16, now));
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!java.util.Arrays.equals(plain, bytes(buf, 16, 30))) {
                assertTrue(System.nanoTime() < deadline, "decrypted while the flag was held elsewhere");
                Thread.sleep(1);
            }
            assertFalse(opened.isDone(), "waits for the flag to accept the counter");
        } finally {
            sw.releaseOpenerForTest();
        }
        try {
            assertEquals(30, opened.get(10, java.util.concurrent.TimeUnit.SECONDS));
            assertReason(Reason.REPLAYED, () -> open(sw, m), "accepted once");
        } finally {
            pool.shutdownNow();
        }
    }

    /** A forged message (fresh counter, wrong tag) is refused without ever taking the opener flag. */
    @Test
    void forgedMessageIsRefusedWithoutTheOpenerFlag() throws Exception {
        byte[] m = sealOne(agent, 0);
        byte[] forged = m.clone();
        forged[20] ^= 1;
        ExecutorService pool = Executors.newSingleThreadExecutor();
        sw.holdOpenerForTest();
        try {
            Future<Reason> refused = pool.submit(() -> {
                try {
                    sw.open(ByteBuffer.wrap(forged), 0, 16, forged.length - 16, now);
                    return null;
                } catch (CryptoException e) {
                    return e.reason();
                }
            });
            assertEquals(Reason.AUTH_FAILED, refused.get(10, java.util.concurrent.TimeUnit.SECONDS));
        } finally {
            sw.releaseOpenerForTest();
            pool.shutdownNow();
        }
        open(sw, m); // the genuine message with the same counter still opens
    }

    private byte[] sealOne(Session s, long expectedCounter) throws CryptoException {
        ByteBuffer buf = Fixtures.frame(ByteBuffer.allocate(100), 1, random(30, (int) expectedCounter));
        int n = s.seal(buf, 0, 16, 30, now);
        assertEquals(expectedCounter, buf.getLong(8));
        return bytes(buf, 0, n);
    }

    private void open(Session s, byte[] sealed) throws CryptoException {
        assertEquals(sealed.length - 32, s.open(ByteBuffer.wrap(sealed), 0, 16, sealed.length - 16, now));
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] bytes(ByteBuffer buf, int at, int n) {
        byte[] b = new byte[n];
        buf.get(at, b);
        return b;
    }
}

package org.vl2.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * {@link CookieChecker#check}, {@link CookieChecker#cookieReply} and {@link Initiator#consumeCookieReply} on
 * arbitrary datagrams. {@code check} never throws and gives exactly what an independent reading of the layout
 * expects (MALFORMED, BAD_MAC1, MAC2_MISSING, MAC2_VALID), the same on a heap and a direct buffer, which it leaves
 * as they were; a cookie reply it makes is 52 bytes, no longer than the initiation, and carries a cookie that
 * proves the source on that same initiation; {@code consumeCookieReply} throws nothing but CryptoException and never
 * accepts the input (nobody but the checker can seal a cookie for the initiator's mac1).
 *
 * <p>An input is {@code [mode][datagram]}; mode bit 0: mac1 recomputed for the switch's key (the datagram then
 * reaches the mac2 check) and, for a 52-byte datagram, the cookie reply's header and receiver index made right (it
 * reaches the AEAD); bit 1: mac2 recomputed with the cookie of source 0; bits 2-3: the source (0 192.0.2.7:40000,
 * 1 the same address, another port, 2 [2001:db8::7]:40000, 3 unresolved); bits 4-7: the clock advances that many
 * times 20 s before the check (the secret rotates at 120 s; source 0's cookie is good until 240 s). The switch's
 * key and the checker's random source are fixed, so inputs replay. Fuzzed for {@code vl2.fuzz.duration} by
 * {@code mvn verify} (see bundles/pom.xml); seeds in {@code CookieFuzzTestInputs/datagrams}.
 */
class CookieFuzzTest {

    /** A fixed switch key, so that committed seeds carry a valid mac1 without mode bit 0. */
    private static final Identity SWITCH = Identity.fromPrivateKey(
            Fixtures.hex("a8abababababababababababababababababababababababababababababab6b"));
    private static final byte[] SWITCH_KEY = SWITCH.publicKey();
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final long SECRET_SEED = 7;
    private static final InetSocketAddress[] SOURCES = {address("192.0.2.7", 40000), address("192.0.2.7", 40001),
        address("2001:db8::7", 40000), InetSocketAddress.createUnresolved("agent.example", 40000)};
    /** The handshake whose cookie replies the input pretends to be. */
    private static final Initiator AGENT = Initiator.create(Identity.generate(), SWITCH_KEY, 0x01020304, new byte[0]);
    /** Source 0's cookie under a new checker's first secret: every checker here draws the same one. */
    private static final byte[] COOKIE;

    static {
        try {
            COOKIE = AGENT.consumeCookieReply(ByteBuffer.wrap(
                    checker(new long[1]).cookieReply(ByteBuffer.wrap(AGENT.initiation()), SOURCES[0])));
        } catch (CryptoException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private ByteBuffer direct = ByteBuffer.allocateDirect(0);

    @FuzzTest
    void datagrams(byte[] input) throws CryptoException {
        if (input.length == 0) {
            return;
        }
        int mode = input[0] & 0xFF;
        byte[] d = Arrays.copyOfRange(input, 1, input.length);
        if ((mode & 1) != 0 && d.length >= 2 * Handshake.MAC_LENGTH) {
            int at = Handshake.mac1Offset(d.length);
            System.arraycopy(Handshake.mac1(SWITCH_KEY, d, at), 0, d, at, Handshake.MAC_LENGTH);
        }
        if ((mode & 2) != 0 && d.length >= Handshake.MAC_LENGTH) {
            int at = Handshake.mac2Offset(d.length);
            System.arraycopy(Handshake.mac(COOKIE, d, at), 0, d, at, Handshake.MAC_LENGTH);
        }
        InetSocketAddress source = SOURCES[mode >>> 2 & 3];
        long[] now = {0};
        CookieChecker checker = checker(now);
        now[0] = (mode >>> 4) * 20 * SECOND;

        CookieChecker.Check expected = expected(d, source, now[0]);
        ByteBuffer heap = ByteBuffer.wrap(d.clone());
        ByteBuffer off = place(d);
        assertEquals(expected, checker.check(heap, source));
        assertEquals(expected, checker.check(off, source), "a direct buffer at an offset");
        assertUnchanged(d, heap, 0);
        assertUnchanged(d, off, 9);

        if (expected == CookieChecker.Check.MAC2_MISSING) {
            proveWithReply(checker, d, source);
        }
        consumeAsCookieReply(mode, d);
    }

    /** The outcome from the layout alone (docs/crypto.md), not from CookieChecker's code. */
    private static CookieChecker.Check expected(byte[] d, InetSocketAddress source, long now) {
        if (source.isUnresolved() || d.length < Handshake.MIN_INITIATION_LENGTH
                || d.length > Handshake.MAX_INITIATION_LENGTH
                || !Arrays.equals(Arrays.copyOf(d, 4), new byte[] {0x56, 1, 8, 0})) {
            return CookieChecker.Check.MALFORMED;
        }
        int mac1At = d.length - 32;
        if (!Arrays.equals(Handshake.mac1(SWITCH_KEY, d, mac1At), Arrays.copyOfRange(d, mac1At, mac1At + 16))) {
            return CookieChecker.Check.BAD_MAC1;
        }
        boolean cookieOfSource0 = Arrays.equals(Handshake.mac(COOKIE, d, d.length - 16),
                Arrays.copyOfRange(d, d.length - 16, d.length));
        return cookieOfSource0 && source == SOURCES[0] && now < 240 * SECOND ? CookieChecker.Check.MAC2_VALID
                : CookieChecker.Check.MAC2_MISSING;
    }

    /** The reply opens (cookie key, ad = the datagram's mac1) to a cookie that proves this source. */
    private static void proveWithReply(CookieChecker checker, byte[] d, InetSocketAddress source)
            throws CryptoException {
        byte[] reply = checker.cookieReply(ByteBuffer.wrap(d), source);
        assertEquals(Handshake.COOKIE_REPLY_LENGTH, reply.length);
        assertTrue(reply.length <= d.length, "no amplification");
        assertEquals(Handshake.COOKIE_REPLY, Handshake.type(ByteBuffer.wrap(reply)));
        assertEquals(Handshake.getInt(d, Handshake.I_SENDER), Handshake.receiverIndex(ByteBuffer.wrap(reply)));
        int mac1At = Handshake.mac1Offset(d.length);
        byte[] cookie = Aead.open(Handshake.cookieKey(SWITCH_KEY), Arrays.copyOfRange(reply, 8, 20),
                Arrays.copyOfRange(d, mac1At, mac1At + 16), reply, 20, 32);
        byte[] proven = d.clone();
        int mac2At = Handshake.mac2Offset(d.length);
        System.arraycopy(Handshake.mac(cookie, proven, mac2At), 0, proven, mac2At, Handshake.MAC_LENGTH);
        assertEquals(CookieChecker.Check.MAC2_VALID, checker.check(ByteBuffer.wrap(proven), source));
    }

    private static void consumeAsCookieReply(int mode, byte[] d) {
        byte[] reply = d.clone();
        if ((mode & 1) != 0 && reply.length == Handshake.COOKIE_REPLY_LENGTH) {
            Handshake.putHeader(reply, Handshake.COOKIE_REPLY);
            Handshake.putInt(reply, Handshake.C_RECEIVER, AGENT.senderIndex());
        }
        try {
            byte[] cookie = AGENT.consumeCookieReply(ByteBuffer.wrap(reply));
            fail("accepted a cookie reply nobody sealed: cookie " + Fixtures.hex(cookie));
        } catch (CryptoException expected) {
            // forged, malformed or for another index: all of them
        }
    }

    private static CookieChecker checker(long[] now) {
        return new CookieChecker(SWITCH, () -> now[0], new Random(SECRET_SEED));
    }

    /** The datagram at offset 9 of a reused little-endian direct buffer, between bytes that differ from it. */
    private ByteBuffer place(byte[] d) {
        if (direct.capacity() < d.length + 32) {
            direct = ByteBuffer.allocateDirect(d.length + 1024).order(ByteOrder.LITTLE_ENDIAN);
        }
        ByteBuffer b = direct.duplicate().order(ByteOrder.LITTLE_ENDIAN).clear();
        for (int i = 0; i < d.length + 32; i++) {
            b.put(i, (byte) ~(i >= 9 && i < 9 + d.length ? d[i - 9] : 0x5A));
        }
        b.put(9, d);
        return b.limit(9 + d.length).position(9);
    }

    private static void assertUnchanged(byte[] d, ByteBuffer b, int at) {
        assertEquals(at, b.position(), "check moved the position");
        assertEquals(at + d.length, b.limit(), "check moved the limit");
        byte[] now = new byte[d.length];
        b.get(at, now);
        assertArrayEquals(d, now, "check changed the datagram");
    }

    private static InetSocketAddress address(String literal, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName(literal), port);
        } catch (UnknownHostException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}

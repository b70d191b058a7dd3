package org.vl2.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.crypto.Fixtures.AGENT;
import static org.vl2.crypto.Fixtures.SWITCH;
import static org.vl2.crypto.HandshakeTest.assertReason;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.vl2.crypto.CookieChecker.Check;
import org.vl2.crypto.CryptoException.Reason;

/** mac2 and the cookie reply: {@link CookieChecker} on the switch, {@link Initiator#consumeCookieReply}. */
class CookieTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final InetSocketAddress source = address("192.0.2.7", 40000);
    /** The checker's clock: tests move it to rotate the secret. Starts far from 0, as nanoTime may. */
    private final long[] now = {-5 * SECOND};
    private final CookieChecker checker = new CookieChecker(SWITCH, () -> now[0], new Random(42));

    @Test
    void roundTripProvesTheSourceAddress() throws CryptoException {
        byte[] join = "join".getBytes();
        Initiator first = Initiator.create(AGENT, SWITCH.publicKey(), 0x0A0B0C0D, join);
        byte[] initiation = first.initiation();
        byte[] zeros = new byte[16];
        assertArrayEquals(zeros, Arrays.copyOfRange(initiation, initiation.length - 16, initiation.length),
                "mac2 without a cookie");
        ByteBuffer datagram = ByteBuffer.wrap(initiation);
        assertEquals(Check.MAC2_MISSING, checker.check(datagram, source));
        assertEquals(0, datagram.position());
        assertEquals(initiation.length, datagram.limit());

        byte[] reply = checker.cookieReply(datagram, source);
        assertEquals(Handshake.COOKIE_REPLY_LENGTH, reply.length);
        assertTrue(reply.length <= initiation.length, "no amplification");
        assertEquals(Handshake.COOKIE_REPLY, Handshake.type(ByteBuffer.wrap(reply)));
        assertEquals(0x0A0B0C0D, Handshake.receiverIndex(ByteBuffer.wrap(reply)));
        assertArrayEquals(Fixtures.hex("56010a00 0a0b0c0d"), Arrays.copyOf(reply, 8));

        byte[] cookie = first.consumeCookieReply(ByteBuffer.wrap(reply));
        assertEquals(Cookies.COOKIE_LENGTH, cookie.length);
        assertArrayEquals(cookie, first.consumeCookieReply(ByteBuffer.wrap(reply)), "the handshake is unchanged");

        Initiator second = Initiator.create(AGENT, SWITCH.publicKey(), 0x01020304, join, cookie);
        byte[] proven = second.initiation();
        assertEquals(initiation.length, proven.length);
        assertArrayEquals(Handshake.mac(cookie, proven, proven.length - 16),
                Arrays.copyOfRange(proven, proven.length - 16, proven.length));
        assertEquals(Check.MAC2_VALID, checker.check(ByteBuffer.wrap(proven), source));

        // the responder takes initiations with and without mac2 alike, and the handshake completes
        TimestampGuard guard = new TimestampGuard();
        Responder.consume(SWITCH, ByteBuffer.wrap(initiation), guard);
        Responder r = Responder.consume(SWITCH, ByteBuffer.wrap(proven), guard);
        assertArrayEquals(join, r.payload());
        Responder.Reply answer = r.respond(7, "welcome".getBytes());
        assertArrayEquals("welcome".getBytes(), second.consume(ByteBuffer.wrap(answer.response())).payload());

        assertEquals(1, checker.count(Check.MAC2_MISSING));
        assertEquals(1, checker.count(Check.MAC2_VALID));
        assertEquals(0, checker.count(Check.BAD_MAC1));
        assertEquals(1, checker.cookieReplies());
    }

    @Test
    void cookieIsBoundToAddressAndPort() throws CryptoException {
        byte[] proven = provenInitiation(source, 1);
        assertEquals(Check.MAC2_VALID, checker.check(ByteBuffer.wrap(proven), address("192.0.2.7", 40000)));
        assertEquals(Check.MAC2_MISSING, checker.check(ByteBuffer.wrap(proven), address("192.0.2.7", 40001)));
        assertEquals(Check.MAC2_MISSING, checker.check(ByteBuffer.wrap(proven), address("192.0.2.8", 40000)));
        assertEquals(Check.MAC2_MISSING, checker.check(ByteBuffer.wrap(proven), address("2001:db8::7", 40000)));

        InetSocketAddress v6 = address("2001:db8::7", 40000);
        byte[] provenV6 = provenInitiation(v6, 2);
        assertEquals(Check.MAC2_VALID, checker.check(ByteBuffer.wrap(provenV6), v6));
        assertEquals(Check.MAC2_MISSING, checker.check(ByteBuffer.wrap(provenV6), source));
        assertEquals(Check.MAC2_MISSING, checker.check(ByteBuffer.wrap(provenV6), address("2001:db8::8", 40000)));
    }

    @Test
    void cookieOutlivesOneRotationButNotTwo() throws CryptoException {
        byte[] early = provenInitiation(source, 1); // made at the start of the secret's lifetime
        now[0] += 119 * SECOND;
        byte[] late = provenInitiation(source, 2); // made just before the first rotation
        assertEquals(Check.MAC2_VALID, checker.check(ByteBuffer.wrap(early), source));

        now[0] += 11 * SECOND; // 130 s: rotated once (first used after 120 s), the previous secret still counts
        assertEquals(Check.MAC2_VALID, checker.check(ByteBuffer.wrap(early), source));
        assertEquals(Check.MAC2_VALID, checker.check(ByteBuffer.wrap(late), source));
        byte[] fresh = provenInitiation(source, 3);
        assertFalse(Arrays.equals(mac2(late), mac2(fresh)), "the new secret gives another cookie");

        now[0] += 109 * SECOND; // 239 s
        assertEquals(Check.MAC2_VALID, checker.check(ByteBuffer.wrap(early), source));
        now[0] += SECOND; // 240 s: rotated twice (lifetimes count from 0 s, not from when a check came by)
        assertEquals(Check.MAC2_MISSING, checker.check(ByteBuffer.wrap(early), source));
        assertEquals(Check.MAC2_MISSING, checker.check(ByteBuffer.wrap(late), source),
                "late was 121 s old: more than a lifetime, as the agent's 110 s of use allow for");
        assertEquals(Check.MAC2_VALID, checker.check(ByteBuffer.wrap(fresh), source));

        // a long quiet spell: several lifetimes at once leave no previous secret
        byte[] beforeQuiet = provenInitiation(source, 4);
        now[0] += 1000 * SECOND;
        assertEquals(Check.MAC2_MISSING, checker.check(ByteBuffer.wrap(beforeQuiet), source));
        assertEquals(Check.MAC2_MISSING, checker.check(ByteBuffer.wrap(fresh), source));
        assertEquals(Check.MAC2_VALID, checker.check(ByteBuffer.wrap(provenInitiation(source, 5)), source));
        // a clock that goes back rotates nothing
        byte[] current = provenInitiation(source, 6);
        now[0] -= 500 * SECOND;
        assertEquals(Check.MAC2_VALID, checker.check(ByteBuffer.wrap(current), source));
    }

    @Test
    void cookieReplyForAnotherHandshakeIsRejected() throws CryptoException {
        Initiator mine = Initiator.create(AGENT, SWITCH.publicKey(), 100, new byte[0]);
        Initiator other = Initiator.create(AGENT, SWITCH.publicKey(), 200, new byte[0]);
        byte[] toOther = checker.cookieReply(ByteBuffer.wrap(other.initiation()), source);
        assertReason(Reason.UNKNOWN_RECEIVER, () -> mine.consumeCookieReply(ByteBuffer.wrap(toOther)));
        // the same index cannot help: the reply is bound to the other initiation's mac1
        Initiator sameIndex = Initiator.create(AGENT, SWITCH.publicKey(), 200, new byte[0]);
        assertReason(Reason.AUTH_FAILED, () -> sameIndex.consumeCookieReply(ByteBuffer.wrap(toOther)));
        other.consumeCookieReply(ByteBuffer.wrap(toOther));
    }

    @Test
    void anyFlippedBitInTheCookieReplyIsRejected() throws CryptoException {
        Initiator i = Initiator.create(AGENT, SWITCH.publicKey(), 77, new byte[0]);
        byte[] reply = checker.cookieReply(ByteBuffer.wrap(i.initiation()), source);
        for (int at = 0; at < reply.length; at++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] bad = reply.clone();
                bad[at] ^= (byte) (1 << bit);
                int index = at;
                assertThrows(CryptoException.class, () -> i.consumeCookieReply(ByteBuffer.wrap(bad)),
                        "flip at " + index);
            }
        }
        byte[] cookie = i.consumeCookieReply(ByteBuffer.wrap(reply));
        assertEquals(Check.MAC2_VALID, checker.check(ByteBuffer.wrap(
                Initiator.create(AGENT, SWITCH.publicKey(), 78, new byte[0], cookie).initiation()), source));
    }

    @Test
    void cookieReplyFromAnotherSwitchKeyIsRejected() {
        Identity impostor = Identity.generate();
        Initiator i = Initiator.create(AGENT, SWITCH.publicKey(), 5, new byte[0]);
        // the impostor saw the initiation; it can answer it, but not under the pinned key's cookie key
        byte[] forged = new CookieChecker(impostor).cookieReply(ByteBuffer.wrap(i.initiation()), source);
        assertReason(Reason.AUTH_FAILED, () -> i.consumeCookieReply(ByteBuffer.wrap(forged)));
    }

    @Test
    void malformedCookieRepliesAreRejected() throws CryptoException {
        Initiator i = Initiator.create(AGENT, SWITCH.publicKey(), 9, new byte[0]);
        byte[] reply = checker.cookieReply(ByteBuffer.wrap(i.initiation()), source);
        assertReason(Reason.MALFORMED, () -> i.consumeCookieReply(ByteBuffer.wrap(Arrays.copyOf(reply, 51))));
        assertReason(Reason.MALFORMED, () -> i.consumeCookieReply(ByteBuffer.wrap(Arrays.copyOf(reply, 53))));
        assertReason(Reason.MALFORMED, () -> i.consumeCookieReply(ByteBuffer.wrap(new byte[0])));
        assertReason(Reason.MALFORMED, () -> Handshake.receiverIndex(ByteBuffer.wrap(Arrays.copyOf(reply, 51))));
        byte[] typed = reply.clone();
        typed[2] = Handshake.RESPONSE;
        assertReason(Reason.MALFORMED, () -> i.consumeCookieReply(ByteBuffer.wrap(typed)));
        assertReason(Reason.MALFORMED, () -> i.consume(ByteBuffer.wrap(reply)), "a cookie reply is no response");
        assertReason(Reason.MALFORMED, () -> i.consumeCookieReply(ByteBuffer.wrap(i.initiation())));
        // at an offset in a direct buffer: absolute reads
        ByteBuffer direct = ByteBuffer.allocateDirect(200).position(33);
        direct.put(reply).limit(33 + reply.length).position(33);
        assertEquals(9, Handshake.receiverIndex(direct));
        assertEquals(Cookies.COOKIE_LENGTH, i.consumeCookieReply(direct).length);
        assertEquals(33, direct.position());
    }

    @Test
    void mac1StillRejectsInitiationsForAnotherKey() {
        Identity impostor = Identity.generate();
        byte[] toSwitch = Initiator.create(AGENT, SWITCH.publicKey(), 1, new byte[0]).initiation();
        assertEquals(Check.BAD_MAC1, new CookieChecker(impostor).check(ByteBuffer.wrap(toSwitch), source));
        byte[] toImpostor = Initiator.create(AGENT, impostor.publicKey(), 1, new byte[0]).initiation();
        assertEquals(Check.BAD_MAC1, checker.check(ByteBuffer.wrap(toImpostor), source));
        assertEquals(1, checker.count(Check.BAD_MAC1));
    }

    @Test
    void anyFlippedBitInAProvenInitiationLosesTheProof() throws CryptoException {
        byte[] good = provenInitiation(source, 1);
        int mac1At = good.length - 32;
        int mac2At = good.length - 16;
        for (int at = 0; at < good.length; at++) {
            byte[] bad = good.clone();
            bad[at] ^= (byte) (1 << (at % 8));
            Check expected = at < 4 ? Check.MALFORMED : at < mac2At ? Check.BAD_MAC1 : Check.MAC2_MISSING;
            assertEquals(expected, checker.check(ByteBuffer.wrap(bad), source), "flip at " + at);
            if (at >= 4 && at < mac1At) {
                // mac1 can be recomputed by anyone; mac2 covers mac1 and everything before it
                System.arraycopy(Handshake.mac1(SWITCH.publicKey(), bad, mac1At), 0, bad, mac1At, 16);
                assertEquals(Check.MAC2_MISSING, checker.check(ByteBuffer.wrap(bad), source), "flip at " + at);
            }
        }
        assertEquals(Check.MAC2_VALID, checker.check(ByteBuffer.wrap(good), source));
    }

    @Test
    void wrongOrForeignMac2IsMissing() throws CryptoException {
        byte[] good = provenInitiation(source, 1);
        byte[] random = good.clone();
        Random r = new Random(1);
        for (int at = good.length - 16; at < good.length; at++) {
            random[at] = (byte) (1 + r.nextInt(255)); // never all zeros: the path that computes cookies
        }
        assertEquals(Check.MAC2_MISSING, checker.check(ByteBuffer.wrap(random), source));
        // a cookie from another switch (another secret) proves nothing here
        CookieChecker otherSwitch = new CookieChecker(SWITCH, () -> now[0], new Random(43));
        assertEquals(Check.MAC2_MISSING, otherSwitch.check(ByteBuffer.wrap(good), source));
        assertEquals(Check.MAC2_VALID, checker.check(ByteBuffer.wrap(good), source));
    }

    @Test
    void malformedInitiationsAndSources() {
        byte[] good = Initiator.create(AGENT, SWITCH.publicKey(), 1, new byte[0]).initiation();
        assertEquals(Check.MALFORMED, checker.check(ByteBuffer.wrap(Arrays.copyOf(good, 255)), source));
        assertEquals(Check.MALFORMED, checker.check(ByteBuffer.wrap(
                Arrays.copyOf(good, Handshake.MAX_INITIATION_LENGTH + 1)), source));
        assertEquals(Check.MALFORMED, checker.check(ByteBuffer.wrap(new byte[0]), source));
        byte[] typed = good.clone();
        typed[2] = Handshake.RESPONSE;
        assertEquals(Check.MALFORMED, checker.check(ByteBuffer.wrap(typed), source));
        InetSocketAddress unresolved = InetSocketAddress.createUnresolved("agent.example", 1);
        assertEquals(Check.MALFORMED, checker.check(ByteBuffer.wrap(good), unresolved));
        assertEquals(5, checker.count(Check.MALFORMED));
        // the caller answers only what check() let through
        assertThrows(IllegalArgumentException.class, () -> checker.cookieReply(ByteBuffer.wrap(typed), source));
        assertThrows(IllegalArgumentException.class, () -> checker.cookieReply(ByteBuffer.wrap(good), unresolved));
        assertEquals(0, checker.cookieReplies());
        assertThrows(IllegalArgumentException.class,
                () -> Initiator.create(AGENT, SWITCH.publicKey(), 1, new byte[0], new byte[15]));
        assertThrows(IllegalArgumentException.class,
                () -> Initiator.create(AGENT, SWITCH.publicKey(), 1, new byte[0], new byte[17]));
    }

    @Test
    void checkReadsBetweenPositionAndLimitOnly() throws CryptoException {
        byte[] proven = provenInitiation(source, 1);
        ByteBuffer direct = ByteBuffer.allocateDirect(2000);
        for (int k = 0; k < direct.capacity(); k++) {
            direct.put(k, (byte) 0xA5);
        }
        direct.position(100);
        direct.put(proven);
        direct.limit(100 + proven.length).position(100);
        assertEquals(Check.MAC2_VALID, checker.check(direct, source));
        assertEquals(100, direct.position());
        assertEquals(100 + proven.length, direct.limit());
        byte[] after = new byte[proven.length];
        direct.get(100, after);
        assertArrayEquals(proven, after, "the datagram is not changed");
        byte[] reply = checker.cookieReply(direct, source);
        assertEquals(1, Handshake.receiverIndex(ByteBuffer.wrap(reply)));
        assertEquals(100, direct.position());
        assertEquals(Check.MAC2_VALID, checker.check(direct.asReadOnlyBuffer(), source));
    }

    @Test
    void repliesDifferInTheirNonces() throws CryptoException {
        Initiator i = Initiator.create(AGENT, SWITCH.publicKey(), 3, new byte[0]);
        byte[] a = checker.cookieReply(ByteBuffer.wrap(i.initiation()), source);
        byte[] b = checker.cookieReply(ByteBuffer.wrap(i.initiation()), source);
        assertNotEquals(Fixtures.hex(Arrays.copyOfRange(a, 8, 20)), Fixtures.hex(Arrays.copyOfRange(b, 8, 20)));
        assertArrayEquals(i.consumeCookieReply(ByteBuffer.wrap(a)), i.consumeCookieReply(ByteBuffer.wrap(b)),
                "one source, one secret: one cookie");
    }

    /** An initiation whose mac2 carries the cookie the checker gives {@code from}, as an agent makes it. */
    private byte[] provenInitiation(InetSocketAddress from, int index) throws CryptoException {
        Initiator first = Initiator.create(AGENT, SWITCH.publicKey(), index, new byte[0]);
        byte[] cookie = first.consumeCookieReply(ByteBuffer.wrap(
                checker.cookieReply(ByteBuffer.wrap(first.initiation()), from)));
        return Initiator.create(AGENT, SWITCH.publicKey(), index, new byte[0], cookie).initiation();
    }

    private static byte[] mac2(byte[] initiation) {
        return Arrays.copyOfRange(initiation, initiation.length - 16, initiation.length);
    }

    private static InetSocketAddress address(String literal, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName(literal), port);
        } catch (UnknownHostException e) {
            throw new AssertionError(literal, e);
        }
    }
}

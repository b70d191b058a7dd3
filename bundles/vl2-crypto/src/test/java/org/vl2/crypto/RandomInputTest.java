package org.vl2.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.vl2.crypto.Fixtures.AGENT;
import static org.vl2.crypto.Fixtures.SWITCH;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * Random, truncated, extended and mutated datagrams to every decoder: the only exception allowed out is
 * CryptoException. Mutations keep valid headers, lengths, indices and (for initiations) a recomputed mac1 often
 * enough to reach the Diffie-Hellman and AEAD steps, not just the length checks. The cookie checker never proves
 * (MAC2_VALID) an initiation that differs from the genuine one. Seeded by the clock; a failure prints the seed and
 * the input. (Not named *FuzzTest: that suffix is for Jazzer tests, see bundles/pom.xml.)
 */
class RandomInputTest {

    private static final int INPUTS = 50_000;
    /** Inputs that get as far as X25519 (about 0.2 ms each) are a bounded share of the total. */
    private static final int DEEP = 2_000;
    /** The cookie decoders cost a few HMACs or one AEAD, no X25519: more inputs, all of them may go deep. */
    private static final int COOKIE_INPUTS = 100_000;

    private final long seed = System.nanoTime();
    private final Random rnd = new Random(seed);

    @Test
    void responderConsume() throws CryptoException {
        byte[] good = Initiator.create(AGENT, SWITCH.publicKey(), 1, "join".getBytes()).initiation();
        TimestampGuard guard = new TimestampGuard();
        for (int n = 0; n < INPUTS; n++) {
            byte[] input = n < DEEP ? deepInitiation(good, true) : variant(good, Handshake.INITIATION);
            if (sameBeforeMac2(input, good)) {
                // only mac2 differs, which the responder does not check (CookieChecker does): accepted
                expectOnlyCryptoException(input, () -> Responder.consume(SWITCH, buffer(input), guard));
            } else {
                expectRejected(input, () -> Responder.consume(SWITCH, buffer(input), guard));
            }
            expectOnlyCryptoException(input, () -> Handshake.type(buffer(input)));
        }
        // nothing above was answered: the genuine initiation still is
        Responder.consume(SWITCH, ByteBuffer.wrap(good), guard).respond(2, new byte[0]);
    }

    @Test
    void initiatorConsume() throws CryptoException {
        Initiator i = Initiator.create(AGENT, SWITCH.publicKey(), 0x01020304, new byte[0]);
        byte[] good = Responder.consume(SWITCH, ByteBuffer.wrap(i.initiation()), new TimestampGuard())
                .respond(5, "welcome".getBytes()).response();
        for (int n = 0; n < INPUTS; n++) {
            byte[] input = n < DEEP ? deepAnswer(good, Handshake.RESPONSE, Handshake.R_RECEIVER)
                    : otherReceiver(variant(good, Handshake.RESPONSE), good);
            expectRejected(input, () -> i.consume(buffer(input)));
            expectOnlyCryptoException(input, () -> Handshake.receiverIndex(buffer(input)));
        }
        assertArrayEquals("welcome".getBytes(), i.consume(ByteBuffer.wrap(good)).payload(),
                "garbage did not disturb the pending handshake");
    }

    @Test
    void cookieCheck() throws CryptoException {
        InetSocketAddress source = new InetSocketAddress(InetAddress.getLoopbackAddress(), 5000);
        InetSocketAddress[] sources = {source, new InetSocketAddress(InetAddress.getLoopbackAddress(), 5001),
            InetSocketAddress.createUnresolved("agent.example", 5000)};
        long[] now = {0};
        CookieChecker checker = new CookieChecker(SWITCH, () -> now[0], rnd);
        Initiator first = Initiator.create(AGENT, SWITCH.publicKey(), 1, "join".getBytes());
        byte[] cookie = first.consumeCookieReply(ByteBuffer.wrap(
                checker.cookieReply(ByteBuffer.wrap(first.initiation()), source)));
        byte[] good = Initiator.create(AGENT, SWITCH.publicKey(), 2, "join".getBytes(), cookie).initiation();
        for (int n = 0; n < COOKIE_INPUTS; n++) {
            // half keep a valid mac1, so that mac2 is checked
            byte[] input = n % 2 == 0 ? deepInitiation(good, false) : variant(good, Handshake.INITIATION);
            InetSocketAddress from = sources[rnd.nextInt(sources.length)];
            ByteBuffer b = buffer(input);
            CookieChecker.Check[] c = new CookieChecker.Check[1];
            expectOnlyCryptoException(input, () -> c[0] = checker.check(b, from));
            if (c[0] == CookieChecker.Check.MAC2_VALID) {
                fail("seed " + seed + ": modified input proven " + HexFormat.of().formatHex(input));
            }
            if (c[0] == CookieChecker.Check.MAC2_MISSING) {
                expectOnlyCryptoException(input, () -> checker.cookieReply(b, from));
            }
        }
        assertEquals(CookieChecker.Check.MAC2_VALID, checker.check(ByteBuffer.wrap(good), source));
    }

    @Test
    void initiatorConsumeCookieReply() throws CryptoException {
        Initiator i = Initiator.create(AGENT, SWITCH.publicKey(), 0x01020304, new byte[0]);
        InetSocketAddress source = new InetSocketAddress(InetAddress.getLoopbackAddress(), 5000);
        byte[] good = new CookieChecker(SWITCH).cookieReply(ByteBuffer.wrap(i.initiation()), source);
        byte[] cookie = i.consumeCookieReply(ByteBuffer.wrap(good));
        for (int n = 0; n < COOKIE_INPUTS; n++) {
            byte[] input = n % 2 == 0 ? deepAnswer(good, Handshake.COOKIE_REPLY, Handshake.C_RECEIVER)
                    : variant(good, Handshake.COOKIE_REPLY);
            expectRejected(input, () -> i.consumeCookieReply(buffer(input)));
            expectOnlyCryptoException(input, () -> Handshake.receiverIndex(buffer(input)));
        }
        assertArrayEquals(cookie, i.consumeCookieReply(ByteBuffer.wrap(good)));
    }

    @Test
    void sessionOpen() throws CryptoException {
        Fixtures.Pair p = Fixtures.handshake();
        long now = System.nanoTime();
        byte[][] genuine = new byte[64][];
        for (int k = 0; k < genuine.length; k++) {
            int payload = rnd.nextInt(150);
            ByteBuffer buf = Fixtures.frame(ByteBuffer.allocate(200), 1, new byte[payload]);
            genuine[k] = Arrays.copyOf(buf.array(), p.agent().seal(buf, 0, 16, payload, now));
        }
        for (int n = 0; n < INPUTS; n++) {
            byte[] base = genuine[rnd.nextInt(genuine.length)];
            byte[] input = rnd.nextBoolean() ? mutate(base, 1 + rnd.nextInt(3)) : variant(base, 3);
            ByteBuffer buf = rnd.nextBoolean() ? buffer(input)
                    : ByteBuffer.allocateDirect(input.length).put(input).clear();
            if (rnd.nextInt(10) == 0) {
                int offset = rnd.nextInt(40) - 5;
                int header = rnd.nextInt(40) - 5;
                int sealed = rnd.nextInt(input.length + 40) - 20;
                expectOnlyCryptoException(input, () -> p.sw().open(buf, offset, header, sealed, now));
            } else {
                expectRejected(input, () -> p.sw().open(buf, 0, 16, input.length - 16, now));
            }
        }
    }

    /**
     * A mutated initiation with a valid header and mac1: it reaches es and the AEADs (the responder), or mac2 (the
     * cookie checker). With {@code keepMac2}, mac2 is the genuine one, so that the mutation is somewhere the
     * responder checks.
     */
    private byte[] deepInitiation(byte[] good, boolean keepMac2) {
        int mac2At = Handshake.mac2Offset(good.length);
        byte[] b;
        do { // restoring header, mac1 and mac2 may undo the mutation
            b = mutate(good, 1 + rnd.nextInt(4));
            keepHeader(b, Handshake.INITIATION);
            fixMac1(b);
            if (keepMac2) {
                System.arraycopy(good, mac2At, b, mac2At, Handshake.MAC_LENGTH);
            }
        } while (Arrays.equals(b, good));
        return b;
    }

    private static boolean sameBeforeMac2(byte[] input, byte[] good) {
        int mac2At = Handshake.mac2Offset(good.length);
        return input.length == good.length && Arrays.equals(input, 0, mac2At, good, 0, mac2At);
    }

    /**
     * A mutated response or cookie reply with a valid header and receiver index (at {@code receiverAt}): it
     * reaches the AEAD (for a response, after ee and se).
     */
    private byte[] deepAnswer(byte[] good, int type, int receiverAt) {
        byte[] b;
        do {
            b = mutate(good, 1 + rnd.nextInt(4));
            keepHeader(b, type);
            System.arraycopy(good, receiverAt, b, receiverAt, 4);
        } while (Arrays.equals(b, good));
        return b;
    }

    /** Beyond the DEEP share, responses carry another receiver index, so that they stop before any X25519. */
    private static byte[] otherReceiver(byte[] b, byte[] good) {
        if (b.length >= Handshake.R_RECEIVER + 4) {
            // set, not flipped: flipping would restore the genuine index (and message) after a mutation there
            b[Handshake.R_RECEIVER] = (byte) (good[Handshake.R_RECEIVER] ^ 0x80);
        }
        return b;
    }

    /** Random bytes, or the genuine message truncated, extended, or with random bytes behind its header. */
    private byte[] variant(byte[] good, int type) {
        switch (rnd.nextInt(5)) {
            case 0: {
                byte[] b = new byte[rnd.nextInt(1400)];
                rnd.nextBytes(b);
                return b;
            }
            case 1:
                return Arrays.copyOf(good, rnd.nextInt(good.length)); // strictly shorter
            case 2: {
                byte[] b = Arrays.copyOf(good, good.length + 1 + rnd.nextInt(1200));
                for (int k = good.length; k < b.length; k++) {
                    b[k] = (byte) rnd.nextInt();
                }
                return b;
            }
            case 3: {
                byte[] b = new byte[rnd.nextInt(1400)];
                rnd.nextBytes(b);
                keepHeader(b, type);
                return b;
            }
            default:
                return mutate(good, 1 + rnd.nextInt(8));
        }
    }

    private byte[] mutate(byte[] good, int changes) {
        byte[] b;
        do { // two changes of one byte can cancel out
            b = good.clone();
            for (int k = 0; k < changes; k++) {
                b[rnd.nextInt(b.length)] ^= (byte) (1 + rnd.nextInt(255));
            }
        } while (Arrays.equals(b, good));
        return b;
    }

    private static void keepHeader(byte[] b, int type) {
        if (b.length >= 4) {
            b[0] = 0x56;
            b[1] = 1;
            b[2] = (byte) type;
            b[3] = 0;
        }
    }

    private static void fixMac1(byte[] b) {
        int at = Handshake.mac1Offset(b.length);
        System.arraycopy(Handshake.mac1(SWITCH.publicKey(), b, at), 0, b, at, Handshake.MAC_LENGTH);
    }

    /** The input at a random position of a larger heap buffer, so offsets other than 0 are exercised too. */
    private ByteBuffer buffer(byte[] input) {
        int pad = rnd.nextInt(3) * 7;
        ByteBuffer b = ByteBuffer.allocate(input.length + 2 * pad);
        b.position(pad);
        b.put(input);
        return b.limit(pad + input.length).position(pad);
    }

    interface Call {
        void run() throws Exception;
    }

    /** Every input here differs from the genuine message, so it must be rejected, and only so. */
    private void expectRejected(byte[] input, Call call) {
        try {
            call.run();
        } catch (CryptoException expected) {
            return;
        } catch (Throwable t) {
            fail("seed " + seed + ": " + t + " for input " + HexFormat.of().formatHex(input), t);
        }
        fail("seed " + seed + ": accepted modified input " + HexFormat.of().formatHex(input));
    }

    private void expectOnlyCryptoException(byte[] input, Call call) {
        try {
            call.run();
        } catch (CryptoException expected) {
            // rejected
        } catch (Throwable t) {
            fail("seed " + seed + ": " + t + " for input " + HexFormat.of().formatHex(input), t);
        }
    }
}

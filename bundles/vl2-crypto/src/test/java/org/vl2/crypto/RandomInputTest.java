package org.vl2.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.vl2.crypto.Fixtures.AGENT;
import static org.vl2.crypto.Fixtures.SWITCH;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * Random, truncated, extended and mutated datagrams to every decoder: the only exception allowed out is
 * CryptoException. Mutations keep valid headers, lengths, indices and (for initiations) a recomputed mac1 often
 * enough to reach the Diffie-Hellman and AEAD steps, not just the length checks. Seeded by the clock; a failure
 * prints the seed and the input. (Not named *FuzzTest: that suffix is for Jazzer tests, see bundles/pom.xml.)
 */
class RandomInputTest {

    private static final int INPUTS = 50_000;
    /** Inputs that get as far as X25519 (about 0.2 ms each) are a bounded share of the total. */
    private static final int DEEP = 2_000;

    private final long seed = System.nanoTime();
    private final Random rnd = new Random(seed);

    @Test
    void responderConsume() throws CryptoException {
        byte[] good = Initiator.create(AGENT, SWITCH.publicKey(), 1, "join".getBytes()).initiation();
        TimestampGuard guard = new TimestampGuard();
        for (int n = 0; n < INPUTS; n++) {
            byte[] input = n < DEEP ? deepInitiation(good) : variant(good, Handshake.INITIATION);
            expectRejected(input, () -> Responder.consume(SWITCH, buffer(input), guard));
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
            byte[] input = n < DEEP ? deepResponse(good) : otherReceiver(variant(good, Handshake.RESPONSE));
            expectRejected(input, () -> i.consume(buffer(input)));
            expectOnlyCryptoException(input, () -> Handshake.receiverIndex(buffer(input)));
        }
        assertArrayEquals("welcome".getBytes(), i.consume(ByteBuffer.wrap(good)).payload(),
                "garbage did not disturb the pending handshake");
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

    /** A mutated initiation with a valid header and mac1: it reaches es and the AEADs. */
    private byte[] deepInitiation(byte[] good) {
        byte[] b;
        do { // restoring header and mac1 may undo the mutation
            b = mutate(good, 1 + rnd.nextInt(4));
            keepHeader(b, Handshake.INITIATION);
            fixMac1(b);
        } while (Arrays.equals(b, good));
        return b;
    }

    /** A mutated response with a valid header and receiver index: it reaches ee, se and the AEAD. */
    private byte[] deepResponse(byte[] good) {
        byte[] b;
        do {
            b = mutate(good, 1 + rnd.nextInt(4));
            keepHeader(b, Handshake.RESPONSE);
            System.arraycopy(good, Handshake.R_RECEIVER, b, Handshake.R_RECEIVER, 4);
        } while (Arrays.equals(b, good));
        return b;
    }

    /** Beyond the DEEP share, responses carry another receiver index, so that they stop before any X25519. */
    private static byte[] otherReceiver(byte[] b) {
        if (b.length >= Handshake.R_RECEIVER + 4) {
            b[Handshake.R_RECEIVER] ^= (byte) 0x80;
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
        int at = b.length - Handshake.MAC_LENGTH;
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

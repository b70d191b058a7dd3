package org.vl2.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.protocol.Buffers.decode;
import static org.vl2.protocol.Buffers.decodeKeeping;
import static org.vl2.protocol.Buffers.encode;
import static org.vl2.protocol.Buffers.hex;
import static org.vl2.protocol.Buffers.rejected;
import static org.vl2.protocol.JoinTest.v4;
import static org.vl2.protocol.WelcomeTest.v6;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.vl2.protocol.Buffers.Decoder;

/** Every decoder against what the network can throw at it: cut, corrupted, mistyped and random datagrams. */
class MalformedInputTest {

    /** A message codec as the tests drive it. */
    record Kind<T>(String name, Decoder<T> decoder, BiConsumer<T, ByteBuffer> encoder, int... types) {
    }

    static final Kind<Join> JOIN = new Kind<>("join", Join::decode, Join::encode, Wire.JOIN);
    static final Kind<Welcome> WELCOME = new Kind<>("welcome", Welcome::decode, Welcome::encode, Wire.WELCOME);
    static final Kind<Keepalive> KEEPALIVE = new Kind<>("keepalive", Keepalive::decode, Keepalive::encode,
            Wire.KEEPALIVE, Wire.KEEPALIVE_ACK);
    static final Kind<Leave> LEAVE = new Kind<>("leave", Leave::decode, Leave::encode, Wire.LEAVE);
    static final Kind<ProtocolError> ERROR = new Kind<>("error", ProtocolError::decode,
            (e, out) -> e.encode(out, 20 + 255), Wire.ERROR);
    static final Kind<KeyRequest> KEY_REQUEST = new Kind<>("key-request", KeyRequest::decode, KeyRequest::encode,
            Wire.KEY_REQUEST);
    static final Kind<KeyReply> KEY_REPLY = new Kind<>("key-reply", KeyReply::decode, KeyReply::encode,
            Wire.KEY_REPLY);
    static final List<Kind<?>> KINDS = List.of(JOIN, WELCOME, KEEPALIVE, LEAVE, ERROR, KEY_REQUEST, KEY_REPLY);

    /** A valid encoded message and the codec that reads it. */
    record Sample(Kind<?> kind, byte[] bytes) {
    }

    static final List<Sample> SAMPLES = new ArrayList<>();
    /** The types this codec decodes (8-10 are the handshake's, decoded by org.vl2.crypto). */
    private static final int[] TYPES = {1, 2, 3, 4, 5, 6, 7, Wire.KEY_REQUEST, Wire.KEY_REPLY};

    @BeforeAll
    static void samples() throws Exception {
        add(JOIN, new Join(-1L, -1L, 42, 1514, Join.CAP_IPV6, v4("10.1.1.101"), "héllo"));
        add(JOIN, new Join(0, 1, 2, 65535, 0, null, ""));
        add(WELCOME, new Welcome(3, 42, 7, 99, 1454, 25, v4("10.1.1.101"), 24, v6("fd" + "00".repeat(14) + "01"),
                64));
        add(WELCOME, new Welcome(0, 0, 1, 2, 1500, 10, null, 0, null, 0));
        add(KEEPALIVE, new Keepalive(false, 7, 99, 1));
        add(KEEPALIVE, new Keepalive(true, 7, 99, 1));
        add(LEAVE, new Leave(7, 99));
        add(ERROR, new ProtocolError(ErrorCode.UNKNOWN_PORT, 7, 0, "unknown port"));
        add(ERROR, new ProtocolError(ErrorCode.BAD_REQUEST, 0, 42, ""));
        add(KEY_REQUEST, new KeyRequest());
        byte[] key = new byte[KeyReply.KEY_LENGTH];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) (0xA0 + i);
        }
        add(KEY_REPLY, new KeyReply(key));
    }

    private static <T> void add(Kind<T> kind, T message) {
        SAMPLES.add(new Sample(kind, encode(out -> kind.encoder().accept(message, out))));
    }

    @Test
    void everyTruncationOfEveryMessageIsRejected() throws Exception {
        for (Sample s : SAMPLES) {
            decode(s.bytes(), s.kind().decoder());   // whole: fine
            for (int n = 0; n < s.bytes().length; n++) {
                String message = rejected(s.bytes(), n, s.kind().decoder());
                assertTrue(message.contains("short"), message);
            }
        }
    }

    @Test
    void wrongMagicIsRejected() {
        for (Sample s : SAMPLES) {
            for (int magic : new int[] {0x00, 0x57, 0xD6, 0xFF}) {
                byte[] b = s.bytes().clone();
                b[0] = (byte) magic;
                assertEquals(String.format("bad magic 0x%02x", magic), rejected(b, b.length, s.kind().decoder()));
            }
        }
    }

    @Test
    void otherVersionsAreRejectedNamingTheVersion() {
        for (Sample s : SAMPLES) {
            for (int version : new int[] {0, 2, 255}) {
                byte[] b = s.bytes().clone();
                b[1] = (byte) version;
                assertEquals("unsupported version " + version, rejected(b, b.length, s.kind().decoder()));
                // The version is reported before the length, so the switch can answer unsupported-version.
                assertEquals("unsupported version " + version, rejected(b, 4, s.kind().decoder()));
            }
        }
    }

    @Test
    void eachDecoderRejectsEveryOtherType() {
        for (Sample s : SAMPLES) {
            for (Kind<?> other : KINDS) {
                if (other != s.kind()) {
                    String message = rejected(s.bytes(), s.bytes().length, other.decoder());
                    assertTrue(message.startsWith("expected " + other.name() + ", got "), message);
                }
            }
            for (int type : new int[] {0, Wire.FRAME, 8, 15, 255}) {
                byte[] b = s.bytes().clone();
                b[2] = (byte) type;
                assertTrue(rejected(b, b.length, s.kind().decoder()).endsWith("got " + Wire.typeName(type)));
            }
        }
    }

    @Test
    void sealedMessagesAreRejectedAndReservedFlagsIgnored() throws Exception {
        for (Sample s : SAMPLES) {
            byte[] sealed = s.bytes().clone();
            sealed[3] = Wire.FLAG_SEALED;
            assertTrue(rejected(sealed, sealed.length, s.kind().decoder()).startsWith("sealed "));
            byte[] reserved = s.bytes().clone();
            reserved[3] = (byte) 0xFE;
            assertEquals(decode(s.bytes(), s.kind().decoder()), decode(reserved, s.kind().decoder()));
        }
    }

    @Test
    void randomInputGivesAMessageOrAProtocolExceptionAndNothingElse() throws Exception {
        Random random = new Random(0x766c32L);
        int[] accepted = new int[KINDS.size()];
        int[] refused = new int[KINDS.size()];
        for (int i = 0; i < 100_000; i++) {
            byte[] bytes = randomDatagram(random, i % 3);
            ByteBuffer b = randomLayout(random, bytes);
            try {
                int type = Wire.type(b);
                assertTrue(type == -1 || type >= 1 && type <= 7 || type >= Wire.KEY_REQUEST && type <= Wire.ROUTES_ACK
                        || type >= Wire.PAIR && type <= Wire.PROBE_ACK);
                assertTrue(Wire.version(b) >= -1 && Wire.version(b) <= 255);
                assertTrue(Wire.flags(b) >= -1 && Wire.flags(b) <= 255);
                if (bytes.length < 16) {
                    assertEquals(0, FrameHeader.port(b));
                    assertEquals(0L, FrameHeader.token(b));
                } else {
                    FrameHeader.port(b);
                    FrameHeader.token(b);
                }
                for (int k = 0; k < KINDS.size(); k++) {
                    if (tryDecode(KINDS.get(k), b)) {
                        accepted[k]++;
                    } else {
                        refused[k]++;
                    }
                }
            } catch (RuntimeException | AssertionError e) {
                throw new AssertionError("input " + hex(bytes) + " in " + b, e);
            }
        }
        // The generator must reach past the header checks, else this test proves little.
        for (int k = 0; k < KINDS.size(); k++) {
            assertTrue(accepted[k] > 100 && refused[k] > 100,
                    KINDS.get(k).name() + ": " + accepted[k] + " accepted, " + refused[k] + " refused");
        }
    }

    /** Decodes; a result must survive a re-encode unchanged and match the header. False on ProtocolException. */
    private static <T> boolean tryDecode(Kind<T> kind, ByteBuffer b) {
        T message;
        try {
            message = decodeKeeping(b, kind.decoder());
        } catch (ProtocolException e) {
            assertFalse(e.getMessage() == null || e.getMessage().isBlank());
            return false;
        }
        int type = Wire.type(b);
        assertTrue(type == kind.types()[0] || type == kind.types()[kind.types().length - 1]);
        assertEquals(Wire.VERSION, Wire.version(b));
        ByteBuffer again = ByteBuffer.allocate(300);
        kind.encoder().accept(message, again);
        again.flip();
        try {
            assertEquals(message, kind.decoder().decode(again));
        } catch (ProtocolException e) {
            throw new AssertionError(kind.name() + " re-encoded from " + message + " does not decode", e);
        }
        return true;
    }

    /** Pure noise, noise behind a plausible header, or a valid message cut or padded and with a few bytes hit. */
    private static byte[] randomDatagram(Random random, int flavour) {
        byte[] bytes = new byte[random.nextInt(101)];
        random.nextBytes(bytes);
        if (flavour == 1) {
            int[] header = {Wire.MAGIC, random.nextInt(16) == 0 ? random.nextInt(256) : Wire.VERSION,
                    TYPES[random.nextInt(TYPES.length)], random.nextInt(8) == 0 ? random.nextInt(256) : 0};
            for (int i = 0; i < Math.min(4, bytes.length); i++) {
                bytes[i] = (byte) header[i];
            }
        } else if (flavour == 2) {
            byte[] valid = SAMPLES.get(random.nextInt(SAMPLES.size())).bytes();
            System.arraycopy(valid, 0, bytes, 0, Math.min(valid.length, bytes.length));
            for (int hits = random.nextInt(4); hits > 0 && bytes.length > 0; hits--) {
                bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
            }
        }
        return bytes;
    }

    /** The datagram in a heap or direct buffer of either order, at a random position, noise around it. */
    private static ByteBuffer randomLayout(Random random, byte[] bytes) {
        int before = random.nextInt(8);
        int capacity = before + bytes.length + random.nextInt(8);
        ByteBuffer b = random.nextBoolean() ? ByteBuffer.allocate(capacity) : ByteBuffer.allocateDirect(capacity);
        b.order(random.nextBoolean() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < capacity; i++) {
            b.put(i, (byte) random.nextInt(256));
        }
        b.put(before, bytes);
        return b.position(before).limit(before + bytes.length);
    }
}

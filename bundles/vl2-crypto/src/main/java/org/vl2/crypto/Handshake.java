package org.vl2.crypto;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * The handshake's wire format (docs/crypto.md): two messages in protocol v1's reserved type range, behind the
 * common 4-byte header (magic 0x56, version 1, type, flags 0).
 *
 * <pre>
 * INITIATION, type 8 (agent -&gt; switch), 256..1168 bytes, a multiple of 16 above 256:
 *  0   4  header
 *  4   4  sender index        the initiator's index for the session (chosen at random)
 *  8  32  ephemeral           the initiator's ephemeral X25519 public key, in clear
 * 40  48  static              AEAD(the initiator's static public key)                    after es
 * 88   n  body                AEAD(timestamp 12 | payload length 2 | payload | zero pad)  after ss
 * L-16 16 mac1                HMAC-SHA256(SHA-256("vl2 mac1" | responder's public key), bytes 0..L-16), first 16
 *
 * RESPONSE, type 9 (switch -&gt; agent), 62 + payload bytes, never longer than the initiation it answers:
 *  0   4  header
 *  4   4  sender index        the responder's index for the session
 *  8   4  receiver index      the initiation's sender index
 * 12  32  ephemeral           the responder's ephemeral X25519 public key, in clear
 * 44   n  body                AEAD(payload length 2 | payload)                            after ee, se
 * </pre>
 */
public final class Handshake {

    public static final int MAGIC = 0x56;
    public static final int VERSION = 1;
    /** Message type of the initiation (protocol v1 reserves 8-15 for the handshake). */
    public static final int INITIATION = 8;
    /** Message type of the response. */
    public static final int RESPONSE = 9;
    /** Largest payload either message carries. */
    public static final int MAX_PAYLOAD = 1024;
    /**
     * Initiations are padded to at least this, so that a response with up to
     * {@code MIN_INITIATION_LENGTH - RESPONSE_OVERHEAD} bytes of payload is never larger than what it answers.
     */
    public static final int MIN_INITIATION_LENGTH = 256;
    /** Initiation bytes besides payload and padding: 88 + 12 + 2 + 16 (tag) + 16 (mac1). */
    public static final int INITIATION_OVERHEAD = 134;
    public static final int MAX_INITIATION_LENGTH = roundUp16(INITIATION_OVERHEAD + MAX_PAYLOAD);
    /** Response bytes besides the payload: 44 + 2 + 16 (tag). */
    public static final int RESPONSE_OVERHEAD = 62;
    public static final int MAX_RESPONSE_LENGTH = RESPONSE_OVERHEAD + MAX_PAYLOAD;

    static final int HEADER_LENGTH = 4;
    static final int KEY_LENGTH = X25519.KEY_LENGTH;
    static final int TAG_LENGTH = Aead.TAG_LENGTH;
    static final int MAC_LENGTH = 16;

    static final int I_SENDER = 4;
    static final int I_EPHEMERAL = 8;
    static final int I_STATIC = 40;
    static final int I_STATIC_LENGTH = KEY_LENGTH + TAG_LENGTH;
    static final int I_BODY = 88;
    /** Timestamp and payload length in front of the initiation's payload. */
    static final int I_BODY_PREFIX = Tai64n.LENGTH + 2;

    static final int R_SENDER = 4;
    static final int R_RECEIVER = 8;
    static final int R_EPHEMERAL = 12;
    static final int R_BODY = 44;

    static final byte[] MAC1_LABEL = "vl2 mac1".getBytes(StandardCharsets.US_ASCII);

    private Handshake() {
    }

    /**
     * {@link #INITIATION} or {@link #RESPONSE} if the datagram between position and limit starts with a
     * handshake header (magic, version 1, that type, flags 0), else -1. Absolute reads; does not check lengths.
     */
    public static int type(ByteBuffer datagram) {
        int p = datagram.position();
        if (datagram.limit() - p < HEADER_LENGTH || (datagram.get(p) & 0xFF) != MAGIC
                || (datagram.get(p + 1) & 0xFF) != VERSION || datagram.get(p + 3) != 0) {
            return -1;
        }
        int type = datagram.get(p + 2) & 0xFF;
        return type == INITIATION || type == RESPONSE ? type : -1;
    }

    /**
     * The receiver index of a response (offset 8), so that an initiator with several handshakes in flight finds
     * the one it answers before spending any Diffie-Hellman on it.
     *
     * @throws CryptoException ({@link CryptoException.Reason#MALFORMED}) if it is not a response of a possible
     *                         length
     */
    public static int receiverIndex(ByteBuffer response) throws CryptoException {
        int len = response.limit() - response.position();
        if (type(response) != RESPONSE || len < RESPONSE_OVERHEAD || len > MAX_RESPONSE_LENGTH) {
            throw new CryptoException(CryptoException.Reason.MALFORMED, "not a handshake response");
        }
        return getInt(response, response.position() + R_RECEIVER);
    }

    /** Length of an initiation carrying {@code payloadLength} bytes. */
    static int initiationLength(int payloadLength) {
        return Math.max(MIN_INITIATION_LENGTH, roundUp16(INITIATION_OVERHEAD + payloadLength));
    }

    static byte[] copy(ByteBuffer datagram) {
        byte[] b = new byte[datagram.limit() - datagram.position()];
        datagram.get(datagram.position(), b);
        return b;
    }

    /** Checks magic, version, type and flags (0: the handshake has no flags) of a copied message. */
    static void checkHeader(byte[] msg, int type, String what) throws CryptoException {
        if ((msg[0] & 0xFF) != MAGIC || (msg[1] & 0xFF) != VERSION || (msg[2] & 0xFF) != type || msg[3] != 0) {
            throw new CryptoException(CryptoException.Reason.MALFORMED, what + " header is not 56 01 "
                    + String.format(Locale.ROOT, "%02x", type) + " 00");
        }
    }

    static void putHeader(byte[] msg, int type) {
        msg[0] = (byte) MAGIC;
        msg[1] = (byte) VERSION;
        msg[2] = (byte) type;
        msg[3] = 0;
    }

    static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    static int getInt(byte[] b, int at) {
        return (b[at] & 0xFF) << 24 | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | b[at + 3] & 0xFF;
    }

    static int getInt(ByteBuffer b, int at) {
        return (b.get(at) & 0xFF) << 24 | (b.get(at + 1) & 0xFF) << 16 | (b.get(at + 2) & 0xFF) << 8
                | b.get(at + 3) & 0xFF;
    }

    /** mac1 over msg[0..len): lets the responder drop, with one HMAC, initiations not meant for its key. */
    static byte[] mac1(byte[] responderStatic, byte[] msg, int len) {
        byte[] key = SymmetricState.hash(MAC1_LABEL, responderStatic);
        byte[] full = Hkdf.hmac(key, Arrays.copyOf(msg, len));
        return Arrays.copyOf(full, MAC_LENGTH);
    }

    private static int roundUp16(int n) {
        return (n + 15) & ~15;
    }
}

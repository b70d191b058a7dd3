package org.vl2.crypto;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

import javax.crypto.Mac;

/**
 * The handshake's wire format (docs/crypto.md): three messages in protocol v1's reserved type range, behind the
 * common 4-byte header (magic 0x56, version 1, type, flags 0).
 *
 * <pre>
 * INITIATION, type 8 (agent -&gt; switch), 256..1184 bytes, a multiple of 16 above 256:
 *  0   4  header
 *  4   4  sender index        the initiator's index for the session (chosen at random)
 *  8  32  ephemeral           the initiator's ephemeral X25519 public key, in clear
 * 40  48  static              AEAD(the initiator's static public key)                    after es
 * 88   n  body                AEAD(timestamp 12 | payload length 2 | payload | offer | zero pad)  after ss
 *                             offer: count 1 | cipher ids (CipherSuite wire ids, best first); absent (zero
 *                             pad) from initiators before cipher negotiation
 * L-32 16 mac1                HMAC-SHA256(SHA-256("vl2 mac1" | responder's public key), bytes 0..L-32), first 16
 * L-16 16 mac2                HMAC-SHA256(cookie, bytes 0..L-16), first 16; zeros without a cookie
 *
 * RESPONSE, type 9 (switch -&gt; agent), 62 + payload bytes, never longer than the initiation it answers:
 *  0   4  header
 *  4   4  sender index        the responder's index for the session
 *  8   4  receiver index      the initiation's sender index
 * 12  32  ephemeral           the responder's ephemeral X25519 public key, in clear
 * 44   n  body                AEAD(payload length 2 | payload | choice)                   after ee, se
 *                             choice: 1 byte, the chosen cipher's wire id; only when the initiation offered
 *
 * COOKIE REPLY, type 10 (switch -&gt; agent), 52 bytes, instead of a response when the switch is under load:
 *  0   4  header
 *  4   4  receiver index      the initiation's sender index
 *  8  12  nonce               random
 * 20  32  cookie              AEAD(SHA-256("vl2 cookie" | responder's public key), nonce, ad = the initiation's
 *                             mac1, cookie 16)
 * </pre>
 *
 * <p>mac2 is outside the transcript and not checked by {@link Responder#consume}: {@link CookieChecker} checks it,
 * before any Diffie-Hellman, when the switch wants proof of the source address.
 */
public final class Handshake {

    public static final int MAGIC = 0x56;
    public static final int VERSION = 1;
    /** Message type of the initiation (protocol v1 reserves 8-15 for the handshake). */
    public static final int INITIATION = 8;
    /** Message type of the response. */
    public static final int RESPONSE = 9;
    /** Message type of the cookie reply ({@link CookieChecker#cookieReply}). */
    public static final int COOKIE_REPLY = 10;
    /** Largest payload either message carries (with the cipher offer or choice). */
    public static final int MAX_PAYLOAD = 1024;
    /** Most cipher suites one offer may name. */
    static final int MAX_OFFER = 8;
    /**
     * Initiations are padded to at least this, so that a response with up to
     * {@code MIN_INITIATION_LENGTH - RESPONSE_OVERHEAD} bytes of payload is never larger than what it answers.
     */
    public static final int MIN_INITIATION_LENGTH = 256;
    /** Initiation bytes besides payload and padding: 88 + 12 + 2 + 16 (tag) + 16 (mac1) + 16 (mac2). */
    public static final int INITIATION_OVERHEAD = 150;
    public static final int MAX_INITIATION_LENGTH = roundUp16(INITIATION_OVERHEAD + MAX_PAYLOAD);
    /** Response bytes besides the payload: 44 + 2 + 16 (tag). */
    public static final int RESPONSE_OVERHEAD = 62;
    public static final int MAX_RESPONSE_LENGTH = RESPONSE_OVERHEAD + MAX_PAYLOAD;
    /** The cookie reply's only length: 4 + 4 + 12 (nonce) + 16 (cookie) + 16 (tag); below any initiation's. */
    public static final int COOKIE_REPLY_LENGTH = 52;

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

    static final int C_RECEIVER = 4;
    static final int C_NONCE = 8;
    static final int C_COOKIE = C_NONCE + Aead.NONCE_LENGTH;

    static final byte[] MAC1_LABEL = "vl2 mac1".getBytes(StandardCharsets.US_ASCII);
    static final byte[] COOKIE_LABEL = "vl2 cookie".getBytes(StandardCharsets.US_ASCII);

    private Handshake() {
    }

    /**
     * {@link #INITIATION}, {@link #RESPONSE} or {@link #COOKIE_REPLY} if the datagram between position and limit
     * starts with a handshake header (magic, version 1, that type, flags 0), else -1. Absolute reads; does not
     * check lengths.
     */
    public static int type(ByteBuffer datagram) {
        int p = datagram.position();
        if (datagram.limit() - p < HEADER_LENGTH || (datagram.get(p) & 0xFF) != MAGIC
                || (datagram.get(p + 1) & 0xFF) != VERSION || datagram.get(p + 3) != 0) {
            return -1;
        }
        int type = datagram.get(p + 2) & 0xFF;
        return type == INITIATION || type == RESPONSE || type == COOKIE_REPLY ? type : -1;
    }

    /**
     * The receiver index of a response (offset 8) or a cookie reply (offset 4), so that an initiator with several
     * handshakes in flight finds the one it answers before spending any Diffie-Hellman or AEAD on it.
     *
     * @throws CryptoException ({@link CryptoException.Reason#MALFORMED}) if it is neither a response nor a cookie
     *                         reply of a possible length
     */
    public static int receiverIndex(ByteBuffer answer) throws CryptoException {
        int len = answer.limit() - answer.position();
        int type = type(answer);
        if (type == RESPONSE && len >= RESPONSE_OVERHEAD && len <= MAX_RESPONSE_LENGTH) {
            return getInt(answer, answer.position() + R_RECEIVER);
        }
        if (type == COOKIE_REPLY && len == COOKIE_REPLY_LENGTH) {
            return getInt(answer, answer.position() + C_RECEIVER);
        }
        throw new CryptoException(CryptoException.Reason.MALFORMED, "not a handshake response or cookie reply");
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

    /** Offset of an initiation's mac1 (mac2 follows it, the last 16 bytes). */
    static int mac1Offset(int initiationLength) {
        return initiationLength - 2 * MAC_LENGTH;
    }

    static int mac2Offset(int initiationLength) {
        return initiationLength - MAC_LENGTH;
    }

    /** Whether a length and the header can be an initiation's: the checks before any MAC or DH. */
    static boolean isInitiation(ByteBuffer datagram) {
        int len = datagram.limit() - datagram.position();
        return len >= MIN_INITIATION_LENGTH && len <= MAX_INITIATION_LENGTH && type(datagram) == INITIATION;
    }

    /** mac1's key: the responder's public key, so every initiator can compute it and nobody else needs a secret. */
    static byte[] mac1Key(byte[] responderStatic) {
        return SymmetricState.hash(MAC1_LABEL, responderStatic);
    }

    /** The cookie reply's AEAD key; derived from the public key like mac1's, so the initiator can open it. */
    static byte[] cookieKey(byte[] responderStatic) {
        return SymmetricState.hash(COOKIE_LABEL, responderStatic);
    }

    /** mac1 over msg[0..len): lets the responder drop, with one HMAC, initiations not meant for its key. */
    static byte[] mac1(byte[] responderStatic, byte[] msg, int len) {
        return mac(mac1Key(responderStatic), msg, len);
    }

    /** The first 16 bytes of HMAC-SHA256(key, msg[0..len)): mac1, mac2 and (over the source) the cookie. */
    static byte[] mac(byte[] key, byte[] msg, int len) {
        Mac mac = Hkdf.mac(key);
        mac.update(msg, 0, len);
        return Arrays.copyOf(mac.doFinal(), MAC_LENGTH);
    }

    /**
     * Whether msg[len..len+16) is the first 16 bytes of {@code mac}'s HMAC of msg[0..len); {@code mac} is reset.
     * Constant time: a mac2 compared byte by byte would leak, through timing, how much of a guess is right.
     */
    static boolean macMatches(Mac mac, byte[] msg, int len) {
        mac.update(msg, 0, len);
        byte[] full = mac.doFinal();
        int diff = 0;
        for (int i = 0; i < MAC_LENGTH; i++) {
            diff |= full[i] ^ msg[len + i];
        }
        return diff == 0;
    }

    private static int roundUp16(int n) {
        return (n + 15) & ~15;
    }
}

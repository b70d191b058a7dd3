package org.vl2.protocol;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * KEY-REPLY (switch to agent), type 12, 40 bytes: the switch's static X25519 public key, in clear and
 * unauthenticated. An agent may pin it on first use (only with trust-on-first-use configured, and it warns that
 * an attacker on the path at that moment could have answered), or compare it with the key it has pinned to say
 * why its handshakes go unanswered. It never replaces a pinned key.
 *
 * <pre>
 *  0  4  header (type 12)
 *  4  4  reserved (0)
 *  8 32  the switch's public key
 * </pre>
 *
 * @param publicKey 32 bytes
 */
public record KeyReply(byte[] publicKey) {

    public static final int KEY_LENGTH = 32;

    public KeyReply {
        if (publicKey.length != KEY_LENGTH) {
            throw new IllegalArgumentException("a public key is " + KEY_LENGTH + " bytes, got " + publicKey.length);
        }
        publicKey = publicKey.clone();
    }

    @Override
    public byte[] publicKey() {
        return publicKey.clone();
    }

    /** Writes exactly 40 bytes at the position and advances it. */
    public void encode(ByteBuffer out) {
        int at = Codec.reserve(out, Wire.KEY_REPLY_LENGTH);
        Codec.putHeader(out, at, Wire.KEY_REPLY, 0);
        Codec.put32(out, at + 4, 0);
        out.put(at + 8, publicKey);
        out.position(at + Wire.KEY_REPLY_LENGTH);
    }

    /** Reads a KEY-REPLY from [position, limit) without moving either. */
    public static KeyReply decode(ByteBuffer datagram) throws ProtocolException {
        int p = Codec.check(datagram, Wire.KEY_REPLY, Wire.KEY_REPLY, Wire.KEY_REPLY_LENGTH);
        byte[] key = new byte[KEY_LENGTH];
        datagram.get(p + 8, key);
        return new KeyReply(key);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyReply r && Arrays.equals(publicKey, r.publicKey);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(publicKey);
    }

    @Override
    public String toString() {
        return "KeyReply[" + Arrays.toString(publicKey) + "]";
    }
}

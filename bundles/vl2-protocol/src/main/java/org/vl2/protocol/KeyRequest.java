package org.vl2.protocol;

import java.nio.ByteBuffer;

/**
 * KEY-REQUEST (agent to switch), type 11, exactly 64 bytes: "which public key do you hold?". Sent only by an
 * agent that trusts on first use (it has no key pinned yet) and by one whose handshakes go unanswered (to tell the
 * operator that the switch holds another key than the pinned one). The answer is a {@link KeyReply}; the padding
 * keeps the reply shorter than the request, so a spoofed request cannot be amplified.
 */
public record KeyRequest() {

    /** Writes exactly 64 bytes (header and zero padding) at the position and advances it. */
    public void encode(ByteBuffer out) {
        int at = Codec.reserve(out, Wire.KEY_REQUEST_LENGTH);
        Codec.putHeader(out, at, Wire.KEY_REQUEST, 0);
        for (int i = Wire.HEADER_LENGTH; i < Wire.KEY_REQUEST_LENGTH; i += 4) {
            Codec.put32(out, at + i, 0);
        }
        out.position(at + Wire.KEY_REQUEST_LENGTH);
    }

    /** Checks a KEY-REQUEST in [position, limit) without moving either: at least 64 bytes, padding ignored. */
    public static KeyRequest decode(ByteBuffer datagram) throws ProtocolException {
        Codec.check(datagram, Wire.KEY_REQUEST, Wire.KEY_REQUEST, Wire.KEY_REQUEST_LENGTH);
        return new KeyRequest();
    }
}

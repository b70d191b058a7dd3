package org.vl2.agent.internal;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * One wire mode's framing (Open vSwitch's vport: one place per encapsulation), so that the pumps have no mode
 * branches. Both directions work in place: a TAP frame is read {@link #headroom} bytes into its buffer and the
 * header written in front of it (a tag, {@link #tailroom}, behind it); a datagram is decoded where it lies in the
 * receive slot, to the frame it carries or to a control message for the session. Never allocates or logs per frame
 * (the sealed codec hands the rare handshake answers to the control thread as a copy).
 *
 * <p>Implementations: {@link RawCodec} (the frame alone), {@link VxlanCodec} (RFC 7348), {@link Vl2Codec} (vl2
 * plaintext: port and token in front), {@link SealedCodec} (vl2 encrypted: AES-256-GCM or ChaCha20-Poly1305).
 */
interface FrameCodec {

    /** Bytes in front of each frame for the header. */
    int headroom();

    /** Bytes behind each frame (the tag). */
    int tailroom();

    /**
     * Turns the frame at {@code frameAt} ({@code length} bytes) of {@code buf} into the datagram to send, in place:
     * the header in the {@link #headroom} bytes in front of it; position and limit then bound the datagram.
     *
     * @return false if the frame cannot go out now (not joined, keys expired): the caller counts a drop
     */
    boolean encode(ByteBuffer buf, int frameAt, int length);

    /**
     * Takes the datagram at {@code at} ({@code length} bytes) of {@code buf}, received from {@code from} on
     * {@code link}: for a frame, position and limit then bound it and the frame's length is returned; anything else
     * (a control message passed on, an acknowledgement taken, a counted drop) returns -1.
     */
    int decode(ByteBuffer buf, int at, int length, InetSocketAddress from, Link link);

    /**
     * Where the datagram the last {@link #encode} made goes when not to the switch: a peer's endpoint (direct paths),
     * or null. Read by the thread that encoded, right after.
     */
    default InetSocketAddress directTo() {
        return null;
    }

    /** Raw and vxlan modes: the keepalive datagram of a port with this MAC; vl2 mode has its own KEEPALIVE: null. */
    default ByteBuffer keepalive(byte[] mac) {
        return null;
    }
}

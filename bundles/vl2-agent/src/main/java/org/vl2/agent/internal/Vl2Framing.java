package org.vl2.agent.internal;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

import org.vl2.protocol.FrameHeader;
import org.vl2.protocol.KeyReply;
import org.vl2.protocol.ProtocolError;
import org.vl2.protocol.ProtocolException;
import org.vl2.protocol.Welcome;
import org.vl2.protocol.Wire;

/**
 * What the two vl2 codecs share on the receive side (docs/protocol.md): the 4-byte message header, the protocol
 * version, and the control messages both take in the clear (KEY-REPLY, ERROR) and hand to the session's control
 * thread. Each codec decides about the rest: {@link Vl2Codec} (plaintext FRAMEs, WELCOMEs, KEEPALIVE-ACKs) and
 * {@link SealedCodec} (sealed FRAMEs and KEEPALIVE-ACKs, handshake answers).
 */
abstract class Vl2Framing implements FrameCodec {

    static final int HEADER = FrameHeader.LENGTH;

    final Counters counters;
    final LinkKeeper links;
    final Vl2Session session;
    final TapPort tap;
    /** A datagram that fills the receive buffer was truncated. */
    final int room;

    Vl2Framing(CodecContext context, Vl2Session session) {
        this.counters = context.counters();
        this.links = context.links();
        this.session = session;
        this.tap = context.tap();
        this.room = context.room();
    }

    @Override
    public final int headroom() {
        return HEADER;
    }

    @Override
    public final int decode(ByteBuffer buf, int at, int n, InetSocketAddress from, Link link) {
        buf.limit(at + n).position(at);
        int type = Wire.type(buf);
        if (type < 0) {
            notVl2(buf, at, n);
            return -1;
        }
        links.heard(links.clock().millis());
        if (Wire.version(buf) != Wire.VERSION) {
            // an ERROR goes to the session, which counts it (encrypted: unauthenticated, ignored)
            if (type != Wire.ERROR) {
                counters.malformed();
            } else if (!session.offer(new ControlMessage.ForeignVersion(Wire.version(buf)))) {
                counters.queueFull();
            }
            return -1;
        }
        if (type == Wire.KEY_REPLY) {
            keyReply(buf);
            return -1;
        }
        return message(buf, at, n, type);
    }

    /** Not a vl2 message (a raw frame from a raw-mode switch?), unless the codec knows better. */
    void notVl2(ByteBuffer buf, int at, int n) {
        counters.malformed();
    }

    /** A vl2 message of this version, other than KEY-REPLY, at {@code at} (position and limit bound it). */
    abstract int message(ByteBuffer buf, int at, int n, int type);

    /** A KEY-REPLY: for the control thread, only while a KEY-REQUEST is outstanding. */
    private void keyReply(ByteBuffer buf) {
        KeyReply reply = null;
        if (session.keyRequested()) {
            try {
                reply = KeyReply.decode(buf);
            } catch (ProtocolException e) {
                // counted below
            }
        }
        if (reply == null) {
            counters.malformed(); // unsolicited, or not a key reply
        } else if (!session.offer(new ControlMessage.KeyOffered(reply))) {
            counters.queueFull(); // a valid reply the control thread had no room for, as the other control messages
        }
    }

    /** A WELCOME or ERROR in the clear, for the control thread. */
    final void control(ByteBuffer buf, int type) {
        ControlMessage message;
        try {
            message = type == Wire.WELCOME ? new ControlMessage.Welcomed(Welcome.decode(buf))
                    : new ControlMessage.Refused(ProtocolError.decode(buf));
        } catch (ProtocolException e) {
            counters.malformed();
            return;
        }
        if (!session.offer(message)) {
            counters.queueFull(); // more than the control thread can keep up with: not a switch behaving
        }
    }
}

package org.vl2.switching.internal.vl2;

import java.nio.ByteBuffer;

import org.vl2.crypto.CryptoException;
import org.vl2.crypto.Session;
import org.vl2.protocol.FrameHeader;
import org.vl2.protocol.SealedHeader;
import org.vl2.protocol.Wire;
import org.vl2.switching.internal.Egress;
import org.vl2.switching.internal.PortFraming;
import org.vl2.switching.internal.SwitchPort;
import org.vl2.switching.internal.SwitchPort.Kind;
import org.vl2.api.spi.Transport;

/**
 * Egress to a vl2 port: a FRAME message, plain (port number and token in the header) or sealed (the header of
 * docs/crypto.md, then the frame encrypted with the port's current session). The forwarder calls it through the
 * port's {@link PortFraming}; it is the only place vl2 framing is written.
 */
final class Vl2Framing implements PortFraming {

    static final Vl2Framing PLAIN = new Vl2Framing(false);
    static final Vl2Framing SEALED = new Vl2Framing(true);

    private final boolean sealed;

    private Vl2Framing(boolean sealed) {
        this.sealed = sealed;
    }

    /** The FRAME header, and for a sealed FRAME the authentication tag behind the frame. */
    @Override
    public int overhead() {
        return sealed ? SealedHeader.LENGTH + Session.TAG_LENGTH : FrameHeader.LENGTH;
    }

    @Override
    public boolean send(Transport t, SwitchPort out, SwitchPort in, ByteBuffer frame, int length, Egress e) {
        return sealed ? sendSealed(t, out, frame, length, e)
                : sendPlain(t, out, in != null && in.kind == Kind.VL2, frame, length, e);
    }

    /**
     * A FRAME message to a vl2 port. A frame that came in as a plain FRAME has its old header in front of it: that
     * header is rewritten in place, so nothing is copied. Other frames are copied once into the thread's egress
     * buffer (behind room for the header), however many vl2 ports a flood reaches.
     */
    private static boolean sendPlain(Transport t, SwitchPort out, boolean headroom, ByteBuffer frame, int length,
                                     Egress e) {
        ByteBuffer d;
        int at;
        if (headroom) {
            d = frame;
            at = frame.position() - FrameHeader.LENGTH;
        } else {
            d = e.vl2Copy(frame, length);
            at = 0;
        }
        FrameHeader.write(d, at, out.id.number(), out.token);
        int position = d.position();
        d.position(at);
        try {
            return t.send(out.remote, d, out.id);
        } finally {
            d.position(position);
        }
    }

    /** A sealed FRAME to an encrypted port: the frame copied behind the header and sealed there, once per port. */
    private static boolean sendSealed(Transport t, SwitchPort out, ByteBuffer frame, int length, Egress e) {
        Session s = out.session;
        if (s == null) {
            return false;
        }
        ByteBuffer b = e.sealed;
        b.clear();
        SealedHeader.write(b, 0, Wire.FRAME, s.remoteIndex());
        b.put(SealedHeader.LENGTH, frame, frame.position(), length);
        b.limit(SealedHeader.LENGTH + length + Session.TAG_LENGTH);
        try {
            s.seal(b, 0, SealedHeader.LENGTH, length, System.nanoTime());
        } catch (CryptoException ex) {
            return false; // the session expired: the agent re-keys or re-joins
        }
        return t.send(out.remote, b, out.id);
    }
}

package org.vl2.agent.internal;

import java.nio.ByteBuffer;

import org.vl2.api.EthernetFrame;
import org.vl2.protocol.FrameHeader;
import org.vl2.protocol.Keepalive;
import org.vl2.protocol.ProtocolException;
import org.vl2.protocol.SealedHeader;
import org.vl2.protocol.Wire;

/**
 * vl2 mode in plaintext ({@code encryption = false}): each frame behind the 16-byte FRAME header with the port id
 * and session token of the WELCOME; from the switch, FRAMEs with this port's id and token, KEEPALIVE-ACKs, and the
 * WELCOMEs and ERRORs for the control thread.
 */
final class Vl2Codec extends Vl2Framing {

    Vl2Codec(CodecContext context, Vl2Session session) {
        super(context, session);
    }

    @Override
    public int tailroom() {
        return 0;
    }

    @Override
    public boolean encode(ByteBuffer buf, int frameAt, int length) {
        Vl2Session.Joined s = session.joined();
        if (s == null) {
            return false; // not joined yet
        }
        int base = frameAt - HEADER;
        FrameHeader.write(buf, base, s.port(), s.token());
        buf.limit(frameAt + length).position(base);
        return true;
    }

    @Override
    int message(ByteBuffer buf, int at, int n, int type) {
        switch (type) {
            case Wire.FRAME:
                return frame(buf, at, n);
            case Wire.KEEPALIVE_ACK:
                acknowledged(buf);
                return -1;
            case Wire.WELCOME:
            case Wire.ERROR:
                control(buf, type);
                return -1;
            default:
                counters.malformed(); // JOIN, KEEPALIVE, LEAVE: only agents send those
                return -1;
        }
    }

    private int frame(ByteBuffer buf, int at, int n) {
        Vl2Session.Joined s = session.joined();
        int length = n - HEADER;
        if (s == null || FrameHeader.port(buf) != s.port() || FrameHeader.token(buf) != s.token()) {
            counters.foreign(); // another session's (an old token), or a stranger's
            return -1;
        }
        if (SealedHeader.isSealed(buf, at) || length < EthernetFrame.HEADER_LENGTH
                || length > tap.device().maxFrameLength() || n >= room) {
            counters.malformed(); // sealed (no such session in plaintext), a runt, or longer than the TAP's MTU allows
            return -1;
        }
        buf.position(at + HEADER);
        return length;
    }

    /** A KEEPALIVE-ACK: the round trip of the keepalive it echoes. */
    private void acknowledged(ByteBuffer buf) {
        Keepalive ack;
        try {
            ack = Keepalive.decode(buf);
        } catch (ProtocolException e) {
            counters.malformed();
            return;
        }
        Vl2Session.Joined s = session.joined();
        if (s == null || ack.port() != s.port() || ack.token() != s.token()) {
            counters.foreign();
            return;
        }
        session.acknowledged(ack.sequence());
    }
}

package org.vl2.agent.internal;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

import org.vl2.api.EthernetFrame;
import org.vl2.crypto.CryptoException;
import org.vl2.crypto.Handshake;
import org.vl2.crypto.Session;
import org.vl2.protocol.Pair;
import org.vl2.protocol.ProtocolException;
import org.vl2.protocol.Routes;
import org.vl2.protocol.SealedHeader;
import org.vl2.protocol.Wire;

/**
 * vl2 mode encrypted (docs/crypto.md): each frame sealed in place with the session's cipher behind a
 * {@link SealedHeader} (the switch's session index, the counter) and followed by the tag. From the switch only
 * sealed FRAMEs and KEEPALIVE-ACKs that open under this agent's session index (current keys, or the replaced ones
 * until they expire) are taken, plus the handshake answers and ERRORs for the control thread; anything else,
 * plaintext WELCOMEs included (the WELCOME comes inside the RESPONSE), is a counted drop.
 *
 * <p>Pair keys ({@link Pairs}): a frame of a flow the switch gave a SEND pair for is sealed with the pair's keys
 * behind the pair's index instead, and a sealed FRAME under a RECEIVE pair's index opens with that pair's keys. Such
 * a frame proves its sender, not the switch: it never counts as the switch heard ({@link Vl2Session#authentic}).
 */
final class SealedCodec extends Vl2Framing {

    static final int TAG = Session.TAG_LENGTH;

    private final Pairs pairs;

    /** Where the last encoded frame goes if not to the switch (direct paths); the encoding thread's. */
    private InetSocketAddress directTo;

    /** When the receive thread last told the switch of an index it holds no pair for (ms; that thread only). */
    private long unknownPairAt = Long.MIN_VALUE / 2;

    SealedCodec(CodecContext context, Vl2Session session) {
        super(context, session);
        this.pairs = session.pairs();
    }

    @Override
    public int tailroom() {
        return TAG;
    }

    @Override
    public InetSocketAddress directTo() {
        return directTo;
    }

    @Override
    public boolean encode(ByteBuffer buf, int frameAt, int length) {
        directTo = null;
        Vl2Session.Joined s = session.joined();
        if (s == null) {
            return false; // not joined yet
        }
        Session keys = s.keys();
        int base = frameAt - HEADER;
        buf.limit(frameAt + length + TAG);
        buf.position(base);
        long now = links.clock().nanos();
        Pairs.Send pair = pairs.sending(buf, frameAt, length);
        if (pair != null) {
            SealedHeader.write(buf, base, Wire.FRAME, pair.index());
            try {
                pair.keys().seal(buf, base, HEADER, length, now);
                counters.pairSealed.incrementAndGet();
                DirectPath d = pair.path();
                if (d != null) {
                    d.frames++; // only the holder of the send turn encodes (TapToSwitch), one writer at a time
                    if (d.up) {
                        directTo = d.target;
                    }
                }
                return true;
            } catch (CryptoException e) {
                pairs.expired(pair); // refused before it touched the frame: the session path takes it
            }
        }
        SealedHeader.write(buf, base, Wire.FRAME, keys.remoteIndex());
        try {
            keys.seal(buf, base, HEADER, length, now);
        } catch (CryptoException e) {
            return false; // the keys expired and no new handshake succeeded yet
        }
        return true;
    }

    /** A RESPONSE or COOKIE-REPLY (rare: one or two per handshake) goes to the control thread, which verifies it. */
    @Override
    void notVl2(ByteBuffer buf, int at, int n) {
        int handshakeType = Handshake.type(buf);
        if (handshakeType != Handshake.RESPONSE && handshakeType != Handshake.COOKIE_REPLY) {
            counters.malformed(); // not a vl2 message (a raw frame from a raw-mode switch?)
            return;
        }
        links.heard(links.clock().millis());
        byte[] copy = new byte[n];
        buf.get(at, copy);
        if (!session.offer(new ControlMessage.HandshakeAnswer(copy))) {
            counters.queueFull(); // more than the control thread can keep up with: not a switch behaving
        }
    }

    @Override
    int message(ByteBuffer buf, int at, int n, int type) {
        if (type == Wire.ERROR) {
            control(buf, type);
            return -1;
        }
        if (SealedHeader.isSealed(buf, at) && (type == Wire.FRAME || type == Wire.KEEPALIVE_ACK
                || type == Wire.ROUTES || type == Wire.PAIR)) {
            return sealed(buf, at, n, type);
        }
        counters.malformed(); // plaintext FRAMEs, KEEPALIVE-ACKs and WELCOMEs are refused
        return -1;
    }

    /** An opened ROUTES (rare: once per change of the network's routes) goes to the control thread. */
    private void routes(ByteBuffer buf, int at, int length) {
        Routes r;
        try {
            r = Routes.decode(buf, at, length);
        } catch (ProtocolException e) {
            counters.malformed();
            return;
        }
        if (!session.offer(new ControlMessage.RoutesOffered(r))) {
            counters.queueFull();
        }
    }

    /** An opened PAIR (rare: two per flow the switch pairs up) goes to the control thread, which acknowledges it. */
    private void pair(ByteBuffer buf, int at, int length) {
        Pair p;
        try {
            p = Pair.decode(buf, at, length);
        } catch (ProtocolException e) {
            counters.malformed();
            return;
        }
        if (!session.offer(new ControlMessage.PairOffered(p))) {
            counters.queueFull();
        }
    }

    /**
     * A sealed FRAME, KEEPALIVE-ACK, ROUTES or PAIR. Its receiver index says which keys: the current ones or, after a
     * rekey, the previous ones until they expire; else a receiving pair's. Opened in place; what does not open
     * (another session's, forged, modified, replayed, expired) is a counted drop.
     */
    private int sealed(ByteBuffer buf, int at, int n, int type) {
        if (n - HEADER - TAG < 0 || n >= room) {
            counters.malformed(); // shorter than header and tag, or longer than any frame the TAP device takes
            return -1;
        }
        int receiver = SealedHeader.receiverIndex(buf, at);
        Vl2Session.Joined s = session.joined();
        Session keys = s == null ? null : s.keys();
        if (keys == null || keys.localIndex() != receiver) {
            keys = session.previousKeys();
            if (keys == null || keys.localIndex() != receiver) {
                keys = session.olderKeys();
                if (keys == null || keys.localIndex() != receiver) {
                    return paired(buf, at, n, type, receiver);
                }
            }
        }
        int length;
        try {
            length = keys.open(buf, at, HEADER, n - HEADER, links.clock().nanos());
        } catch (CryptoException e) {
            counters.unopened();
            return -1;
        }
        session.authentic(links.clock().millis(), keys);
        if (type == Wire.ROUTES) {
            routes(buf, at + HEADER, length);
            return -1;
        }
        if (type == Wire.PAIR) {
            pair(buf, at + HEADER, length);
            return -1;
        }
        if (type == Wire.KEEPALIVE_ACK) {
            if (length == 8) {
                session.acknowledged(buf.getLong(at + HEADER));
            } else {
                counters.malformed();
            }
            return -1;
        }
        return frame(buf, at, length);
    }

    /**
     * A sealed message under an index this agent holds nothing for: if it is a pair the switch still forwards here
     * (this agent lost its pairs: a new join on the same port), say so, so that the switch ends it rather than send its
     * flow into the void until the pair's lifetime ends. The answer to a REVOKE is that word: the control thread
     * takes a REVOKE of the index (nothing to drop) and acknowledges it; the switch ignores it for an index that is not
     * a pair of this member. At most ten a second.
     */
    private void unknownPair(int index) {
        if (!pairs.enabled()) {
            return;
        }
        long now = links.clock().millis();
        if (now - unknownPairAt < 100) {
            return;
        }
        unknownPairAt = now;
        if (!session.offer(new ControlMessage.PairOffered(Pair.revoke(session.network(), index, Pair.UNTAGGED, 0,
                0)))) {
            counters.queueFull();
        }
    }

    /**
     * A sealed message under none of the session's indices: a frame of a receiving pair, opened with its keys and
     * taken only if it is of the pair's flow (the switch forwarded it unopened). Not the switch's word: no
     * {@link Vl2Session#authentic}.
     */
    private int paired(ByteBuffer buf, int at, int n, int type, int receiver) {
        Pairs.Receive pair = pairs.receiving(receiver);
        if (pair == null) {
            counters.foreign(); // keys this agent no longer (or never) had
            unknownPair(receiver);
            return -1;
        }
        if (type != Wire.FRAME) {
            counters.malformed(); // a pair carries its flow's frames, nothing else
            return -1;
        }
        return pairs.openFrame(pair, buf, at, n, links.clock().nanos(), tap.device().maxFrameLength());
    }

    /** The opened frame, {@code length} bytes behind the header: bounded by position and limit, or a counted drop. */
    private int frame(ByteBuffer buf, int at, int length) {
        if (length < EthernetFrame.HEADER_LENGTH || length > tap.device().maxFrameLength()) {
            counters.malformed(); // a runt, or longer than the TAP's MTU allows
            return -1;
        }
        buf.position(at + HEADER).limit(at + HEADER + length);
        return length;
    }
}

package org.vl2.agent.internal;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

import org.vl2.crypto.CryptoException;
import org.vl2.crypto.Session;
import org.vl2.protocol.Probe;
import org.vl2.protocol.ProtocolException;
import org.vl2.protocol.SealedHeader;
import org.vl2.protocol.Wire;

/**
 * Direct paths, what arrives on the peer socket (docs/protocol.md, "Direct paths"): datagrams from anyone but the
 * switch. Only three things are taken, each only if it opens under a pair this agent holds: a FRAME of a receiving
 * pair's flow (to the TAP, as if the switch had forwarded it), a PROBE of a receiving pair (answered to its source with
 * a PROBE-ACK of the same length, sealed with the pair's reply keys), and a PROBE-ACK of a sending pair's direct path.
 * Everything else is a counted drop and gets no answer: nothing here is the switch's word (no keepalive, no session
 * message, no ERROR is taken from a peer) and nothing unauthenticated makes this agent send anything.
 */
final class PeerCodec implements FrameCodec {

    private static final int HEADER = SealedHeader.LENGTH;
    private static final int TAG = Session.TAG_LENGTH;
    /**
     * PROBE-ACKs a second at most, all pairs together: the senders of this agent's receive pairs probe once a second
     * each (64 pairs at most), so this only binds a member that holds a pair key and makes this agent answer probes
     * it sends from other members' addresses (a reflection, one datagram for one, never more).
     */
    static final int MAX_ACKS_PER_SECOND = 128;

    private final Counters counters;
    private final Pairs pairs;
    private final AgentClock clock;
    private final TapPort tap;
    private final int room;
    /** The peer pump's: the second the answers are counted in, and how many went in it. */
    private long ackSecond = Long.MIN_VALUE;
    private int acksThisSecond;

    PeerCodec(CodecContext context, Pairs pairs) {
        this.counters = context.counters();
        this.tap = context.tap();
        this.room = context.room();
        this.clock = context.links().clock();
        this.pairs = pairs;
    }

    @Override
    public int headroom() {
        return HEADER;
    }

    @Override
    public int tailroom() {
        return TAG;
    }

    /** Nothing is encoded here: the send pump's codec seals a direct path's frames ({@link SealedCodec}). */
    @Override
    public boolean encode(ByteBuffer buf, int frameAt, int length) {
        throw new UnsupportedOperationException("the peer socket's codec only decodes");
    }

    @Override
    public int decode(ByteBuffer buf, int at, int n, InetSocketAddress from, Link link) {
        buf.limit(at + n).position(at);
        int type = Wire.type(buf);
        if (type < 0 || Wire.version(buf) != Wire.VERSION || !SealedHeader.isSealed(buf, at)
                || n - HEADER - TAG < 0 || n >= room) {
            counters.foreign(); // not a peer's sealed message
            return -1;
        }
        int index = SealedHeader.receiverIndex(buf, at);
        return switch (type) {
            case Wire.FRAME -> frame(buf, at, n, index);
            case Wire.PROBE -> {
                probe(buf, at, n, index, from, link);
                yield -1;
            }
            case Wire.PROBE_ACK -> {
                probeAck(buf, at, n, index, from);
                yield -1;
            }
            default -> {
                counters.foreign(); // a peer sends a pair's frames and probes, nothing else
                yield -1;
            }
        };
    }

    /** A pair's frame straight from its sender: taken as the switch's relay would have delivered it. */
    private int frame(ByteBuffer buf, int at, int n, int index) {
        Pairs.Receive pair = pairs.receiving(index);
        if (pair == null) {
            counters.foreign(); // no pair of this agent's: no answer (a peer is not the switch)
            return -1;
        }
        int length = pairs.openFrame(pair, buf, at, n, clock.nanos(), tap.device().maxFrameLength());
        if (length >= 0) {
            counters.directReceived.incrementAndGet();
        }
        return length;
    }

    /**
     * A PROBE of a receiving pair: opened (so its sender holds the pair key, and the replay window has not seen it),
     * answered in place with a PROBE-ACK of the same length, sealed with the pair's reply keys, to where it came from.
     */
    private void probe(ByteBuffer buf, int at, int n, int index, InetSocketAddress from, Link link) {
        Pairs.Receive pair = pairs.receiving(index);
        if (pair == null || pair.replies() == null) {
            counters.foreign();
            return;
        }
        int length = open(pair.keys(), buf, at, n);
        if (length < 0) {
            return;
        }
        try {
            Probe.decode(buf, at + HEADER, length);
        } catch (ProtocolException e) {
            counters.malformed();
            return;
        }
        long second = clock.millis() / 1000;
        if (second != ackSecond) {
            ackSecond = second;
            acksThisSecond = 0;
        }
        if (++acksThisSecond > MAX_ACKS_PER_SECOND) {
            counters.ignored(); // authentic, but more than any sender probes: not answered
            return;
        }
        pairs.probedFrom(pair, from);
        SealedHeader.write(buf, at, Wire.PROBE_ACK, index);
        buf.limit(at + HEADER + Probe.LENGTH + TAG);
        try {
            pair.replies().seal(buf, at, HEADER, Probe.LENGTH, clock.nanos());
        } catch (CryptoException e) {
            return; // the pair's lifetime is over: the sender's probes go unanswered, its frames to the switch
        }
        buf.position(at);
        if (link.sendTo(from, buf)) {
            counters.probesAnswered.incrementAndGet();
        }
    }

    /** A PROBE-ACK for one of this agent's direct paths: opened under the pair's reply keys, the path is up. */
    private void probeAck(ByteBuffer buf, int at, int n, int index, InetSocketAddress from) {
        Pairs.Send pair = pairs.sendingIndex(index);
        DirectPath d = pair == null ? null : pair.path();
        if (d == null) {
            counters.foreign();
            return;
        }
        int length = open(d.replies, buf, at, n);
        if (length < 0) {
            return;
        }
        long id;
        try {
            id = Probe.decode(buf, at + HEADER, length);
        } catch (ProtocolException e) {
            counters.malformed();
            return;
        }
        if (!d.acknowledged(id, clock.millis(), from)) {
            counters.malformed(); // opened, but no probe of this path's
        }
    }

    /** Opens a PROBE or PROBE-ACK in place: the body's length, or -1 (counted). */
    private int open(Session keys, ByteBuffer buf, int at, int n) {
        try {
            return keys.open(buf, at, HEADER, n - HEADER, clock.nanos());
        } catch (CryptoException e) {
            counters.unopened();
            return -1;
        }
    }
}

package org.vl2.agent.internal;

import java.net.InetSocketAddress;

import org.vl2.crypto.Session;

/**
 * Direct paths (docs/protocol.md, "Direct paths"): the way of one send pair straight to its receiver's endpoint, as
 * the switch gave it in the PAIR SEND. The control thread probes it ({@link DirectPaths}); the peer pump records each
 * PROBE-ACK that opens under the pair's reply keys ({@link #acknowledged}); the send pump reads {@link #up} once per
 * frame of the pair and counts the pair's frames ({@link #frames}), so that the control thread knows whether it is in
 * use. Nothing else is shared: no lock, no allocation per frame.
 */
final class DirectPath {

    /** The receiver's endpoint, as the switch sees it: probed. */
    final InetSocketAddress peer;
    /** Opens the receiver's PROBE-ACKs (the pair's reply keys: only the receiver seals under them). */
    final Session replies;
    /** The high 32 bits of this path's probe ids: an acknowledgement of another path's probe is not this one's. */
    final int salt;

    /**
     * Where the receiver's PROBEs for the reverse flow come from, when not from {@link #peer} (peer pump): probed too.
     * Behind a NAT that maps each destination on its own (or that had to pick another port for this one), that is
     * where the receiver can be reached from here, not the endpoint the switch sees.
     */
    volatile InetSocketAddress candidate;
    /** Where the last PROBE-ACK came from: where the pair's frames go while the path is up (peer pump). */
    volatile InetSocketAddress target;
    /** The pair's frames go straight to {@link #target}: read by the send pump once per frame of the pair. */
    volatile boolean up;
    /** The clock's millis of the last PROBE-ACK (peer pump), 0 if none yet. */
    volatile long lastAck;
    /** Frames sealed under the pair, by the send pump only (a plain count: the control thread compares it). */
    long frames;

    // control thread only
    /** Probes sent since the last acknowledgement (or since the start). */
    int unanswered;
    /** Probe sequence: the low 32 bits of the next probe id. */
    int sequence;
    /** When the last probe went (the clock's millis). */
    long lastProbeAt;
    /** When the next probe is due (the clock's millis); 0: at once. */
    long nextProbe;
    /** {@link #frames} at the last look, and when it last moved. */
    long framesSeen;
    long lastUsed;
    /** What the switch was last told ({@link org.vl2.protocol.Pair#DIRECT} or RELAYED), 0 if nothing yet. */
    int reported;
    /** When the switch was last told DIRECT (it refreshes this member's station then). */
    long reportedAt;

    DirectPath(InetSocketAddress peer, Session replies, int salt) {
        this.peer = peer;
        this.replies = replies;
        this.salt = salt;
    }

    /**
     * A renewal of the flow's pair to the same endpoint: the path stays as it was (up, if it was), so that renewing a
     * key never sends a flow back through the switch. Control thread.
     */
    void inherit(DirectPath old) {
        candidate = old.candidate;
        target = old.target;
        lastAck = old.lastAck;
        up = old.up;
        lastUsed = old.lastUsed;
        nextProbe = old.nextProbe;
        lastProbeAt = old.lastProbeAt;
        unanswered = old.unanswered;
    }

    /** The id of the next probe. */
    long nextProbeId() {
        return (long) salt << 32 | (sequence++ & 0xFFFF_FFFFL);
    }

    /**
     * Peer pump: a PROBE-ACK with {@code id} opened under the reply keys; true if it answered one of this path's. The
     * path is up from here (the pair's next frame goes direct, not a control thread's tick later); the control thread
     * tells the switch, and takes it down again when the acknowledgements stop.
     */
    boolean acknowledged(long id, long nowMillis, InetSocketAddress from) {
        if ((int) (id >>> 32) != salt) {
            return false;
        }
        target = from; // before up: the send pump reads up, then target
        lastAck = nowMillis;
        up = true;
        return true;
    }
}

package org.vl2.agent.internal;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What one port agent counted: frames and bytes each way (the status shows them), drops and why, control messages.
 * Every thread adds to it; the status, the keepalive timers (which compare counters instead of stamping times on
 * the data path) and tests read it. Plain atomics: no lock, no allocation per frame.
 */
final class Counters {

    /** Frames (bytes) read from the TAP device and sent to the switch. */
    final AtomicLong tapRxFrames = new AtomicLong();
    final AtomicLong tapRxBytes = new AtomicLong();
    /** Frames (bytes) from the switch written to the TAP device. */
    final AtomicLong tapTxFrames = new AtomicLong();
    final AtomicLong tapTxBytes = new AtomicLong();
    /** Everything not delivered, either way, whatever the reason (the parts below included). */
    final AtomicLong drops = new AtomicLong();
    /** vl2 and vxlan modes: datagrams for another port id, token, session or VNI, or from another address. */
    final AtomicLong foreign = new AtomicLong();
    /** Datagrams that are not valid messages for this agent. */
    final AtomicLong malformed = new AtomicLong();
    /**
     * Control messages the receive pump could not hand to the control thread: its inbox was full (a flood, or a
     * control thread held up). Not malformed: the messages were valid, the agent could not take them.
     */
    final AtomicLong queueFull = new AtomicLong();
    /** vl2 mode: ROUTES that arrived while the agent had no joined session (before the WELCOME, after a LEAVE). */
    final AtomicLong notJoined = new AtomicLong();
    /** Encrypted: sealed messages and handshake responses that did not open (forged, modified, replayed, expired). */
    final AtomicLong unopened = new AtomicLong();
    /**
     * Encrypted: unauthenticated datagrams that, believed, would have stopped the agent or reset its session (an
     * ERROR in another protocol version, unsupported-version, bad-request, an unknown-port that the switch's own
     * sealed answer contradicted): counted and ignored, never acted on (docs/security.md).
     */
    final AtomicLong ignored = new AtomicLong();
    /** Encrypted: handshakes completed (the first join, re-joins and rekeys). */
    final AtomicLong handshakes = new AtomicLong();
    /** Encrypted: sessions the switch did not confirm within an interval (a new handshake followed). */
    final AtomicLong unconfirmedSessions = new AtomicLong();
    /** Encrypted: COOKIE-REPLYs that opened. */
    final AtomicLong cookieReplies = new AtomicLong();
    /** vl2 mode: JOIN (handshake), KEY-REQUEST, KEEPALIVE and LEAVE messages sent. */
    final AtomicLong controlSent = new AtomicLong();
    /** Keepalives sent: raw or VXLAN keepalive frames, vl2 KEEPALIVE messages. */
    final AtomicLong keepalives = new AtomicLong();
    /** vl2 mode: JOINs sent (encrypted: handshakes, each carrying one). */
    final AtomicLong joins = new AtomicLong();
    /** ICMP port unreachables from the switch's address (each ends a receive with ECONNREFUSED). */
    final AtomicLong refusals = new AtomicLong();
    /** WARN lines logged about join problems: once per change, not per retry. */
    final AtomicLong joinProblemsLogged = new AtomicLong();
    /** Offload: superframes read from the TAP device and cut into frames, and superframes written to it. */
    final AtomicLong superframesIn = new AtomicLong();
    final AtomicLong superframesOut = new AtomicLong();
    /**
     * Frames the kernel queued on the TAP inside the receive pump's writes (an echo reply, an ARP reply, a TCP ACK)
     * that the receive pump sent itself ({@link TapToSwitch#answer}) instead of waking the send pump for them.
     */
    final AtomicLong answered = new AtomicLong();
    /** Encrypted, pair keys: frames sealed with a pair's keys (the switch forwards them unopened), opened with one. */
    final AtomicLong pairSealed = new AtomicLong();
    final AtomicLong pairOpened = new AtomicLong();
    /**
     * Encrypted, pair keys: frames that opened under a pair but whose VLAN or addresses are not the pair's (the switch
     * checks nothing on a pair's frames, the receiver does): a drop.
     */
    final AtomicLong pairMismatch = new AtomicLong();
    /**
     * Direct paths: a pair's frames sent straight to the receiver (not through the switch), and frames that came
     * straight from a pair's sender; PROBEs sent, and PROBE-ACKs this agent answered with.
     */
    final AtomicLong directSent = new AtomicLong();
    final AtomicLong directReceived = new AtomicLong();
    final AtomicLong probesSent = new AtomicLong();
    final AtomicLong probesAnswered = new AtomicLong();
    /** PAIRs taken (SEND or RECEIVE), refused (no room, an unknown AEAD, pairs off) and REVOKEs. */
    final AtomicLong pairsTaken = new AtomicLong();
    final AtomicLong pairsRefused = new AtomicLong();
    final AtomicLong pairsRevoked = new AtomicLong();

    /** A frame sent to the switch. */
    void sent(int bytes) {
        tapRxFrames.incrementAndGet();
        tapRxBytes.addAndGet(bytes);
    }

    /** {@code frames} frames of {@code bytes} in all written to the TAP device. */
    void delivered(int frames, int bytes) {
        tapTxFrames.addAndGet(frames);
        tapTxBytes.addAndGet(bytes);
    }

    void drop() {
        drops.incrementAndGet();
    }

    /** Not for this agent (another port, session, VNI or address): a drop. */
    void foreign() {
        foreign.incrementAndGet();
        drops.incrementAndGet();
    }

    /** Not a valid message for this agent: a drop. */
    void malformed() {
        malformed.incrementAndGet();
        drops.incrementAndGet();
    }

    /** A valid control message the control thread's inbox had no room for: a drop. */
    void queueFull() {
        queueFull.incrementAndGet();
        drops.incrementAndGet();
    }

    /** A ROUTES while no session is joined: a drop. */
    void notJoined() {
        notJoined.incrementAndGet();
        drops.incrementAndGet();
    }

    /** Encrypted: unauthenticated, and not acted on: a drop. */
    void ignored() {
        ignored.incrementAndGet();
        drops.incrementAndGet();
    }

    /** Sealed, but it did not open: a drop. */
    void unopened() {
        unopened.incrementAndGet();
        drops.incrementAndGet();
    }

    /** A frame that opened under a pair but is not of the pair's flow: a drop. */
    void pairMismatch() {
        pairMismatch.incrementAndGet();
        drops.incrementAndGet();
    }

    /** Frames a batched send counted as sent and then refused: they are drops after all. */
    void refused(int frames) {
        drops.addAndGet(frames);
        tapRxFrames.addAndGet(-frames);
    }

    /** What the agent sent to the switch in all (frames and control messages). */
    long sentToSwitch() {
        return tapRxFrames.get() + controlSent.get();
    }

    /**
     * What the agent sent under its session with the switch (not under pair keys): the keepalive timers compare it.
     * Frames on pair keys move no port at the switch, so they must not hold back the keepalive that does, after a NAT
     * rebinding (docs/protocol.md, Pair keys).
     */
    long sentUnderSession() {
        return sentToSwitch() - pairSealed.get();
    }
}

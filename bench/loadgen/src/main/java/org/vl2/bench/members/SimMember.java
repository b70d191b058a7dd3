package org.vl2.bench.members;

import org.vl2.crypto.Identity;
import org.vl2.crypto.Initiator;
import org.vl2.crypto.Session;

/**
 * One simulated encrypted member: its own X25519 identity (so its own member id), the handshake in flight, its
 * current and previous session keys, and when it next sends a keepalive or a frame. Touched only by the
 * {@link MemberWorker} thread that owns it, so nothing here is synchronised.
 */
final class SimMember {

    enum State {
        /** Not started, or left (churn) and waiting to join again. */
        DOWN,
        /** A handshake is in flight (first join, not yet acknowledged). */
        JOINING,
        /** Handshake complete and a sealed keepalive sent; the switch has not yet answered one. */
        CONFIRMING,
        /** A keepalive came back sealed: the switch holds the session and proved it. */
        UP
    }

    final int number;
    /** Index of the socket (source address) this member speaks from, within its worker. */
    final int socket;
    Identity identity;
    /** Locally administered unicast MAC, unique per member (02:vv:nn:nn:nn:nn). */
    long mac;
    State state = State.DOWN;
    /**
     * The handshakes of the current join or rekey, newest last in the ring: as the agent does, an answer to an
     * earlier one (late under load) still completes the join.
     */
    final Initiator[] pending = new Initiator[8];
    int pendingNext;
    long handshakeSentNanos;
    /** When the current join began (first initiation), for the join latency. */
    long joinStartNanos;
    /** Handshake attempts of this join or rekey (for the back-off). */
    int attempts;
    Session keys;
    Session previous;
    long nextKeepaliveNanos;
    long nextFrameNanos;
    /** The member's next join (churn: when it comes back). */
    long rejoinAtNanos;
    long keepaliveSequence;
    /**
     * Whether the switch has taken a frame from this MAC (others may send to it without a flood): a frame went out
     * under keys that a keepalive answer then proved the switch holds.
     */
    volatile boolean learned;
    /** The keys the member's last frame went out under: its MAC counts as learned once an ACK opens under them. */
    Session frameKeys;
    /** When a message from the switch last opened (the agent re-joins after 3 silent keepalive intervals). */
    long heardNanos;
    /** A rekey handshake is in flight (keys still carry traffic). */
    boolean rekeying;
    /** Counted into the socket's unconfirmed joins (kept within the switch's ports.per.address). */
    boolean inflight;

    /** The pending handshake with this sender index, or null. */
    Initiator pending(int index) {
        for (Initiator i : pending) {
            if (i != null && i.senderIndex() == index) {
                return i;
            }
        }
        return null;
    }

    boolean handshaking() {
        return pending[(pendingNext + pending.length - 1) % pending.length] != null;
    }

    SimMember(int number, int socket) {
        this.number = number;
        this.socket = socket;
    }

    /** A fresh identity and MAC (a new member: first start, or churn with --churn-new-identity). */
    void newIdentity(int generation) {
        identity = Identity.generate();
        mac = 0x02_00_0000_0000L | (long) (generation & 0xff) << 32 | number & 0xffff_ffffL;
    }
}

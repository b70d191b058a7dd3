package org.vl2.switching.internal;

/**
 * One pair (docs/protocol.md, "Pair keys"): one direction of one unicast flow, (VLAN, source MAC, destination MAC),
 * from the encrypted member {@link #sender} to the encrypted member {@link #receiver}, which the switch keyed so that
 * it forwards the flow's frames sealed end to end, by the pair's {@link #index}, without opening and sealing each one.
 * The index is one of the sender's sealed-session indices in the registry (so it finds the sender's port like a
 * session's, and never collides with a session's). State changes are serialised by the pairing; the data path reads
 * {@link #state} only.
 */
public final class PortPair {

    /** Offered to the receiver, waiting for its PAIR-ACK. */
    public static final int OFFERED_TO_RECEIVER = 1;
    /** The receiver took it; offered to the sender. Its frames may come from now on. */
    public static final int OFFERED_TO_SENDER = 2;
    /** Both ends took it. */
    public static final int ACTIVE = 3;
    /** Ended: REVOKE sent to the ends that held it, until they acknowledge; frames on it are dropped. */
    public static final int REVOKED = 4;
    /** An end refused or never answered: no pair for this flow until {@link #dueNanos}. */
    public static final int FAILED = 5;

    public final int index;
    public final int vlan;
    public final long source;
    public final long destination;
    public final SwitchPort sender;
    public final SwitchPort receiver;
    public final long createdNanos;
    /** Wire id of the AEAD: the sender's session's (both ends have it). */
    public final int suite;

    public volatile int state = OFFERED_TO_RECEIVER;
    /** The key until both ends took it (then zeroed: the switch forwards without it). Pairing only. */
    public byte[] key;
    /** Pairing only: when to send again (or, FAILED, when the flow may be offered again), and how often it was sent. */
    public long dueNanos;
    public int tries;
    /** Pairing only, once REVOKED: whether each end still has to acknowledge the REVOKE. */
    public boolean revokeSender;
    public boolean revokeReceiver;
    /** Pairing only: ended because an end refused or did not answer (the flow is not keyed again for a while). */
    public boolean failed;
    /**
     * Frames of this flow that still came through the sender's session after both ends took the pair (its receive
     * thread only): a few are in flight when the sender switches over; many mean it does not hold the pair.
     */
    public int sessionFrames;
    /**
     * When a frame of this pair last refreshed its source station in the MAC table (its sender's receive thread only,
     * switch clock): once a second is enough for an ageing counted in minutes, and spares the table per frame.
     */
    public long refreshedNanos = Long.MIN_VALUE / 2;
    /** Pairing only: a successor took over; this one runs out at its lifetime, unrevoked (no frame in flight lost). */
    public boolean renewed;
    /** Pairing only: the pair this one renews (ended once this one is in use), and the one renewing this one. */
    public PortPair predecessor;
    public PortPair successor;
    /**
     * The receiver's endpoint its PAIR SEND carried (direct paths), or null: set once, under the pairing's lock, when
     * the SEND is first offered; the pair ends when the receiver is no longer there (its sender might send there).
     */
    public volatile java.net.InetSocketAddress peer;
    /** Its sender said it sends the frames straight to the receiver (PAIR-ACK DIRECT), until it says RELAYED. */
    public volatile boolean direct;

    public PortPair(int index, int vlan, long source, long destination, SwitchPort sender, SwitchPort receiver,
                    int suite, byte[] key, long nowNanos) {
        this.index = index;
        this.vlan = vlan;
        this.source = source;
        this.destination = destination;
        this.sender = sender;
        this.receiver = receiver;
        this.suite = suite;
        this.key = key;
        this.createdNanos = nowNanos;
    }

    /** Whether this is the pair of flow (vlan, source, destination). */
    public boolean carries(int vlan, long source, long destination) {
        return this.destination == destination && this.source == source && this.vlan == vlan;
    }

    /** The pair of {@code pairs} (a port's copy-on-write list, or null) under {@code index}, or null. */
    public static PortPair find(PortPair[] pairs, int index) {
        if (pairs != null) {
            for (PortPair pp : pairs) {
                if (pp.index == index) {
                    return pp;
                }
            }
        }
        return null;
    }

    /** A copy of {@code a} with {@code pp} at the end. */
    public static PortPair[] append(PortPair[] a, PortPair pp) {
        PortPair[] b = java.util.Arrays.copyOf(a, a.length + 1);
        b[a.length] = pp;
        return b;
    }

    /** A copy of {@code a} without {@code pp}, or {@code a} if it does not hold it. */
    public static PortPair[] remove(PortPair[] a, PortPair pp) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == pp) {
                PortPair[] b = new PortPair[a.length - 1];
                System.arraycopy(a, 0, b, 0, i);
                System.arraycopy(a, i + 1, b, i, a.length - i - 1);
                return b;
            }
        }
        return a;
    }

    @Override
    public String toString() {
        return "pair " + Integer.toHexString(index) + " (" + org.vl2.api.MacAddress.of(source) + " -> "
                + org.vl2.api.MacAddress.of(destination) + (vlan == 0xFFFF ? "" : " vlan " + vlan) + ", " + sender.id
                + " -> " + receiver.id + ", state " + state + ")";
    }
}

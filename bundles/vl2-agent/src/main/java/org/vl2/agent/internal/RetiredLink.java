package org.vl2.agent.internal;

/**
 * A TCP link just replaced by another (the move back to UDP, or to a new connection), read a little longer before it
 * closes. Until the switch sees the agent's first message on the new link it goes on sending to the member over the
 * old connection, and what it wrote there (a ping's reply, the tail of a burst) would be lost with a connection
 * closed at once. So the receive pump reads the old connection beside the new link for {@link #GRACE_MILLIS} at most,
 * less once the connection has ended, then closes it. A UDP socket is closed at once: nothing queued on the switch
 * side waits for it.
 *
 * <p>One link at a time: a second move within the grace closes the first one. The control thread closes a link the
 * pump did not end in time (a pump that is not running).
 */
final class RetiredLink {

    /** How long an old TCP connection is still read: round trips of a loaded path, not a timer anyone waits on. */
    static final int GRACE_MILLIS = 1_000;

    // written under this, read by the receive pump without a lock (once per receive round)
    private volatile Link link;
    private volatile long until;

    /** Control thread: {@code old} was replaced; a TCP link that is still up is read for the grace, others closed. */
    void retire(Link old, long now) {
        if (!old.stream() || old.broken() != null) {
            old.close();
            return;
        }
        Link previous;
        synchronized (this) {
            previous = link;
            link = old;
            until = now + GRACE_MILLIS;
        }
        if (previous != null) {
            previous.close();
        }
    }

    /** The link in its grace, or null. Receive pump. */
    Link link() {
        return link;
    }

    /** Whether {@code l}'s grace is over at {@code now}. */
    boolean over(Link l, long now) {
        return link != l || now - until >= 0 || l.broken() != null;
    }

    /** Ends {@code l}'s grace (if it is still the one): closes it. */
    void end(Link l) {
        synchronized (this) {
            if (link == l) {
                link = null;
            }
        }
        l.close();
    }

    /** Control thread: closes a link whose grace is long over (the pump did not end it, e.g. it is not running). */
    void closeIfOverdue(long now) {
        Link l;
        synchronized (this) {
            l = link;
            if (l == null || now - until < GRACE_MILLIS) {
                return;
            }
            link = null;
        }
        l.close();
    }

    /** Stopping: closes the link in its grace, if any. */
    void close() {
        Link l;
        synchronized (this) {
            l = link;
            link = null;
        }
        if (l != null) {
            l.close();
        }
    }
}

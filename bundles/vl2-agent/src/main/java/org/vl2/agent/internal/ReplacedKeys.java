package org.vl2.agent.internal;

import org.vl2.crypto.Session;

/**
 * Encrypted: the session keys a rekey or re-join replaced, still accepted for receiving until they expire, because
 * the switch sends with them until it has opened a message under the new ones. Two sets: when both handshakes of one
 * round are answered, the switch keeps only the newer one pending and goes on sealing with its current keys (or with
 * the first answer's, had it already opened a message under them) until it opens one under the newer keys; the agent
 * cannot know which, so it keeps both replaced sets rather than drop the older one. Written by the control thread,
 * read by the receive pump (volatile).
 */
final class ReplacedKeys {

    /** The keys the current ones replaced, or null. */
    private volatile Session previous;
    /** The keys {@link #previous} replaced, or null. */
    private volatile Session older;

    Session previous() {
        return previous;
    }

    Session older() {
        return older;
    }

    /** New keys are in use: {@code current} (the ones they replace) is kept for receiving, the oldest set goes. */
    void replaced(Session current) {
        older = previous;
        previous = current;
    }

    /** Drops what expired: the switch cannot send with it any more either. */
    void expire(long nanos) {
        Session old = older;
        if (old != null && old.isExpired(nanos)) {
            older = null;
        }
        old = previous;
        if (old != null && old.isExpired(nanos)) {
            previous = null;
        }
    }
}

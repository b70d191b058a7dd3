package org.vl2.switching.internal;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Members a private network refused: they completed the handshake (so the key is theirs) but the network does not
 * list them. Operators see them as "waiting" and may authorize them (as ZeroTier Central shows unauthorized
 * members). Bounded: the oldest refusal goes when {@link #CAPACITY} members wait, so a stream of fresh keys costs a
 * fixed amount of memory. Touched on the slow path only (an authenticated, refused join), under its own lock.
 */
public final class WaitingMembers {

    /** Members kept per network. */
    static final int CAPACITY = 256;

    /**
     * @param member the member id
     * @param key    the public key it proved
     * @param name   the name it gave in its JOIN (may be empty)
     * @param source where it joined from, as text
     * @param at     the last refusal
     */
    record Waiting(long member, byte[] key, String name, String source, Instant at) {
    }

    private final int capacity;
    /** Access order: the eldest is the one refused longest ago. */
    private final LinkedHashMap<Long, Waiting> byMember;

    WaitingMembers() {
        this(CAPACITY);
    }

    WaitingMembers(int capacity) {
        this.capacity = capacity;
        this.byMember = new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Waiting> eldest) {
                return size() > WaitingMembers.this.capacity;
            }
        };
    }

    public synchronized void refused(long member, byte[] key, String name, String source, Instant at) {
        byMember.put(member, new Waiting(member, key.clone(), name == null ? "" : name, source, at));
    }

    /** Admitted (authorized meanwhile): it waits no more. */
    public synchronized void admitted(long member) {
        byMember.remove(member);
    }

    synchronized List<Waiting> all() {
        return new ArrayList<>(byMember.values());
    }
}

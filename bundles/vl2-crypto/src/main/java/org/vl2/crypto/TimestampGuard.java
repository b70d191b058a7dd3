package org.vl2.crypto;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * The responder's memory of the newest initiation timestamp it answered per initiator static key: an initiation
 * whose timestamp is not newer is a replay and rejected ({@link CryptoException.Reason#REPLAYED}).
 *
 * <p>{@link Responder#consume} only checks; {@link Responder#respond} records (atomically: of two copies of one
 * initiation, only one is answered). So only initiators the switch chose to answer take memory, never a flood of
 * unauthorized keys. Bounded: when full, recording a new key forgets an arbitrary other one that the owner does not
 * protect ({@code keep}: the switch protects members it authorizes or that hold a port, so that keys of an open
 * network's passers-by can never push theirs out), whose old initiations could then be answered again; such a
 * response gives the replayer nothing (it lacks the initiator's ephemeral key) and the session it makes is never
 * confirmed (docs/crypto.md). Protected keys may take the guard beyond its capacity. Thread-safe.
 */
public final class TimestampGuard {

    public static final int DEFAULT_CAPACITY = 1 << 16;

    /** Keyed by the public key's bytes (ByteBuffer equality is by content); values are 12-byte TAI64N. */
    private final ConcurrentHashMap<ByteBuffer, byte[]> newest = new ConcurrentHashMap<>();
    private final int capacity;
    /** Keys never forgotten to make room (only by {@link #forget}). */
    private final Predicate<byte[]> keep;

    public TimestampGuard() {
        this(DEFAULT_CAPACITY);
    }

    /** @throws IllegalArgumentException if capacity is below 1 */
    public TimestampGuard(int capacity) {
        this(capacity, key -> false);
    }

    /**
     * @param keep keys (32 bytes, not to be modified) that are never forgotten to make room; called only when the
     *             guard is full, from the thread recording, and must not block
     * @throws IllegalArgumentException if capacity is below 1
     */
    public TimestampGuard(int capacity, Predicate<byte[]> keep) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        this.capacity = capacity;
        this.keep = keep;
    }

    /** Whether {@code timestamp} is newer than any recorded for the key. */
    boolean isFresh(byte[] publicKey, byte[] timestamp) {
        byte[] last = newest.get(ByteBuffer.wrap(publicKey));
        return last == null || Arrays.compareUnsigned(timestamp, last) > 0;
    }

    /** Records {@code timestamp} if it is newer than the one recorded for the key; false if it is not. */
    boolean record(byte[] publicKey, byte[] timestamp) {
        ByteBuffer key = ByteBuffer.wrap(publicKey.clone());
        boolean[] recorded = {false};
        newest.compute(key, (k, last) -> {
            if (last == null || Arrays.compareUnsigned(timestamp, last) > 0) {
                recorded[0] = true;
                return timestamp.clone();
            }
            return last;
        });
        if (recorded[0] && newest.size() > capacity) {
            for (Iterator<ByteBuffer> it = newest.keySet().iterator(); it.hasNext() && newest.size() > capacity;) {
                ByteBuffer other = it.next();
                if (!other.equals(key) && !keep.test(other.array())) {
                    it.remove();
                }
            }
        }
        return recorded[0];
    }

    /** Forgets a key (e.g. a deauthorized member's), so that its memory does not outlive its membership. */
    public void forget(byte[] publicKey) {
        newest.remove(ByteBuffer.wrap(publicKey));
    }

    /** Keys remembered. */
    public int size() {
        return newest.size();
    }
}

package org.vl2.crypto;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * The responder's memory of the newest initiation timestamp it answered per initiator static key: an initiation
 * whose timestamp is not newer is a replay and rejected ({@link CryptoException.Reason#REPLAYED}). Beside each
 * timestamp it keeps the static-static Diffie-Hellman result (Noise's ss) of that initiator with the responder that
 * answered it: the same for every handshake of the pair, so a member's rekeys (every 120 s) skip one of the
 * responder's four X25519 (docs/crypto.md, Cost of a handshake). It lives and goes with the timestamp, so it is as
 * bounded as the timestamps; it is not wiped in place (another thread may be reading it), the garbage collector takes
 * it, as it takes the handshakes' other intermediate values.
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

    /**
     * What is remembered of one initiator: its newest answered timestamp (12-byte TAI64N), and ss with
     * {@code responder} (null: not known).
     */
    private record Entry(byte[] timestamp, Identity responder, byte[] ss) {
    }

    /** Keyed by the public key's bytes (ByteBuffer equality is by content). */
    private final ConcurrentHashMap<ByteBuffer, Entry> newest = new ConcurrentHashMap<>();
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
        Entry last = newest.get(ByteBuffer.wrap(publicKey));
        return last == null || Arrays.compareUnsigned(timestamp, last.timestamp) > 0;
    }

    /**
     * A copy of ss = X25519(responder's private key, {@code publicKey}) as recorded by {@link #record(byte[], byte[],
     * Identity, byte[])} for this very responder identity, or null.
     */
    byte[] staticSecret(Identity responder, byte[] publicKey) {
        Entry e = newest.get(ByteBuffer.wrap(publicKey));
        return e == null || e.ss == null || e.responder != responder ? null : e.ss.clone();
    }

    /** Records {@code timestamp} if it is newer than the one recorded for the key; false if it is not. */
    boolean record(byte[] publicKey, byte[] timestamp) {
        return record(publicKey, timestamp, null, null);
    }

    /**
     * {@link #record(byte[], byte[])}, and with it {@code ss} (copied), the static-static Diffie-Hellman of the key
     * with {@code responder}'s private key, for {@link #staticSecret}; null ss: keep what is known.
     */
    boolean record(byte[] publicKey, byte[] timestamp, Identity responder, byte[] ss) {
        ByteBuffer key = ByteBuffer.wrap(publicKey.clone());
        boolean[] recorded = {false};
        newest.compute(key, (k, last) -> {
            if (last == null || Arrays.compareUnsigned(timestamp, last.timestamp) > 0) {
                recorded[0] = true;
                if (ss != null && (last == null || last.ss == null || last.responder != responder)) {
                    return new Entry(timestamp.clone(), responder, ss.clone());
                }
                return new Entry(timestamp.clone(), last == null ? null : last.responder,
                        last == null ? null : last.ss); // an ss never changes: readers may hold this array
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

package org.vl2.ipam;

import java.io.IOException;
import java.net.Inet4Address;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The IPv4 leases of one network. Thread-safe: one lock, since leases change rarely (a join, a DHCP exchange).
 * Every change is written to one text file, atomically, by the table's writer: before the call returns by default,
 * or on a {@link LeaseWriter}'s thread, so that a switch's receive thread never waits for the disk. Changes made
 * while a write is queued are coalesced into it; {@link #flush()} writes what is pending at once.
 *
 * <p>File format, one lease a line: {@code key address expiresEpochMillis}, or {@code -} instead of the time for
 * a lease held until released; lines starting with {@code #} are comments.
 *
 * <p>Each key holds at most one address and each address has at most one holder. A key's expired lease stays
 * recorded until someone else takes the address or {@link #removeExpired()} frees it, so a returning key gets
 * its old address back if nobody took it in between.
 */
public final class LeaseTable {

    private static final Logger LOG = LoggerFactory.getLogger(LeaseTable.class);
    /** {@link Entry#expires} of a lease held until released. */
    private static final long HELD = Long.MIN_VALUE;
    private static final int MAX_KEY_LENGTH = 200;

    private final Ipv4Pool pool;
    private final Path file;
    private final Clock clock;
    /** Runs {@link #flush()}: in place (synchronous) or on a writer thread. */
    private final Executor writes;
    private final Object lock = new Object();
    /** Orders file writes: a snapshot older than the one on disk is not written (see {@link #flush()}). */
    private final Object writeLock = new Object();
    // guarded by lock
    private boolean dirty;
    private boolean flushQueued;
    /** {@link #close()}d: the file belongs to another table now, changes stay in memory. */
    private boolean closed;
    private long snapshots;
    // guarded by writeLock
    private long written;
    private final Map<String, Entry> byKey = new HashMap<>();
    /** By address as an unsigned value, so that iteration is in address order. */
    private final TreeMap<Long, Entry> byAddress = new TreeMap<>();
    /** The leases that can expire, soonest first: the expired ones are found without walking every lease. */
    private final TreeSet<Entry> byExpiry = new TreeSet<>((a, b) -> a.expires != b.expires
            ? Long.compare(a.expires, b.expires) : Long.compare(unsigned(a.address), unsigned(b.address)));
    /**
     * Every address of the range below this one holds a lease (live or expired) or is the server's: the search
     * for a free address starts here, so N joins cost N steps, not N^2/2. Lowered when a lease goes.
     */
    private long gapFrom;
    /** Leases the free-address search stepped over (tests). */
    long searchSteps;

    private static final class Entry {
        final String key;
        final int address;
        long expires;

        Entry(String key, int address, long expires) {
            this.key = key;
            this.address = address;
            this.expires = expires;
        }

        boolean expiredAt(long now) {
            return expires != HELD && expires <= now;
        }

        Lease toLease() {
            return new Lease(key, Ipv4Pool.toAddress(address), expires == HELD ? null : Instant.ofEpochMilli(expires));
        }
    }

    private LeaseTable(Ipv4Pool pool, Path file, Clock clock, Executor writes) {
        this.pool = pool;
        this.gapFrom = unsigned(pool.firstInt());
        this.file = file;
        this.clock = clock;
        this.writes = writes;
    }

    /**
     * Loads {@code file} if it exists; null {@code file} keeps the leases in memory only.
     *
     * <p>Leases in the file outside the pool's subnet, on the server address, or colliding with an earlier line
     * are dropped with a WARN log; so are lines that cannot be read (the log names the file and line). Leases held
     * until released get an expiry of now + {@code orphanGrace}: their holder has to come back (lease again) within
     * that time to keep its address. Leases already expired are not loaded.
     *
     * @throws IOException only if the file exists but cannot be read
     */
    public static LeaseTable load(Ipv4Pool pool, Path file, Clock clock, Duration orphanGrace) throws IOException {
        return load(pool, file, clock, orphanGrace, Runnable::run);
    }

    /**
     * {@link #load(Ipv4Pool, Path, Clock, Duration)} with the file written by {@code writes} (usually a
     * {@link LeaseWriter}): a change only marks the table dirty and queues one write; a write the executor refuses
     * (it was closed) happens in place. Call {@link #flush()} before the table is dropped.
     */
    public static LeaseTable load(Ipv4Pool pool, Path file, Clock clock, Duration orphanGrace, Executor writes)
            throws IOException {
        if (writes == null) {
            throw new IllegalArgumentException("lease writer is missing");
        }
        if (pool == null) {
            throw new IllegalArgumentException("pool is missing");
        }
        if (clock == null) {
            throw new IllegalArgumentException("clock is missing");
        }
        checkDuration("orphanGrace", orphanGrace, true);
        LeaseTable table = new LeaseTable(pool, file, clock, writes);
        if (file != null && Files.exists(file)) {
            byte[] bytes = Files.readAllBytes(file);
            // Decoding replaces bad bytes rather than failing: a damaged file must not stop the network.
            long now = clock.millis();
            LeaseFile.parse(new String(bytes, StandardCharsets.UTF_8), file, pool, now, plus(now, orphanGrace),
                    (key, address, expires) -> table.put(new Entry(key, address, expires)));
            LOG.debug("Loaded {} leases of {} from {}", table.byKey.size(), pool, file);
        }
        return table;
    }

    /**
     * The address for {@code key}: its current lease if it has one and {@code requested} is null or equal to it;
     * else {@code requested} if it is a host of the subnet, not the server address and free (a key holding another
     * address moves to it); else, with no {@code requested}, the lowest free address of the range. Expired leases
     * count as free. Persists (see the class comment).
     *
     * @param key       who holds the lease, such as {@code member:0123456789abcdef} or {@code mac:02:00:00:00:00:01}
     * @param requested a static address, or null for any
     * @param duration  how long from now the lease lasts (a renewal extends it); null: until {@link #release}
     * @throws AddressConflictException saying why: the requested address is outside the subnet, the server's or
     *                                  leased to another key; or the pool is exhausted
     */
    public Inet4Address lease(String key, Inet4Address requested, Duration duration) throws AddressConflictException {
        return lease(key, requested, duration, true);
    }

    /**
     * {@link #lease} without writing the file: for DHCP offers, short reservations that would be expired after a
     * restart anyway, so that a DISCOVER never waits for the disk. The next write includes them.
     */
    Inet4Address reserve(String key, Inet4Address requested, Duration duration) throws AddressConflictException {
        return lease(key, requested, duration, false);
    }

    private Inet4Address lease(String key, Inet4Address requested, Duration duration, boolean persist)
            throws AddressConflictException {
        checkKey(key);
        checkDuration("lease duration", duration, false);
        synchronized (lock) {
            long now = clock.millis();
            long expires = duration == null ? HELD : plus(now, duration);
            Entry own = byKey.get(key);
            if (requested == null) {
                if (own != null) {
                    return renew(own, expires, persist);
                }
                Entry taken = new Entry(key, firstFree(now), expires);
                put(taken);
                if (persist) {
                    persist();
                }
                return Ipv4Pool.toAddress(taken.address);
            }
            int r = Ipv4Pool.toInt(requested);
            if (!pool.isHost(r)) {
                throw new AddressConflictException(Ipv4Pool.format(r) + " is outside " + pool.cidr()
                        + " (expected an address within " + Ipv4Pool.format(pool.networkInt() + 1) + "-"
                        + Ipv4Pool.format(pool.broadcastInt() - 1) + ")");
            }
            if (r == pool.serverInt()) {
                throw new AddressConflictException(Ipv4Pool.format(r) + " is the DHCP server address of "
                        + pool.cidr() + " and cannot be leased");
            }
            if (own != null && own.address == r) {
                return renew(own, expires, persist);
            }
            Entry holder = byAddress.get(unsigned(r));
            if (holder != null) {
                if (!holder.expiredAt(now)) {
                    throw new AddressConflictException(Ipv4Pool.format(r) + " is leased to " + holder.key);
                }
                remove(holder);
            }
            if (own != null) {
                remove(own);
            }
            put(new Entry(key, r, expires));
            if (persist) {
                persist();
            }
            return requested;
        }
    }

    private Inet4Address renew(Entry own, long expires, boolean persist) {
        setExpires(own, expires);
        if (persist) {
            persist();
        }
        return Ipv4Pool.toAddress(own.address);
    }

    /**
     * The lowest address of the range without a live lease; an expired lease on it is removed. The caller puts a
     * lease on it at once (so the addresses below the gap stay all leased).
     */
    private int firstFree(long now) throws AddressConflictException {
        long last = unsigned(pool.lastInt());
        long server = unsigned(pool.serverInt());
        long cand = Math.max(gapFrom, unsigned(pool.firstInt()));
        // Leases are sorted by address: walk them beside the candidate, from the known gap on, until a gap.
        for (Entry e : byAddress.tailMap(cand, true).values()) {
            if (cand == server) {
                cand++;
            }
            if (cand > last || unsigned(e.address) > cand) {
                break;
            }
            searchSteps++;
            cand++;
        }
        if (cand == server) {
            cand++;
        }
        long gap = cand;
        gapFrom = gap;
        // an expired lease below the gap is the lowest free address (the leases below the gap are contiguous)
        Entry expired = null;
        for (Entry e : byExpiry) {
            if (!e.expiredAt(now)) {
                break;
            }
            searchSteps++;
            if (unsigned(e.address) < cand && (expired == null || unsigned(e.address) < unsigned(expired.address))) {
                expired = e;
            }
        }
        if (expired != null) {
            cand = unsigned(expired.address);
            remove(expired);
            gapFrom = gap; // its address is leased again at once
        } else if (cand > last) {
            throw new AddressConflictException("pool " + pool.cidr() + " is exhausted (" + pool.rangeSize()
                    + " addresses)");
        }
        return (int) cand;
    }

    /** Whether {@code key} holds a lease, live or expired (tests: an expired one is renewed, not searched for). */
    boolean recorded(String key) {
        synchronized (lock) {
            return byKey.containsKey(key);
        }
    }

    /** The live (not expired) lease of {@code key}. */
    public Optional<Lease> current(String key) {
        synchronized (lock) {
            Entry e = byKey.get(key);
            return e == null || e.expiredAt(clock.millis()) ? Optional.empty() : Optional.of(e.toLease());
        }
    }

    /** The live lease on address {@code a}. */
    public Optional<Lease> holder(Inet4Address a) {
        if (a == null) {
            return Optional.empty();
        }
        synchronized (lock) {
            Entry e = byAddress.get(unsigned(Ipv4Pool.toInt(a)));
            return e == null || e.expiredAt(clock.millis()) ? Optional.empty() : Optional.of(e.toLease());
        }
    }

    /**
     * Sets {@code key}'s lease, if it has one, to end at now + {@code grace}: its port went away, and the address
     * is kept for it a little while. Persists.
     */
    public void expireIn(String key, Duration grace) {
        checkDuration("grace", grace, true);
        synchronized (lock) {
            Entry e = byKey.get(key);
            if (e != null) {
                setExpires(e, plus(clock.millis(), grace));
                persist();
            }
        }
    }

    /** Frees {@code key}'s lease. Persists. @return whether it had one (live or expired) */
    public boolean release(String key) {
        synchronized (lock) {
            Entry e = byKey.get(key);
            if (e == null) {
                return false;
            }
            remove(e);
            persist();
            return true;
        }
    }

    /** Frees every expired lease; persists if there were any. @return how many were freed */
    public int removeExpired() {
        synchronized (lock) {
            long now = clock.millis();
            int removed = 0;
            for (Iterator<Entry> it = byExpiry.iterator(); it.hasNext(); ) {
                Entry e = it.next();
                if (!e.expiredAt(now)) {
                    break; // soonest first: the rest are live
                }
                it.remove();
                byKey.remove(e.key);
                byAddress.remove(unsigned(e.address));
                gapFrom = Math.min(gapFrom, unsigned(e.address));
                removed++;
            }
            if (removed > 0) {
                persist();
            }
            return removed;
        }
    }

    /** The live leases, sorted by address. */
    public List<Lease> leases() {
        synchronized (lock) {
            long now = clock.millis();
            List<Lease> list = new ArrayList<>(byAddress.size());
            for (Entry e : byAddress.values()) {
                if (!e.expiredAt(now)) {
                    list.add(e.toLease());
                }
            }
            return list;
        }
    }

    public Ipv4Pool pool() {
        return pool;
    }

    Clock clock() {
        return clock;
    }

    private void put(Entry e) {
        byKey.put(e.key, e);
        byAddress.put(unsigned(e.address), e);
        if (e.expires != HELD) {
            byExpiry.add(e);
        }
    }

    private void remove(Entry e) {
        byKey.remove(e.key);
        byAddress.remove(unsigned(e.address));
        byExpiry.remove(e);
        gapFrom = Math.min(gapFrom, unsigned(e.address));
    }

    /** Changes when a lease ends, keeping {@link #byExpiry} in order (it is sorted by that time). */
    private void setExpires(Entry e, long expires) {
        byExpiry.remove(e);
        e.expires = expires;
        if (expires != HELD) {
            byExpiry.add(e);
        }
    }

    /** Marks the table changed and queues a write unless one is queued already. Called with the lock held. */
    private void persist() {
        if (file == null || closed) {
            return;
        }
        dirty = true;
        if (flushQueued) {
            return; // the queued write takes this change too
        }
        flushQueued = true;
        try {
            writes.execute(this::flush);
        } catch (RejectedExecutionException e) {
            flush(); // the writer is closed (the switch stops): nothing is lost, this caller writes
        }
    }

    /**
     * Writes the pending changes now, if there are any, on the calling thread. Every recorded lease (expired ones
     * too: their keys may come back) goes to a temporary file that is moved over the old one, so a crash leaves
     * either file whole. The snapshot is taken under the table's lock, the file written outside it, so changes go
     * on while the disk is slow; a snapshot older than the last one written is skipped. A failure is logged, not
     * thrown: the network goes on with the leases in memory, only a restart would lose them.
     */
    public void flush() {
        flush(false);
    }

    /**
     * Writes the pending changes, as {@link #flush()}, and lets go of the file: later changes (a DHCP answer or a
     * port still in flight on this table) stay in memory and never overwrite what a successor table, loaded from
     * the same file, writes there. For a network whose pool changed. Idempotent.
     *
     * @since 1.2.0
     */
    public void close() {
        flush(true);
    }

    private void flush(boolean last) {
        byte[] bytes;
        long snapshot;
        synchronized (lock) {
            flushQueued = false;
            if (closed) {
                return;
            }
            closed = last;
            if (!dirty || file == null) {
                return;
            }
            dirty = false;
            bytes = render();
            snapshot = ++snapshots;
        }
        synchronized (writeLock) {
            if (snapshot <= written) {
                return; // a newer snapshot is on disk already
            }
            if (LeaseFile.write(file, bytes, pool)) {
                written = snapshot;
            }
        }
    }

    private byte[] render() {
        StringBuilder sb = new StringBuilder(64 + 48 * byAddress.size());
        sb.append("# vl2 IPv4 leases of ").append(pool).append('\n');
        sb.append("# key address expiresEpochMillis (- = held until released)\n");
        for (Entry e : byAddress.values()) {
            sb.append(e.key).append(' ').append(Ipv4Pool.format(e.address)).append(' ')
                    .append(e.expires == HELD ? "-" : Long.toString(e.expires)).append('\n');
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static long unsigned(int a) {
        return a & 0xFFFF_FFFFL;
    }

    private static long plus(long now, Duration d) {
        try {
            return Math.addExact(now, d.toMillis());
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE; // far enough in the future
        }
    }

    private static void checkDuration(String what, Duration d, boolean required) {
        if (d == null) {
            if (required) {
                throw new IllegalArgumentException(what + " is missing (expected a duration of zero or more)");
            }
            return;
        }
        if (d.isNegative() || (!required && d.isZero())) {
            throw new IllegalArgumentException(what + " " + d + " is not valid (expected a "
                    + (required ? "duration of zero or more" : "positive duration, or none for a lease held until released") + ")");
        }
    }

    private static void checkKey(String key) {
        if (!isValidKey(key)) {
            throw new IllegalArgumentException("lease key '" + key
                    + "' is not valid (expected 1-" + MAX_KEY_LENGTH
                    + " printable ASCII characters without spaces, such as member:0123456789abcdef)");
        }
    }

    static boolean isValidKey(String key) {
        if (key == null || key.isEmpty() || key.length() > MAX_KEY_LENGTH || key.charAt(0) == '#') {
            return false;
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c <= ' ' || c >= 0x7F) { // printable ASCII: one token in the file, readable in logs
                return false;
            }
        }
        return true;
    }
}

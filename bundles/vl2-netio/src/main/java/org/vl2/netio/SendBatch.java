package org.vl2.netio;

/**
 * Sends deferred to the end of a receive batch, across transports. A thread that hands bursts of received datagrams
 * to the switch (a {@link ReceiveLoop}'s) has a batch; a transport that the switch sends to from such a thread, and
 * whose send would otherwise cost a system call (and on TLS a record) per message, stages the message and
 * {@link #defer}s its flush to the end of the batch: a burst forwarded from a UDP member to a TCP member leaves in one
 * write, as a burst to UDP members leaves in one {@code sendmmsg}. A lone datagram's batch ends right after it, so
 * nothing waits longer than the batch it came in.
 *
 * <p>One per thread, made once; nothing allocated per message. Only the owning thread calls {@link #defer} and
 * {@link #end}. A thread that ends batches for its whole life is a {@link BatchThread} (a {@link ReceiveLoop}'s, the
 * TCP transport's connection loop): there {@link #current} is a type check and a field read, not a
 * {@link ThreadLocal} lookup, since every send on the hot path asks for it.
 */
public final class SendBatch {

    /** Something with staged messages to send when the batch ends. */
    public interface Deferred {
        /** Sends what was staged; must not throw for a peer that went away (count it, or leave it to its owner). */
        void flushDeferred();
    }

    /** Distinct deferred flushes per batch (connections sent to in one burst); past that, callers flush at once. */
    static final int MAX_DEFERRED = 64;

    private static final ThreadLocal<SendBatch> CURRENT = new ThreadLocal<>();

    /** A thread that has a batch from its start and ends it after each round of its work. */
    public static class BatchThread extends Thread {
        private final SendBatch batch = new SendBatch();

        public BatchThread(String name) {
            super(name);
        }

        public BatchThread(Runnable work, String name) {
            super(work, name);
        }

        /** This thread's batch: only this thread defers to it and ends it. */
        public final SendBatch sendBatch() {
            return batch;
        }
    }

    private final Deferred[] deferred = new Deferred[MAX_DEFERRED];
    private int count;

    private SendBatch() {
    }

    /** The calling thread's batch, or null where nothing ends batches (send at once there). */
    public static SendBatch current() {
        return Thread.currentThread() instanceof BatchThread t ? t.batch : CURRENT.get();
    }

    /** Makes the calling thread one that ends batches ({@link #end} after each); returns its batch. */
    public static SendBatch enter() {
        if (Thread.currentThread() instanceof BatchThread t) {
            return t.batch;
        }
        SendBatch b = CURRENT.get();
        if (b == null) {
            b = new SendBatch();
            CURRENT.set(b);
        }
        return b;
    }

    /** The calling thread no longer ends batches: what is still deferred is sent now. */
    public static void leave() {
        if (Thread.currentThread() instanceof BatchThread t) {
            t.batch.end(); // its batch stays: the thread ends batches for its whole life
            return;
        }
        SendBatch b = CURRENT.get();
        if (b != null) {
            b.end();
            CURRENT.remove();
        }
    }

    /**
     * Runs {@code d} at the end of this batch. The caller asks once per batch (e.g. behind a flag it clears in
     * {@link Deferred#flushDeferred} before it sends).
     *
     * @return false if the batch holds {@link #MAX_DEFERRED} already: flush now instead
     */
    public boolean defer(Deferred d) {
        if (count == MAX_DEFERRED) {
            return false;
        }
        deferred[count++] = d;
        return true;
    }

    /** Deferred flushes waiting for {@link #end}. */
    public int pending() {
        return count;
    }

    /**
     * Runs what was deferred, in order, and forgets it. One that throws does not stop the others; the first
     * exception is rethrown once all ran.
     */
    public void end() {
        RuntimeException first = null;
        int n = count;
        count = 0;
        for (int i = 0; i < n; i++) {
            Deferred d = deferred[i];
            deferred[i] = null;
            try {
                d.flushDeferred();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}

package org.vl2.switching.internal.vl2;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.switching.internal.Egress;

/**
 * The switch's handshakes, off the receive threads. An initiation the {@link HandshakeGate} lets through costs four
 * X25519 and admission (about 0.5 ms, more on a loaded machine); done on a receive thread it holds every frame of
 * that thread's members behind it, so a join storm of thousands of members stalled the forwarding of all the others
 * (docs/architecture.md, Threads). A receive thread now only checks mac1/mac2 and the gate (HMACs, microseconds),
 * copies the initiation and queues it here; one thread, {@value #THREAD_NAME}, does the Diffie-Hellman, admission
 * and the RESPONSE. One thread: a member's initiations are answered in the order they came, as before.
 *
 * <p>The queue is bounded ({@link #CAPACITY}, and on the thread to what it does in {@link #MAX_WAIT_NANOS}): an
 * initiation that finds it full is dropped (counted as throttled by the caller) and the agent retries in a second.
 * One that waited longer than {@link #MAX_WAIT_NANOS} is dropped unanswered: its agent retries about now, so its
 * Diffie-Hellman would be spent on an answer nobody takes (a join storm on a loaded machine otherwise answers
 * mostly stale retries). Initiations from the address of a member that holds a proven port (its rekeys) wait in a
 * lane of their own that goes first: a storm of newcomers never starves the sessions of established members. The
 * worker measures how long a handshake takes on it (wall time, so a loaded machine counts), and the gate's budget
 * follows that ({@link #perSecond}).
 *
 * <p>The thread runs at a lower CPU priority ({@link #nice}, the switch's {@code handshake.nice}): a storm of joins
 * then takes the CPU the forwarding threads leave, not a share of theirs. Its measured time per handshake grows when
 * it waits for the CPU, so the gate's budget (and the cookies) follow what it actually gets.
 *
 * <p>{@link Mode#INLINE} runs each handshake on the caller's thread at once (the unit tests' switch, deterministic);
 * {@link Mode#MANUAL} only queues, and {@link #runQueued} runs them (tests that hold the worker).
 */
public final class HandshakeWorker {

    private static final Logger LOG = LoggerFactory.getLogger(HandshakeWorker.class);
    static final String THREAD_NAME = "vl2-switch-handshakes";
    /** Initiations waiting at most (newcomers; established members' lane as many again). */
    public static final int CAPACITY = 256;
    /** Longest wait in the queue: half the agents' one-second retry, so the answer comes before the retry. */
    static final long MAX_WAIT_NANOS = 500_000_000L;
    /** The least room the time bound leaves on a slow machine. */
    private static final int MIN_ROOM = 16;
    /** Before the first measurement: what {@link HandshakeGate#MIN_HANDSHAKES_PER_SECOND} allows. */
    private static final long INITIAL_NANOS = 1_000_000_000L / HandshakeGate.MIN_HANDSHAKES_PER_SECOND;

    /** Where handshakes run. */
    public enum Mode {
        THREAD, INLINE, MANUAL
    }

    /** One queued handshake; {@code e} is the scratch of the thread that runs it. */
    interface Job {
        void run(Egress e);
    }

    private record Queued(Job job, Runnable dropped, long at) {
    }

    private final Mode mode;
    private final LongSupplier clock;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition waiting = lock.newCondition();
    /** Initiations from addresses of members with a proven port (rekeys), then everyone else's. Under lock. */
    private final ArrayDeque<Queued> members = new ArrayDeque<>();
    private final ArrayDeque<Queued> others = new ArrayDeque<>();
    private final Egress egress = new Egress();
    private final Thread thread;
    /** Mean wall time of a handshake on the worker (exponentially weighted, 1/8 per sample). */
    private volatile long nanosPerHandshake = INITIAL_NANOS;
    private volatile boolean stopped;
    /**
     * handshake.nice asked for, the one the thread tried last and the one it runs at (only the thread writes those),
     * all relative to {@link #baseNice}.
     */
    private volatile int wantedNice;
    private volatile int triedNice;
    private volatile int appliedNice;
    /** The thread's nice value as it started: the process's. */
    private volatile int baseNice;
    /** The thread's kernel id once it runs (-1 before, or where there is none). */
    private volatile long threadId = -1;

    public HandshakeWorker(Mode mode) {
        this(mode, System::nanoTime);
    }

    /** @param clock nanoseconds, for the wait in the queue (tests move it) */
    public HandshakeWorker(Mode mode, LongSupplier clock) {
        this.mode = mode;
        this.clock = clock;
        if (mode == Mode.THREAD) {
            thread = new Thread(this::loop, THREAD_NAME);
            thread.setDaemon(true);
            thread.start();
        } else {
            thread = null;
        }
    }

    /**
     * Queues a handshake (INLINE: runs it now with the caller's {@code e}). False when its lane is full or the
     * worker stopped: the initiation is dropped, the caller counts it. {@code dropped} runs (on the worker) if it
     * waited too long to be worth answering.
     *
     * @param established the initiation comes from the address of a member with a proven port
     */
    boolean offer(Job job, Runnable dropped, boolean established, Egress e) {
        if (stopped) {
            return false;
        }
        if (mode == Mode.INLINE) {
            job.run(e);
            return true;
        }
        lock.lock();
        try {
            ArrayDeque<Queued> lane = established ? members : others;
            if (lane.size() >= room()) {
                return false;
            }
            lane.add(new Queued(job, dropped, clock.getAsLong()));
            waiting.signal();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The handshake thread's nice value above the process's (0..{@value ThreadNice#MAX}; the sum stops at
     * {@value ThreadNice#MAX}); the thread applies it before its next wait. No effect in INLINE and MANUAL mode (no
     * thread of its own).
     */
    public void nice(int nice) {
        if (nice < 0 || nice > ThreadNice.MAX) {
            throw new IllegalArgumentException("nice " + nice + " (must be 0.." + ThreadNice.MAX + ")");
        }
        wantedNice = nice;
        if (thread != null) {
            lock.lock();
            try {
                waiting.signal();
            } finally {
                lock.unlock();
            }
        }
    }

    /** The nice value the thread applied last (tests, status). */
    int appliedNice() {
        return appliedNice;
    }

    /** The thread's kernel id, -1 before it ran or where there is none (tests read its priority from /proc). */
    long threadId() {
        return threadId;
    }

    /** Handshakes waiting. */
    public int queued() {
        lock.lock();
        try {
            return members.size() + others.size();
        } finally {
            lock.unlock();
        }
    }

    /** Whether half the newcomers' lane is taken: the worker falls behind, so the gate asks for cookies. */
    boolean backlogged() {
        lock.lock();
        try {
            return others.size() > room() / 2;
        } finally {
            lock.unlock();
        }
    }

    /** Room of a lane: {@link #CAPACITY}, on the thread also no more than it does in {@link #MAX_WAIT_NANOS}. */
    private int room() {
        if (mode != Mode.THREAD) {
            return CAPACITY;
        }
        long n = Math.max(1, nanosPerHandshake);
        return (int) Math.max(MIN_ROOM, Math.min(CAPACITY, MAX_WAIT_NANOS / n));
    }

    /**
     * Handshakes a second the worker can do, from its measured time per handshake. INLINE: the minimum budget, as
     * before the worker (the unit tests' thresholds do not depend on the machine).
     */
    int perSecond() {
        if (mode == Mode.INLINE) {
            return HandshakeGate.MIN_HANDSHAKES_PER_SECOND;
        }
        long n = Math.max(1, nanosPerHandshake);
        return (int) Math.min(Integer.MAX_VALUE, 1_000_000_000L / n);
    }

    /** MANUAL (tests): runs what is queued on the caller's thread, established members first; returns how many ran. */
    public int runQueued() {
        int n = 0;
        for (Queued q; (q = next()) != null; n++) {
            run(q);
        }
        return n;
    }

    /** Stops the thread (within a second) and drops what is queued: the agents retry with the next switch. */
    public void stop() {
        stopped = true;
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(1_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        lock.lock();
        try {
            members.clear();
            others.clear();
        } finally {
            lock.unlock();
        }
    }

    private Queued next() {
        lock.lock();
        try {
            Queued q = members.poll();
            return q != null ? q : others.poll();
        } finally {
            lock.unlock();
        }
    }

    private void loop() {
        threadId = ThreadNice.currentThreadId();
        Integer inherited = ThreadNice.niceOf(threadId);
        baseNice = inherited == null ? 0 : inherited; // the process's (a switch started under nice -n 5: 5)
        while (!stopped) {
            if (wantedNice != triedNice) {
                applyNice(wantedNice);
            }
            Queued q;
            lock.lock();
            try {
                while (members.isEmpty() && others.isEmpty() && !stopped && wantedNice == triedNice) {
                    waiting.await(1, TimeUnit.SECONDS);
                }
                q = members.poll();
                if (q == null) {
                    q = others.poll();
                }
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
            if (q != null) {
                run(q);
            }
        }
    }

    /** On the thread: one line either way, so an operator sees what the setting did. */
    private void applyNice(int nice) {
        // relative to the process, as nice(1) is: the kernel's value is absolute
        int target = Math.min(ThreadNice.MAX, baseNice + nice);
        String failure = ThreadNice.applyToCurrentThread(target);
        int was = appliedNice;
        triedNice = nice; // also on failure: tried once per value, not in a loop
        if (failure == null) {
            appliedNice = nice;
            LOG.info("Handshake thread {} at nice {} (the process's {} + handshake.nice {}): forwarding goes first when"
                    + " the CPU is short", THREAD_NAME, target, baseNice, nice);
        } else {
            LOG.warn("Handshake thread {} stays at nice {} + {}, handshake.nice = {} not applied: {}", THREAD_NAME,
                    baseNice, was, nice, failure);
        }
    }

    private void run(Queued q) {
        if (clock.getAsLong() - q.at > MAX_WAIT_NANOS) {
            q.dropped.run(); // its agent has retried by now: no Diffie-Hellman for an answer nobody takes
            return;
        }
        if (mode == Mode.THREAD) {
            runMeasured(q.job);
        } else {
            q.job.run(egress);
        }
    }

    private void runMeasured(Job j) {
        long start = System.nanoTime();
        try {
            j.run(egress);
        } catch (RuntimeException ex) {
            // one bad initiation must not stop every later join; a bug, so said (the loop goes on)
            LOG.error("Handshake failed: {}", ex.toString(), ex);
        }
        long took = System.nanoTime() - start;
        long mean = nanosPerHandshake;
        nanosPerHandshake = mean + ((took - mean) >> 3);
    }
}

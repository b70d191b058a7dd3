package org.vl2.switching.internal.vl2;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

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
 * <p>The queue is bounded ({@link #CAPACITY}): an initiation that finds it full is dropped (counted as throttled by
 * the caller) and the agent retries in a second. The worker measures how long a handshake takes on it (wall time,
 * so a loaded machine counts), and the gate's budget follows that ({@link #perSecond}).
 *
 * <p>{@link Mode#INLINE} runs each handshake on the caller's thread at once (the unit tests' switch, deterministic);
 * {@link Mode#MANUAL} only queues, and {@link #runQueued} runs them (tests that hold the worker).
 */
public final class HandshakeWorker {

    private static final Logger LOG = LoggerFactory.getLogger(HandshakeWorker.class);
    static final String THREAD_NAME = "vl2-switch-handshakes";
    /** Initiations waiting at most: at ~0.5 ms each a quarter of a second of work, well below the agents' retry. */
    public static final int CAPACITY = 256;
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

    private final Mode mode;
    private final BlockingQueue<Job> queue = new ArrayBlockingQueue<>(CAPACITY);
    private final Egress egress = new Egress();
    private final Thread thread;
    /** Mean wall time of a handshake on the worker (exponentially weighted, 1/8 per sample). */
    private volatile long nanosPerHandshake = INITIAL_NANOS;
    private volatile boolean stopped;

    public HandshakeWorker(Mode mode) {
        this.mode = mode;
        if (mode == Mode.THREAD) {
            thread = new Thread(this::loop, THREAD_NAME);
            thread.setDaemon(true);
            thread.start();
        } else {
            thread = null;
        }
    }

    /**
     * Queues a handshake (INLINE: runs it now with the caller's {@code e}). False when the queue is full or the
     * worker stopped: the initiation is dropped, the caller counts it.
     */
    boolean offer(Job job, Egress e) {
        if (stopped) {
            return false;
        }
        if (mode == Mode.INLINE) {
            job.run(e);
            return true;
        }
        return queue.offer(job);
    }

    /** Handshakes waiting. */
    public int queued() {
        return queue.size();
    }

    /** Whether half the queue is taken: the worker falls behind, so the gate asks for cookies. */
    boolean backlogged() {
        return queue.size() > CAPACITY / 2;
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

    /** MANUAL (tests): runs what is queued on the caller's thread; returns how many ran. */
    public int runQueued() {
        int n = 0;
        for (Job j; (j = queue.poll()) != null; n++) {
            runMeasured(j);
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
        queue.clear();
    }

    private void loop() {
        while (!stopped) {
            Job j;
            try {
                j = queue.poll(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (j != null) {
                runMeasured(j);
            }
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

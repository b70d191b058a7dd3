package org.vl2.netio;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The receive thread of a {@link DatagramEndpoint}, as the switch's transports run it: take up to a batch, hand each
 * datagram to the {@link Handler} in place, then let it send what it queued meanwhile ({@link Handler#batchDone});
 * again until {@link #stop} or until the endpoint is closed. Nothing is allocated or logged per datagram; failures
 * go to the handler, which decides what to log. The thread has a {@link SendBatch}: what other transports deferred
 * while it handed the batch over (a TCP member's staged messages) is sent after {@link Handler#batchDone}.
 *
 * <pre>
 *   receive(500 ms) --n--> datagram(source, view) x n --> batchDone() (flush) --> SendBatch.end() --+
 *        ^                                                                                          |
 *        +------------------------------------------------------------------------------------------+
 * </pre>
 */
public final class ReceiveLoop {

    /** How long a receive waits before it looks at {@link #stop} again (a stop also wakes it at once). */
    private static final int WAIT_MILLIS = 500;
    /**
     * A stop wakes the receive again this often until the thread has left: a wake-up that lands in the moment before
     * the receive blocks is lost (a signal, {@link DatagramEndpoint#wakeup}), the next one is not.
     */
    private static final long REWAKE_MILLIS = 5;

    /** What the loop calls, all on its thread. */
    public interface Handler {

        /** One datagram, between position and limit of a view that is reused after the call returns. */
        void datagram(InetSocketAddress source, ByteBuffer datagram);

        /** After the datagrams of one receive (not after a timeout): send what was queued meanwhile. */
        void batchDone();

        /** A receive failed (not because the loop stops or the endpoint was closed); the loop goes on. */
        void receiveFailed(IOException e);

        /** {@link #datagram} or {@link #batchDone} threw (a bug in a receiver): the loop goes on. */
        void handlingFailed(RuntimeException e);
    }

    private final DatagramEndpoint endpoint;
    private final Handler handler;
    private final LoopThread thread;
    private volatile boolean running = true;

    /** The loop's thread knows its loop and its send batch: {@link #current} is one type check and one field read. */
    private static final class LoopThread extends SendBatch.BatchThread {
        private final ReceiveLoop loop;

        LoopThread(ReceiveLoop loop, String name) {
            super(name);
            this.loop = loop;
            setDaemon(true);
        }

        @Override
        public void run() {
            loop.run();
        }
    }

    private ReceiveLoop(DatagramEndpoint endpoint, String threadName, Handler handler) {
        this.endpoint = endpoint;
        this.handler = handler;
        this.thread = new LoopThread(this, threadName);
    }

    /** Starts a daemon thread named {@code threadName} that receives from {@code endpoint} for {@code handler}. */
    public static ReceiveLoop start(DatagramEndpoint endpoint, String threadName, Handler handler) {
        ReceiveLoop loop = new ReceiveLoop(endpoint, threadName, handler);
        loop.thread.start();
        return loop;
    }

    /** True on the loop's own thread: there, sends may be queued, since {@link Handler#batchDone} follows. */
    public boolean onLoopThread() {
        return Thread.currentThread() == thread;
    }

    /**
     * The loop whose thread this is, or null on any other thread: what a sender on the hot path asks to find the socket
     * it may queue on, in constant time whatever the number of loops, without allocating.
     */
    public static ReceiveLoop current() {
        return Thread.currentThread() instanceof LoopThread t ? t.loop : null;
    }

    /** The handler given to {@link #start}. */
    public Handler handler() {
        return handler;
    }

    /**
     * Ends several loops within one bound: all are told to stop first, then each is waited for with what remains of
     * {@code timeoutMillis}, so stuck handlers cost the bound once, not once per loop.
     *
     * @return how many threads are still running (each in a handler call that does not return)
     */
    public static int stopAll(ReceiveLoop[] loops, long timeoutMillis) {
        return stopAll(loops, timeoutMillis, System::nanoTime);
    }

    /** {@link #stopAll(ReceiveLoop[], long)} with the bound measured on {@code nanoTime} (tests move it on). */
    static int stopAll(ReceiveLoop[] loops, long timeoutMillis, LongSupplier nanoTime) {
        for (ReceiveLoop l : loops) {
            l.running = false;
            l.endpoint.wakeup();
        }
        long deadline = nanoTime.getAsLong() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        int alive = 0;
        for (ReceiveLoop l : loops) {
            if (l.onLoopThread()) {
                continue; // stopped from a handler: the loop ends when the call returns
            }
            if (!l.awaitEnd(deadline, nanoTime)) {
                alive++;
            }
        }
        return alive;
    }

    /** Waits for the thread until {@code deadline} on {@code nanoTime}, waking its receive again every few ms. */
    private boolean awaitEnd(long deadline, LongSupplier nanoTime) {
        try {
            while (true) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - nanoTime.getAsLong());
                thread.join(Math.max(1, Math.min(left, REWAKE_MILLIS)));
                if (!thread.isAlive() || left <= REWAKE_MILLIS) {
                    break;
                }
                endpoint.wakeup();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !thread.isAlive();
    }

    /**
     * Ends the loop: wakes the receive and waits up to {@code timeoutMillis} for the thread. After a true return no
     * handler call is in progress or will follow.
     *
     * @return false if the thread is still running (a handler call that does not return)
     */
    public boolean stop(long timeoutMillis) {
        running = false;
        endpoint.wakeup();
        if (onLoopThread()) {
            return true; // stopped from a handler: the loop ends when the call returns
        }
        return awaitEnd(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis), System::nanoTime);
    }

    private void run() {
        final DatagramEndpoint ep = endpoint;
        final Handler h = handler;
        final SendBatch sends = SendBatch.enter(); // what other transports defer to the end of each batch
        try {
            loop(ep, h, sends);
        } finally {
            try {
                SendBatch.leave();
            } catch (RuntimeException e) {
                h.handlingFailed(e);
            }
        }
    }

    private void loop(DatagramEndpoint ep, Handler h, SendBatch sends) {
        while (running && round(ep, h, sends)) {
            // one receive per round
        }
    }

    /**
     * One receive (or wait), its datagrams and the batch end; false once the endpoint is closed. A method of its own
     * so that the JIT compiles it after a few hundred rounds: as the body of {@link #loop}'s loop it would run
     * interpreted until the back-edge counter asks for an on-stack replacement, which sparse traffic (a ping every
     * few milliseconds) takes minutes to reach.
     */
    private boolean round(DatagramEndpoint ep, Handler h, SendBatch sends) {
        int n;
        try {
            n = ep.receive(WAIT_MILLIS);
        } catch (ClosedChannelException e) {
            return false;
        } catch (IOException e) {
            if (running) {
                h.receiveFailed(e);
            }
            return true;
        }
        for (int i = 0; i < n; i++) {
            try {
                h.datagram(ep.source(i), ep.datagram(i));
            } catch (RuntimeException e) {
                h.handlingFailed(e);
            }
        }
        if (n > 0) {
            try {
                h.batchDone();
            } catch (RuntimeException e) {
                h.handlingFailed(e);
            }
            if (sends.pending() > 0) {
                try {
                    sends.end();
                } catch (RuntimeException e) {
                    h.handlingFailed(e);
                }
            }
        }
        return true;
    }
}

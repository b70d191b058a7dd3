package org.vl2.netio;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;

/**
 * The receive thread of a {@link DatagramEndpoint}, as the switch's transports run it: take up to a batch, hand each
 * datagram to the {@link Handler} in place, then let it send what it queued meanwhile ({@link Handler#batchDone});
 * again until {@link #stop} or until the endpoint is closed. Nothing is allocated or logged per datagram; failures
 * go to the handler, which decides what to log.
 *
 * <pre>
 *   receive(500 ms) --n--> datagram(source, view) x n --> batchDone() (flush) --+
 *        ^                                                                       |
 *        +-----------------------------------------------------------------------+
 * </pre>
 */
public final class ReceiveLoop {

    /** How long a receive waits before it looks at {@link #stop} again (a stop also wakes it at once). */
    private static final int WAIT_MILLIS = 500;

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
    private final Thread thread;
    private volatile boolean running = true;

    private ReceiveLoop(DatagramEndpoint endpoint, String threadName, Handler handler) {
        this.endpoint = endpoint;
        this.handler = handler;
        this.thread = new Thread(this::run, threadName);
        thread.setDaemon(true);
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
        try {
            thread.join(timeoutMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !thread.isAlive();
    }

    private void run() {
        final DatagramEndpoint ep = endpoint;
        final Handler h = handler;
        while (running) {
            int n;
            try {
                n = ep.receive(WAIT_MILLIS);
            } catch (ClosedChannelException e) {
                break;
            } catch (IOException e) {
                if (running) {
                    h.receiveFailed(e);
                }
                continue;
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
            }
        }
    }
}

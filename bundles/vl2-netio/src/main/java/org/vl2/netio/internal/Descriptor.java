package org.vl2.netio.internal;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A socket's file descriptor, the eventfd that wakes its receive, whether it is connected and whether it is closed:
 * what the receive and send halves of a batched socket share with the socket that owns them.
 */
public final class Descriptor {

    public final int fd;
    public final int wakeFd;
    public final int family;
    private volatile boolean closed;
    /** Connected to one peer: a waiting receive blocks in recvmmsg ({@link BatchReceiver}). */
    private volatile boolean connected;
    /** The thread id of a receive blocked in recvmmsg (0: none), for {@link ThreadWake}. */
    private volatile int waiter;
    /** A wake-up asked for and not yet taken by a receive. */
    private final AtomicBoolean wake = new AtomicBoolean();

    public Descriptor(int fd, int wakeFd, int family) {
        this.fd = fd;
        this.wakeFd = wakeFd;
        this.family = family;
    }

    public boolean closed() {
        return closed;
    }

    public void markClosed() {
        closed = true;
    }

    public boolean connected() {
        return connected;
    }

    public void markConnected() {
        connected = true;
    }

    /** A receive on thread {@code tid} is about to block (0: it returned). */
    void waiting(int tid) {
        waiter = tid;
    }

    /** Takes a pending wake-up: true once per {@link #wake()}. */
    boolean takeWake() {
        return wake.get() && wake.getAndSet(false);
    }

    /**
     * Asks the waiting receive (or the next one) to return: the flag it looks at before it blocks, and a signal to
     * the thread if one is blocked now. Returns false when no receive is blocked now.
     */
    boolean wake() {
        wake.set(true);
        int tid = waiter;
        return tid != 0 && ThreadWake.interrupt(tid);
    }

    /** A system error as "text (errno n)". */
    public static String error(int errno) {
        String s;
        try {
            s = Sys.strerror(errno);
        } catch (RuntimeException e) {
            s = null;
        }
        return (s == null ? "error" : s) + " (errno " + errno + ")";
    }
}

package org.vl2.netio.internal;

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

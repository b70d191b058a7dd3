package org.vl2.netio.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;

import com.sun.jna.Native;
import com.sun.jna.Pointer;

import org.vl2.netio.DatagramEndpoint;

/**
 * The receive half of a batched socket: a ring of message headers over 64 KiB data slots that one {@code recvmmsg}
 * fills, and the datagram views the caller reads in place. A GRO message (a burst of one peer's datagrams, all of
 * the size its cmsg says but the last) is cut into one view per datagram. Native memory ({@link MsgHdr.Batch}) is
 * allocated once; views and source addresses are reused, so nothing is allocated per datagram. One thread at a
 * time (the owner serialises).
 */
public final class BatchReceiver {

    private static final int POLL_TIMEOUT_MAX = 60_000;
    /** Where the SO_RCVTIMEO value is written (struct timeval), after the pollfd pair and the eventfd scratch. */
    private static final int TIMEVAL_AT = 16 + 8;

    private final Descriptor socket;
    private final int batch;
    private final boolean gro;
    private final MsgHdr.Batch memory;
    private final ByteBuffer ctl;
    private final long names;
    private final long cmsgs;
    private final long pollFds;
    private final long scratch;
    /** Raw addresses of the headers and the pollfd pair: JNA passes a {@code long} without marshalling. */
    private final long headers;
    private final long pollAddress;
    private final Pointer scratchPointer;
    private final ByteBuffer data;
    private final ByteBuffer[] views;
    private final InetSocketAddress[] sources;
    private final SockAddr sourceCache = new SockAddr();
    private int messages;   // messages in the slots
    private int received;   // datagrams in them
    /** The socket's SO_RCVTIMEO in milliseconds as last set (0: not set, the kernel would wait for ever). */
    private int blockMillis;
    /** The thread that last waited here and its kernel id (a system call to learn, so kept). */
    private Thread waitingThread;
    private int waitingTid;

    public BatchReceiver(Descriptor socket, int batch, boolean gro) {
        this.socket = socket;
        this.batch = batch;
        this.gro = gro;
        memory = new MsgHdr.Batch(batch, TIMEVAL_AT + 16);
        ctl = memory.ctl;
        names = memory.names;
        cmsgs = memory.cmsgs;
        pollFds = memory.extra;
        scratch = pollFds + 16;
        // JNA hands out native-order views; datagrams are network data, read big-endian like any ByteBuffer
        data = memory.dataMemory.getByteBuffer(0, (long) batch * MsgHdr.SLOT).order(ByteOrder.BIG_ENDIAN);
        views = new ByteBuffer[batch * (gro ? DatagramEndpoint.MAX_SEGMENTS : 1)];
        sources = new InetSocketAddress[views.length];
        for (int i = 0; i < batch; i++) {
            long h = (long) i * MsgHdr.SIZE;
            memory.header(i, SockAddr.SIZE, MsgHdr.SLOT);
            if (gro) {
                ctl.putLong((int) h + MsgHdr.CONTROL, memory.base + cmsgs + (long) i * MsgHdr.CMSG);
                ctl.putLong((int) h + MsgHdr.CONTROLLEN, MsgHdr.CMSG);
            }
        }
        headers = memory.base;
        pollAddress = memory.base + pollFds;
        scratchPointer = memory.ctlMemory.share(scratch);
        ctl.putInt((int) pollFds, socket.fd);
        ctl.putShort((int) pollFds + 4, Sys.POLLIN);
        ctl.putInt((int) pollFds + 8, socket.wakeFd);
        ctl.putShort((int) pollFds + 12, Sys.POLLIN);
    }

    /**
     * Receives up to a batch of messages; with nothing queued waits up to {@code timeoutMillis} (0: not at all) for
     * a datagram or the wake-up eventfd. Returns the datagrams received (0 after a timeout or wake-up).
     *
     * <p>A waiting receive is one {@code recvmmsg} that blocks ({@link #receiveBlocking}): one system call per wake-up,
     * ended by a datagram, the timeout, a {@code wakeup()} (a signal to this thread, {@link ThreadWake}) or close.
     * Where {@link ThreadWake} does not work, an unconnected socket (the switch's) waits in {@code poll} on the socket
     * and the eventfd, which a {@code wakeup()} makes readable: a blocked {@code recvmmsg} could then be woken only by
     * a datagram to itself, which in a reuseport group the kernel may hand to a sibling socket. There, when the last
     * receive took less than half a batch the socket was drained then, and most likely still is: a waiting receive
     * polls first instead of finding out with an empty {@code recvmmsg}.
     */
    public int receive(int timeoutMillis, InetSocketAddress local) throws IOException {
        ByteBuffer c = ctl;
        for (int i = 0; i < messages; i++) {
            int h = i * MsgHdr.SIZE;
            c.putInt(h + MsgHdr.NAMELEN, SockAddr.SIZE); // the kernel wrote the actual lengths
            if (gro) {
                c.putLong(h + MsgHdr.CONTROLLEN, MsgHdr.CMSG);
            }
        }
        boolean pollFirst = timeoutMillis != 0 && messages * 2 < batch;
        messages = 0;
        received = 0;
        if (timeoutMillis != 0 && (ThreadWake.UNAVAILABLE == null || socket.connected())) {
            return receiveBlocking(c, timeoutMillis, local);
        }
        boolean waited = false;
        while (true) {
            if (socket.closed()) {
                throw new ClosedChannelException();
            }
            if (!pollFirst) {
                int n = Sys.recvmmsg(socket.fd, headers, batch, Sys.MSG_DONTWAIT, 0L);
                if (n > 0) {
                    messages = n;
                    received = split(c, n);
                    return received;
                }
                int e = Native.getLastError();
                if (n == 0 || e == Sys.EINTR) {
                    continue;
                }
                if (e == Sys.ECONNREFUSED) {
                    throw new PortUnreachableException("ICMP port unreachable from " + local + "'s peer");
                }
                if (e != Sys.EAGAIN) {
                    if (socket.closed()) {
                        throw new ClosedChannelException();
                    }
                    throw new SocketException("recvmmsg: " + Descriptor.error(e));
                }
                if (timeoutMillis == 0 || waited) {
                    return 0;
                }
            }
            pollFirst = false;
            int r = Sys.poll(pollAddress, 2, Math.min(timeoutMillis, POLL_TIMEOUT_MAX));
            if (r <= 0) {
                return 0; // timeout, or EINTR: the caller loops anyway
            }
            if ((c.getShort((int) pollFds + 8 + 6) & Sys.POLLIN) != 0) {
                Sys.read(socket.wakeFd, scratchPointer, 8); // drain the wake-up
                return 0;
            }
            waited = true;
        }
    }

    /**
     * A waiting receive: one blocking {@code recvmmsg} (MSG_WAITFORONE: it returns with the first datagram and
     * whatever else is queued then), bounded by SO_RCVTIMEO, which is set only when the timeout changes. Close ends
     * the wait at once ({@code shutdown(SHUT_RD)}); a {@code wakeup()} too, by a signal to this thread (where
     * {@link ThreadWake} works; else at the timeout), or before the call by the flag it sets.
     */
    private int receiveBlocking(ByteBuffer c, int timeoutMillis, InetSocketAddress local) throws IOException {
        if (socket.closed()) {
            throw new ClosedChannelException(); // before any call: the descriptor may be released already
        }
        blockUpTo(Math.min(timeoutMillis, POLL_TIMEOUT_MAX));
        boolean wakeable = ThreadWake.UNAVAILABLE == null;
        if (wakeable) {
            Thread me = Thread.currentThread();
            if (me != waitingThread) {
                waitingTid = ThreadWake.currentTid();
                waitingThread = me;
            }
            socket.waiting(waitingTid);
            if (socket.takeWake()) {
                socket.waiting(0);
                return 0; // woken before the wait
            }
        }
        int n = Sys.recvmmsg(socket.fd, headers, batch, Sys.MSG_WAITFORONE, 0L);
        int e = n < 0 ? Native.getLastError() : 0;
        if (wakeable) {
            socket.waiting(0);
        }
        if (socket.closed()) {
            throw new ClosedChannelException(); // woken by the shutdown (an empty message), or raced with it
        }
        if (n > 0) {
            messages = n;
            received = split(c, n);
            return received;
        }
        if (n == 0 || e == Sys.EAGAIN || e == Sys.EINTR) {
            if (wakeable) {
                socket.takeWake();
            }
            return 0; // the wait timed out, or a wake-up (or another signal) ended it: the caller loops anyway
        }
        if (e == Sys.ECONNREFUSED) {
            throw new PortUnreachableException("ICMP port unreachable from " + local + "'s peer");
        }
        throw new SocketException("recvmmsg: " + Descriptor.error(e));
    }

    /** Sets SO_RCVTIMEO when it differs from what the socket has: a system call only when the timeout changes. */
    private void blockUpTo(int millis) throws IOException {
        if (millis == blockMillis) {
            return;
        }
        int at = (int) pollFds + TIMEVAL_AT;
        ctl.putLong(at, millis / 1000);
        ctl.putLong(at + 8, (millis % 1000) * 1000L);
        if (Sys.setsockopt(socket.fd, Sys.SOL_SOCKET, Sys.SO_RCVTIMEO, memory.ctlMemory.share(at), 16) != 0) {
            if (socket.closed()) {
                throw new ClosedChannelException();
            }
            throw new SocketException("setsockopt SO_RCVTIMEO: " + Descriptor.error(Native.getLastError()));
        }
        blockMillis = millis;
    }

    /** Turns {@code n} received messages into datagram views (a GRO message into its segments). */
    private int split(ByteBuffer c, int n) {
        int d = 0;
        for (int i = 0; i < n; i++) {
            int h = i * MsgHdr.SIZE;
            int length = c.getInt(h + MsgHdr.LEN);
            InetSocketAddress from = sourceCache.decode(c, (int) names + i * SockAddr.SIZE);
            int segment = length;
            if (gro && c.getLong(h + MsgHdr.CONTROLLEN) >= 20) {
                int cm = (int) cmsgs + i * MsgHdr.CMSG;
                if (c.getInt(cm + MsgHdr.CMSG_LEVEL) == Sys.SOL_UDP && c.getInt(cm + MsgHdr.CMSG_TYPE) == Sys.UDP_GRO) {
                    int size = c.getInt(cm + MsgHdr.CMSG_DATA);
                    if (size > 0) {
                        segment = size;
                    }
                }
            }
            int at = i * MsgHdr.SLOT;
            int end = at + length;
            do {
                ByteBuffer v = views[d];
                if (v == null) {
                    v = data.duplicate();
                    views[d] = v;
                }
                int stop = Math.min(end, at + segment);
                v.limit(stop).position(at);
                sources[d] = from;
                d++;
                at = stop;
            } while (at < end && d < views.length);
        }
        return d;
    }

    public ByteBuffer datagram(int i) {
        return views[i];
    }

    public InetSocketAddress source(int i) {
        return sources[i];
    }
}

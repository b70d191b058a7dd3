package org.vl2.netio;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

import org.vl2.netio.internal.SockAddr;
import org.vl2.netio.internal.Sys;

/**
 * A UDP socket that moves up to {@link #batchSize()} datagrams per system call: {@code recvmmsg} fills a ring of
 * receive slots, and datagrams {@linkplain #queue queued} for sending leave together with one {@code sendmmsg} at
 * {@link #flush()}. On loopback and fast links the per-datagram cost of a Java socket is mostly the system call
 * itself; batching shares it.
 *
 * <p>Threads: {@link #receive}, {@link #datagram}, {@link #source}, {@link #queue} and {@link #flush} belong to one
 * thread, the socket's owner (typically its receive loop, which forwards what it received and flushes once per
 * batch). {@link #send} (one datagram, one {@code sendto}) and {@link #wakeup} may be called from any thread.
 * Nothing is allocated per datagram: slots, headers and addresses live in native memory allocated once, and
 * source addresses come from a cache.
 *
 * <p>Linux only (LP64): {@link #unavailableReason()} says why not elsewhere, so callers can fall back to NIO.
 */
public final class UdpBatchSocket implements AutoCloseable {

    /** Largest UDP payload over IPv4; a slot holds it, so nothing received is ever truncated. */
    public static final int MAX_DATAGRAM = 65_507;
    /** Upper bound of {@link #batchSize()} (the kernel's UIO_MAXIOV). */
    public static final int MAX_BATCH = 1024;

    private static final int SLOT = 65_536;
    private static final int MMSGHDR = 64;    // struct mmsghdr: msghdr (56) + msg_len + padding
    private static final int IOVEC = 16;
    private static final int MSG_NAME = 0;
    private static final int MSG_NAMELEN = 8;
    private static final int MSG_IOV = 16;
    private static final int MSG_IOVLEN = 24;
    private static final int MSG_LEN = 56;
    private static final int POLL_TIMEOUT_MAX = 60_000;

    private static final String UNAVAILABLE = probe();

    private final int fd;
    private final int wakeFd;
    private final int family;
    private final int batch;
    private final InetSocketAddress local;

    // Native memory: control (headers, iovecs, addresses, pollfds) and the data slots. Kept reachable for the
    // socket's life and never freed explicitly, so a late caller can never touch freed memory.
    private final Memory ctlMemory;
    private final Memory dataMemory;
    private final ByteBuffer ctl;
    private final long rxHdr;
    private final long rxNames;
    private final long txHdr;
    private final long txNames;
    private final long pollFds;
    private final long scratch;
    private final Pointer rxHdrPointer;
    private final Pointer[] txHdrAt;
    private final Pointer pollPointer;
    private final Pointer scratchPointer;
    private final ByteBuffer[] rxSlots;
    private final ByteBuffer[] txSlots;
    private final InetSocketAddress[] sources;
    private final SockAddr sourceCache = new SockAddr();

    // send(): a slot of its own, used under the lock
    private final Object sendLock = new Object();
    private final long oneName;
    private final Pointer oneNamePointer;
    private final ByteBuffer oneSlot;
    private final Pointer oneSlotPointer;

    private int received;   // datagrams in the receive slots
    private int queued;     // datagrams waiting in the send slots
    private volatile boolean closed;

    private UdpBatchSocket(int fd, int wakeFd, int family, int batch) throws IOException {
        this.fd = fd;
        this.wakeFd = wakeFd;
        this.family = family;
        this.batch = batch;
        long hdrBytes = (long) batch * (MMSGHDR + IOVEC + SockAddr.SIZE);
        long ctlBytes = 2 * hdrBytes + 16 + 64 + SockAddr.SIZE;
        ctlMemory = new Memory(ctlBytes);
        ctlMemory.clear();
        ctl = ctlMemory.getByteBuffer(0, ctlBytes).order(ByteOrder.nativeOrder());
        // Data: untouched pages cost no RSS, so 64 KiB slots are cheap when datagrams are small.
        dataMemory = new Memory((2L * batch + 1) * SLOT);
        rxHdr = 0;
        long rxIov = rxHdr + (long) batch * MMSGHDR;
        rxNames = rxIov + (long) batch * IOVEC;
        txHdr = rxNames + (long) batch * SockAddr.SIZE;
        long txIov = txHdr + (long) batch * MMSGHDR;
        txNames = txIov + (long) batch * IOVEC;
        pollFds = txNames + (long) batch * SockAddr.SIZE;
        scratch = pollFds + 16;
        oneName = scratch + 64;
        long base = Pointer.nativeValue(ctlMemory);
        long dataBase = Pointer.nativeValue(dataMemory);
        rxSlots = new ByteBuffer[batch];
        txSlots = new ByteBuffer[batch];
        sources = new InetSocketAddress[batch];
        txHdrAt = new Pointer[batch];
        for (int i = 0; i < batch; i++) {
            long rxData = (long) i * SLOT;
            long txData = (long) (batch + i) * SLOT;
            rxSlots[i] = dataMemory.getByteBuffer(rxData, SLOT);
            txSlots[i] = dataMemory.getByteBuffer(txData, SLOT);
            header(rxHdr + (long) i * MMSGHDR, base + rxNames + (long) i * SockAddr.SIZE, SockAddr.SIZE,
                    base + rxIov + (long) i * IOVEC, dataBase + rxData, SLOT);
            header(txHdr + (long) i * MMSGHDR, base + txNames + (long) i * SockAddr.SIZE, 0,
                    base + txIov + (long) i * IOVEC, dataBase + txData, 0);
            txHdrAt[i] = ctlMemory.share(txHdr + (long) i * MMSGHDR);
        }
        rxHdrPointer = ctlMemory.share(rxHdr);
        pollPointer = ctlMemory.share(pollFds);
        scratchPointer = ctlMemory.share(scratch);
        oneNamePointer = ctlMemory.share(oneName);
        oneSlot = dataMemory.getByteBuffer(2L * batch * SLOT, SLOT);
        oneSlotPointer = dataMemory.share(2L * batch * SLOT);
        ctl.putInt((int) pollFds, fd);
        ctl.putShort((int) pollFds + 4, Sys.POLLIN);
        ctl.putInt((int) pollFds + 8, wakeFd);
        ctl.putShort((int) pollFds + 12, Sys.POLLIN);
        this.local = localAddress(fd);
    }

    private void header(long at, long name, int nameLength, long iov, long data, int dataLength) {
        int h = (int) at;
        ctl.putLong(h + MSG_NAME, name);
        ctl.putInt(h + MSG_NAMELEN, nameLength);
        ctl.putLong(h + MSG_IOV, iov);
        ctl.putLong(h + MSG_IOVLEN, 1);
        ctl.putLong((int) (iov - Pointer.nativeValue(ctlMemory)), data);
        ctl.putLong((int) (iov - Pointer.nativeValue(ctlMemory)) + 8, dataLength);
    }

    /** Null when batched sockets work here; otherwise why not (for a log line before falling back). */
    public static String unavailableReason() {
        return UNAVAILABLE;
    }

    private static String probe() {
        try {
            if (!Platform.isLinux() || !Platform.is64Bit()) {
                return "batched UDP I/O needs 64-bit Linux (this is " + System.getProperty("os.name") + " "
                        + System.getProperty("os.arch") + ")";
            }
            if (!Sys.errnoWorks()) {
                return "JNA does not report errno (jna.preserve_last_error=false)";
            }
            return null;
        } catch (LinkageError e) {
            return "JNA is not usable: " + e;
        }
    }

    /**
     * Opens a non-blocking UDP socket bound to {@code bind} (an IPv6 wildcard also takes IPv4), with the given
     * socket buffer sizes (the kernel caps them at net.core.rmem_max/wmem_max) and batch size.
     *
     * @throws BindException if the address is in use or not local; {@link SocketException} for other failures
     * @throws IllegalStateException if {@link #unavailableReason()} is not null
     */
    public static UdpBatchSocket open(InetSocketAddress bind, int receiveBufferBytes, int sendBufferBytes, int batch)
            throws IOException {
        if (UNAVAILABLE != null) {
            throw new IllegalStateException(UNAVAILABLE);
        }
        if (batch < 1 || batch > MAX_BATCH) {
            throw new IllegalArgumentException("batch " + batch + " (must be 1.." + MAX_BATCH + ")");
        }
        if (bind.isUnresolved()) {
            throw new SocketException("unresolved address " + bind);
        }
        int family = bind.getAddress() instanceof Inet4Address ? Sys.AF_INET : Sys.AF_INET6;
        int fd = Sys.socket(family, Sys.SOCK_DGRAM | Sys.SOCK_NONBLOCK | Sys.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new SocketException("socket: " + error(Native.getLastError()));
        }
        int wakeFd = -1;
        try (Memory m = new Memory(SockAddr.SIZE + 8)) {
            ByteBuffer b = m.getByteBuffer(0, SockAddr.SIZE + 8).order(ByteOrder.nativeOrder());
            if (family == Sys.AF_INET6) {
                option(fd, m, Sys.IPPROTO_IPV6, Sys.IPV6_V6ONLY, 0, "IPV6_V6ONLY");
            }
            option(fd, m, Sys.SOL_SOCKET, Sys.SO_RCVBUF, receiveBufferBytes, "SO_RCVBUF");
            option(fd, m, Sys.SOL_SOCKET, Sys.SO_SNDBUF, sendBufferBytes, "SO_SNDBUF");
            int length = SockAddr.encode(b, 0, bind, family);
            if (Sys.bind(fd, m, length) != 0) {
                int e = Native.getLastError();
                throw new BindException(error(e));
            }
            wakeFd = Sys.eventfd(0, Sys.EFD_NONBLOCK | Sys.EFD_CLOEXEC);
            if (wakeFd < 0) {
                throw new SocketException("eventfd: " + error(Native.getLastError()));
            }
            return new UdpBatchSocket(fd, wakeFd, family, batch);
        } catch (IOException | RuntimeException | Error e) {
            Sys.close(fd);
            if (wakeFd >= 0) {
                Sys.close(wakeFd);
            }
            throw e;
        }
    }

    private static void option(int fd, Memory m, int level, int name, int value, String what) throws SocketException {
        m.setInt(0, value);
        if (Sys.setsockopt(fd, level, name, m, 4) != 0) {
            throw new SocketException("setsockopt " + what + ": " + error(Native.getLastError()));
        }
    }

    private static InetSocketAddress localAddress(int fd) throws SocketException {
        try (Memory m = new Memory(SockAddr.SIZE + 8)) {
            m.clear();
            m.setInt(SockAddr.SIZE, SockAddr.SIZE);
            if (Sys.getsockname(fd, m, m.share(SockAddr.SIZE)) != 0) {
                throw new SocketException("getsockname: " + error(Native.getLastError()));
            }
            return SockAddr.decodeOnce(m.getByteBuffer(0, SockAddr.SIZE).order(ByteOrder.nativeOrder()), 0);
        }
    }

    static String error(int errno) {
        String s;
        try {
            s = Sys.strerror(errno);
        } catch (RuntimeException e) {
            s = null;
        }
        return (s == null ? "error" : s) + " (errno " + errno + ")";
    }

    /** The address actually bound (the port the kernel picked when 0 was asked). */
    public InetSocketAddress localAddress() {
        return local;
    }

    public int batchSize() {
        return batch;
    }

    /** Sets SO_RCVBUF and SO_SNDBUF in place (a configuration change that keeps the address). */
    public void setBufferSizes(int receiveBufferBytes, int sendBufferBytes) throws SocketException {
        synchronized (sendLock) {
            ensureOpen();
            try (Memory m = new Memory(8)) {
                option(fd, m, Sys.SOL_SOCKET, Sys.SO_RCVBUF, receiveBufferBytes, "SO_RCVBUF");
                option(fd, m, Sys.SOL_SOCKET, Sys.SO_SNDBUF, sendBufferBytes, "SO_SNDBUF");
            }
        }
    }

    /**
     * Receives what is queued, up to the batch size; when nothing is, waits up to {@code timeoutMillis} (0: do not
     * wait) for a datagram or {@link #wakeup()}. Returns how many datagrams arrived (0 after a timeout or a
     * wake-up); they are {@link #datagram(int)} and {@link #source(int)} until the next call.
     */
    public int receive(int timeoutMillis) throws IOException {
        ByteBuffer c = ctl;
        for (int i = 0; i < received; i++) {
            c.putInt((int) rxHdr + i * MMSGHDR + MSG_NAMELEN, SockAddr.SIZE); // the kernel wrote the actual length
        }
        received = 0;
        boolean waited = false;
        while (true) {
            if (closed) {
                throw new ClosedChannelException();
            }
            int n = Sys.recvmmsg(fd, rxHdrPointer, batch, 0, null);
            if (n > 0) {
                for (int i = 0; i < n; i++) {
                    int h = (int) rxHdr + i * MMSGHDR;
                    rxSlots[i].clear().limit(c.getInt(h + MSG_LEN));
                    sources[i] = sourceCache.decode(c, (int) rxNames + i * SockAddr.SIZE);
                }
                received = n;
                return n;
            }
            int e = Native.getLastError();
            if (n == 0 || e == Sys.EINTR) {
                continue;
            }
            if (e != Sys.EAGAIN) {
                if (closed) {
                    throw new ClosedChannelException();
                }
                throw new SocketException("recvmmsg: " + error(e));
            }
            if (timeoutMillis == 0 || waited) {
                return 0;
            }
            int r = Sys.poll(pollPointer, 2, Math.min(timeoutMillis, POLL_TIMEOUT_MAX));
            if (r <= 0) {
                return 0; // timeout, or EINTR: the caller loops anyway
            }
            if ((c.getShort((int) pollFds + 8 + 6) & Sys.POLLIN) != 0) {
                Sys.read(wakeFd, scratchPointer, 8); // drain the wake-up
                return 0;
            }
            waited = true;
        }
    }

    /** Datagram {@code i} of the last {@link #receive}, between position 0 and its length; reused afterwards. */
    public ByteBuffer datagram(int i) {
        return rxSlots[i];
    }

    /** Where datagram {@code i} of the last {@link #receive} came from. */
    public InetSocketAddress source(int i) {
        return sources[i];
    }

    /** Makes a {@link #receive} that is waiting (or the next one that would wait) return 0. Any thread. */
    public void wakeup() {
        synchronized (sendLock) {
            if (!closed) {
                ctlMemory.setLong(scratch + 8, 1L);
                Sys.write(wakeFd, ctlMemory.share(scratch + 8), 8);
            }
        }
    }

    /**
     * Copies {@code data} (position to limit, unchanged on return) into a send slot for {@code to}; it leaves at the
     * next {@link #flush()}, or now if the slots are full. Owner thread only.
     *
     * @return false if {@code to} is not reachable from this socket (wrong family, unresolved) or the datagram is
     *         larger than {@link #MAX_DATAGRAM}; nothing was queued
     */
    public boolean queue(InetSocketAddress to, ByteBuffer data) {
        int length = data.remaining();
        if (length > MAX_DATAGRAM) {
            return false;
        }
        if (queued == batch) {
            flush();
        }
        int i = queued;
        ByteBuffer c = ctl;
        int h = (int) txHdr + i * MMSGHDR;
        int nameLength = SockAddr.encode(c, (int) txNames + i * SockAddr.SIZE, to, family);
        if (nameLength < 0) {
            return false;
        }
        c.putInt(h + MSG_NAMELEN, nameLength);
        c.putLong((int) txHdr + batch * MMSGHDR + i * IOVEC + 8, length);
        ByteBuffer slot = txSlots[i];
        slot.clear();
        slot.put(0, data, data.position(), length);
        queued = i + 1;
        return true;
    }

    /** Datagrams queued and not yet flushed. */
    public int queued() {
        return queued;
    }

    /**
     * Sends every queued datagram ({@code sendmmsg}). A datagram the kernel refuses is dropped and the rest still go;
     * when the socket's send buffer is full the remaining ones are dropped, as a congested port drops them.
     *
     * @return how many queued datagrams were dropped
     */
    public int flush() {
        int count = queued;
        queued = 0;
        int dropped = 0;
        int at = 0;
        while (at < count) {
            if (closed) {
                return dropped + count - at;
            }
            int sent = Sys.sendmmsg(fd, txHdrAt[at], count - at, 0);
            if (sent > 0) {
                at += sent;
                continue;
            }
            int e = Native.getLastError();
            if (e == Sys.EINTR) {
                continue;
            }
            if (e == Sys.EAGAIN) {
                return dropped + count - at;
            }
            dropped++;      // this one cannot go (e.g. no route to its destination): skip it
            at++;
        }
        return dropped;
    }

    /**
     * Sends one datagram now ({@code sendto}), from any thread; {@code data}'s position and limit are unchanged.
     *
     * @return false if it was not sent (full send buffer, unreachable, wrong family, too large, closed)
     */
    public boolean send(InetSocketAddress to, ByteBuffer data) {
        int length = data.remaining();
        if (length > MAX_DATAGRAM) {
            return false;
        }
        synchronized (sendLock) {
            if (closed) {
                return false;
            }
            int nameLength = SockAddr.encode(ctl, (int) oneName, to, family);
            if (nameLength < 0) {
                return false;
            }
            oneSlot.clear();
            oneSlot.put(0, data, data.position(), length);
            while (true) {
                long r = Sys.sendto(fd, oneSlotPointer, length, 0, oneNamePointer, nameLength);
                if (r >= 0) {
                    return true;
                }
                if (Native.getLastError() != Sys.EINTR) {
                    return false;
                }
            }
        }
    }

    public boolean isOpen() {
        return !closed;
    }

    private void ensureOpen() throws SocketException {
        if (closed) {
            throw new SocketException("socket closed");
        }
    }

    /**
     * Closes the socket. The owner thread must have stopped using it (or be about to: its next call fails with
     * {@link ClosedChannelException}); call {@link #wakeup()} and join it first.
     */
    @Override
    public void close() {
        synchronized (sendLock) {
            if (closed) {
                return;
            }
            closed = true;
            Sys.close(fd);
            Sys.close(wakeFd);
        }
    }

    @Override
    public String toString() {
        return "UdpBatchSocket[" + local + ", batch " + batch + (closed ? ", closed" : "") + "]";
    }
}

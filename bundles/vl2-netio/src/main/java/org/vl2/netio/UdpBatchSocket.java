package org.vl2.netio;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.locks.ReentrantLock;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

import org.vl2.netio.internal.SockAddr;
import org.vl2.netio.internal.Sys;

/**
 * A UDP socket that moves up to {@link #batchSize()} messages per system call: {@code recvmmsg} fills a ring of
 * receive slots, and datagrams {@linkplain #queue queued} for sending leave together with one {@code sendmmsg} at
 * {@link #flush()}. On loopback and fast links the per-datagram cost of a Java socket is mostly the system call
 * itself; batching shares it.
 *
 * <p>With {@code offload} (Linux UDP GSO and GRO), consecutive queued datagrams to the same destination whose sizes
 * allow it (equal, the last one may be shorter) leave as one message that the kernel carries as one packet as far as
 * it can and cuts into datagrams only where it must ({@code UDP_SEGMENT}); and a burst of such datagrams from one
 * peer arrives as one message that is cut here ({@code UDP_GRO}). The datagrams on the wire are the same either way.
 *
 * <p>Threads: the receive side ({@link #receive}, {@link #datagram}, {@link #source}) belongs to one thread and the
 * batch-send side ({@link #queue}, {@link #queued}, {@link #flush}) to one thread, the same (a switch's receive loop
 * forwards what it received and flushes once per batch) or another (a load generator's sender); the two sides
 * share no memory. {@link #send} (one datagram, one {@code sendto}), {@link #wakeup} and {@link #close} may be called
 * from any thread: closing wakes a waiting receive and waits for the calls in progress, so the descriptor is never
 * released while a call could still use it (its number would be reused by the next socket). Nothing is allocated
 * per datagram: slots, headers and addresses live in native memory allocated once, and source addresses come from
 * a cache.
 *
 * <p>Linux only (LP64): {@link #unavailableReason()} says why not elsewhere, so callers can fall back to NIO.
 */
public final class UdpBatchSocket implements AutoCloseable {

    /** Largest UDP payload over IPv4; a slot holds it, so nothing received is ever truncated. */
    public static final int MAX_DATAGRAM = 65_507;
    /** Upper bound of {@link #batchSize()} (the kernel's UIO_MAXIOV). */
    public static final int MAX_BATCH = 1024;
    /** Most datagrams in one offloaded message (the kernel's UDP_MAX_SEGMENTS and UDP_GRO_CNT_MAX). */
    public static final int MAX_SEGMENTS = 64;

    private static final int SLOT = 65_536;
    private static final int MMSGHDR = 64;    // struct mmsghdr: msghdr (56) + msg_len + padding
    private static final int IOVEC = 16;
    private static final int CMSG = 32;       // CMSG_SPACE(int) = 24, rounded up
    private static final int MSG_NAME = 0;
    private static final int MSG_NAMELEN = 8;
    private static final int MSG_IOV = 16;
    private static final int MSG_IOVLEN = 24;
    private static final int MSG_CONTROL = 32;
    private static final int MSG_CONTROLLEN = 40;
    private static final int MSG_LEN = 56;
    private static final int CMSG_LEN_U16 = 18;  // CMSG_LEN(sizeof(uint16_t))
    private static final int CMSG_SPACE_U16 = 24;
    private static final int POLL_TIMEOUT_MAX = 60_000;

    private static final String UNAVAILABLE = probe();

    private final int fd;
    private final int wakeFd;
    private final int family;
    private final int batch;
    private volatile InetSocketAddress local;
    private final boolean gro;
    private volatile boolean gso;

    // Native memory: control (headers, iovecs, addresses, cmsgs, pollfds) and the data slots. Kept reachable for
    // the socket's life and never freed explicitly, so a late caller can never touch freed memory.
    private final Memory ctlMemory;
    private final Memory dataMemory;
    private final ByteBuffer ctl;
    private final long rxHdr;
    private final long rxNames;
    private final long rxCmsg;
    private final long txHdr;
    private final long txIov;
    private final long txNames;
    private final long txCmsg;
    private final long pollFds;
    private final long scratch;
    private final Pointer rxHdrPointer;
    private final Pointer[] txHdrAt;
    private final Pointer pollPointer;
    private final Pointer scratchPointer;
    private final ByteBuffer[] txSlots;
    private final ByteBuffer rxData;
    /** Receive side: a view per datagram (created on first use), its source, and how many there are. */
    private final ByteBuffer[] views;
    private final InetSocketAddress[] sources;
    private final SockAddr sourceCache = new SockAddr();
    private int messages;   // messages in the receive slots
    private int received;   // datagrams in them

    // Send side, per queued message: destination length, total bytes, datagrams, size of the first
    private final int[] txNameLength;
    private final int[] txBytes;
    private final int[] txCount;
    private final int[] txSegment;
    private int queued;     // messages waiting in the send slots
    private int autoFlushWaitMillis;
    private int autoFlushDropped;
    private int queuedDatagrams;
    private long gsoFallbacks;
    /** Largest datagram GSO takes: lowered when the kernel refuses a segment size (e.g. larger than the MTU). */
    private int gsoLimit = MAX_DATAGRAM;

    // send(): a slot of its own, used under the lock
    private final Object sendLock = new Object();
    private final long oneName;
    private final Pointer oneNamePointer;
    private final ByteBuffer oneSlot;
    private final Pointer oneSlotPointer;

    private volatile boolean closed;
    /** Held by the receive side and the batch-send side while they use the descriptor; close() takes both. */
    private final ReentrantLock rxGate = new ReentrantLock();
    private final ReentrantLock txGate = new ReentrantLock();

    private UdpBatchSocket(int fd, int wakeFd, int family, int batch, boolean gso, boolean gro) throws IOException {
        this.fd = fd;
        this.wakeFd = wakeFd;
        this.family = family;
        this.batch = batch;
        this.gso = gso;
        this.gro = gro;
        long side = (long) batch * (MMSGHDR + IOVEC + SockAddr.SIZE + CMSG);
        long ctlBytes = 2 * side + 16 + 64 + SockAddr.SIZE;
        ctlMemory = new Memory(ctlBytes);
        ctlMemory.clear();
        ctl = ctlMemory.getByteBuffer(0, ctlBytes).order(ByteOrder.nativeOrder());
        // Data: untouched pages cost no RSS, so 64 KiB slots are cheap when datagrams are small.
        dataMemory = new Memory((2L * batch + 1) * SLOT);
        rxHdr = 0;
        long rxIov = rxHdr + (long) batch * MMSGHDR;
        rxNames = rxIov + (long) batch * IOVEC;
        rxCmsg = rxNames + (long) batch * SockAddr.SIZE;
        txHdr = rxCmsg + (long) batch * CMSG;
        txIov = txHdr + (long) batch * MMSGHDR;
        txNames = txIov + (long) batch * IOVEC;
        txCmsg = txNames + (long) batch * SockAddr.SIZE;
        pollFds = txCmsg + (long) batch * CMSG;
        scratch = pollFds + 16;
        oneName = scratch + 64;
        long base = Pointer.nativeValue(ctlMemory);
        long dataBase = Pointer.nativeValue(dataMemory);
        // JNA hands out native-order views; datagrams are network data, read big-endian like any ByteBuffer
        rxData = dataMemory.getByteBuffer(0, (long) batch * SLOT).order(ByteOrder.BIG_ENDIAN);
        txSlots = new ByteBuffer[batch];
        views = new ByteBuffer[batch * (gro ? MAX_SEGMENTS : 1)];
        sources = new InetSocketAddress[views.length];
        txHdrAt = new Pointer[batch];
        txNameLength = new int[batch];
        txBytes = new int[batch];
        txCount = new int[batch];
        txSegment = new int[batch];
        for (int i = 0; i < batch; i++) {
            long rxAt = (long) i * SLOT;
            long txAt = (long) (batch + i) * SLOT;
            txSlots[i] = dataMemory.getByteBuffer(txAt, SLOT).order(ByteOrder.BIG_ENDIAN);
            header(rxHdr + (long) i * MMSGHDR, base + rxNames + (long) i * SockAddr.SIZE, SockAddr.SIZE,
                    rxIov + (long) i * IOVEC, dataBase + rxAt, SLOT);
            header(txHdr + (long) i * MMSGHDR, base + txNames + (long) i * SockAddr.SIZE, 0,
                    txIov + (long) i * IOVEC, dataBase + txAt, 0);
            int rh = (int) (rxHdr + (long) i * MMSGHDR);
            if (gro) {
                ctl.putLong(rh + MSG_CONTROL, base + rxCmsg + (long) i * CMSG);
                ctl.putLong(rh + MSG_CONTROLLEN, CMSG);
            }
            // the send cmsg is always UDP_SEGMENT; msg_controllen says whether a message carries it
            int cm = (int) (txCmsg + (long) i * CMSG);
            ctl.putLong(cm, CMSG_LEN_U16);
            ctl.putInt(cm + 8, Sys.SOL_UDP);
            ctl.putInt(cm + 12, Sys.UDP_SEGMENT);
            ctl.putLong((int) (txHdr + (long) i * MMSGHDR) + MSG_CONTROL, base + cm);
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
        ctl.putLong(h + MSG_IOV, Pointer.nativeValue(ctlMemory) + iov);
        ctl.putLong(h + MSG_IOVLEN, 1);
        ctl.putLong((int) iov, data);
        ctl.putLong((int) iov + 8, dataLength);
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

    /** {@link #open(InetSocketAddress, int, int, int, boolean)} without UDP segmentation offload. */
    public static UdpBatchSocket open(InetSocketAddress bind, int receiveBufferBytes, int sendBufferBytes, int batch)
            throws IOException {
        return open(bind, receiveBufferBytes, sendBufferBytes, batch, false);
    }

    /**
     * Opens a non-blocking UDP socket bound to {@code bind} (an IPv6 wildcard also takes IPv4), with the given
     * socket buffer sizes (the kernel caps them at net.core.rmem_max/wmem_max) and batch size; with
     * {@code offload}, UDP GSO and GRO where the kernel has them (see {@link #offload()}).
     *
     * @throws BindException if the address is in use or not local; {@link SocketException} for other failures
     * @throws IllegalStateException if {@link #unavailableReason()} is not null
     */
    public static UdpBatchSocket open(InetSocketAddress bind, int receiveBufferBytes, int sendBufferBytes, int batch,
                                      boolean offload) throws IOException {
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
            // Offload where the kernel has it (4.18+ GSO, 5.0+ GRO): a refused option only means without.
            boolean gso = offload && tryOption(fd, m, Sys.SOL_UDP, Sys.UDP_SEGMENT, 0);
            boolean gro = offload && tryOption(fd, m, Sys.SOL_UDP, Sys.UDP_GRO, 1);
            int length = SockAddr.encode(b, 0, bind, family);
            if (Sys.bind(fd, m, length) != 0) {
                int e = Native.getLastError();
                throw new BindException(error(e));
            }
            wakeFd = Sys.eventfd(0, Sys.EFD_NONBLOCK | Sys.EFD_CLOEXEC);
            if (wakeFd < 0) {
                throw new SocketException("eventfd: " + error(Native.getLastError()));
            }
            return new UdpBatchSocket(fd, wakeFd, family, batch, gso, gro);
        } catch (IOException | RuntimeException | Error e) {
            Sys.close(fd);
            if (wakeFd >= 0) {
                Sys.close(wakeFd);
            }
            throw e;
        }
    }

    private static void option(int fd, Memory m, int level, int name, int value, String what) throws SocketException {
        if (!tryOption(fd, m, level, name, value)) {
            throw new SocketException("setsockopt " + what + ": " + error(Native.getLastError()));
        }
    }

    private static boolean tryOption(int fd, Memory m, int level, int name, int value) {
        m.setInt(0, value);
        return Sys.setsockopt(fd, level, name, m, 4) == 0;
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

    /**
     * Connects the socket to {@code remote} (it still sends where {@link #queue} and {@link #send} say): it then takes
     * datagrams only from there, and an ICMP port unreachable from there makes the next {@link #receive} throw
     * {@link PortUnreachableException}, as a connected {@code DatagramChannel} does. The local address becomes the
     * one the route chose.
     */
    public void connect(InetSocketAddress remote) throws IOException {
        synchronized (sendLock) {
            ensureOpen();
            try (Memory m = new Memory(SockAddr.SIZE)) {
                ByteBuffer b = m.getByteBuffer(0, SockAddr.SIZE).order(ByteOrder.nativeOrder());
                int length = SockAddr.encode(b, 0, remote, family);
                if (length < 0) {
                    throw new SocketException("cannot connect to " + remote + " from " + local);
                }
                if (Sys.connect(fd, m, length) != 0) {
                    throw new SocketException("connect " + remote + ": " + error(Native.getLastError()));
                }
            }
            local = localAddress(fd);
        }
    }

    /** The address actually bound (the port the kernel picked when 0 was asked). */
    public InetSocketAddress localAddress() {
        return local;
    }

    public int batchSize() {
        return batch;
    }

    /**
     * What offload is on: "gso+gro", "gso", "gro" or "none" (not asked, or the kernel refused; GSO also goes off
     * when the kernel refuses an offloaded message, e.g. a route through a device without checksum offload).
     */
    public String offload() {
        boolean s = gso;
        return s && gro ? "gso+gro" : s ? "gso" : gro ? "gro" : "none";
    }

    /** Offloaded messages the kernel refused, whose datagrams were then sent one by one. */
    public long offloadFallbacks() {
        return gsoFallbacks;
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
     * Receives what is queued, up to the batch size in messages; when nothing is, waits up to {@code timeoutMillis}
     * (0: do not wait) for a datagram or {@link #wakeup()}. Returns how many datagrams arrived (0 after a timeout or
     * a wake-up; with GRO a message may hold many); they are {@link #datagram(int)} and {@link #source(int)} until
     * the next call.
     */
    public int receive(int timeoutMillis) throws IOException {
        rxGate.lock();
        try {
            return receiveLocked(timeoutMillis);
        } finally {
            rxGate.unlock();
        }
    }

    private int receiveLocked(int timeoutMillis) throws IOException {
        ByteBuffer c = ctl;
        for (int i = 0; i < messages; i++) {
            int h = (int) rxHdr + i * MMSGHDR;
            c.putInt(h + MSG_NAMELEN, SockAddr.SIZE); // the kernel wrote the actual lengths
            if (gro) {
                c.putLong(h + MSG_CONTROLLEN, CMSG);
            }
        }
        messages = 0;
        received = 0;
        boolean waited = false;
        while (true) {
            if (closed) {
                throw new ClosedChannelException();
            }
            int n = Sys.recvmmsg(fd, rxHdrPointer, batch, 0, null);
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

    /** Turns {@code n} received messages into datagram views (a GRO message into its segments). */
    private int split(ByteBuffer c, int n) {
        int d = 0;
        for (int i = 0; i < n; i++) {
            int h = (int) rxHdr + i * MMSGHDR;
            int length = c.getInt(h + MSG_LEN);
            InetSocketAddress from = sourceCache.decode(c, (int) rxNames + i * SockAddr.SIZE);
            int segment = length;
            if (gro && c.getLong(h + MSG_CONTROLLEN) >= 20) {
                int cm = (int) rxCmsg + i * CMSG;
                if (c.getInt(cm + 8) == Sys.SOL_UDP && c.getInt(cm + 12) == Sys.UDP_GRO) {
                    int size = c.getInt(cm + 16);
                    if (size > 0) {
                        segment = size;
                    }
                }
            }
            int at = i * SLOT;
            int end = at + length;
            do {
                ByteBuffer v = views[d];
                if (v == null) {
                    v = rxData.duplicate();
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

    /**
     * Datagram {@code i} of the last {@link #receive}, between its position and limit, in network (big-endian) byte
     * order; reused afterwards.
     */
    public ByteBuffer datagram(int i) {
        return views[i];
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
     * Copies {@code data} (position to limit, unchanged on return) for {@code to}; it leaves at the next
     * {@link #flush()}, or now if the slots are full. With GSO it joins the previous message when that one goes to
     * the same destination and it fits (same size as the message's datagrams so far, or shorter as the last one).
     * Send-side thread only.
     *
     * @return false if {@code to} is not reachable from this socket (wrong family, unresolved) or the datagram is
     *         larger than {@link #MAX_DATAGRAM}; nothing was queued
     */
    public boolean queue(InetSocketAddress to, ByteBuffer data) {
        int length = data.remaining();
        if (length > MAX_DATAGRAM) {
            return false;
        }
        ByteBuffer c = ctl;
        if (queued == batch) {
            autoFlushDropped += flush(autoFlushWaitMillis);
        }
        int i = queued;
        int name = (int) txNames + i * SockAddr.SIZE;
        int nameLength = SockAddr.encode(c, name, to, family);
        if (nameLength < 0) {
            return false;
        }
        if (i > 0 && gso && append(c, i - 1, name, nameLength, data, length)) {
            queuedDatagrams++;
            return true;
        }
        int h = (int) txHdr + i * MMSGHDR;
        c.putInt(h + MSG_NAMELEN, nameLength);
        c.putLong(h + MSG_CONTROLLEN, 0);
        c.putLong((int) txIov + i * IOVEC + 8, length);
        txSlots[i].put(0, data, data.position(), length);
        txNameLength[i] = nameLength;
        txBytes[i] = length;
        txCount[i] = 1;
        txSegment[i] = length;
        queued = i + 1;
        queuedDatagrams++;
        return true;
    }

    /** GSO: adds the datagram to message {@code m} if it goes where m goes and m's segments stay equal. */
    private boolean append(ByteBuffer c, int m, int name, int nameLength, ByteBuffer data, int length) {
        int segment = txSegment[m];
        int bytes = txBytes[m];
        if (length > segment || length == 0 || segment > gsoLimit || bytes != segment * txCount[m]
                || txCount[m] >= MAX_SEGMENTS
                || bytes + length > MAX_DATAGRAM || nameLength != txNameLength[m]) {
            return false;
        }
        int other = (int) txNames + m * SockAddr.SIZE;
        for (int k = 0; k < nameLength; k += 4) {
            if (c.getInt(name + k) != c.getInt(other + k)) {
                return false;
            }
        }
        txSlots[m].put(bytes, data, data.position(), length);
        txBytes[m] = bytes + length;
        if (txCount[m]++ == 1) {
            int cm = (int) txCmsg + m * CMSG;
            c.putShort(cm + 16, (short) segment);
            c.putLong((int) txHdr + m * MMSGHDR + MSG_CONTROLLEN, CMSG_SPACE_U16);
        }
        c.putLong((int) txIov + m * IOVEC + 8, bytes + length);
        return true;
    }

    /**
     * How long the flush that {@link #queue} does when every slot is taken waits for room in a full send buffer (as
     * {@link #flush(int)}); 0 (the default) drops at once. Send-side thread only.
     */
    public void setAutoFlushWait(int millis) {
        autoFlushWaitMillis = Math.max(0, millis);
    }

    /**
     * Datagrams dropped by the flushes that {@link #queue} did by itself since the last call (they are not in any
     * {@link #flush()}'s count); resets it. Send-side thread only.
     */
    public int takeAutoFlushDropped() {
        int d = autoFlushDropped;
        autoFlushDropped = 0;
        return d;
    }

    /** Datagrams queued and not yet flushed. */
    public int queued() {
        return queuedDatagrams;
    }

    /**
     * Sends every queued datagram ({@code sendmmsg}). A datagram the kernel refuses is dropped and the rest still go;
     * when the socket's send buffer is full the remaining ones are dropped, as a congested port drops them. An
     * offloaded message the kernel refuses goes again datagram by datagram (and GSO stays off if the kernel cannot
     * do it at all).
     *
     * @return how many queued datagrams were dropped
     */
    public int flush() {
        return flush(0);
    }

    /**
     * {@link #flush()}, but when the send buffer is full it waits up to {@code waitMillis} in all for room (as a
     * blocking socket would) before it drops what is left: for a sender whose datagrams carry TCP, where a drop
     * costs a retransmission.
     */
    public int flush(int waitMillis) {
        txGate.lock();
        try {
            return flushLocked(waitMillis);
        } finally {
            txGate.unlock();
        }
    }

    private int flushLocked(int waitMillis) {
        long deadline = waitMillis > 0 ? System.nanoTime() + waitMillis * 1_000_000L : 0;
        int count = queued;
        queued = 0;
        queuedDatagrams = 0;
        int dropped = 0;
        int at = 0;
        while (at < count) {
            if (closed) {
                return dropped + datagrams(at, count);
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
                long left = deadline - System.nanoTime();
                if (deadline != 0 && left > 0 && awaitWritable((int) Math.max(1, left / 1_000_000L))) {
                    continue;
                }
                return dropped + datagrams(at, count);
            }
            if (e == Sys.EBADF) {
                return dropped + datagrams(at, count); // closed meanwhile
            }
            if (txCount[at] > 1) {
                dropped += sendSegments(at, e);
            } else {
                dropped++;      // this one cannot go (e.g. no route to its destination): skip it
            }
            at++;
        }
        return dropped;
    }

    /** Waits until the send buffer has room (poll POLLOUT), at most {@code millis}; false on timeout. */
    private boolean awaitWritable(int millis) {
        int p = (int) scratch + 16;
        ctl.putInt(p, fd);
        ctl.putShort(p + 4, Sys.POLLOUT);
        ctl.putShort(p + 6, (short) 0);
        return Sys.poll(ctlMemory.share(scratch + 16), 1, millis) > 0;
    }

    private int datagrams(int from, int to) {
        int n = 0;
        for (int m = from; m < to; m++) {
            n += txCount[m];
        }
        return n;
    }

    /** An offloaded message the kernel refused: its datagrams one by one. Returns how many of them failed. */
    private int sendSegments(int m, int errno) {
        gsoFallbacks++;
        if (errno == Sys.EIO) {
            gso = false; // the route's device cannot take it (no checksum offload): never again on this socket
        } else {
            // EINVAL: typically a segment larger than the path MTU, which only IP fragmentation can carry
            gsoLimit = Math.min(gsoLimit, txSegment[m] - 1);
        }
        long name = Pointer.nativeValue(ctlMemory) + txNames + (long) m * SockAddr.SIZE;
        long data = ctl.getLong((int) txIov + m * IOVEC);
        int failed = 0;
        for (int off = 0; off < txBytes[m]; off += txSegment[m]) {
            int length = Math.min(txSegment[m], txBytes[m] - off);
            if (Sys.sendto(fd, new Pointer(data + off), length, 0, new Pointer(name), txNameLength[m]) < 0) {
                failed++;
            }
        }
        return failed;
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

    /** The file descriptor, for tests that set socket options this class does not offer. */
    int fd() {
        return fd;
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
     * Closes the socket, from any thread: a waiting {@link #receive} returns at once, calls in progress end first,
     * and later receives fail with {@link ClosedChannelException} (sends return false, flushes drop).
     */
    @Override
    public void close() {
        synchronized (sendLock) {
            if (closed) {
                return;
            }
            closed = true;
            ctlMemory.setLong(scratch + 8, 1L);
            Sys.write(wakeFd, ctlMemory.share(scratch + 8), 8); // a waiting receive returns now
        }
        rxGate.lock();
        txGate.lock();
        try {
            synchronized (sendLock) {
                Sys.close(fd);
                Sys.close(wakeFd);
            }
        } finally {
            txGate.unlock();
            rxGate.unlock();
        }
    }

    @Override
    public String toString() {
        return "UdpBatchSocket[" + local + ", batch " + batch + ", offload " + offload() + (closed ? ", closed" : "")
                + "]";
    }
}

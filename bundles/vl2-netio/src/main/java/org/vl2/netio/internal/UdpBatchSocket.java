package org.vl2.netio.internal;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

import org.vl2.netio.DatagramEndpoint;


/**
 * The batched {@link DatagramEndpoint}: a UDP socket that moves up to {@link #batchSize()} messages per system call.
 * {@code recvmmsg} fills a ring of receive slots ({@link BatchReceiver}), and datagrams {@linkplain #queue queued}
 * for sending leave together with one {@code sendmmsg} at {@link #flush()} ({@link BatchSender}). On loopback and
 * fast links the per-datagram cost of a Java socket is mostly the system call itself; batching shares it.
 *
 * <p>With {@code offload} (Linux UDP GSO and GRO), consecutive queued datagrams to the same destination whose sizes
 * allow it (equal, the last one may be shorter) leave as one message that the kernel carries as one packet as far as
 * it can and cuts into datagrams only where it must ({@code UDP_SEGMENT}); and a burst of such datagrams from one
 * peer arrives as one message that is cut here ({@code UDP_GRO}). The datagrams on the wire are the same either way.
 *
 * <p>This class owns the descriptor: opening, options, connect, the one-datagram {@link #send} and closing. The
 * descriptor is blocking, so that a waiting receive can be one {@code recvmmsg} ({@link BatchReceiver}); every
 * other call says MSG_DONTWAIT. {@link #wakeup()} ends that wait by a signal to the waiting thread
 * ({@link ThreadWake}), so a receive loop can stop and start again on the same socket. Closing wakes a waiting
 * receive (the signal, the eventfd of the poll fallback, and {@code shutdown(SHUT_RD)}) and waits for the calls in
 * progress, so the
 * descriptor is never released while a call could still use it (its number would be reused by the next socket).
 * Nothing is allocated per datagram.
 *
 * <p>Linux only (LP64, asm-generic socket constants: x86-64, arm64, riscv64): {@link #unavailableReason()} says why not elsewhere; {@link org.vl2.netio.DatagramEndpoints} then opens an
 * NIO endpoint instead.
 */
public final class UdpBatchSocket implements DatagramEndpoint {

    /** os.arch values of the 64-bit Linux architectures whose socket constants are asm-generic's. */
    private static final Set<String> GENERIC_SOCKET_ABI = Set.of("amd64", "x86_64", "aarch64", "riscv64");

    private static final String UNAVAILABLE = probe();

    private final Descriptor socket;
    private final int batch;
    private final boolean gro;
    private volatile InetSocketAddress local;
    /** Created by the first receive: an endpoint that only sends (a VXLAN source port) needs no receive slots. */
    private BatchReceiver rx;
    private final BatchSender tx;
    private final BatchSender.Flusher flusher = this::flush;
    private volatile Refusals refusals = (tag, datagrams, bytes) -> { };

    // send(), wakeup(), close(): a slot and scratch memory of their own, used under the lock
    private final Object sendLock = new Object();
    private final Memory oneMemory;
    private final ByteBuffer oneCtl;
    private final ByteBuffer oneSlot;
    private final Pointer oneSlotPointer;
    private final Pointer oneNamePointer;
    private final Pointer wakeValuePointer;

    /** Held by the receive side and the batch-send side while they use the descriptor; close() takes both. */
    private final ReentrantLock rxGate = new ReentrantLock();
    private final ReentrantLock txGate = new ReentrantLock();

    private UdpBatchSocket(Descriptor socket, int batch, boolean gso, boolean gro) throws IOException {
        this.socket = socket;
        this.batch = batch;
        this.gro = gro;
        this.tx = new BatchSender(socket, batch, gso);
        oneMemory = new Memory(SockAddr.SIZE + 8 + MAX_DATAGRAM);
        oneMemory.clear(SockAddr.SIZE + 8);
        oneCtl = oneMemory.getByteBuffer(0, SockAddr.SIZE + 8).order(ByteOrder.nativeOrder());
        oneNamePointer = oneMemory.share(0);
        wakeValuePointer = oneMemory.share(SockAddr.SIZE);
        oneSlot = oneMemory.getByteBuffer(SockAddr.SIZE + 8, MAX_DATAGRAM);
        oneSlotPointer = oneMemory.share(SockAddr.SIZE + 8);
        this.local = localAddress(socket.fd);
    }

    /** Null when batched sockets work here; otherwise why not (for a log line before falling back). */
    public static String unavailableReason() {
        return UNAVAILABLE;
    }

    private static String probe() {
        try {
            // Sys's socket constants are the asm-generic ones (SO_RCVTIMEO 20, SOL_SOCKET 1, ...): powerpc, mips,
            // sparc and parisc number them otherwise (on ppc64le 20 is SO_PASSCRED: the receive timeout would not
            // be set, and a receive could wait for ever), so only the architectures that use them
            if (!Platform.isLinux() || !Platform.is64Bit() || !GENERIC_SOCKET_ABI.contains(System.getProperty("os.arch"))) {
                return "batched UDP I/O needs 64-bit Linux on x86-64, arm64 or riscv64 (this is "
                        + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ")";
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
     * Opens a UDP socket bound to {@code bind} (an IPv6 wildcard also takes IPv4), with the given
     * socket buffer sizes (the kernel caps them at net.core.rmem_max/wmem_max) and batch size; with
     * {@code offload}, UDP GSO and GRO where the kernel has them (see {@link #offload()}).
     *
     * @throws BindException if the address is in use or not local; {@link SocketException} for other failures
     * @throws IllegalStateException if {@link #unavailableReason()} is not null
     */
    public static UdpBatchSocket open(InetSocketAddress bind, int receiveBufferBytes, int sendBufferBytes, int batch,
                                      boolean offload) throws IOException {
        return open(bind, receiveBufferBytes, sendBufferBytes, batch, offload, false);
    }

    /**
     * {@link #open(InetSocketAddress, int, int, int, boolean)}, with {@code reusePort} a member of a reuseport group:
     * SO_REUSEPORT before the bind, so further sockets of this user may bind the same address and port and the kernel
     * spreads the datagrams over them (see {@link org.vl2.netio.DatagramEndpoints#openGroup}).
     */
    public static UdpBatchSocket open(InetSocketAddress bind, int receiveBufferBytes, int sendBufferBytes, int batch,
                                      boolean offload, boolean reusePort) throws IOException {
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
        // blocking: a connected socket's wait is one recvmmsg; every other call passes MSG_DONTWAIT
        int fd = Sys.socket(family, Sys.SOCK_DGRAM | Sys.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new SocketException("socket: " + Descriptor.error(Native.getLastError()));
        }
        int wakeFd = -1;
        try (Memory m = new Memory(SockAddr.SIZE + 8)) {
            ByteBuffer b = m.getByteBuffer(0, SockAddr.SIZE + 8).order(ByteOrder.nativeOrder());
            if (family == Sys.AF_INET6) {
                option(fd, m, Sys.IPPROTO_IPV6, Sys.IPV6_V6ONLY, 0, "IPV6_V6ONLY");
            }
            option(fd, m, Sys.SOL_SOCKET, Sys.SO_RCVBUF, receiveBufferBytes, "SO_RCVBUF");
            option(fd, m, Sys.SOL_SOCKET, Sys.SO_SNDBUF, sendBufferBytes, "SO_SNDBUF");
            if (reusePort) {
                option(fd, m, Sys.SOL_SOCKET, Sys.SO_REUSEPORT, 1, "SO_REUSEPORT");
            }
            // Offload where the kernel has it (4.18+ GSO, 5.0+ GRO): a refused option only means without.
            boolean gso = offload && tryOption(fd, m, Sys.SOL_UDP, Sys.UDP_SEGMENT, 0);
            boolean gro = offload && tryOption(fd, m, Sys.SOL_UDP, Sys.UDP_GRO, 1);
            int length = SockAddr.encode(b, 0, bind, family);
            if (Sys.bind(fd, m, length) != 0) {
                throw new BindException(Descriptor.error(Native.getLastError()));
            }
            wakeFd = Sys.eventfd(0, Sys.EFD_NONBLOCK | Sys.EFD_CLOEXEC);
            if (wakeFd < 0) {
                throw new SocketException("eventfd: " + Descriptor.error(Native.getLastError()));
            }
            return new UdpBatchSocket(new Descriptor(fd, wakeFd, family), batch, gso, gro);
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
            throw new SocketException("setsockopt " + what + ": " + Descriptor.error(Native.getLastError()));
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
                throw new SocketException("getsockname: " + Descriptor.error(Native.getLastError()));
            }
            return SockAddr.decodeOnce(m.getByteBuffer(0, SockAddr.SIZE).order(ByteOrder.nativeOrder()), 0);
        }
    }

    @Override
    public void connect(InetSocketAddress remote) throws IOException {
        synchronized (sendLock) {
            ensureOpen();
            try (Memory m = new Memory(SockAddr.SIZE)) {
                ByteBuffer b = m.getByteBuffer(0, SockAddr.SIZE).order(ByteOrder.nativeOrder());
                int length = SockAddr.encode(b, 0, remote, socket.family);
                if (length < 0) {
                    throw new SocketException("cannot connect to " + remote + " from " + local);
                }
                if (Sys.connect(socket.fd, m, length) != 0) {
                    throw new SocketException("connect " + remote + ": " + Descriptor.error(Native.getLastError()));
                }
                socket.markConnected();
            }
            local = localAddress(socket.fd);
        }
    }

    @Override
    public InetSocketAddress localAddress() {
        return local;
    }

    @Override
    public int batchSize() {
        return batch;
    }

    @Override
    public String offload() {
        boolean s = tx.gso();
        return s && gro ? "gso+gro" : s ? "gso" : gro ? "gro" : "none";
    }

    @Override
    public long offloadFallbacks() {
        return tx.gsoFallbacks();
    }

    @Override
    public void setBufferSizes(int receiveBufferBytes, int sendBufferBytes) throws SocketException {
        synchronized (sendLock) {
            ensureOpen();
            try (Memory m = new Memory(8)) {
                option(socket.fd, m, Sys.SOL_SOCKET, Sys.SO_RCVBUF, receiveBufferBytes, "SO_RCVBUF");
                option(socket.fd, m, Sys.SOL_SOCKET, Sys.SO_SNDBUF, sendBufferBytes, "SO_SNDBUF");
            }
        }
    }

    @Override
    public int receive(int timeoutMillis) throws IOException {
        rxGate.lock();
        try {
            if (rx == null) {
                rx = new BatchReceiver(socket, batch, gro);
            }
            return rx.receive(timeoutMillis, local);
        } finally {
            rxGate.unlock();
        }
    }

    @Override
    public ByteBuffer datagram(int i) {
        return rx.datagram(i);
    }

    @Override
    public InetSocketAddress source(int i) {
        return rx.source(i);
    }

    @Override
    public void wakeup() {
        synchronized (sendLock) {
            if (!socket.closed()) {
                signalWake();
            }
        }
    }

    /**
     * Ends a waiting receive: one blocked in recvmmsg by a signal to its thread (or, before it blocks, by the flag it
     * looks at), one in poll by the eventfd. Under sendLock.
     */
    private void signalWake() {
        if (ThreadWake.UNAVAILABLE == null) {
            socket.wake();
        }
        oneCtl.putLong(SockAddr.SIZE, 1L);
        Sys.write(socket.wakeFd, wakeValuePointer, 8);
    }

    @Override
    public boolean queue(InetSocketAddress to, ByteBuffer data) {
        return tx.queue(to, data, null, flusher);
    }

    @Override
    public boolean queue(InetSocketAddress to, ByteBuffer data, Object tag) {
        return tx.queue(to, data, tag, flusher);
    }

    @Override
    public void setRefusals(Refusals refusals) {
        this.refusals = refusals;
        tx.setRefusals(refusals);
    }

    /**
     * A second {@link BatchSender} on this descriptor for one more thread; its flushes hold the send gate as this
     * endpoint's own do, so close() never releases the descriptor under a {@code sendmmsg} of either.
     */
    @Override
    public SendSide newSendSide(int slots) {
        if (slots < 1 || slots > MAX_BATCH) {
            throw new IllegalArgumentException("slots " + slots + " (must be 1.." + MAX_BATCH + ")");
        }
        BatchSender side = new BatchSender(socket, slots, tx.gso());
        side.setRefusals(refusals);
        BatchSender.Flusher gated = waitMillis -> {
            txGate.lock();
            try {
                return side.flush(waitMillis);
            } finally {
                txGate.unlock();
            }
        };
        return new SendSide() {
            @Override
            public boolean queue(InetSocketAddress to, ByteBuffer data, Object tag) {
                return side.queue(to, data, tag, gated);
            }

            @Override
            public int queued() {
                return side.queued();
            }

            @Override
            public int flush() {
                return gated.flush(0);
            }

            @Override
            public int takeAutoFlushDropped() {
                return side.takeAutoFlushDropped();
            }
        };
    }

    @Override
    public void setAutoFlushWait(int millis) {
        tx.setAutoFlushWait(millis);
    }

    @Override
    public int takeAutoFlushDropped() {
        return tx.takeAutoFlushDropped();
    }

    @Override
    public int queued() {
        return tx.queued();
    }

    @Override
    public int flush() {
        return flush(0);
    }

    @Override
    public int flush(int waitMillis) {
        txGate.lock();
        try {
            return tx.flush(waitMillis);
        } finally {
            txGate.unlock();
        }
    }

    @Override
    public boolean send(InetSocketAddress to, ByteBuffer data) {
        int length = data.remaining();
        if (length > MAX_DATAGRAM) {
            return false;
        }
        synchronized (sendLock) {
            if (socket.closed()) {
                return false;
            }
            int nameLength = SockAddr.encode(oneCtl, 0, to, socket.family);
            if (nameLength < 0) {
                return false;
            }
            oneSlot.clear();
            oneSlot.put(0, data, data.position(), length);
            while (true) {
                long r = Sys.sendto(socket.fd, oneSlotPointer, length, Sys.MSG_DONTWAIT, oneNamePointer, nameLength);
                if (r >= 0) {
                    return true;
                }
                if (Native.getLastError() != Sys.EINTR) {
                    return false;
                }
            }
        }
    }

    /**
     * Steers the datagrams of this socket's reuseport group ({@code sockets} sockets, this one among them) by one
     * byte of their payload: a datagram goes to socket {@code payload[offset] mod sockets} in the order the group
     * was bound, so every datagram that carries the same byte there is received by the same socket whatever its
     * source address; one shorter than {@code offset + 1} goes to the first. A classic BPF program
     * (SO_ATTACH_REUSEPORT_CBPF: the kernel runs it on the UDP payload), attached once for the whole group.
     *
     * @throws SocketException if the kernel refuses the program (before Linux 4.5)
     */
    public void steerByPayloadByte(int offset, int sockets) throws SocketException {
        if (offset < 0 || sockets < 1) {
            throw new IllegalArgumentException("offset " + offset + ", sockets " + sockets);
        }
        // struct sock_filter {u16 code; u8 jt; u8 jf; u32 k}: ldb [offset]; mod #sockets; ret a
        // struct sock_fprog {u16 len; (pad) struct sock_filter *filter} on LP64
        try (Memory program = new Memory(3 * 8); Memory fprog = new Memory(16)) {
            filter(program, 0, 0x30, offset);   // BPF_LD | BPF_B | BPF_ABS
            filter(program, 1, 0x94, sockets);  // BPF_ALU | BPF_MOD | BPF_K
            filter(program, 2, 0x16, 0);        // BPF_RET | BPF_A
            fprog.clear();
            fprog.setShort(0, (short) 3);
            fprog.setPointer(8, program);
            synchronized (sendLock) {
                ensureOpen();
                if (Sys.setsockopt(socket.fd, Sys.SOL_SOCKET, Sys.SO_ATTACH_REUSEPORT_CBPF, fprog, 16) != 0) {
                    throw new SocketException("setsockopt SO_ATTACH_REUSEPORT_CBPF: "
                            + Descriptor.error(Native.getLastError()));
                }
            }
        }
    }

    private static void filter(Memory program, int i, int code, int k) {
        program.setShort(i * 8L, (short) code);
        program.setByte(i * 8L + 2, (byte) 0);
        program.setByte(i * 8L + 3, (byte) 0);
        program.setInt(i * 8L + 4, k);
    }

    /** The file descriptor, for tests that set socket options this class does not offer. */
    public int fd() {
        return socket.fd;
    }

    @Override
    public boolean isOpen() {
        return !socket.closed();
    }

    private void ensureOpen() throws SocketException {
        if (socket.closed()) {
            throw new SocketException("socket closed");
        }
    }

    @Override
    public void close() {
        synchronized (sendLock) {
            if (socket.closed()) {
                return;
            }
            socket.markClosed();
            signalWake(); // a waiting receive returns now: one in poll by the eventfd,
            Sys.shutdown(socket.fd, Sys.SHUT_RD); // one blocked in recvmmsg by the shutdown
        }
        rxGate.lock();
        txGate.lock();
        try {
            synchronized (sendLock) {
                Sys.close(socket.fd);
                Sys.close(socket.wakeFd);
            }
        } finally {
            txGate.unlock();
            rxGate.unlock();
        }
    }

    @Override
    public String toString() {
        return "UdpBatchSocket[" + local + ", batch " + batch + ", offload " + offload()
                + (socket.closed() ? ", closed" : "") + "]";
    }
}

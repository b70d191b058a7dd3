package org.vl2.tap.internal;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.MacAddress;
import org.vl2.tap.Cidr;
import org.vl2.tap.TapDevice;
import org.vl2.tap.TapException;
import org.vl2.tap.TapSettings;
import org.vl2.tap.VirtioNetHeader;

/**
 * A TAP device on a non-blocking {@code /dev/net/tun} descriptor.
 *
 * <p><b>Reading and waking up on close.</b> Closing a descriptor does not wake a thread blocked in
 * {@code read(2)} or {@code poll(2)} on it (Linux), and closing it under a blocked thread would let the
 * number be reused by an unrelated file. So: the TAP descriptor is {@code O_NONBLOCK}; a read first tries
 * {@code read(2)} (one system call per frame while frames are queued) and only on EAGAIN waits in
 * {@code poll(2)} on two descriptors, the TAP and an {@code eventfd}. {@link #close()} marks the device
 * closed, writes the eventfd (which stays readable for good), so every waiting reader returns at once,
 * and closes the descriptors only after all calls in progress have left the kernel (an in-flight count in
 * {@link #state}). Compared with polling with a short timeout, this wakes up within microseconds and costs
 * nothing while idle; compared with a pipe, an eventfd is one descriptor instead of two.
 *
 * <p>Nothing on the frame path allocates: the pollfd array is native memory allocated once, buffers are
 * the caller's direct buffers, errors on the hot path (EAGAIN) are plain return values. Read, write and poll
 * hand JNA raw addresses ({@link BufferAddress}), so a call costs JNA no marshalling and no call back into the
 * JVM.
 *
 * <p><b>Offload.</b> Asked for in the settings, the device is created with IFF_VNET_HDR, a 10-byte virtio
 * header (TUNSETVNETHDRSZ) and TUNSETOFFLOAD with {@link #OFFLOAD_FLAGS}. If the kernel refuses TUNSETOFFLOAD
 * (a kernel without TAP offload, or a flag it does not know), the half-made device is closed and created again
 * without offload, with a warning: a port agent then works as before instead of not at all, and
 * {@link #offload()} tells it which framing to use. Read and write themselves are the same either way; only
 * the meaning of the bytes differs.
 */
final class LinuxTapDevice implements TapDevice {

    private static final Logger LOG = LoggerFactory.getLogger(LinuxTapDevice.class);

    /** Set in {@link #state} once closed; the low bits count calls inside {@link #read}/{@link #write}. */
    private static final int CLOSED = 1 << 30;
    private static final long CLOSE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(2);
    /**
     * What vl2 handles in reads: partial checksums and TCP superframes for IPv4 and IPv6. Not TSO_ECN (the
     * kernel then segments the rare superframes with CWR itself), not UFO/USO (UDP superframes).
     */
    static final int OFFLOAD_FLAGS = Ifreq.TUN_F_CSUM | Ifreq.TUN_F_TSO4 | Ifreq.TUN_F_TSO6;

    private final int fd;
    private final int eventFd;
    private final String name;
    private final int ifIndex;
    private final int mtu;
    private final MacAddress mac;
    private final TapSettings settings;
    private final boolean offload;
    /** Two pollfd sets of two entries: [0..16) TAP POLLIN + eventfd, [16..32) TAP POLLOUT + eventfd. */
    private final Memory pollFds;
    private final long readPollSet;
    private final long writePollSet;
    /** False on a JVM where {@link BufferAddress} cannot read a buffer's address: JNA marshals the buffers then. */
    private final boolean rawAddresses = BufferAddress.available();
    /** The 8-byte value 1 written to the eventfd on close. */
    private final Memory one;
    private final Consumer<LinuxTapDevice> onClose;
    private final AtomicInteger state = new AtomicInteger();

    private LinuxTapDevice(int fd, int eventFd, String name, int ifIndex, int mtu, MacAddress mac,
            TapSettings settings, boolean offload, Consumer<LinuxTapDevice> onClose) {
        this.fd = fd;
        this.eventFd = eventFd;
        this.name = name;
        this.ifIndex = ifIndex;
        this.mtu = mtu;
        this.mac = mac;
        this.settings = settings;
        this.offload = offload;
        this.onClose = onClose;
        this.pollFds = new Memory(4L * LibC.POLLFD_SIZE);
        pollFd(0, fd, LibC.POLLIN);
        pollFd(1, eventFd, LibC.POLLIN);
        pollFd(2, fd, LibC.POLLOUT);
        pollFd(3, eventFd, LibC.POLLIN);
        this.readPollSet = Pointer.nativeValue(pollFds);
        this.writePollSet = readPollSet + 2L * LibC.POLLFD_SIZE;
        this.one = new Memory(8);
        one.setLong(0, 1L);
    }

    private void pollFd(int index, int descriptor, short events) {
        long at = (long) index * LibC.POLLFD_SIZE;
        pollFds.setInt(at, descriptor);
        pollFds.setShort(at + 4, events);
        pollFds.setShort(at + 6, (short) 0);
    }

    /**
     * Creates and configures a TAP device, in this order: open {@code /dev/net/tun}, TUNSETIFF (name),
     * offload (TUNSETVNETHDRSZ, TUNSETOFFLOAD) if asked for, ifindex, MTU, MAC, bridge, IPv4, IPv6, up; then
     * reads MTU and MAC back. Addresses go on before the link is up, so the kernel installs no route until the
     * netmask is final (SIOCSIFADDR first gives an IPv4 address its classful prefix, e.g. /8 for 10.x, until
     * SIOCSIFNETMASK corrects it). On any failure the descriptor is closed, which deletes the half-configured
     * device.
     *
     * @param onClose called once after the device is closed (the factory's bookkeeping)
     */
    static LinuxTapDevice create(TapSettings s, Consumer<LinuxTapDevice> onClose) throws TapException {
        return create(s, onClose, OFFLOAD_FLAGS);
    }

    /**
     * {@link #create(TapSettings, Consumer)} asking TUNSETOFFLOAD for {@code offloadFlags} (tests pass a flag
     * the kernel does not know to see the fallback).
     */
    static LinuxTapDevice create(TapSettings s, Consumer<LinuxTapDevice> onClose, int offloadFlags)
            throws TapException {
        if (!s.offload()) {
            return open(s, onClose, -1);
        }
        try {
            return open(s, onClose, offloadFlags);
        } catch (OffloadRefused e) {
            // The device is gone again (its descriptor closed), so the same name is free for the second try.
            TapException why = TapErrors.offloadRefused(e.name, e.errno());
            LOG.warn("{}", why.getMessage());
            return open(s, onClose, -1);
        }
    }

    /** TUNSETOFFLOAD failed: create the device again without offload. */
    private static final class OffloadRefused extends TapException {
        private static final long serialVersionUID = 1L;
        final String name;

        OffloadRefused(String name, int errno) {
            super("TUNSETOFFLOAD refused on " + name, errno);
            this.name = name;
        }
    }

    /** @param offloadFlags TUNSETOFFLOAD flags, or negative for a device without offload */
    private static LinuxTapDevice open(TapSettings s, Consumer<LinuxTapDevice> onClose, int offloadFlags)
            throws TapException {
        String requested = s.name() == null ? TapSettings.KERNEL_TEMPLATE : s.name();
        boolean offload = offloadFlags >= 0;
        int fd = LibC.open(TapErrors.TUN, LibC.O_RDWR | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
        if (fd < 0) {
            throw TapErrors.openTun(Native.getLastError());
        }
        int sock = -1;
        int eventFd = -1;
        boolean ok = false;
        try {
            Ifreq ifr = new Ifreq();
            // Ethernet frames without packet-info prefix; with offload behind a virtio_net_hdr. IFF_TUN_EXCL:
            // never attach to an existing persistent TAP of the same name, fail with EBUSY instead.
            short tunFlags = (short) (Ifreq.IFF_TAP | Ifreq.IFF_NO_PI | Ifreq.IFF_TUN_EXCL
                    | (offload ? Ifreq.IFF_VNET_HDR : 0));
            ifr.reset(requested).flags(tunFlags);
            if (LibC.ioctl(fd, Ifreq.TUNSETIFF, ifr.pointer()) < 0) {
                throw TapErrors.createTap(requested, Native.getLastError());
            }
            String name = ifr.name();
            if (offload) {
                // the header size is an int passed by pointer; the offload flags are passed as the value itself
                ifr.reset(name).intValue(VirtioNetHeader.LENGTH);
                if (LibC.ioctl(fd, Ifreq.TUNSETVNETHDRSZ, ifr.pointer().share(Ifreq.UNION)) < 0) {
                    throw new OffloadRefused(name, Native.getLastError());
                }
                if (LibC.ioctl(fd, Ifreq.TUNSETOFFLOAD, offloadFlags) < 0) {
                    throw new OffloadRefused(name, Native.getLastError());
                }
            }

            sock = LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
            if (sock < 0) {
                throw TapErrors.socket("IPv4", Native.getLastError());
            }
            if (LibC.ioctl(sock, Ifreq.SIOCGIFINDEX, ifr.reset(name).pointer()) < 0) {
                throw TapErrors.ifIndex(name, Native.getLastError());
            }
            int ifIndex = ifr.intValue();

            if (LibC.ioctl(sock, Ifreq.SIOCSIFMTU, ifr.reset(name).intValue(s.mtu()).pointer()) < 0) {
                throw TapErrors.mtu(name, s.mtu(), Native.getLastError());
            }
            if (s.mac() != null
                    && LibC.ioctl(sock, Ifreq.SIOCSIFHWADDR, ifr.reset(name).hwaddr(s.mac()).pointer()) < 0) {
                throw TapErrors.mac(name, s.mac(), Native.getLastError());
            }
            if (s.bridge() != null) {
                enslave(sock, ifr, name, ifIndex, s.bridge());
            }
            if (s.ipv4() != null) {
                addIpv4(sock, ifr, name, s.ipv4());
            }
            if (s.ipv6() != null) {
                addIpv6(name, ifIndex, s.ipv6());
            }
            if (s.up()) {
                if (LibC.ioctl(sock, Ifreq.SIOCGIFFLAGS, ifr.reset(name).pointer()) < 0) {
                    throw TapErrors.up(name, Native.getLastError());
                }
                short flags = (short) (ifr.flags() | Ifreq.IFF_UP);
                if (LibC.ioctl(sock, Ifreq.SIOCSIFFLAGS, ifr.reset(name).flags(flags).pointer()) < 0) {
                    throw TapErrors.up(name, Native.getLastError());
                }
            }

            if (LibC.ioctl(sock, Ifreq.SIOCGIFMTU, ifr.reset(name).pointer()) < 0) {
                throw TapErrors.readBack(name, "MTU", Native.getLastError());
            }
            int mtu = ifr.intValue();
            if (LibC.ioctl(sock, Ifreq.SIOCGIFHWADDR, ifr.reset(name).pointer()) < 0) {
                throw TapErrors.readBack(name, "MAC address", Native.getLastError());
            }
            MacAddress mac = ifr.hwaddr();

            eventFd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
            if (eventFd < 0) {
                throw TapErrors.eventFd(Native.getLastError());
            }
            LinuxTapDevice device = new LinuxTapDevice(fd, eventFd, name, ifIndex, mtu, mac, s, offload, onClose);
            ok = true;
            return device;
        } finally {
            if (sock >= 0) {
                LibC.close(sock);
            }
            if (!ok) {
                if (eventFd >= 0) {
                    LibC.close(eventFd);
                }
                LibC.close(fd); // deletes the (non-persistent) device again
            }
        }
    }

    private static void enslave(int sock, Ifreq ifr, String name, int ifIndex, String bridge) throws TapException {
        // Look the bridge up first: SIOCBRADDIF on a missing name gives a bare ENODEV.
        if (LibC.ioctl(sock, Ifreq.SIOCGIFINDEX, ifr.reset(bridge).pointer()) < 0) {
            throw TapErrors.bridgeNotFound(bridge, Native.getLastError());
        }
        if (LibC.ioctl(sock, Ifreq.SIOCBRADDIF, ifr.reset(bridge).intValue(ifIndex).pointer()) < 0) {
            int errno = Native.getLastError();
            throw errno == Errno.ENODEV ? TapErrors.bridgeNotFound(bridge, errno)
                    : TapErrors.enslave(name, bridge, errno);
        }
    }

    private static void addIpv4(int sock, Ifreq ifr, String name, Cidr cidr) throws TapException {
        byte[] address = cidr.address().getAddress();
        if (LibC.ioctl(sock, Ifreq.SIOCSIFADDR, ifr.reset(name).inet4(address).pointer()) < 0) {
            throw TapErrors.address(name, cidr, "SIOCSIFADDR", Native.getLastError());
        }
        int mask = cidr.ipv4Netmask();
        byte[] netmask = {(byte) (mask >>> 24), (byte) (mask >>> 16), (byte) (mask >>> 8), (byte) mask};
        if (LibC.ioctl(sock, Ifreq.SIOCSIFNETMASK, ifr.reset(name).inet4(netmask).pointer()) < 0) {
            throw TapErrors.address(name, cidr, "SIOCSIFNETMASK", Native.getLastError());
        }
    }

    private static void addIpv6(String name, int ifIndex, Cidr cidr) throws TapException {
        int sock6 = LibC.socket(LibC.AF_INET6, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        if (sock6 < 0) {
            throw TapErrors.socket("IPv6", Native.getLastError());
        }
        try (Memory req = Ifreq.in6Ifreq(cidr.address().getAddress(), cidr.prefixLength(), ifIndex)) {
            if (LibC.ioctl(sock6, Ifreq.SIOCSIFADDR, req) < 0) {
                throw TapErrors.address(name, cidr, "SIOCSIFADDR", Native.getLastError());
            }
        } finally {
            LibC.close(sock6);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int ifIndex() {
        return ifIndex;
    }

    @Override
    public int mtu() {
        return mtu;
    }

    @Override
    public MacAddress mac() {
        return mac;
    }

    @Override
    public int maxFrameLength() {
        return mtu + FRAME_OVERHEAD;
    }

    @Override
    public TapSettings settings() {
        return settings;
    }

    @Override
    public boolean offload() {
        return offload;
    }

    @Override
    public int maxReadLength() {
        return offload ? MAX_OFFLOAD_READ_LENGTH : maxFrameLength();
    }

    @Override
    public boolean isOpen() {
        return (state.get() & CLOSED) == 0;
    }

    @Override
    public int read(ByteBuffer dst) throws TapException {
        return read(dst, -1);
    }

    @Override
    public int read(ByteBuffer dst, int timeoutMillis) throws TapException {
        if (!dst.isDirect()) {
            throw new IllegalArgumentException("TAP reads need a direct ByteBuffer (ByteBuffer.allocateDirect)");
        }
        if (dst.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        int room = dst.remaining();
        if (room == 0) {
            throw new IllegalArgumentException("no room in the buffer: clear() it before reading a frame");
        }
        if (offload && room < VirtioNetHeader.LENGTH) {
            throw new IllegalArgumentException("no room for the virtio header: an offload device needs "
                    + maxReadLength() + " bytes of room to read any frame whole (has " + room + ")");
        }
        if (!enter()) {
            return -1;
        }
        try {
            long deadline = timeoutMillis > 0 ? System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis) : 0;
            for (;;) {
                long n = rawAddresses ? LibC.read(fd, BufferAddress.of(dst) + dst.position(), room)
                        : LibC.read(fd, dst, room);
                if (n > 0) {
                    int stored = (int) Math.min(n, room); // the kernel already caps n at the room
                    dst.limit(dst.position() + stored);
                    return stored;
                }
                int errno = n < 0 ? Native.getLastError() : LibC.EAGAIN;
                if (errno == LibC.EINTR) {
                    continue;
                }
                if (errno != LibC.EAGAIN) {
                    throw errno == LibC.EBADFD ? TapErrors.deleted(name, errno) : TapErrors.read(name, errno);
                }
                // Nothing queued: wait for a frame or for close().
                if ((state.get() & CLOSED) != 0) {
                    return -1;
                }
                if (timeoutMillis == 0) {
                    return 0;
                }
                int wait = -1;
                if (timeoutMillis > 0) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return 0;
                    }
                    wait = (int) TimeUnit.NANOSECONDS.toMillis(left + 999_999); // round up: never spin at 0
                }
                int r = LibC.poll(readPollSet, 2, wait);
                if (r < 0) {
                    errno = Native.getLastError();
                    if (errno != LibC.EINTR) {
                        throw TapErrors.read(name, errno);
                    }
                }
                if ((state.get() & CLOSED) != 0) {
                    return -1;
                }
                if (r == 0) {
                    return 0;
                }
                // r > 0: a frame (or POLLERR if the device was deleted: read tells which), or EINTR: read again
            }
        } finally {
            exit();
            Reference.reachabilityFence(dst); // its memory must outlive the system call that filled it
        }
    }

    @Override
    public int awaitReadable(int timeoutMillis) throws TapException {
        if (!enter()) {
            return -1;
        }
        try {
            int r = LibC.poll(readPollSet, 2, timeoutMillis < 0 ? -1 : timeoutMillis);
            if (r < 0) {
                int errno = Native.getLastError();
                if (errno != LibC.EINTR) {
                    throw TapErrors.read(name, errno);
                }
                r = 0;
            }
            if ((state.get() & CLOSED) != 0) {
                return -1;
            }
            return r > 0 ? 1 : 0;
        } finally {
            exit();
        }
    }

    @Override
    public void write(ByteBuffer frame) throws TapException {
        if (!frame.isDirect()) {
            throw new IllegalArgumentException("TAP writes need a direct ByteBuffer (ByteBuffer.allocateDirect)");
        }
        int length = frame.remaining();
        if (!enter()) {
            throw TapErrors.closed(name);
        }
        try {
            for (;;) {
                long n = rawAddresses ? LibC.write(fd, BufferAddress.of(frame) + frame.position(), length)
                        : LibC.write(fd, frame, length);
                if (n >= 0) {
                    return;
                }
                int errno = Native.getLastError();
                if (errno == LibC.EINTR) {
                    continue;
                }
                if (errno != LibC.EAGAIN) {
                    throw errno == LibC.EBADFD ? TapErrors.deleted(name, errno) : TapErrors.write(name, length, offload, errno);
                }
                // The tun driver's send buffer is unlimited (INT_MAX), so EAGAIN should not happen; if it does,
                // wait for room or close() like a reader does.
                if ((state.get() & CLOSED) != 0) {
                    throw TapErrors.closed(name);
                }
                if (LibC.poll(writePollSet, 2, -1) < 0) {
                    errno = Native.getLastError();
                    if (errno != LibC.EINTR) {
                        throw TapErrors.write(name, length, offload, errno);
                    }
                }
                if ((state.get() & CLOSED) != 0) {
                    throw TapErrors.closed(name);
                }
            }
        } finally {
            exit();
            Reference.reachabilityFence(frame); // its memory must outlive the system call that read it
        }
    }

    /** Registers a call in progress; false (and nothing registered) if the device is closed. */
    private boolean enter() {
        if ((state.incrementAndGet() & CLOSED) != 0) {
            state.decrementAndGet();
            return false;
        }
        return true;
    }

    private void exit() {
        state.decrementAndGet();
    }

    @Override
    public void close() {
        int before = state.getAndUpdate(s -> s | CLOSED);
        if ((before & CLOSED) != 0) {
            return;
        }
        // Wake every reader waiting in poll(2): the eventfd becomes readable and stays so.
        if (LibC.write(eventFd, one, 8) < 0) {
            LOG.warn("TAP device {}: cannot signal close to readers [{}]", name, Errno.describe(Native.getLastError()));
        }
        // Release the descriptors only when no call is inside the kernel with them (else a reused number
        // could route a frame to an unrelated file). Readers leave within microseconds of the wakeup.
        long deadline = System.nanoTime() + CLOSE_WAIT_NANOS;
        int spins = 0;
        boolean drained;
        while (!(drained = (state.get() & ~CLOSED) == 0) && System.nanoTime() < deadline) {
            if (++spins < 100) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(50_000);
            }
        }
        if (!drained) {
            LOG.warn("TAP device {}: {} read/write call(s) still in progress after {} s; closing anyway", name,
                    state.get() & ~CLOSED, TimeUnit.NANOSECONDS.toSeconds(CLOSE_WAIT_NANOS));
        }
        LibC.close(fd); // deletes the interface (not persistent), with its addresses and bridge membership
        LibC.close(eventFd);
        if (drained) {
            pollFds.close();
            one.close();
        }
        LOG.debug("TAP device {} closed", name);
        onClose.accept(this);
    }

    @Override
    public String toString() {
        return "TapDevice[" + name + ", ifindex " + ifIndex + ", mtu " + mtu + ", " + mac
                + (offload ? ", offload" : "") + (isOpen() ? "" : ", closed") + "]";
    }
}

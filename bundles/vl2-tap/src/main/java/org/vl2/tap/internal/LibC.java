package org.vl2.tap.internal;

import java.nio.ByteBuffer;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The libc calls vl2-tap needs, bound with JNA <em>direct mapping</em> ({@link Native#register}): a call
 * costs about half a microsecond, several times less than through a {@code Library} interface proxy.
 *
 * <p>Conventions:
 * <ul>
 * <li>Errors: a call returns -1 and the caller reads {@link Native#getLastError()} right away. JNA saves
 * errno after every native call (unless {@code jna.preserve_last_error=false}, which {@link #errnoWorks()}
 * detects). No {@code LastErrorException}: EAGAIN is a normal outcome on the read path and must not cost
 * an exception.</li>
 * <li>Buffers: JNA passes a direct {@link ByteBuffer}'s address <em>at its current position</em>, and
 * a {@link Pointer} as its raw address; neither allocates. The frame path (TAP read, write, poll) passes raw
 * {@code long} addresses instead, which JNA does not marshal at all ({@link BufferAddress}).</li>
 * <li>LP64 only: {@code long} stands for {@code size_t}, {@code ssize_t}, {@code unsigned long}
 * (ioctl's request) and {@code nfds_t}.</li>
 * </ul>
 * Loading this class throws {@link UnsatisfiedLinkError} (or {@link NoClassDefFoundError}) when JNA's
 * native part cannot be loaded; {@link LinuxTapFactory} turns that into a {@code TapException}.
 */
final class LibC {

    static {
        Native.register(LibC.class, Platform.C_LIBRARY_NAME);
    }

    // open(2)
    static final int O_RDWR = 0x2;
    static final int O_NONBLOCK = 0x800;
    static final int O_CLOEXEC = 0x80000;

    // socket(2)
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_CLOEXEC = O_CLOEXEC;

    // eventfd(2)
    static final int EFD_CLOEXEC = O_CLOEXEC;
    static final int EFD_NONBLOCK = O_NONBLOCK;

    // poll(2): struct pollfd { int fd; short events; short revents; } = 8 bytes
    static final int POLLFD_SIZE = 8;
    static final short POLLIN = 0x1;
    static final short POLLOUT = 0x4;

    // errno values used in control flow (asm-generic numbering: x86-64, aarch64, riscv64)
    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int EBADFD = 77;

    private LibC() {
    }

    static native int open(String path, int flags);

    static native int close(int fd);

    /** ioctl with a pointer argument (struct ifreq, in6_ifreq). */
    static native int ioctl(int fd, long request, Pointer arg);

    /** ioctl with a value argument (e.g. TUNSETOFFLOAD's flags). */
    static native int ioctl(int fd, long request, long arg);

    /** Reads into {@code buf} at its position. */
    static native long read(int fd, ByteBuffer buf, long count);

    /** Writes from {@code buf} at its position. */
    static native long write(int fd, ByteBuffer buf, long count);

    /** Writes from native memory (the eventfd counter). */
    static native long write(int fd, Pointer buf, long count);

    /**
     * Reads into native memory at {@code address}: the frame path's read. A {@code long} crosses JNA as it is, where
     * a {@code ByteBuffer} costs three calls back into the JVM per call ({@link BufferAddress}).
     */
    static native long read(int fd, long address, long count);

    /** Writes from native memory at {@code address}: the frame path's write. */
    static native long write(int fd, long address, long count);

    /** poll(2) on a pollfd array at {@code address} (the frame path's wait). */
    static native int poll(long fds, long nfds, int timeoutMillis);

    static native int socket(int domain, int type, int protocol);

    static native int eventfd(int initval, int flags);

    /** send(2) from {@code buf} at its position (a netlink request to the kernel). */
    static native long send(int fd, ByteBuffer buf, long len, int flags);

    /** recv(2) into {@code buf} at its position. */
    static native long recv(int fd, ByteBuffer buf, long len, int flags);

    /** if_nametoindex(3): 0 if there is no such interface. */
    static native int if_nametoindex(String name);

    /**
     * True if errno reaches Java: {@code close(-1)} must report EBADF. False when someone set
     * {@code jna.preserve_last_error=false}, which would make every error message wrong.
     */
    static boolean errnoWorks() {
        return close(-1) == -1 && Native.getLastError() == Errno.EBADF;
    }
}

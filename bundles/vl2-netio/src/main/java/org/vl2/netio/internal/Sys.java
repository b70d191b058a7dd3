package org.vl2.netio.internal;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The libc calls of vl2-netio, bound with JNA direct mapping (a call costs a fraction of a microsecond, and a
 * batch of datagrams shares it). A call returns -1 and the caller reads {@link Native#getLastError()} at once.
 * LP64 Linux only: {@code long} stands for {@code size_t}/{@code socklen_t*} sized values where noted.
 * Loading this class throws {@link UnsatisfiedLinkError} or {@link NoClassDefFoundError} when JNA cannot load.
 */
public final class Sys {

    static {
        Native.register(Sys.class, Platform.C_LIBRARY_NAME);
    }

    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_NONBLOCK = 0x800;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int SOL_SOCKET = 1;
    public static final int SO_SNDBUF = 7;
    public static final int SO_RCVBUF = 8;
    /** Several sockets bound to one address and port, the kernel spreads the datagrams over them (Linux 3.9+). */
    public static final int SO_REUSEPORT = 15;
    /** A classic BPF program that picks the socket of a reuseport group by index (Linux 4.5+). */
    public static final int SO_ATTACH_REUSEPORT_CBPF = 51;
    public static final int IPPROTO_IPV6 = 41;
    public static final int SOL_UDP = 17;
    /** UDP generic segmentation offload: a cmsg with the segment size (u16) on send. */
    public static final int UDP_SEGMENT = 103;
    /** UDP generic receive offload: socket option, and the cmsg with the segment size (int) on receive. */
    public static final int UDP_GRO = 104;
    public static final int IPV6_V6ONLY = 26;
    public static final int MSG_DONTWAIT = 0x40;
    public static final int MSG_TRUNC = 0x20;
    /** recvmmsg: wait for the first message only, then take what is queued (Linux 2.6.34+). */
    public static final int MSG_WAITFORONE = 0x10000;
    /** How long a blocking receive waits (struct timeval; SO_RCVTIMEO_OLD on x86-64 and arm64). */
    public static final int SO_RCVTIMEO = 20;
    public static final int SHUT_RD = 0;
    public static final int SHUT_RDWR = 2;
    public static final int EFD_NONBLOCK = 0x800;
    public static final int EFD_CLOEXEC = 0x80000;
    public static final short POLLIN = 0x1;
    public static final short POLLOUT = 0x4;

    /** The signal {@link ThreadWake} sends: the JVM's handler ignores it, and it interrupts a socket wait. */
    public static final int SIGPIPE = 13;

    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int EBADF = 9;
    public static final int EADDRINUSE = 98;
    public static final int EIO = 5;
    public static final int ECONNREFUSED = 111;

    private Sys() {
    }

    public static native int socket(int domain, int type, int protocol);

    public static native int setsockopt(int fd, int level, int name, Pointer value, int length);

    public static native int getsockopt(int fd, int level, int name, Pointer value, Pointer length);

    public static native int bind(int fd, Pointer address, int length);

    public static native int connect(int fd, Pointer address, int length);

    public static native int getsockname(int fd, Pointer address, Pointer length);

    public static native int sendmmsg(int fd, Pointer msgvec, int vlen, int flags);

    /**
     * recvmmsg(2) on {@code struct mmsghdr *msgvec} at a raw address; no timeout (0): MSG_DONTWAIT, or a wait bounded
     * by the socket's SO_RCVTIMEO.
     * A {@code long} crosses JNA as it is; a {@link Pointer} costs a field read through JNI per argument.
     */
    public static native int recvmmsg(int fd, long msgvec, int vlen, int flags, long timeout);

    /** poll(2) on a pollfd array at a raw address (the receive path's wait). */
    public static native int poll(long fds, long nfds, int timeoutMillis);

    public static native long sendto(int fd, Pointer buf, long length, int flags, Pointer address, int addressLength);

    public static native int poll(Pointer fds, long nfds, int timeoutMillis);

    public static native int eventfd(int initval, int flags);

    public static native long write(int fd, Pointer buf, long count);

    public static native long read(int fd, Pointer buf, long count);

    public static native int shutdown(int fd, int how);

    public static native int close(int fd);

    public static native String strerror(int errnum);

    /** syscall(2) with up to three arguments (gettid, tgkill: no libc wrapper before glibc 2.30). */
    public static native long syscall(long number, long a, long b, long c);

    /** sigaction(2): with {@code act} null only reads the disposition into {@code old}. */
    public static native int sigaction(int signal, Pointer act, Pointer old);

    /** True if errno reaches Java ({@code close(-1)} must say EBADF); false if jna.preserve_last_error is off. */
    public static boolean errnoWorks() {
        return close(-1) == -1 && Native.getLastError() == EBADF;
    }
}

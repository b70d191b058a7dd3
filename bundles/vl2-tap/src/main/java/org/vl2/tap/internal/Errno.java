package org.vl2.tap.internal;

/**
 * Linux errno names and texts for messages ("errno 16 EBUSY: Device or resource busy"), so support can
 * grep for them. Numbers are the asm-generic ones, the same on x86-64, aarch64 and riscv64. Kept as a
 * table rather than calling strerror(3), whose buffer is not thread-safe everywhere.
 */
final class Errno {

    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int ESRCH = 3;
    static final int EBADF = 9;
    static final int EACCES = 13;
    static final int EBUSY = 16;
    static final int EEXIST = 17;
    static final int ENODEV = 19;
    static final int EINVAL = 22;
    static final int ENXIO = 6;
    static final int ENFILE = 23;
    static final int EMFILE = 24;
    static final int ELOOP = 40;
    static final int ENOPKG = 65;
    static final int EOPNOTSUPP = 95;
    static final int EAFNOSUPPORT = 97;
    static final int EADDRNOTAVAIL = 99;
    static final int ENETUNREACH = 101;
    static final int EHOSTUNREACH = 113;

    private static final String[][] TABLE = new String[134][];

    static {
        def(1, "EPERM", "Operation not permitted");
        def(2, "ENOENT", "No such file or directory");
        def(3, "ESRCH", "No such process");
        def(4, "EINTR", "Interrupted system call");
        def(5, "EIO", "Input/output error");
        def(6, "ENXIO", "No such device or address");
        def(9, "EBADF", "Bad file descriptor");
        def(11, "EAGAIN", "Resource temporarily unavailable");
        def(12, "ENOMEM", "Cannot allocate memory");
        def(13, "EACCES", "Permission denied");
        def(14, "EFAULT", "Bad address");
        def(16, "EBUSY", "Device or resource busy");
        def(17, "EEXIST", "File exists");
        def(19, "ENODEV", "No such device");
        def(22, "EINVAL", "Invalid argument");
        def(23, "ENFILE", "Too many open files in system");
        def(24, "EMFILE", "Too many open files");
        def(25, "ENOTTY", "Inappropriate ioctl for device");
        def(28, "ENOSPC", "No space left on device");
        def(34, "ERANGE", "Numerical result out of range");
        def(36, "ENAMETOOLONG", "File name too long");
        def(38, "ENOSYS", "Function not implemented");
        def(40, "ELOOP", "Too many levels of symbolic links");
        def(65, "ENOPKG", "Package not installed");
        def(77, "EBADFD", "File descriptor in bad state");
        def(90, "EMSGSIZE", "Message too long");
        def(93, "EPROTONOSUPPORT", "Protocol not supported");
        def(95, "EOPNOTSUPP", "Operation not supported");
        def(97, "EAFNOSUPPORT", "Address family not supported by protocol");
        def(98, "EADDRINUSE", "Address already in use");
        def(99, "EADDRNOTAVAIL", "Cannot assign requested address");
        def(100, "ENETDOWN", "Network is down");
        def(101, "ENETUNREACH", "Network is unreachable");
        def(105, "ENOBUFS", "No buffer space available");
        def(110, "ETIMEDOUT", "Connection timed out");
        def(113, "EHOSTUNREACH", "No route to host");
    }

    private Errno() {
    }

    private static void def(int errno, String name, String text) {
        TABLE[errno] = new String[] {name, text};
    }

    /** {@code EBUSY}, or {@code errno 123} for numbers not in the table. */
    static String name(int errno) {
        String[] e = errno > 0 && errno < TABLE.length ? TABLE[errno] : null;
        return e == null ? "errno " + errno : e[0];
    }

    /** {@code errno 16 EBUSY: Device or resource busy}. */
    static String describe(int errno) {
        String[] e = errno > 0 && errno < TABLE.length ? TABLE[errno] : null;
        return e == null ? "errno " + errno : "errno " + errno + " " + e[0] + ": " + e[1];
    }
}

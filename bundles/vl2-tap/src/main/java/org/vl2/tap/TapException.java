package org.vl2.tap;

import java.io.IOException;

/**
 * A TAP device could not be created, configured, read or written. Checked, and an {@link IOException}, so
 * callers that already handle I/O failures handle this one too.
 *
 * <p>The message names the cause and the fix (for example {@code device tap7 exists: choose another --tap
 * name or delete it with 'ip link del tap7'}) and, when a system call failed, ends with the error number
 * and its name, e.g. {@code [errno 16 EBUSY: Device or resource busy]}, for support.
 */
public class TapException extends IOException {

    private static final long serialVersionUID = 1L;

    private final int errno;

    /** A failure not caused by a system call ({@link #errno()} is 0). */
    public TapException(String message) {
        this(message, 0, null);
    }

    /**
     * @param errno the Linux error number of the failed system call, 0 if none
     */
    public TapException(String message, int errno) {
        this(message, errno, null);
    }

    public TapException(String message, int errno, Throwable cause) {
        super(message, cause);
        this.errno = errno;
    }

    /** The Linux error number ({@code errno}) of the system call that failed, or 0 if none did. */
    public int errno() {
        return errno;
    }
}

package org.vl2.netio.internal;

import com.sun.jna.Memory;
import com.sun.jna.Platform;

/**
 * Ends one thread's blocking {@code recvmmsg} at once: {@code tgkill(pid, tid, SIGPIPE)}. The JVM's own handler for
 * SIGPIPE ignores it (HotSpot installs one in every process), so the signal does nothing but interrupt the system
 * call the thread is in; a socket wait under SO_RCVTIMEO then fails with EINTR whatever SA_RESTART says (signal(7)).
 * This is how the JDK ends a blocking socket call on close (a signal to the thread), with a signal the JVM already
 * handles. It is aimed: unlike a datagram to the socket, which the kernel may hand to a sibling of a reuseport group,
 * the signal reaches the thread that waits and no other; and unlike {@code shutdown(SHUT_RD)} it leaves the socket as
 * it was, so a receive loop can stop and start again on it.
 *
 * <p>A signal sent in the moment between a receiver's last look at its wake flag and its entering the system call is
 * handled before the call blocks and is lost: that wait ends at its SO_RCVTIMEO. Who must end a wait promptly sends
 * again until the thread has left ({@link org.vl2.netio.ReceiveLoop#stop}), as the JDK does. {@code tgkill} only
 * reaches threads of this process, so a thread id that a finished thread left behind can only ever interrupt a call
 * of this JVM, which retries on EINTR.
 *
 * <p>{@link #UNAVAILABLE} is null where this works: 64-bit Linux on x86-64 or arm64 (the system call numbers) with
 * a handler (neither default nor ignore) for SIGPIPE, which a default disposition would make a kill.
 */
public final class ThreadWake {

    /** Null when usable; otherwise why not (a batched socket that is not connected then waits in poll). */
    public static final String UNAVAILABLE;
    private static final long SYS_GETTID;
    private static final long SYS_TGKILL;
    private static final long PID = ProcessHandle.current().pid();

    static {
        long gettid = -1;
        long tgkill = -1;
        String why = null;
        if (Platform.isLinux() && Platform.is64Bit() && Platform.isIntel()) {
            gettid = 186;
            tgkill = 234;
        } else if (Platform.isLinux() && Platform.is64Bit() && Platform.isARM()) {
            gettid = 178;
            tgkill = 131;
        } else {
            why = "thread wake-ups need Linux on x86-64 or arm64";
        }
        if (why == null) {
            why = handled();
        }
        SYS_GETTID = gettid;
        SYS_TGKILL = tgkill;
        UNAVAILABLE = why;
    }

    private ThreadWake() {
    }

    /** Null if SIGPIPE has a handler (the JVM's); otherwise why a SIGPIPE must not be sent. */
    private static String handled() {
        try (Memory old = new Memory(256)) { // struct sigaction: the handler comes first, 152 bytes on glibc
            old.clear();
            if (Sys.sigaction(Sys.SIGPIPE, null, old) != 0) {
                return "sigaction(SIGPIPE) failed";
            }
            long handler = old.getLong(0);
            return handler == 0 ? "SIGPIPE has its default disposition (it would end the process)"
                    : handler == 1 ? "SIGPIPE is ignored (it would not interrupt a wait)" : null;
        } catch (LinkageError e) {
            return "sigaction is not usable: " + e;
        }
    }

    /** The kernel's id of the calling thread (one system call: callers keep it). */
    public static int currentTid() {
        return (int) Sys.syscall(SYS_GETTID, 0, 0, 0);
    }

    /** Interrupts what thread {@code tid} of this process waits in; false if it has ended. */
    public static boolean interrupt(int tid) {
        return Sys.syscall(SYS_TGKILL, PID, tid, Sys.SIGPIPE) == 0;
    }
}

package org.vl2.switching.internal.vl2;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.sun.jna.Native;
import com.sun.jna.Platform;

/**
 * The CPU priority of one thread. Linux keeps the nice value per thread (setpriority(2) on a thread id), so the
 * handshake thread can give way to the receive threads of the same process when the CPU is short, and take what is
 * left when it is not: CFS shares a busy core by weight (nice 10 gets about a tenth of what nice 0 gets), an idle
 * core is not shared at all. Raising a thread's nice needs no privilege; lowering it again needs CAP_SYS_NICE (or
 * RLIMIT_NICE), so a switch not running as root cannot undo a higher nice without a restart.
 */
final class ThreadNice {

    /** Lowest priority Linux knows. */
    static final int MAX = 19;
    private static final int PRIO_PROCESS = 0;

    private ThreadNice() {
    }

    /** The calling thread's kernel thread id, or -1 where there is none to read (not Linux). */
    static long currentThreadId() {
        try {
            // "<pid>/task/<tid>": Linux 3.17+; the JDK 17 API has no native thread id
            Path link = Files.readSymbolicLink(Path.of("/proc/thread-self"));
            return Long.parseLong(link.getFileName().toString());
        } catch (IOException | UnsupportedOperationException | NumberFormatException | SecurityException e) {
            return -1;
        }
    }

    /**
     * Sets the calling thread's nice value.
     *
     * @return null when applied, else why not (one line for the log)
     */
    static String applyToCurrentThread(int nice) {
        long tid = currentThreadId();
        if (tid < 0) {
            return "no thread id (/proc/thread-self): not Linux";
        }
        try {
            if (Libc.setpriority(PRIO_PROCESS, (int) tid, nice) != 0) {
                int errno = Native.getLastError();
                return "setpriority failed, errno " + errno + (errno == 13 || errno == 1
                        ? " (lowering a nice value needs CAP_SYS_NICE)" : "");
            }
            return null;
        } catch (LinkageError e) {
            return "JNA is not available (" + e.getMessage() + ")";
        }
    }

    /** Nice value of thread {@code tid} of this process from /proc (field 19 of stat), or null if unreadable. */
    static Integer niceOf(long tid) {
        try {
            String stat = Files.readString(Path.of("/proc/self/task/" + tid + "/stat"));
            // the command name (field 2) may hold spaces and parentheses: count from the last ')'
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
            return Integer.parseInt(f[16]); // field 19 of the whole line = index 16 after the name
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** libc through JNA direct mapping; loaded at the first call. */
    private static final class Libc {
        static {
            Native.register(Libc.class, Platform.C_LIBRARY_NAME);
        }

        static native int setpriority(int which, int who, int prio);
    }
}

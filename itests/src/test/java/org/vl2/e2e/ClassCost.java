package org.vl2.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What an end-to-end class cost in CPU, printed in its summary: the CPU seconds of the test JVM and of every process
 * it started and reaped (switch, agents, {@code bin/vl2-client} calls, tools: /proc/self/stat's utime, stime, cutime
 * and cstime), and how many {@code bin/vl2-client} calls it made, of which how many repeated a poll. CPU seconds
 * follow the machine's load less than wall time does, yet a class's figure still moved by up to a third between
 * runs at different loads (longer waits poll more; a loaded CPU does less per second): compare the counts, or runs
 * of the same minutes (docs/testing.md, "Wall time"). A process counts once its
 * parent has reaped it: one whose launcher was killed first (a stop that outlasted its grace, {@link Lab#close}) is
 * missing, so a figure from a run at a high load can be low.
 */
final class ClassCost {

    private static final Path SELF = Path.of("/proc/self/stat");
    /** Linux reports these times in clock ticks of 100 Hz (USER_HZ), whatever the kernel's tick. */
    private static final double TICKS_PER_SECOND = 100.0;

    private final double startSeconds = cpuSeconds(true);
    private final double startSelf = cpuSeconds(false);
    final AtomicInteger clientCalls = new AtomicInteger();
    final AtomicInteger pollRepeats = new AtomicInteger();

    /** The CPU seconds of this JVM (and its reaped children: {@code children}) so far; NaN where /proc cannot say. */
    static double cpuSeconds(boolean children) {
        try {
            String stat = Files.readString(SELF);
            // after the command name in parentheses (which may hold spaces): state is field 3, utime field 14
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = 0;
            for (int i = 11; i <= (children ? 14 : 12); i++) { // utime, stime, cutime, cstime
                ticks += Long.parseLong(f[i]);
            }
            return ticks / TICKS_PER_SECOND;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** The summary line: CPU seconds since this class's lab was made, and its client calls. */
    String line() {
        return String.format("%.1f CPU s (the test JVM %.1f, the processes it started the rest); bin/client calls:"
                + " %d, %d of them repeats of a poll", cpuSeconds(true) - startSeconds, cpuSeconds(false) - startSelf,
                clientCalls.get(), pollRepeats.get());
    }
}

package org.vl2.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Which end-to-end classes may run at the same time. Failsafe runs two test classes at once, each in a JVM of its
 * own (forkCount in itests/pom.xml): most classes only wait on conditions and share the machine well, but a class
 * that measures how long the product takes (HotSwapE2EIT: the longest gap in a ping across a bundle restart, 2 s
 * at most) must not have another class's Karaf boots beside it. Every class that boots instances holds a lock on
 * one file, {@code <vl2.e2e.workDir>/classes.lock}, while it runs: shared ({@link #share}), or exclusive
 * ({@link #alone}) for a class that measures. A file lock belongs to the process, so the JVM's exit releases it
 * whatever happened; {@link #release} lets it go earlier.
 *
 * <p>On a machine that is busy already (other builds: a load average above {@link #BUSY_PER_CORE} per core when a
 * class starts), every class runs alone: two classes booting their Karafs side by side on such a machine outlast
 * the bounds of their waits, and the suite must pass there too, only slower.
 *
 * <p>Waiting for the lock has no bound: the holder is another test class, which has bounds of its own.
 */
public final class ClassTurns {

    /** The load average per core above which a class does not share the machine with another one. */
    static final double BUSY_PER_CORE = 3.0;

    private static FileChannel channel;
    private static FileLock lock;

    private ClassTurns() {
    }

    /** Runs beside other sharing classes, not beside one that runs {@link #alone}: waits until that one is done. */
    public static synchronized void share() {
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        int cores = Runtime.getRuntime().availableProcessors();
        if (lock == null && load > BUSY_PER_CORE * cores) {
            System.out.printf("[e2e] the machine is busy (load %.1f on %d cores): this class runs alone%n", load, cores);
            take(false);
            return;
        }
        take(true);
    }

    /** Runs with no other class beside it: waits until those running now are done. Call before {@link #share}. */
    static synchronized void alone() {
        take(false);
    }

    /** Lets the next class in (the JVM's exit would do it too). */
    static synchronized void release() {
        if (lock == null) {
            return;
        }
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            System.err.println("[e2e] releasing " + path() + ": " + e); // the JVM's exit releases it anyway
        } finally {
            lock = null;
            channel = null;
        }
    }

    private static void take(boolean shared) {
        if (lock != null) {
            return; // this JVM has its turn already (alone, or shared: a class asks once)
        }
        Path file = path();
        long t0 = System.nanoTime();
        try {
            Files.createDirectories(file.getParent());
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            lock = channel.lock(0, Long.MAX_VALUE, shared);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + file + " (the end-to-end classes' turns)", e);
        }
        long waited = (System.nanoTime() - t0) / 1_000_000;
        if (waited >= 1_000) {
            System.out.println("[e2e] waited " + waited / 1000 + " s for " + (shared
                    ? "a class that runs alone to end" : "the classes running beside this one to end"));
        }
    }

    private static Path path() {
        return Path.of(System.getProperty("vl2.e2e.workDir", "target/e2e")).toAbsolutePath().resolve("classes.lock");
    }
}

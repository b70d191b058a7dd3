package org.vl2.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
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
 * <p>On a machine that is busy already (other builds: a load average above {@link #BUSY_PER_CORE} per core when the
 * run's first class starts), every class of the run runs alone: two classes booting their Karafs side by side on
 * such a machine outlast the bounds of their waits, and the suite must pass there too, only slower. The first class
 * decides for the whole run ({@code classes.run}: the build's time stamp, the decision and the load it saw), because
 * later classes would see the load of the run's own Karafs and go alone on an idle machine too; a class that starts
 * while the load is above {@link #OVERLOADED_PER_CORE} per core (other work that came later) still runs alone.
 * {@code -Dvl2.e2e.busyPerCore=N} sets the first threshold (a high one forces pairs, to test them under load).
 *
 * <p>Waiting for the lock has no bound: the holder is another test class, which has bounds of its own.
 */
public final class ClassTurns {

    /** The load average per core above which a run's classes do not share the machine with each other. */
    static final double BUSY_PER_CORE = Double.parseDouble(System.getProperty("vl2.e2e.busyPerCore", "3.0"));
    /** The load average per core above which a class runs alone whatever its run decided. */
    static final double OVERLOADED_PER_CORE = Math.max(BUSY_PER_CORE, 10.0);

    private static FileChannel channel;
    private static FileLock lock;

    private ClassTurns() {
    }

    /** Runs beside other sharing classes, not beside one that runs {@link #alone}: waits until that one is done. */
    public static synchronized void share() {
        if (lock != null) {
            return;
        }
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        int cores = Runtime.getRuntime().availableProcessors();
        String run = runDecision(load, cores);
        System.out.println("[e2e] this run's classes: " + run);
        if (run.startsWith("one")) {
            take(false);
        } else if (load > OVERLOADED_PER_CORE * cores) {
            System.out.printf("[e2e] the machine is overloaded (load %.1f on %d cores): this class runs alone%n", load,
                    cores);
            take(false);
        } else {
            take(true);
        }
    }

    /**
     * This run's decision, "two at a time ..." or "one at a time ...": the one in {@code classes.run} if it is this run's (same
     * {@code vl2.e2e.run}, the build's time stamp), else made now from {@code load} and written there. Without a
     * run id (a class started outside Maven) the decision is made from the load now, each time.
     */
    private static String runDecision(double load, int cores) {
        String decision = String.format("%s at a time (load %.1f on %d cores as the run's first class started)",
                load > BUSY_PER_CORE * cores ? "one" : "two", load, cores);
        String run = System.getProperty("vl2.e2e.run", "");
        if (run.isEmpty()) {
            return decision;
        }
        Path file = path().resolveSibling("classes.run");
        try {
            Files.createDirectories(file.getParent());
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE)) {
                ch.lock(); // released as the channel closes
                // read through the locked channel: opening and closing the file again would drop the lock
                ByteBuffer content = ByteBuffer.allocate((int) Math.min(ch.size(), 4096));
                while (content.hasRemaining() && ch.read(content, content.position()) > 0) {
                    // until full or at the end
                }
                String[] seen = new String(content.array(), 0, content.position(), StandardCharsets.UTF_8)
                        .split("\n", 2);
                if (seen.length == 2 && seen[0].equals(run)) {
                    return seen[1].trim();
                }
                ch.truncate(0);
                ch.write(ByteBuffer.wrap((run + "\n" + decision + "\n").getBytes(StandardCharsets.UTF_8)), 0);
                return decision;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write " + file + " (the run's decision)", e);
        }
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

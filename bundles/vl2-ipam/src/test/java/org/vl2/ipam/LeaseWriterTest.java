package org.vl2.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer coalesces a table's changes into one write per interval, and a stop loses none of them. */
class LeaseWriterTest {

    private static final Ipv4Pool POOL = Ipv4Pool.parse("10.2.0.0/16", null);
    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-06T04:00:00Z"));

    @TempDir
    Path dir;

    private static long leaseLines(Path file) throws Exception {
        return Files.readAllLines(file).stream().filter(l -> !l.startsWith("#")).count();
    }

    @Test
    void aThousandJoinsWithinTheIntervalAreOneWriteAndAStopWritesThemAll() throws Exception {
        Path file = dir.resolve("members.leases");
        LeaseWriter writer = new LeaseWriter("test-lease-writer", Duration.ofHours(1)); // never due in this test
        AtomicInteger queued = new AtomicInteger();
        Executor counting = w -> {
            queued.incrementAndGet();
            writer.execute(w);
        };
        LeaseTable leases = LeaseTable.load(POOL, file, clock, Duration.ofMinutes(3), counting);
        for (int i = 0; i < 1000; i++) {
            leases.lease(String.format("member:%016x", i), null, null);
        }
        assertEquals(1, queued.get(), "one write queued for all the changes of the interval");
        assertFalse(Files.exists(file), "not written before its time");

        assertTrue(writer.close(Duration.ofSeconds(30)));
        leases.flush(); // what the switch does when it stops
        assertEquals(1000, leaseLines(file));

        // after the stop a change is written by the thread making it
        leases.release(String.format("member:%016x", 7));
        assertEquals(999, leaseLines(file));
        assertThrows(java.util.concurrent.RejectedExecutionException.class, () -> writer.execute(() -> { }));
    }

    @Test
    void aQueuedWriteRunsOnceItsIntervalHasPassed() throws Exception {
        Path file = dir.resolve("net.leases");
        LeaseWriter writer = new LeaseWriter("test-lease-writer", Duration.ofMillis(50));
        try {
            LeaseTable leases = LeaseTable.load(POOL, file, clock, Duration.ofMinutes(3), writer);
            leases.lease("member:00000000000000aa", null, null);
            leases.lease("member:00000000000000bb", null, null);
            for (int i = 0; i < 3000 && !(Files.exists(file) && leaseLines(file) == 2); i++) {
                Thread.sleep(10); // polls for the condition, bounded
            }
            assertEquals(2, leaseLines(file), "written by the writer, without a flush");
        } finally {
            writer.close();
        }
    }

    @Test
    void aNegativeIntervalIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new LeaseWriter("x", Duration.ofMillis(-1)));
    }
}

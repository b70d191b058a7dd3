package org.vl2.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.ipam.Ipv4PoolTest.ip;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LeaseTablePersistenceTest {

    private static final Duration GRACE = Duration.ofSeconds(90);

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-21T10:00:00Z"));
    private final Ipv4Pool pool = Ipv4Pool.parse("10.1.1.0/24", null);

    @TempDir
    Path dir;

    @Test
    void roundTrip() throws Exception {
        Path file = dir.resolve("leases/net1/ipv4.leases"); // directories do not exist yet
        LeaseTable t = LeaseTable.load(pool, file, clock, GRACE);
        assertFalse(Files.exists(file), "nothing written before the first lease");
        t.lease("member:0123456789abcdef", null, null);
        t.lease("mac:02:00:00:00:00:01", null, Duration.ofHours(1));
        t.lease("member:fedcba9876543210", ip("10.1.1.77"), null);
        Instant macExpiry = clock.instant().plus(Duration.ofHours(1));

        List<String> lines = Files.readAllLines(file);
        assertTrue(lines.get(0).startsWith("# vl2 IPv4 leases of 10.1.1.0/24"), lines.get(0));
        assertEquals(List.of(
                "member:0123456789abcdef 10.1.1.1 -",
                "mac:02:00:00:00:00:01 10.1.1.2 " + macExpiry.toEpochMilli(),
                "member:fedcba9876543210 10.1.1.77 -"),
                lines.stream().filter(l -> !l.startsWith("#")).toList());
        try (Stream<Path> s = Files.list(file.getParent())) {
            assertEquals(List.of(file), s.toList(), "no temporary file left behind");
        }

        clock.advance(Duration.ofSeconds(10));
        LeaseTable back = LeaseTable.load(pool, file, clock, GRACE);
        assertEquals(3, back.leases().size());
        assertEquals(ip("10.1.1.1"), back.current("member:0123456789abcdef").orElseThrow().address());
        assertEquals(ip("10.1.1.77"), back.current("member:fedcba9876543210").orElseThrow().address());
        Lease mac = back.current("mac:02:00:00:00:00:01").orElseThrow();
        assertEquals(ip("10.1.1.2"), mac.address());
        assertEquals(macExpiry, mac.expires(), "a timed lease keeps its expiry");
        assertEquals(clock.instant().plus(GRACE), back.current("member:0123456789abcdef").orElseThrow().expires(),
                "a held lease gets the orphan grace on load");

        // the member comes back within the grace: same address, held again
        clock.advance(Duration.ofSeconds(60));
        assertEquals(ip("10.1.1.1"), back.lease("member:0123456789abcdef", null, null));
        assertNull(back.current("member:0123456789abcdef").orElseThrow().expires());
        // the other one does not: its address is freed after the grace
        clock.advance(Duration.ofSeconds(31));
        assertTrue(back.current("member:fedcba9876543210").isEmpty());
        assertEquals(1, back.removeExpired());
        assertFalse(Files.readString(file).contains("member:fedcba9876543210"), "removal persisted");
        assertEquals(ip("10.1.1.77"), back.lease("member:new", ip("10.1.1.77"), null));
    }

    @Test
    void everyChangeIsPersisted() throws Exception {
        Path file = dir.resolve("ipv4.leases");
        LeaseTable t = LeaseTable.load(pool, file, clock, GRACE);
        t.lease("a", null, null);
        t.lease("b", null, null);
        assertEquals(2, reload(file).leases().size());
        t.release("a");
        assertEquals(List.of("b"), reload(file).leases().stream().map(Lease::key).toList());
        t.expireIn("b", Duration.ofMinutes(5));
        assertEquals(clock.instant().plus(Duration.ofMinutes(5)), reload(file).current("b").orElseThrow().expires());
        t.lease("b", ip("10.1.1.50"), null); // move
        assertEquals(ip("10.1.1.50"), reload(file).current("b").orElseThrow().address());
    }

    @Test
    void expiredLeasesInTheFileAreNotLoaded() throws Exception {
        Path file = dir.resolve("ipv4.leases");
        LeaseTable t = LeaseTable.load(pool, file, clock, GRACE);
        t.lease("short", null, Duration.ofMinutes(1));
        t.lease("long", null, Duration.ofMinutes(10));
        clock.advance(Duration.ofMinutes(2));
        LeaseTable back = reload(file);
        assertEquals(List.of("long"), back.leases().stream().map(Lease::key).toList());
        assertFalse(back.release("short"));
        assertEquals(ip("10.1.1.1"), back.lease("other", null, null));
    }

    @Test
    void corruptLinesAreSkippedAndGoodOnesKept() throws Exception {
        Path file = dir.resolve("ipv4.leases");
        long future = clock.millis() + 3_600_000;
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(String.join("\n",
                "# comment",
                "",
                "good:1 10.1.1.1 -",
                "good:2   10.1.1.2\t" + future + "   ",
                "too-few 10.1.1.6",
                "too many tokens here x",
                "bad:address 10.1.1.300 -",
                "bad:expiry 10.1.1.3 soon",
                "outside 10.2.2.2 -",
                "network 10.1.1.0 -",
                "server 10.1.1.254 -",
                "good:1 10.1.1.4 -",             // key already leased
                "dup:address 10.1.1.2 -",        // address already leased
                "expired 10.1.1.5 " + (clock.millis() - 1),
                "good:3 10.1.1.200 " + future + "\r").getBytes(StandardCharsets.UTF_8));
        b.writeBytes(new byte[] {'\n', (byte) 0xFF, (byte) 0xFE, 0, 1, ' ', '1', '0', '\n'}); // binary garbage
        b.writeBytes("good:4 10.1.1.9 -\n".getBytes(StandardCharsets.UTF_8));
        b.writeBytes(new byte[] {'b', 'i', 'n', (byte) 0xC3, ' ', '1', '0', '.', '1', '.', '1', '.', '8', ' ', '-'});
        Files.write(file, b.toByteArray());

        LeaseTable t = LeaseTable.load(pool, file, clock, GRACE);
        assertEquals(List.of("good:1", "good:2", "good:4", "good:3"), t.leases().stream().map(Lease::key).toList());
        assertEquals(ip("10.1.1.1"), t.current("good:1").orElseThrow().address());
        assertEquals(Instant.ofEpochMilli(future), t.current("good:2").orElseThrow().expires());
        assertEquals(ip("10.1.1.3"), t.lease("new", null, null), "dropped lines hold no address");
        // the next write replaces the damaged file with a clean one
        LeaseTable back = reload(file);
        assertEquals(5, back.leases().size());
        assertFalse(Files.readString(file).contains("too-few"));
    }

    @Test
    void emptyFileAndMemoryOnly() throws Exception {
        Path file = dir.resolve("ipv4.leases");
        Files.writeString(file, "");
        assertTrue(LeaseTable.load(pool, file, clock, GRACE).leases().isEmpty());
        LeaseTable memory = LeaseTable.load(pool, null, clock, GRACE);
        memory.lease("a", null, null);
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(file), s.toList(), "memory-only table writes nothing");
        }
    }

    @Test
    void unreadableFileIsAnIOException() {
        // a directory where the file should be: exists, cannot be read
        assertThrows(IOException.class, () -> LeaseTable.load(pool, dir, clock, GRACE));
    }

    @Test
    void aFailedWriteKeepsTheLeaseInMemory() throws Exception {
        Path notADir = dir.resolve("plain-file");
        Files.writeString(notADir, "x");
        LeaseTable t = LeaseTable.load(pool, notADir.resolve("ipv4.leases"), clock, GRACE);
        assertEquals(ip("10.1.1.1"), t.lease("a", null, null)); // logged, not thrown
        assertTrue(t.current("a").isPresent());
    }

    @Test
    void leasesOutsideANarrowedPoolAreDropped() throws Exception {
        Path file = dir.resolve("ipv4.leases");
        LeaseTable wide = LeaseTable.load(Ipv4Pool.parse("10.1.0.0/16", null), file, clock, GRACE);
        wide.lease("inside", ip("10.1.1.7"), null);
        wide.lease("outside", ip("10.1.2.7"), null);
        LeaseTable narrow = LeaseTable.load(pool, file, clock, GRACE);
        assertEquals(List.of("inside"), narrow.leases().stream().map(Lease::key).toList());
    }

    @Test
    void aClosedTableWritesWhatWasQueuedThenLeavesTheFileToItsSuccessor() throws Exception {
        Path file = dir.resolve("ipv4.leases");
        List<Runnable> queued = new java.util.ArrayList<>();
        LeaseTable wide = LeaseTable.load(Ipv4Pool.parse("10.1.0.0/16", null), file, clock, GRACE, queued::add);
        wide.lease("before", ip("10.1.1.7"), null); // its write is queued, not run
        wide.close(); // the pool changed: written now, the file let go
        assertTrue(Files.readString(file).contains("before 10.1.1.7 -"), "close writes the queued change");

        LeaseTable narrow = LeaseTable.load(pool, file, clock, GRACE);
        wide.lease("late", ip("10.1.1.8"), null); // a DHCP answer still in flight on the old table
        queued.forEach(Runnable::run);
        narrow.lease("new", ip("10.1.1.9"), null);
        wide.lease("later", ip("10.1.1.10"), null);
        queued.forEach(Runnable::run);
        String onDisk = Files.readString(file);
        assertTrue(onDisk.contains("new 10.1.1.9 -") && !onDisk.contains("late") && !onDisk.contains("later"),
                "the old table wrote over its successor:\n" + onDisk);
        assertTrue(wide.current("late").isPresent(), "the old table keeps its changes in memory");
        wide.close(); // idempotent
    }

    private LeaseTable reload(Path file) throws IOException {
        return LeaseTable.load(pool, file, clock, GRACE);
    }
}

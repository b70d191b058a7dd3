package org.vl2.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.net.Inet4Address;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;

/**
 * {@link LeaseTable#load} of a damaged lease file (any bytes): no exception (only {@link IOException}, for a file
 * that cannot be read), and what it keeps is consistent: live leases on host addresses of the pool, never the
 * server's, one per key and address. The table then still works (a new lease, or "exhausted" when the file filled
 * the pool) and what it writes loads back as the same leases.
 *
 * <p>Fuzzed for {@code vl2.fuzz.duration} by {@code mvn verify} (see bundles/pom.xml); seeds in
 * {@code LeaseFileFuzzTestInputs/files}. The files live in /dev/shm when there is one: every lease is written
 * with an fsync.
 */
class LeaseFileFuzzTest {

    private static final Ipv4Pool POOL = Ipv4Pool.parse("10.1.1.0/28", null);   // 13 addresses to lease
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-21T10:00:00Z"), ZoneOffset.UTC);
    private static final Duration GRACE = Duration.ofMinutes(3);
    private static final Path DIR = scratch();

    @FuzzTest
    void files(byte[] content) throws Exception {
        Path file = DIR.resolve("fuzz.leases");
        Files.write(file, content);
        LeaseTable table = LeaseTable.load(POOL, file, CLOCK, GRACE);
        List<Lease> loaded = table.leases();
        check(loaded);
        try {
            Inet4Address a = table.lease("fuzz:probe", null, Duration.ofHours(1));
            assertTrue(POOL.inRange(a), a.toString());
        } catch (AddressConflictException e) {
            assertEquals(POOL.rangeSize(), loaded.size(), "exhausted with " + loaded.size() + " leases: " + e);
        }
        check(table.leases());
        assertEquals(table.leases(), LeaseTable.load(POOL, file, CLOCK, GRACE).leases(), "written and read back");
    }

    private static void check(List<Lease> leases) {
        Set<String> keys = new HashSet<>();
        Set<Integer> addresses = new HashSet<>();
        for (Lease l : leases) {
            int a = Ipv4Pool.toInt(l.address());
            assertTrue(POOL.isHost(a), l.toString());
            assertNotEquals(POOL.serverInt(), a, l.toString());
            assertTrue(LeaseTable.isValidKey(l.key()), l.toString());
            assertTrue(l.expires() != null && l.expires().isAfter(CLOCK.instant()), "live, with an end: " + l);
            assertTrue(keys.add(l.key()) && addresses.add(a), "twice: " + l);
        }
    }

    private static Path scratch() {
        try {
            Path shm = Path.of("/dev/shm");
            return Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "vl2-fuzz-")
                    : Files.createTempDirectory("vl2-fuzz-");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterAll
    static void removeScratch() throws IOException {
        try (Stream<Path> s = Files.walk(DIR)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}

package org.vl2.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.ipam.Ipv4PoolTest.ip;

import java.io.IOException;
import java.net.Inet4Address;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;

/** Allocation rules of the lease table, in memory (persistence: {@link LeaseTablePersistenceTest}). */
class LeaseTableTest {

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-21T10:00:00Z"));

    private LeaseTable table(String cidr, String range) throws IOException {
        return LeaseTable.load(Ipv4Pool.parse(cidr, range), null, clock, Duration.ofMinutes(3));
    }

    @Test
    void allocatesLowestFreeFirstAndIsSticky() throws Exception {
        LeaseTable t = table("10.1.1.0/24", null);
        assertEquals(ip("10.1.1.1"), t.lease("member:a", null, null));
        assertEquals(ip("10.1.1.2"), t.lease("member:b", null, null));
        assertEquals(ip("10.1.1.3"), t.lease("mac:02:00:00:00:00:01", null, Duration.ofHours(1)));
        assertEquals(ip("10.1.1.1"), t.lease("member:a", null, null), "same key, same address");
        assertEquals(ip("10.1.1.2"), t.lease("member:b", ip("10.1.1.2"), null), "requesting the held address");
        assertTrue(t.release("member:a"));
        assertEquals(ip("10.1.1.1"), t.lease("member:d", null, null), "freed address is the lowest again");
        assertEquals(ip("10.1.1.4"), t.lease("member:a", null, null));
        assertEquals(t.pool(), Ipv4Pool.parse("10.1.1.0/24", null));
    }

    @Test
    void exhaustionSaysSo() throws Exception {
        LeaseTable t = table("10.1.1.0/24", "10.1.1.10-10.1.1.12");
        assertEquals(ip("10.1.1.10"), t.lease("k1", null, null));
        assertEquals(ip("10.1.1.11"), t.lease("k2", null, null));
        assertEquals(ip("10.1.1.12"), t.lease("k3", null, null));
        AddressConflictException e = assertThrows(AddressConflictException.class, () -> t.lease("k4", null, null));
        assertEquals("pool 10.1.1.0/24 is exhausted (3 addresses)", e.getMessage());
        assertTrue(t.current("k4").isEmpty());
        // a static address outside the range can still be had
        assertEquals(ip("10.1.1.100"), t.lease("k4", ip("10.1.1.100"), null));
    }

    @Test
    void neverHandsOutTheServerAddress() throws Exception {
        LeaseTable t = table("10.1.1.0/24", "10.1.1.252-10.1.1.254");
        assertEquals(ip("10.1.1.252"), t.lease("k1", null, null));
        assertEquals(ip("10.1.1.253"), t.lease("k2", null, null));
        AddressConflictException e = assertThrows(AddressConflictException.class, () -> t.lease("k3", null, null));
        assertEquals("pool 10.1.1.0/24 is exhausted (2 addresses)", e.getMessage());
        e = assertThrows(AddressConflictException.class, () -> t.lease("k3", ip("10.1.1.254"), null));
        assertEquals("10.1.1.254 is the DHCP server address of 10.1.1.0/24 and cannot be leased", e.getMessage());
    }

    @Test
    void staticRequestsAndConflicts() throws Exception {
        LeaseTable t = table("10.1.1.0/24", "10.1.1.1-10.1.1.100");
        assertEquals(ip("10.1.1.200"), t.lease("member:a", ip("10.1.1.200"), null), "in the subnet, outside the range");
        assertEquals("member:a", t.holder(ip("10.1.1.200")).orElseThrow().key());
        AddressConflictException e = assertThrows(AddressConflictException.class,
                () -> t.lease("member:b", ip("10.1.1.200"), null));
        assertEquals("10.1.1.200 is leased to member:a", e.getMessage());
        assertTrue(t.current("member:b").isEmpty(), "a failed request leases nothing");

        e = assertThrows(AddressConflictException.class, () -> t.lease("member:b", ip("10.9.9.9"), null));
        assertEquals("10.9.9.9 is outside 10.1.1.0/24 (expected an address within 10.1.1.1-10.1.1.254)",
                e.getMessage());
        e = assertThrows(AddressConflictException.class, () -> t.lease("member:b", ip("10.1.1.255"), null));
        assertTrue(e.getMessage().startsWith("10.1.1.255 is outside 10.1.1.0/24"), "broadcast is no host");
        e = assertThrows(AddressConflictException.class, () -> t.lease("member:b", ip("10.1.1.0"), null));
        assertTrue(e.getMessage().startsWith("10.1.1.0 is outside 10.1.1.0/24"), "network is no host");

        // dynamic allocation skips the static lease
        assertEquals(ip("10.1.1.1"), t.lease("member:b", null, null));
        assertEquals(ip("10.1.1.5"), t.lease("member:c", ip("10.1.1.5"), null));
        assertEquals(ip("10.1.1.2"), t.lease("member:d", null, null));
        assertEquals(ip("10.1.1.3"), t.lease("member:e", null, null));
        assertEquals(ip("10.1.1.4"), t.lease("member:f", null, null));
        assertEquals(ip("10.1.1.6"), t.lease("member:g", null, null), "10.1.1.5 is static");
    }

    @Test
    void aKeyMovesToAFreeStaticAddressAndKeepsItsOwnOnConflict() throws Exception {
        LeaseTable t = table("10.1.1.0/24", null);
        assertEquals(ip("10.1.1.1"), t.lease("member:a", null, null));
        assertEquals(ip("10.1.1.2"), t.lease("member:b", null, null));
        assertEquals(ip("10.1.1.60"), t.lease("member:a", ip("10.1.1.60"), null));
        assertTrue(t.holder(ip("10.1.1.1")).isEmpty(), "the old address is freed");
        assertThrows(AddressConflictException.class, () -> t.lease("member:a", ip("10.1.1.2"), null));
        assertEquals(ip("10.1.1.60"), t.current("member:a").orElseThrow().address(), "kept on conflict");
        assertEquals(ip("10.1.1.1"), t.lease("member:c", null, null));
        assertEquals(ip("10.1.1.60"), t.lease("member:a", null, null), "sticky after the move");
    }

    @Test
    void expiredLeasesAreReusedLowestFirst() throws Exception {
        LeaseTable t = table("10.1.1.0/24", null);
        assertEquals(ip("10.1.1.1"), t.lease("mac:a", null, Duration.ofMinutes(10)));
        assertEquals(ip("10.1.1.2"), t.lease("mac:b", null, null));
        clock.advance(Duration.ofMinutes(10));
        assertTrue(t.current("mac:a").isEmpty(), "expired at exactly now+duration");
        assertTrue(t.holder(ip("10.1.1.1")).isEmpty());
        assertEquals(List.of("mac:b"), t.leases().stream().map(Lease::key).toList(), "live leases only");
        assertEquals(ip("10.1.1.1"), t.lease("mac:c", null, Duration.ofMinutes(10)));
        assertEquals(ip("10.1.1.3"), t.lease("mac:a", null, Duration.ofMinutes(10)), "a lost its address to c");
    }

    @Test
    void anExpiredLeaseComesBackToItsKeyWhenNobodyTookIt() throws Exception {
        LeaseTable t = table("10.1.1.0/24", null);
        assertEquals(ip("10.1.1.1"), t.lease("mac:a", null, Duration.ofMinutes(1)));
        assertEquals(ip("10.1.1.2"), t.lease("mac:b", null, null));
        clock.advance(Duration.ofMinutes(5));
        assertEquals(ip("10.1.1.1"), t.lease("mac:a", null, Duration.ofMinutes(1)));
    }

    @Test
    void aRequestTakesAnExpiredLeaseOfAnotherKey() throws Exception {
        LeaseTable t = table("10.1.1.0/24", null);
        assertEquals(ip("10.1.1.5"), t.lease("mac:a", ip("10.1.1.5"), Duration.ofMinutes(1)));
        assertThrows(AddressConflictException.class, () -> t.lease("mac:b", ip("10.1.1.5"), null));
        clock.advance(Duration.ofMinutes(2));
        assertEquals(ip("10.1.1.5"), t.lease("mac:b", ip("10.1.1.5"), null));
        assertEquals("mac:b", t.holder(ip("10.1.1.5")).orElseThrow().key());
        assertFalse(t.release("mac:a"), "a's record went to b");
    }

    @Test
    void renewalExtends() throws Exception {
        LeaseTable t = table("10.1.1.0/24", null);
        Instant t0 = clock.instant();
        t.lease("mac:a", null, Duration.ofMinutes(10));
        assertEquals(t0.plus(Duration.ofMinutes(10)), t.current("mac:a").orElseThrow().expires());
        clock.advance(Duration.ofMinutes(8));
        assertEquals(ip("10.1.1.1"), t.lease("mac:a", null, Duration.ofMinutes(10)));
        assertEquals(t0.plus(Duration.ofMinutes(18)), t.current("mac:a").orElseThrow().expires());
        clock.advance(Duration.ofMinutes(9));
        assertTrue(t.current("mac:a").isPresent());
        // a lease without duration is held
        t.lease("mac:a", null, null);
        clock.advance(Duration.ofDays(1000));
        Lease held = t.current("mac:a").orElseThrow();
        assertNull(held.expires());
        assertFalse(held.isExpiredAt(clock.instant()));
    }

    @Test
    void expireInGivesAGraceThenTheAddressIsFree() throws Exception {
        LeaseTable t = table("10.1.1.0/24", null);
        t.lease("member:a", null, null);
        t.lease("member:b", null, null);
        t.expireIn("member:a", Duration.ofSeconds(90));
        t.expireIn("member:nobody", Duration.ofSeconds(90)); // no lease: nothing happens
        assertEquals(clock.instant().plusSeconds(90), t.current("member:a").orElseThrow().expires());
        assertEquals(0, t.removeExpired());
        clock.advance(Duration.ofSeconds(60));
        assertEquals(ip("10.1.1.1"), t.lease("member:a", null, null), "came back within the grace");
        assertNull(t.current("member:a").orElseThrow().expires(), "held again");
        t.expireIn("member:a", Duration.ofSeconds(90));
        clock.advance(Duration.ofSeconds(91));
        assertTrue(t.current("member:a").isEmpty());
        assertEquals(1, t.removeExpired());
        assertEquals(0, t.removeExpired());
        assertFalse(t.release("member:a"));
        assertEquals(1, t.leases().size(), "held lease of b stays");
        assertEquals(ip("10.1.1.1"), t.lease("member:c", null, null));
    }

    @Test
    void release() throws Exception {
        LeaseTable t = table("10.1.1.0/24", null);
        t.lease("member:a", ip("10.1.1.9"), null);
        assertTrue(t.release("member:a"));
        assertFalse(t.release("member:a"));
        assertTrue(t.current("member:a").isEmpty());
        assertTrue(t.holder(ip("10.1.1.9")).isEmpty());
        assertEquals(ip("10.1.1.9"), t.lease("member:b", ip("10.1.1.9"), null));
    }

    @Test
    void leasesAreSortedByAddress() throws Exception {
        LeaseTable t = table("10.0.0.0/8", null);
        t.lease("k1", ip("10.200.0.1"), null);
        t.lease("k2", ip("10.3.0.1"), null);
        t.lease("k3", null, Duration.ofHours(1));
        t.lease("k4", ip("10.128.0.0"), null); // ends in .0 but is a host of a /8
        List<Lease> l = t.leases();
        assertEquals(List.of("k3", "k2", "k4", "k1"), l.stream().map(Lease::key).toList());
        assertEquals(new Lease("k3", ip("10.0.0.1"), clock.instant().plus(Duration.ofHours(1))), l.get(0));
    }

    @Test
    void unsignedOrderAboveTheSignBit() throws Exception {
        LeaseTable t = table("200.1.0.0/16", "200.1.0.1-200.1.0.3");
        t.lease("k1", null, null);
        t.lease("k2", ip("200.1.200.1"), null);
        assertEquals(ip("200.1.0.2"), t.lease("k3", null, null));
        assertEquals(List.of("k1", "k3", "k2"), t.leases().stream().map(Lease::key).toList());
    }

    @Test
    void badArguments() throws Exception {
        LeaseTable t = table("10.1.1.0/24", null);
        for (String key : new String[] {null, "", "has space", "tab\there", "#comment", "line\nbreak",
                "x".repeat(201)}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.lease(key, null, null));
            assertTrue(e.getMessage().startsWith("lease key '" + key + "' is not valid (expected"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> t.lease("k", null, Duration.ofSeconds(-1)));
        assertEquals("lease duration PT-1S is not valid (expected a positive duration, or none for a lease held"
                + " until released)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.lease("k", null, Duration.ZERO));
        e = assertThrows(IllegalArgumentException.class, () -> t.expireIn("k", null));
        assertEquals("grace is missing (expected a duration of zero or more)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> LeaseTable.load(Ipv4Pool.parse("10.1.1.0/24", null), null, clock, Duration.ofSeconds(-5)));
        assertEquals("orphanGrace PT-5S is not valid (expected a duration of zero or more)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LeaseTable.load(null, null, clock, Duration.ZERO));
        assertTrue(t.leases().isEmpty());
    }

    @Test
    void hugeDurationSaturates() throws Exception {
        LeaseTable t = table("10.1.1.0/24", null);
        t.lease("k", null, Duration.ofSeconds(Long.MAX_VALUE));
        assertTrue(t.current("k").isPresent());
    }

    @Test
    void concurrentLeasesGetDistinctAddresses() throws Exception {
        LeaseTable t = table("10.1.0.0/16", null);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<Inet4Address>>> futures = new ArrayList<>();
            for (int th = 0; th < 4; th++) {
                int id = th;
                futures.add(pool.submit(() -> {
                    List<Inet4Address> got = new ArrayList<>();
                    for (int i = 0; i < 200; i++) {
                        got.add(t.lease("k" + id + "-" + i, null, Duration.ofHours(1)));
                    }
                    return got;
                }));
            }
            Set<Inet4Address> all = new HashSet<>();
            for (Future<List<Inet4Address>> f : futures) {
                all.addAll(f.get());
            }
            assertEquals(800, all.size());
            assertEquals(800, t.leases().size());
            assertEquals(ip("10.1.3.32"), t.leases().get(799).address(), "packed from the bottom: 800th host");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void tenThousandJoinsSearchTheFreeAddressInLinearTimeNotQuadratic() throws Exception {
        LeaseTable t = table("10.200.0.0/18", null);
        for (int i = 0; i < 10_000; i++) {
            t.lease("member:" + i, null, null);
        }
        assertEquals(10_000, t.leases().size());
        // a walk from the start of the range each time stepped over 10,000 * 9,999 / 2 = 50 M leases
        assertTrue(t.searchSteps <= 20_000, t.searchSteps + " steps for 10,000 leases");
        for (int i = 0; i < 100; i++) { // churn: one leaves, one joins and takes its address
            assertTrue(t.release("member:" + (i * 97)));
            assertEquals(Ipv4Pool.toAddress(Ipv4Pool.toInt(ip("10.200.0.1")) + i * 97), t.lease("new:" + i, null, null));
        }
        assertTrue(t.searchSteps <= 20_200, t.searchSteps + " steps with the churn");
    }

    @Test
    void theFreeAddressIsAlwaysTheLowestWithoutALiveLease() throws Exception {
        java.util.Random random = new java.util.Random(15);
        LeaseTable t = table("10.3.0.0/26", "10.3.0.1-10.3.0.40");
        Ipv4Pool pool = t.pool();
        List<String> keys = new ArrayList<>();
        for (int step = 0; step < 5_000; step++) {
            int op = random.nextInt(10);
            String key = "k" + random.nextInt(60);
            if (op < 5) {
                Set<Integer> live = new HashSet<>();
                t.leases().forEach(l -> live.add(Ipv4Pool.toInt(l.address())));
                boolean holds = t.recorded(key);
                int expected = -1;
                for (int a = pool.firstInt(); a <= pool.lastInt(); a++) {
                    if (a != pool.serverInt() && !live.contains(a)) {
                        expected = a;
                        break;
                    }
                }
                Duration d = random.nextBoolean() ? null : Duration.ofSeconds(1 + random.nextInt(20));
                try {
                    Inet4Address got = t.lease(key, null, d);
                    if (!holds) {
                        assertEquals(Ipv4Pool.toAddress(expected), got, "step " + step);
                    }
                    keys.add(key);
                } catch (AddressConflictException ex) {
                    assertEquals(-1, expected, "step " + step + ": exhausted only when no address is free");
                }
            } else if (op == 5) {
                t.release(key);
            } else if (op == 6) {
                t.expireIn(key, Duration.ofSeconds(random.nextInt(5)));
            } else if (op == 7) {
                t.removeExpired();
            } else {
                clock.advance(Duration.ofSeconds(random.nextInt(4)));
            }
        }
        assertFalse(keys.isEmpty());
    }
}

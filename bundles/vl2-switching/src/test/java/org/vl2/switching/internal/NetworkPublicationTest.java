package org.vl2.switching.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vl2.api.NetworkInfo;
import org.vl2.api.test.FakeMacTable;
import org.vl2.ipam.Ipv4Pool;

/**
 * A network is published complete (issue 13 item 6: NetworksIT once saw a new network without DHCP). The test
 * stops the switch in the middle of configuring a network, deterministically: the network's lease file is a FIFO,
 * so reading it blocks until the test opens it for writing, and that open returns exactly when the switch is
 * reading it. At that moment the network must not be visible yet; once the read ends it must be, with DHCP.
 */
class NetworkPublicationTest {

    private static final long NET = 0xa1;

    @TempDir
    Path state;

    @Test
    @SuppressWarnings("try") // the writer is only opened (and closed): that is what moves the switch on
    void aNetworkIsVisibleOnlyOnceItsSettingsApply() throws Exception {
        Path leases = Files.createDirectories(state.resolve("leases"));
        Path fifo = leases.resolve("00000000000000a1.leases");
        assumeTrue(mkfifo(fifo), "mkfifo is needed to hold the switch inside the configuration");
        AtomicLong clock = new AtomicLong();
        SwitchCore sw = new SwitchCore(new FakeMacTable(), Fakes.defaults(), clock::get, false, state);
        sw.bindPolicy(new LearningPolicy());
        NetworkDefinition definition = new NetworkDefinition(new NetworkSettings(NET, "lab", 1400, null,
                Ipv4Pool.parse("10.147.17.0/24", null), null, true, Duration.ofHours(1), null, List.of()));

        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread binder = new Thread(() -> {
                try {
                    sw.bindNetwork(definition);
                } catch (Throwable t) {
                    failed.set(t);
                }
            }, "bind-network");
            binder.start();
            try (OutputStream writer = Files.newOutputStream(fifo)) {
                // the switch has opened the lease file: it is configuring the network now
                assertFalse(sw.network(NET).isPresent(), "the network is visible before its settings apply");
                assertFalse(sw.networks().stream().anyMatch(n -> n.id() == NET));
            } // closed: the switch reads an empty lease file and goes on
            binder.join();
            assertEquals(null, failed.get());
        });
        NetworkInfo n = sw.network(NET).orElseThrow();
        assertTrue(n.dhcp(), "with DHCP");
        assertTrue(n.ipv4Pool().startsWith("10.147.17.0/24"), n.ipv4Pool());
        assertEquals("learning", n.policy());
    }

    /** A static address outside the range (any host of the subnet may be one) takes nothing from the range. */
    @Test
    void leasesOutsideTheRangeAreNotCountedAgainstIt() throws Exception {
        Path leases = Files.createDirectories(state.resolve("leases"));
        long future = System.currentTimeMillis() + Duration.ofDays(1).toMillis();
        Files.writeString(leases.resolve("00000000000000a1.leases"), "member:0000000000000001 10.147.17.5 " + future
                + "\nmember:0000000000000002 10.147.17.150 " + future + "\n");
        SwitchCore sw = new SwitchCore(new FakeMacTable(), Fakes.defaults(), System::nanoTime, false, state);
        sw.bindPolicy(new LearningPolicy());
        sw.bindNetwork(new NetworkDefinition(new NetworkSettings(NET, "lab", 1400, null,
                Ipv4Pool.parse("10.147.17.0/24", "10.147.17.100-10.147.17.199"), null, true, Duration.ofHours(1),
                null, List.of())));
        NetworkInfo n = sw.network(NET).orElseThrow();
        assertEquals(2, n.leases().size(), n.leases().toString());
        assertEquals(100, n.leaseCapacity());
        assertEquals(1, n.leasesInRange());
        assertEquals(99, n.leasesFree(), "only 10.147.17.150 is of the range");
    }

    private static boolean mkfifo(Path path) {
        try {
            return new ProcessBuilder("mkfifo", path.toString()).inheritIO().start().waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }
}

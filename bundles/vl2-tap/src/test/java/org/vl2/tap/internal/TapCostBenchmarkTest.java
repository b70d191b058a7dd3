package org.vl2.tap.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.vl2.api.MacAddress;
import org.vl2.tap.TapDevice;
import org.vl2.tap.TapSettings;

/**
 * Cost of one read and one write call on a real TAP device. Off by default (timing is not a unit test):
 * {@code mvn test -pl bundles/vl2-tap -Dtest=TapCostBenchmarkTest -Dvl2.tap.bench=true}, as root.
 */
class TapCostBenchmarkTest {

    private final Kernel kernel = new Kernel();

    @AfterEach
    void tearDown() {
        kernel.cleanup();
    }

    @Test
    void readAndWriteCost() throws Exception {
        assumeTrue(Boolean.getBoolean("vl2.tap.bench"), "benchmark: run with -Dvl2.tap.bench=true");
        Kernel.assumeRootAndTun();
        int x = ThreadLocalRandom.current().nextInt(1, 255);
        String subnet = "10.213." + x + ".";
        MacAddress fake = MacAddress.valueOf("02:76:6c:32:" + Kernel.hex(x) + ":02");
        LinuxTapFactory factory = new LinuxTapFactory();
        try (TapDevice tap = factory.create(TapSettings.builder().name(kernel.uniqueName()).ipv4(subnet + "1/24")
                .build());
                DatagramChannel udp = DatagramChannel.open()) {
            Kernel.run("neigh", "replace", subnet + "2", "lladdr", fake.toString(), "dev", tap.name(), "nud",
                    "permanent");
            ByteBuffer buf = ByteBuffer.allocateDirect(tap.maxFrameLength());

            // write: 60-byte frames to a unicast MAC that is not the TAP's, local experimental EtherType:
            // the kernel takes each one in and drops it early (PACKET_OTHERHOST).
            ByteBuffer frame = ByteBuffer.allocateDirect(60);
            frame.put(fake.toBytes()).put(MacAddress.valueOf("02:00:00:00:00:09").toBytes())
                    .putShort((short) 0x88b5).position(60).flip();
            int writes = 200_000;
            for (int round = 0; round < 3; round++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < writes; i++) {
                    tap.write(frame);
                }
                report("write (60-byte frame)", System.nanoTime() - t0, writes);
            }

            // read: the kernel queues a batch of UDP datagrams to the (static) neighbour .2 on the TAP, then
            // only the reads are timed. Batches stay below the TAP's queue of 1000 frames.
            ByteBuffer payload = ByteBuffer.allocateDirect(18);
            InetSocketAddress dst = new InetSocketAddress(subnet + "2", 9);
            int batch = 500;
            for (int round = 0; round < 3; round++) {
                long readNanos = 0;
                int frames = 0;
                for (int b = 0; b < 100; b++) {
                    drain(tap, buf);
                    for (int i = 0; i < batch; i++) {
                        payload.clear();
                        udp.send(payload, dst);
                    }
                    long t0 = System.nanoTime();
                    int got = 0;
                    while (got < batch) {
                        buf.clear();
                        if (tap.read(buf, 1000) <= 0) {
                            break;
                        }
                        got++;
                    }
                    readNanos += System.nanoTime() - t0;
                    frames += got;
                }
                report("read (queued 60-byte frame)", readNanos, frames);
            }

            drain(tap, buf);
            int empty = 200_000;
            long t0 = System.nanoTime();
            for (int i = 0; i < empty; i++) {
                buf.clear();
                assertEquals(0, tap.read(buf, 0));
            }
            report("read with nothing queued (EAGAIN, timeout 0)", System.nanoTime() - t0, empty);
        } finally {
            factory.deactivate();
        }
    }

    private static void drain(TapDevice tap, ByteBuffer buf) throws Exception {
        do {
            buf.clear();
        } while (tap.read(buf, 0) > 0);
    }

    private static void report(String what, long nanos, int calls) {
        System.out.printf("%-48s %7.0f ns/call (%d calls)%n", what, (double) nanos / calls, calls);
    }
}

package org.vl2.netio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

import org.junit.jupiter.api.Test;

class ReceiveLoopTest {

    private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    /** Records what the loop hands over; the datagram whose first byte is 13 throws, as a buggy receiver would. */
    private static class Recorder implements ReceiveLoop.Handler {
        final List<Integer> firstBytes = new CopyOnWriteArrayList<>();
        final AtomicInteger batches = new AtomicInteger();
        final AtomicInteger handlingFailures = new AtomicInteger();
        final List<Boolean> onLoop = new CopyOnWriteArrayList<>();
        ReceiveLoop loop;

        @Override
        public void datagram(InetSocketAddress source, ByteBuffer datagram) {
            int first = datagram.get(datagram.position());
            if (first == 13) {
                throw new IllegalStateException("receiver bug");
            }
            firstBytes.add(first);
            onLoop.add(loop != null && loop.onLoopThread() && ReceiveLoop.current() == loop);
        }

        @Override
        public void batchDone() {
            batches.incrementAndGet();
        }

        @Override
        public void receiveFailed(IOException e) {
            throw new AssertionError(e);
        }

        @Override
        public void handlingFailed(RuntimeException e) {
            handlingFailures.incrementAndGet();
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what);
            Thread.sleep(5);
        }
    }

    @Test
    void handsOverEveryDatagramSurvivesAFailingReceiverAndStops() throws Exception {
        try (DatagramEndpoint ep = DatagramEndpoints.open(LOOPBACK, 1 << 20, 1 << 20, 8, false);
             DatagramEndpoint peer = DatagramEndpoints.openNio(LOOPBACK, 1 << 20, 1 << 20)) {
            Recorder r = new Recorder();
            ReceiveLoop loop = ReceiveLoop.start(ep, "test-rx", r);
            r.loop = loop;
            assertFalse(loop.onLoopThread());
            assertEquals(null, ReceiveLoop.current(), "not a loop's thread");
            assertEquals(r, loop.handler());
            for (int b : new int[] {1, 13, 2, 3}) {
                assertTrue(peer.send(ep.localAddress(), ByteBuffer.wrap(new byte[] {(byte) b, 0, 0, 0})));
            }
            await(() -> r.firstBytes.size() == 3, "three datagrams handed over: " + r.firstBytes);
            assertEquals(List.of(1, 2, 3), r.firstBytes);
            assertEquals(1, r.handlingFailures.get());
            assertTrue(r.batches.get() >= 1, "a batch ended");
            assertTrue(r.onLoop.stream().allMatch(b -> b), "handed over on the loop's thread");
            assertTrue(loop.stop(5_000));
            assertTrue(peer.send(ep.localAddress(), ByteBuffer.wrap(new byte[] {4})));
            assertEquals(1, ep.receive(5_000), "nobody receives after stop");
        }
    }

    @Test
    void closingTheEndpointEndsTheLoop() throws Exception {
        DatagramEndpoint ep = DatagramEndpoints.open(LOOPBACK, 1 << 16, 1 << 16, 4, false);
        Recorder r = new Recorder();
        ReceiveLoop loop = ReceiveLoop.start(ep, "test-rx", r);
        ep.close();
        assertTrue(loop.stop(5_000));
    }

    /**
     * Loops whose handlers do not return: stopping them all costs the bound once. Before, each loop was waited for
     * with the whole bound one after the other (16 receive threads, 80 s). The bound is an hour on a clock the test
     * holds, which reads it spent as soon as stopAll has taken its deadline: a stopAll that waits within one bound
     * then gives each loop a millisecond, and one that gives each loop the whole bound does not return in the test's
     * wait. No wall-clock duration is judged, so a loaded machine cannot fail it.
     */
    @Test
    void stopAllWaitsForEveryLoopWithinOneBound() throws Exception {
        int n = 4;
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch stuck = new java.util.concurrent.CountDownLatch(n);
        ReceiveLoop.Handler blocking = new Recorder() {
            @Override
            public void datagram(InetSocketAddress source, ByteBuffer datagram) {
                stuck.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        DatagramEndpoint[] eps = new DatagramEndpoint[n];
        ReceiveLoop[] loops = new ReceiveLoop[n];
        ExecutorService stopper = Executors.newSingleThreadExecutor();
        try (DatagramEndpoint peer = DatagramEndpoints.openNio(LOOPBACK, 1 << 16, 1 << 16)) {
            for (int i = 0; i < n; i++) {
                eps[i] = DatagramEndpoints.open(LOOPBACK, 1 << 16, 1 << 16, 4, false);
                loops[i] = ReceiveLoop.start(eps[i], "test-rx-" + i, blocking);
                assertTrue(peer.send(eps[i].localAddress(), ByteBuffer.wrap(new byte[] {1})));
            }
            assertTrue(stuck.await(10, TimeUnit.SECONDS), "every handler is in a call that does not return");
            long bound = TimeUnit.HOURS.toMillis(1);
            AtomicInteger reads = new AtomicInteger();
            // the first read sets the deadline, every later one finds it reached
            LongSupplier clock = () -> reads.getAndIncrement() == 0 ? 0 : TimeUnit.MILLISECONDS.toNanos(bound);
            Future<Integer> stopping = stopper.submit(() -> ReceiveLoop.stopAll(loops, bound, clock));
            assertEquals(n, stopping.get(60, TimeUnit.SECONDS), "all still running: the one bound was spent");
            release.countDown();
            assertEquals(0, ReceiveLoop.stopAll(loops, 10_000), "all end once their handlers return");
        } finally {
            release.countDown();
            stopper.shutdownNow();
            for (DatagramEndpoint ep : eps) {
                if (ep != null) {
                    ep.close();
                }
            }
        }
    }
}

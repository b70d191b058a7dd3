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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.Test;

class ReceiveLoopTest {

    private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    /** Records what the loop hands over; the datagram whose first byte is 13 throws, as a buggy receiver would. */
    private static final class Recorder implements ReceiveLoop.Handler {
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
            onLoop.add(loop != null && loop.onLoopThread());
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
}

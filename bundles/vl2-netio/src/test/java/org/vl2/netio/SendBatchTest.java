package org.vl2.netio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class SendBatchTest {

    @Test
    void deferredFlushesRunAtTheEndInOrderOnce() throws Exception {
        Thread t = new Thread(() -> {
            assertNull(SendBatch.current(), "a plain thread has no batch: send at once");
            SendBatch b = SendBatch.enter();
            assertSame(b, SendBatch.current());
            assertSame(b, SendBatch.enter(), "one per thread");
            List<String> ran = new CopyOnWriteArrayList<>();
            assertTrue(b.defer(() -> ran.add("a")));
            assertTrue(b.defer(() -> ran.add("b")));
            assertEquals(2, b.pending());
            assertEquals(List.of(), ran, "nothing before the end");
            b.end();
            assertEquals(List.of("a", "b"), ran);
            assertEquals(0, b.pending());
            b.end();
            assertEquals(List.of("a", "b"), ran, "forgotten after the end");
            assertTrue(b.defer(() -> ran.add("c")));
            SendBatch.leave();
            assertEquals(List.of("a", "b", "c"), ran, "leaving sends what waits");
            assertNull(SendBatch.current());
        });
        runChecked(t);
    }

    @Test
    void aFullBatchRefusesAndAFailingFlushDoesNotStopTheOthers() throws Exception {
        Thread t = new Thread(() -> {
            SendBatch b = SendBatch.enter();
            int[] ran = new int[1];
            assertTrue(b.defer(() -> {
                throw new IllegalStateException("peer gone");
            }));
            for (int i = 1; i < SendBatch.MAX_DEFERRED; i++) {
                assertTrue(b.defer(() -> ran[0]++));
            }
            assertFalse(b.defer(() -> ran[0]++), "full: the caller flushes now");
            IllegalStateException e = assertThrows(IllegalStateException.class, b::end);
            assertEquals("peer gone", e.getMessage());
            assertEquals(SendBatch.MAX_DEFERRED - 1, ran[0], "every other flush ran");
            assertEquals(0, b.pending());
            SendBatch.leave();
        });
        runChecked(t);
    }

    /** A receive loop's thread has a batch, ended after each received batch (after the handler's own flush). */
    @Test
    void aReceiveLoopEndsItsBatchAfterEachReceive() throws Exception {
        InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        List<String> events = new CopyOnWriteArrayList<>();
        try (DatagramEndpoint ep = DatagramEndpoints.open(loopback, 1 << 20, 1 << 20, 8, false);
             DatagramEndpoint peer = DatagramEndpoints.openNio(loopback, 1 << 20, 1 << 20)) {
            ReceiveLoop loop = ReceiveLoop.start(ep, "test-rx", new ReceiveLoop.Handler() {
                @Override
                public void datagram(InetSocketAddress source, ByteBuffer datagram) {
                    SendBatch b = SendBatch.current();
                    events.add(b == null ? "no batch" : "datagram");
                    if (b != null) {
                        b.defer(() -> events.add("deferred flush"));
                    }
                }

                @Override
                public void batchDone() {
                    events.add("batch done");
                }

                @Override
                public void receiveFailed(IOException e) {
                    events.add("receive failed " + e);
                }

                @Override
                public void handlingFailed(RuntimeException e) {
                    events.add("failed " + e);
                }
            });
            assertTrue(peer.send(ep.localAddress(), ByteBuffer.wrap(new byte[] {1})));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (events.size() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(loop.stop(5_000));
            assertEquals(List.of("datagram", "batch done", "deferred flush"), events);
        }
    }

    private static void runChecked(Thread t) throws InterruptedException {
        Throwable[] failure = new Throwable[1];
        t.setUncaughtExceptionHandler((th, e) -> failure[0] = e);
        t.start();
        t.join(10_000);
        assertFalse(t.isAlive());
        if (failure[0] != null) {
            throw new AssertionError(failure[0]);
        }
    }
}

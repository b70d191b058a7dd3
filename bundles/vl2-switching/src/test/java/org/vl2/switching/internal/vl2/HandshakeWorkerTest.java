package org.vl2.switching.internal.vl2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.vl2.switching.internal.Egress;

class HandshakeWorkerTest {

    @Test
    void jobsRunInTheirOrderOnTheHandshakeThreadAndAFullQueueRefuses() throws Exception {
        HandshakeWorker w = new HandshakeWorker(HandshakeWorker.Mode.THREAD);
        try {
            CountDownLatch hold = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(1);
            List<String> ran = new CopyOnWriteArrayList<>();
            Egress caller = new Egress();
            assertTrue(w.offer(e -> {
                started.countDown();
                try {
                    hold.await();
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            }, caller));
            assertTrue(started.await(30, TimeUnit.SECONDS), "the thread took the first job");
            for (int i = 0; i < HandshakeWorker.CAPACITY; i++) {
                int n = i;
                assertTrue(w.offer(e -> {
                    assertTrue(e != caller, "the worker's own scratch");
                    ran.add(Thread.currentThread().getName() + " " + n);
                }, caller));
            }
            assertFalse(w.offer(e -> ran.add("dropped"), caller), "the queue is full while the thread is held");
            assertTrue(w.backlogged());
            hold.countDown();
            for (int i = 0; i < 3000 && ran.size() < HandshakeWorker.CAPACITY; i++) {
                Thread.sleep(10); // polls for the condition, bounded
            }
            assertEquals(HandshakeWorker.CAPACITY, ran.size());
            for (int i = 0; i < ran.size(); i++) {
                assertEquals(HandshakeWorker.THREAD_NAME + " " + i, ran.get(i), "in the order offered");
            }
            assertTrue(w.perSecond() > 0);
        } finally {
            w.stop();
        }
        assertFalse(w.offer(e -> { }, new Egress()), "a stopped worker takes nothing");
    }

    @Test
    void inlineRunsOnTheCallerWithTheMinimumBudget() {
        HandshakeWorker w = new HandshakeWorker(HandshakeWorker.Mode.INLINE);
        Egress caller = new Egress();
        Thread[] on = new Thread[1];
        assertTrue(w.offer(e -> {
            assertTrue(e == caller);
            on[0] = Thread.currentThread();
        }, caller));
        assertEquals(Thread.currentThread(), on[0]);
        assertEquals(HandshakeGate.MIN_HANDSHAKES_PER_SECOND, w.perSecond());
        assertEquals(0, w.queued());
    }
}

package org.vl2.switching.internal.vl2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.vl2.switching.internal.Egress;

class HandshakeWorkerTest {

    private static final Runnable NOTHING = () -> { };

    @Test
    void establishedMembersGoFirstAndWhatWaitedTooLongIsDroppedUnanswered() {
        java.util.concurrent.atomic.AtomicLong clock = new java.util.concurrent.atomic.AtomicLong();
        HandshakeWorker w = new HandshakeWorker(HandshakeWorker.Mode.MANUAL, clock::get);
        List<String> ran = new java.util.ArrayList<>();
        Egress e = new Egress();
        for (int i = 0; i < 3; i++) {
            int n = i;
            assertTrue(w.offer(x -> ran.add("new " + n), () -> ran.add("dropped new " + n), false, e));
        }
        assertTrue(w.offer(x -> ran.add("rekey"), () -> ran.add("dropped rekey"), true, e));
        assertEquals(4, w.queued());
        assertEquals(4, w.runQueued());
        assertEquals(List.of("rekey", "new 0", "new 1", "new 2"), ran, "the established member's rekey first");

        ran.clear();
        assertTrue(w.offer(x -> ran.add("old"), () -> ran.add("dropped old"), false, e));
        clock.addAndGet(HandshakeWorker.MAX_WAIT_NANOS + 1);
        assertTrue(w.offer(x -> ran.add("fresh"), () -> ran.add("dropped fresh"), false, e));
        w.runQueued();
        assertEquals(List.of("dropped old", "fresh"), ran, "its agent retried already: no Diffie-Hellman for it");

        ran.clear();
        for (int i = 0; i < HandshakeWorker.CAPACITY; i++) {
            assertTrue(w.offer(x -> { }, NOTHING, false, e));
        }
        assertFalse(w.offer(x -> { }, NOTHING, false, e), "the newcomers' lane is full");
        assertTrue(w.offer(x -> ran.add("rekey"), NOTHING, true, e), "an established member's lane is its own");
        w.stop();
        assertEquals(0, w.queued());
    }

    @Test
    void jobsRunInTheirOrderOnTheHandshakeThreadAndAFullQueueRefuses() throws Exception {
        // a clock that stands still: a loaded machine that delays the thread past MAX_WAIT_NANOS must not make it
        // drop the jobs this test counts (the drop has its own test on a clock the test moves)
        HandshakeWorker w = new HandshakeWorker(HandshakeWorker.Mode.THREAD, () -> 0L);
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
            }, NOTHING, false, caller));
            assertTrue(started.await(30, TimeUnit.SECONDS), "the thread took the first job");
            // no handshake measured yet: room for what the minimum budget does in the longest wait
            int room = (int) (HandshakeWorker.MAX_WAIT_NANOS * HandshakeGate.MIN_HANDSHAKES_PER_SECOND / 1_000_000_000L);
            for (int i = 0; i < room; i++) {
                int n = i;
                assertTrue(w.offer(e -> {
                    assertTrue(e != caller, "the worker's own scratch");
                    ran.add(Thread.currentThread().getName() + " " + n);
                }, NOTHING, false, caller));
            }
            assertFalse(w.offer(e -> ran.add("dropped"), NOTHING, false, caller), "full while the thread is held");
            assertTrue(w.backlogged());
            hold.countDown();
            for (int i = 0; i < 3000 && ran.size() < room; i++) {
                Thread.sleep(10); // polls for the condition, bounded
            }
            assertEquals(room, ran.size());
            for (int i = 0; i < ran.size(); i++) {
                assertEquals(HandshakeWorker.THREAD_NAME + " " + i, ran.get(i), "in the order offered");
            }
            assertTrue(w.perSecond() > 0);
        } finally {
            w.stop();
        }
        assertFalse(w.offer(e -> { }, NOTHING, false, new Egress()), "a stopped worker takes nothing");
    }

    @Test
    void theHandshakeThreadRunsAtTheNiceValueAskedForAndTheKernelSaysSo() throws Exception {
        assumeTrue(Files.isSymbolicLink(Path.of("/proc/thread-self")), "Linux: per-thread nice values");
        Integer base = ThreadNice.niceOf(ThreadNice.currentThreadId()); // the process's, inherited by the thread
        assertNotNull(base);
        HandshakeWorker w = new HandshakeWorker(HandshakeWorker.Mode.THREAD);
        try {
            assertThrows(IllegalArgumentException.class, () -> w.nice(20));
            assertThrows(IllegalArgumentException.class, () -> w.nice(-1));
            w.nice(7);
            for (int i = 0; i < 3000 && w.appliedNice() != 7; i++) {
                Thread.sleep(10); // polls for the condition, bounded
            }
            assertEquals(7, w.appliedNice(), "the thread applied it (a WARN in the log says why not)");
            long[] ranOn = {-2};
            CountDownLatch done = new CountDownLatch(1);
            assertTrue(w.offer(e -> {
                ranOn[0] = ThreadNice.currentThreadId();
                done.countDown();
            }, NOTHING, false, new Egress()));
            assertTrue(done.await(30, TimeUnit.SECONDS));
            assertEquals(w.threadId(), ranOn[0], "handshakes run on the thread whose priority was set");
            assertEquals(Math.min(ThreadNice.MAX, base + 7), ThreadNice.niceOf(w.threadId()),
                    "the kernel's view (/proc/self/task/TID/stat): 7 above the process, as nice(1) counts");
            assertEquals(base, ThreadNice.niceOf(ThreadNice.currentThreadId()),
                    "only that thread: the others keep the process's priority");
        } finally {
            w.stop();
        }
    }

    @Test
    void inlineRunsOnTheCallerWithTheMinimumBudget() {
        HandshakeWorker w = new HandshakeWorker(HandshakeWorker.Mode.INLINE);
        Egress caller = new Egress();
        Thread[] on = new Thread[1];
        assertTrue(w.offer(e -> {
            assertTrue(e == caller);
            on[0] = Thread.currentThread();
        }, NOTHING, false, caller));
        assertEquals(Thread.currentThread(), on[0]);
        assertEquals(HandshakeGate.MIN_HANDSHAKES_PER_SECOND, w.perSecond());
        assertEquals(0, w.queued());
    }
}

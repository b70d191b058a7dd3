package org.vl2.netio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.vl2.netio.internal.ThreadWake;

/**
 * A batched socket's waiting receive is one blocking {@code recvmmsg}, on the switch's unconnected reuseport sockets
 * as on the agent's connected one, and {@link DatagramEndpoint#wakeup} ends it without spoiling the socket: a receive
 * loop stops and starts again on the same socket, and what arrived meanwhile is delivered then.
 */
class BlockingReceiveTest {

    private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    /** recvmmsg's system call number on x86-64, as /proc/PID/task/TID/syscall shows a thread blocked in it. */
    private static final int RECVMMSG_X86_64 = 299;

    @Test
    void threadWakeUpsWorkOnTheBuildMachine() {
        assertNull(ThreadWake.UNAVAILABLE, "signals to a thread must work on the Linux build machine");
    }

    /** Each socket of a reuseport group waits in recvmmsg itself; a wake-up ends its wait, not the sibling's. */
    @Test
    void anUnconnectedSocketOfAGroupWaitsInRecvmmsgAndAWakeupEndsThatWait() throws Exception {
        assumeTrue("amd64".equals(System.getProperty("os.arch")), "system call numbers of x86-64");
        DatagramEndpoints.Group g = DatagramEndpoints.openGroup(LOOPBACK, 1 << 16, 1 << 16, 8, false, 2,
                DatagramEndpoints.KERNEL_HASH);
        ExecutorService pool = Executors.newFixedThreadPool(2, r -> new Thread(r, "vl2-blocking-test"));
        try {
            AtomicInteger tid0 = new AtomicInteger();
            AtomicInteger tid1 = new AtomicInteger();
            Future<Integer> w0 = pool.submit(() -> waitOn(g.endpoints().get(0), tid0));
            Future<Integer> w1 = pool.submit(() -> waitOn(g.endpoints().get(1), tid1));
            assertTrue(awaitSyscall(tid0, RECVMMSG_X86_64), "socket 0's thread is not blocked in recvmmsg");
            assertTrue(awaitSyscall(tid1, RECVMMSG_X86_64), "socket 1's thread is not blocked in recvmmsg");
            assertEquals(0, wakeUntilDone(g.endpoints().get(1), w1), "the woken receive");
            assertTrue(awaitSyscall(tid0, RECVMMSG_X86_64), "the sibling's wait went on");
            assertEquals(0, wakeUntilDone(g.endpoints().get(0), w0));
        } finally {
            pool.shutdownNow();
            g.close();
        }
    }

    /** The agent's connected socket: a wake-up ends the wait at once (it used to at the timeout); it receives on. */
    @Test
    void aWakeupEndsAConnectedSocketsWaitAndTheSocketReceivesOn() throws Exception {
        DatagramEndpoint a = DatagramEndpoints.open(LOOPBACK, 1 << 16, 1 << 16, 8, false);
        DatagramEndpoint b = DatagramEndpoints.open(LOOPBACK, 1 << 16, 1 << 16, 8, false);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            a.connect(b.localAddress());
            Future<Integer> waiting = pool.submit(() -> a.receive(60_000));
            assertEquals(0, wakeUntilDone(a, waiting));
            assertTrue(b.send(a.localAddress(), ByteBuffer.wrap(new byte[] {1, 2, 3})));
            Future<Integer> next = pool.submit(() -> a.receive(60_000));
            assertEquals(1, next.get(30, TimeUnit.SECONDS), "the socket receives after the wake-up");
        } finally {
            pool.shutdownNow();
            a.close();
            b.close();
        }
    }

    /** A receive loop stopped and started again on the same socket gets what arrived while it was stopped. */
    @Test
    void aLoopStopsAndStartsAgainOnTheSameSocket() throws Exception {
        DatagramEndpoint s = DatagramEndpoints.open(LOOPBACK, 1 << 16, 1 << 16, 8, false);
        DatagramEndpoint peer = DatagramEndpoints.open(LOOPBACK, 1 << 16, 1 << 16, 8, false);
        AtomicInteger got = new AtomicInteger();
        ReceiveLoop.Handler h = new ReceiveLoop.Handler() {
            @Override
            public void datagram(InetSocketAddress source, ByteBuffer datagram) {
                got.incrementAndGet();
            }

            @Override
            public void batchDone() {
            }

            @Override
            public void receiveFailed(IOException e) {
            }

            @Override
            public void handlingFailed(RuntimeException e) {
            }
        };
        try {
            int expected = 0;
            for (int round = 1; round <= 3; round++) {
                ReceiveLoop loop = ReceiveLoop.start(s, "vl2-loop-test", h);
                if (round > 1) {
                    int e = ++expected;
                    assertTrue(await(() -> got.get() == e), "round " + round + ": what arrived while stopped");
                }
                assertTrue(peer.send(s.localAddress(), ByteBuffer.wrap(new byte[] {1})));
                int e = ++expected;
                assertTrue(await(() -> got.get() == e), "round " + round + ": delivered while running");
                assertTrue(loop.stop(5_000), "round " + round + ": the loop stops within the bound");
                assertTrue(peer.send(s.localAddress(), ByteBuffer.wrap(new byte[] {2})), "sent while stopped");
            }
        } finally {
            s.close();
            peer.close();
        }
    }

    private static int waitOn(DatagramEndpoint e, AtomicInteger tid) throws IOException {
        tid.set(tid());
        return e.receive(60_000);
    }

    /** The calling thread's kernel id, from /proc/thread-self. */
    private static int tid() throws IOException {
        return Integer.parseInt(Path.of("/proc/thread-self").toRealPath().getFileName().toString());
    }

    /** Waits up to 5 s for thread {@code tid} to be blocked in system call {@code nr}. */
    private static boolean awaitSyscall(AtomicInteger tid, int nr) throws Exception {
        return await(() -> {
            try {
                int t = tid.get();
                return t != 0 && Files.readString(Path.of("/proc/self/task/" + t + "/syscall")).startsWith(nr + " ");
            } catch (IOException e) {
                return false;
            }
        });
    }

    /** Wakes {@code e} until the waiting receive returns (a wake-up in the moment before it blocks is lost). */
    private static int wakeUntilDone(DatagramEndpoint e, Future<Integer> waiting) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30); // a bound for a loaded machine, not a wait
        while (true) {
            e.wakeup();
            try {
                return waiting.get(10, TimeUnit.MILLISECONDS);
            } catch (TimeoutException t) {
                if (System.nanoTime() > deadline) {
                    throw t;
                }
            }
        }
    }

    private static boolean await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30); // a bound for a loaded machine, not a wait
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(2);
        }
        return true;
    }
}

package org.vl2.crypto;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * A plain throughput measurement, not a test (no JMH, no timed assertions): seal + open of 1400-byte frames on
 * one thread, heap and direct buffers, with the bytes allocated per operation, for each cipher suite (alternating,
 * so that the load of a shared machine hits both alike); the switch's open + seal when it relays between two members
 * in turn; a ping's seal and open after the thread slept 5 and 100 ms (cold caches); full handshakes; what rejecting an initiation and the
 * cookie checker cost.
 *
 * <pre>
 * cd bundles/vl2-crypto &amp;&amp; java -cp target/classes:target/test-classes org.vl2.crypto.SealThroughput [seconds [suites-only]]
 * </pre>
 */
public final class SealThroughput {

    private SealThroughput() {
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
        System.out.println(System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ", "
                + Runtime.getRuntime().availableProcessors() + " CPUs");
        System.out.println("AES instructions (/proc/cpuinfo): " + CipherPolicy.auto().hardwareAes() + "; auto offers "
                + CipherPolicy.auto().offer());
        for (CipherSuite suite : CipherSuite.values()) {
            for (boolean direct : new boolean[] {false, true}) {
                run(suite, direct, 1400, seconds / 2, false); // warm-up of every path before any is measured
            }
        }
        for (int pair = 0; pair < 2; pair++) {
            for (boolean direct : new boolean[] {false, true}) {
                for (CipherSuite suite : CipherSuite.values()) {
                    run(suite, direct, 1400, seconds, true);
                }
            }
        }
        for (CipherSuite suite : CipherSuite.values()) {
            run(suite, false, 64, seconds, true);
        }
        for (int pair = 0; pair < 2; pair++) {
            for (int payload : new int[] {98, 1400}) {
                for (CipherSuite suite : CipherSuite.values()) {
                    relay(suite, payload, seconds / 2, pair == 1);
                }
            }
        }
        for (long sleepMillis : new long[] {5, 100}) {
            for (CipherSuite suite : CipherSuite.values()) {
                cold(suite, sleepMillis, (int) Math.max(20, Math.min(100, seconds * 1000 / sleepMillis)));
            }
        }
        if (args.length < 2) {
            handshakes(seconds);
        }
    }

    /**
     * A seal and an open of a 98-byte frame (a ping) after the thread slept, as a member's first frame after a quiet
     * spell meets them, against the second seal right after: the cost of cold caches, not of the cipher.
     */
    private static void cold(CipherSuite suite, long sleepMillis, int n) throws CryptoException, InterruptedException {
        Fixtures.Pair p = Fixtures.handshake(Session.Limits.DEFAULT, suite, 0x1113, 0x2221);
        ByteBuffer buf = ByteBuffer.allocateDirect(2048);
        Fixtures.frame(buf, 1, new byte[98]);
        long[] seal = new long[n];
        long[] open = new long[n];
        long[] warm = new long[n];
        for (int i = 0; i < n; i++) {
            Thread.sleep(sleepMillis);
            long t0 = System.nanoTime();
            int sealed = p.agent().seal(buf, 0, 16, 98, t0);
            long t1 = System.nanoTime();
            p.sw().open(buf, 0, 16, sealed - 16, t1);
            long t2 = System.nanoTime();
            sealed = p.agent().seal(buf, 0, 16, 98, t2);
            long t3 = System.nanoTime();
            p.sw().open(buf, 0, 16, sealed - 16, t3);
            seal[i] = t1 - t0;
            open[i] = t2 - t1;
            warm[i] = t3 - t2;
        }
        java.util.Arrays.sort(seal);
        java.util.Arrays.sort(open);
        java.util.Arrays.sort(warm);
        System.out.printf("%-17s after %3d ms asleep, 98 B, median of %d: seal %5.1f us, open %5.1f us; the next seal"
                + " %4.1f us%n", suite, sleepMillis, n, seal[n / 2] / 1e3, open[n / 2] / 1e3, warm[n / 2] / 1e3);
    }

    private static void run(CipherSuite suite, boolean direct, int payload, double seconds, boolean print)
            throws CryptoException {
        Fixtures.Pair p = Fixtures.handshake(Session.Limits.DEFAULT, suite);
        ByteBuffer buf = direct ? ByteBuffer.allocateDirect(2048) : ByteBuffer.allocate(2048);
        Fixtures.frame(buf, 1, new byte[payload]);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        long sealNanos = 0;
        long openNanos = 0;
        long n = 0;
        long allocated = mx.getThreadAllocatedBytes(tid);
        long cpu = mx.getCurrentThreadCpuTime(); // a loaded machine takes wall time, not the thread's CPU time
        long end = System.nanoTime() + (long) (seconds * 1e9);
        for (long t = System.nanoTime(); t < end; n++) {
            int sealed = p.agent().seal(buf, 0, 16, payload, t);
            long t1 = System.nanoTime();
            p.sw().open(buf, 0, 16, sealed - 16, t1);
            long t2 = System.nanoTime();
            sealNanos += t1 - t;
            openNanos += t2 - t1;
            t = t2;
        }
        allocated = mx.getThreadAllocatedBytes(tid) - allocated;
        cpu = mx.getCurrentThreadCpuTime() - cpu;
        if (print) {
            double total = (sealNanos + openNanos) / 1e9;
            System.out.printf("%-17s %s %4d B: seal+open %7.1f MB/s (%6.0f k frames/s); seal %5.0f ns (%6.1f MB/s),"
                            + " open %5.0f ns (%6.1f MB/s); %5d B allocated per seal+open; %7.1f MB per CPU-second%n",
                    suite, direct ? "direct" : "heap  ", payload, n * payload / total / 1e6, n / total / 1e3,
                    (double) sealNanos / n, n * payload / (sealNanos / 1e9) / 1e6, (double) openNanos / n,
                    n * payload / (openNanos / 1e9) / 1e6, allocated / n, n * payload / (cpu / 1e9) / 1e6);
        }
    }

    /**
     * The switch's share of a ping between two members, on one thread: open what A sent and seal it for B, then open
     * B's answer and seal it for A. The sessions change at every operation, as they do for sparse traffic.
     */
    private static void relay(CipherSuite suite, int payload, double seconds, boolean print) throws CryptoException {
        // agent indices in other Cipher slots than the switch's: here one thread plays the agents too
        Fixtures.Pair a = Fixtures.handshake(Session.Limits.DEFAULT, suite, 0x1113, 0x2221);
        Fixtures.Pair b = Fixtures.handshake(Session.Limits.DEFAULT, suite, 0x1114, 0x2222);
        ByteBuffer buf = ByteBuffer.allocateDirect(2048);
        Fixtures.frame(buf, 1, new byte[payload]);
        long relayNanos = 0;
        long n = 0;
        long end = System.nanoTime() + (long) (seconds * 1e9);
        for (long t = System.nanoTime(); t < end; n++) {
            Fixtures.Pair from = (n & 1) == 0 ? a : b;
            Fixtures.Pair to = (n & 1) == 0 ? b : a;
            int sealed = from.agent().seal(buf, 0, 16, payload, t);
            long t1 = System.nanoTime();
            from.sw().open(buf, 0, 16, sealed - 16, t1);
            to.sw().seal(buf, 0, 16, payload, t1);
            long t2 = System.nanoTime();
            to.agent().open(buf, 0, 16, sealed - 16, t2);
            relayNanos += t2 - t1;
            t = System.nanoTime();
        }
        if (print) {
            System.out.printf("%-17s relay A->B, B->A %4d B: open+seal %5.0f ns per relayed frame%n", suite, payload,
                    (double) relayNanos / n);
        }
    }

    /** Whole handshakes, and what the switch spends on initiations it rejects (the flood cost). */
    private static void handshakes(double seconds) throws CryptoException {
        byte[] initiation = Initiator.create(Fixtures.AGENT, Fixtures.SWITCH.publicKey(), 1, new byte[52]).initiation();
        TimestampGuard guard = new TimestampGuard();
        Responder.consume(Fixtures.SWITCH, ByteBuffer.wrap(initiation), guard).respond(1, new byte[60]);
        byte[] wrongMac = initiation.clone();
        wrongMac[Handshake.mac1Offset(wrongMac.length)] ^= 1;
        CookieChecker checker = new CookieChecker(Fixtures.SWITCH);
        InetSocketAddress source = new InetSocketAddress(InetAddress.getLoopbackAddress(), 40000);
        Initiator first = Initiator.create(Fixtures.AGENT, Fixtures.SWITCH.publicKey(), 2, new byte[52]);
        byte[] cookie = first.consumeCookieReply(ByteBuffer.wrap(
                checker.cookieReply(ByteBuffer.wrap(first.initiation()), source)));
        byte[] proven = Initiator.create(Fixtures.AGENT, Fixtures.SWITCH.publicKey(), 3, new byte[52], cookie)
                .initiation();
        byte[] wrongMac2 = proven.clone();
        wrongMac2[proven.length - 1] ^= 1;
        for (int round = 0; round < 2; round++) {
            boolean print = round == 1;
            double t = seconds / (print ? 1 : 2);
            time(print, "handshake, both sides", t, Fixtures::handshake);
            time(print, "initiation rejected by mac1", t, () -> reject(wrongMac, guard));
            time(print, "initiation rejected after es+ss (replay)", t, () -> reject(initiation, guard));
            time(print, "cookie check, mac2 zeros", t, () -> checker.check(ByteBuffer.wrap(initiation), source));
            time(print, "cookie check, mac2 valid", t, () -> checker.check(ByteBuffer.wrap(proven), source));
            time(print, "cookie check, mac2 wrong", t, () -> checker.check(ByteBuffer.wrap(wrongMac2), source));
            time(print, "cookie reply", t, () -> checker.cookieReply(ByteBuffer.wrap(initiation), source));
        }
    }

    private static void reject(byte[] initiation, TimestampGuard guard) {
        try {
            Responder.consume(Fixtures.SWITCH, ByteBuffer.wrap(initiation), guard);
            throw new IllegalStateException("accepted");
        } catch (CryptoException expected) {
            // the measured path
        }
    }

    interface Op {
        void run() throws CryptoException;
    }

    private static void time(boolean print, String what, double seconds, Op op) throws CryptoException {
        long n = 0;
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            op.run();
            n++;
        }
        if (print) {
            System.out.printf("%-42s %9.1f us%n", what + ":", (System.nanoTime() - start) / 1e3 / n);
        }
    }
}

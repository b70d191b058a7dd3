package org.vl2.transport.tcp.internal;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.vl2.api.PortId;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;
import org.vl2.netio.DatagramEndpoint;
import org.vl2.netio.stream.StreamEndpoints;

/**
 * A plain measurement, not a test: the CPU the TCP/TLS stream costs per GB of 1400-byte messages on loopback, in
 * both directions, with the real switch transport and the agent's endpoint, without the vl2 session around it. It
 * counts CPU time (the sending and the receiving thread, from ThreadMXBean), so a loaded machine changes the result
 * little; the wall-clock rate is printed too but follows the load.
 *
 * <ul>
 *   <li>agent -> switch: the agent's send pump queues a TAP read's frames (a 64 KiB superframe cut into 45) and
 *   flushes; the switch's loop thread reads, opens and hands each message to the switch.
 *   <li>switch -> agent: a thread that is not the loop's (the UDP transport's receive thread forwarding to a TCP
 *   member) sends bursts of 32 messages, each burst one receive batch; the agent's receive pump takes them.
 * </ul>
 *
 * <pre>
 * cd bundles/vl2-transport-tcp &amp;&amp; java -cp "target/classes:target/test-classes:$(cat target/cp.txt)" \
 *     org.vl2.transport.tcp.internal.StreamThroughput [seconds]
 * </pre>
 * ({@code mvn -q -o dependency:build-classpath -Dmdep.outputFile=target/cp.txt} writes cp.txt.)
 */
public final class StreamThroughput {

    private static final int MESSAGE = 1400 + 60;
    private static final int PER_FLUSH = 45;
    /** Datagrams per receive of the switch's UDP loop in a burst (its batch). */
    private static final int BURST = 32;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private StreamThroughput() {
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
        Path data = Files.createTempDirectory("vl2-stream-throughput");
        System.out.println(System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ", "
                + Runtime.getRuntime().availableProcessors() + " CPUs, load " + load());
        for (int round = 0; round < 3; round++) {
            boolean measured = round > 0; // round 0 warms the JIT up
            for (boolean tls : new boolean[] {true, false}) {
                toSwitch(data, tls, measured ? seconds : seconds / 2, measured);
                toAgent(data, tls, measured ? seconds : seconds / 2, measured);
            }
        }
    }

    private static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (Exception e) {
            return "?";
        }
    }

    /** Counts what the switch's loop thread hands over, and notes that thread. */
    private static final class Counting implements FrameReceiver {
        final AtomicLong bytes = new AtomicLong();
        volatile Thread loop;

        @Override
        public void receive(Transport t, SocketAddress source, ByteBuffer message) {
            if (loop == null) {
                loop = Thread.currentThread();
            }
            bytes.lazySet(bytes.get() + message.remaining());
        }

        @Override
        public void transmitFailed(Transport t, PortId port, int frames, long bytes) {
        }

        @Override
        public void connectionClosed(Transport t, SocketAddress remote) {
        }
    }

    private static TcpTransport transport(Path data, boolean tls, Counting rx) {
        Cfg cfg = new Cfg();
        cfg.tls = tls;
        TcpTransport t = new TcpTransport(cfg, data);
        t.start(rx);
        return t;
    }

    private static void toSwitch(Path data, boolean tls, double seconds, boolean print) throws Exception {
        Counting rx = new Counting();
        TcpTransport t = transport(data, tls, rx);
        try (DatagramEndpoint e = StreamEndpoints.connect(new InetSocketAddress("127.0.0.1", t.boundPort()), null,
                tls, 5_000)) {
            e.setAutoFlushWait(100);
            ByteBuffer frame = ByteBuffer.allocateDirect(64 + MESSAGE);
            InetSocketAddress to = new InetSocketAddress("127.0.0.1", t.boundPort());
            AtomicBoolean stop = new AtomicBoolean();
            Thread s = new Thread(() -> {
                while (!stop.get()) {
                    for (int i = 0; i < PER_FLUSH; i++) {
                        frame.clear().position(64);
                        e.queue(to, frame);
                    }
                    e.flush(100);
                }
            }, "sender");
            s.start();
            while (rx.loop == null) {
                Thread.sleep(1);
            }
            Thread.sleep(200);
            long loop0 = THREADS.getThreadCpuTime(rx.loop.getId());
            long send0 = THREADS.getThreadCpuTime(s.getId());
            long b0 = rx.bytes.get();
            long t0 = System.nanoTime();
            Thread.sleep((long) (seconds * 1000));
            long loop1 = THREADS.getThreadCpuTime(rx.loop.getId());
            long send1 = THREADS.getThreadCpuTime(s.getId());
            long b1 = rx.bytes.get();
            long t1 = System.nanoTime();
            stop.set(true);
            s.join();
            if (print) {
                report("agent -> switch", tls, b1 - b0, t1 - t0, send1 - send0, loop1 - loop0, "send pump (queue + flush)", "switch loop (read + open)");
            }
        } finally {
            t.deactivate();
        }
    }

    private static void toAgent(Path data, boolean tls, double seconds, boolean print) throws Exception {
        Counting rx = new Counting();
        TcpTransport t = transport(data, tls, rx);
        try (DatagramEndpoint e = StreamEndpoints.connect(new InetSocketAddress("127.0.0.1", t.boundPort()), null,
                tls, 5_000)) {
            // the switch learns the connection's address from the connection; wait until it is there
            InetSocketAddress agent = e.localAddress();
            ByteBuffer frame = ByteBuffer.allocateDirect(64 + MESSAGE);
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (!t.send(agent, frame.clear().position(64)) && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong received = new AtomicLong();
            Thread r = new Thread(() -> {
                long n = 0;
                try {
                    while (!stop.get()) {
                        int count = e.receive(100);
                        for (int i = 0; i < count; i++) {
                            n += e.datagram(i).remaining();
                        }
                        received.lazySet(n);
                    }
                } catch (Exception ex) {
                    ex.printStackTrace();
                }
            }, "receive-pump");
            r.start();
            long c0 = THREADS.getCurrentThreadCpuTime();
            long r0 = THREADS.getThreadCpuTime(r.getId());
            long b0 = received.get();
            long t0 = System.nanoTime();
            long end = t0 + (long) (seconds * 1e9);
            Runnable batchEnd = batchOfThisThread();
            while (System.nanoTime() < end) {
                for (int i = 0; i < BURST; i++) {
                    if (!t.send(agent, frame.clear().position(64))) {
                        Thread.onSpinWait(); // write queue full: the agent reads slower than this sends
                    }
                }
                batchEnd.run();
            }
            long c1 = THREADS.getCurrentThreadCpuTime();
            long r1 = THREADS.getThreadCpuTime(r.getId());
            long b1 = received.get();
            long t1 = System.nanoTime();
            stop.set(true);
            r.join();
            if (print) {
                report("switch -> agent", tls, b1 - b0, t1 - t0, c1 - c0, r1 - r0,
                        "forwarding thread (send)", "receive pump (receive)");
            }
        } finally {
            t.deactivate();
        }
    }

    /**
     * As a UDP receive loop's thread: a send batch (SendBatch, where the code has it) ended after each burst;
     * by reflection, so that the same measurement runs against a build without it (it then does nothing).
     */
    private static Runnable batchOfThisThread() {
        try {
            Class<?> c = Class.forName("org.vl2.netio.SendBatch");
            Object batch = c.getMethod("enter").invoke(null);
            java.lang.reflect.Method end = c.getMethod("end");
            return () -> {
                try {
                    end.invoke(batch);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            };
        } catch (ReflectiveOperationException e) {
            return () -> { };
        }
    }

    private static void report(String what, boolean tls, long bytes, long nanos, long cpuA, long cpuB, String a,
                               String b) {
        double gb = bytes / 1e9;
        System.out.printf("%-16s %-9s %6.2f Gbit/s wall | CPU s/GB: %s %.2f, %s %.2f, sum %.2f | load %s%n", what,
                tls ? "TLS 1.3" : "plaintext", bytes * 8.0 / nanos, a, cpuA / 1e9 / gb, b, cpuB / 1e9 / gb,
                (cpuA + cpuB) / 1e9 / gb, load());
    }
}

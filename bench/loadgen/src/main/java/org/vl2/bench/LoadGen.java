package org.vl2.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.vl2.netio.DatagramEndpoint;
import org.vl2.netio.DatagramEndpoints;

/**
 * A frame-rate load generator for a vl2 switch in raw UDP mode (one Ethernet frame per datagram), on loopback.
 *
 * <pre>
 * java -jar bench/loadgen/target/vl2-bench-loadgen.jar --switch 127.0.0.1:9990 --ports 16 --size 64 --seconds 5
 * </pre>
 *
 * <p>It opens N UDP sockets, each a simulated port with its own MAC ({@code 02:4c:47:00:hh:ll}, port index in the
 * low 16 bits), connected to the switch. Every port first announces itself with a broadcast frame (so the switch
 * learns it; a port counts as announced once another port received the flooded copy). Then sender threads send
 * known-unicast frames round a ring (port i to port i+1) as fast as they can, or at {@code --rate} frames/s,
 * while receiver threads (a {@link Selector} each) count the frames arriving on every socket.
 *
 * <p>With {@code --batch N} (default 32) each port's socket is a batched {@link DatagramEndpoint} (vl2-netio): a sender
 * hands N frames of a port to one {@code sendmmsg}, a receiver takes up to N with one {@code recvmmsg}, so the
 * generator costs far less CPU per frame than a switch that forwards them; {@code --batch 0} uses one
 * {@link DatagramChannel} system call per frame, as the generator did before. On a small machine the generator still
 * competes with the switch for cores, which the printout shows.
 *
 * <p>The switch's own counters are not visible from here, so besides sent/received it reports, from
 * {@code /proc/net/udp} (Linux), how many datagrams the kernel dropped because a socket's receive buffer was full:
 * at the switch's socket (the switch did not keep up) and at the generator's sockets (the generator did not).
 * What remains of the loss was dropped inside the switch (for example its non-blocking send found the socket
 * buffer full) or was still in flight.
 *
 * <p>Bounded: it stops by itself after warm-up + seconds (+ a short drain), and only talks to a loopback address.
 */
public final class LoadGen {

    static final long MAC_BASE = 0x024C_4700_0000L;   // 02:4c:47:00:00:00, locally administered unicast
    static final long BROADCAST = 0xFFFF_FFFF_FFFFL;
    static final int ETHER_TYPE = 0x88B5;              // IEEE local experimental

    /** One simulated port. */
    static final class Port {
        final int index;
        final long mac;
        /** One of the two: a NIO channel (--batch 0, connected to the switch) or a batched socket. */
        final DatagramChannel channel;
        final DatagramEndpoint batch;
        final int localPort;
        /** The unicast frame this port sends to the next one in the ring. */
        final ByteBuffer frame;
        final ByteBuffer announce;

        Port(int index, long mac, DatagramChannel channel, DatagramEndpoint batch, ByteBuffer frame, ByteBuffer announce)
                throws IOException {
            this.index = index;
            this.mac = mac;
            this.channel = channel;
            this.batch = batch;
            this.localPort = batch != null ? batch.localAddress().getPort()
                    : ((InetSocketAddress) channel.getLocalAddress()).getPort();
            this.frame = frame;
            this.announce = announce;
        }
    }

    private final Options o;
    private final List<Port> ports = new ArrayList<>();
    private volatile boolean sending;
    private volatile boolean receiving = true;
    /** Per source port: a flooded copy of its announcement came back, so the switch has learned it. */
    private AtomicIntegerArray heard;

    // Totals: each thread publishes its own counts (lazySet), the main thread sums them.
    private final List<AtomicLong> sentBy = new ArrayList<>();
    private final List<AtomicLong> fullBy = new ArrayList<>();
    private final List<AtomicLong> receivedBy = new ArrayList<>();
    private final List<AtomicLong> broadcastBy = new ArrayList<>();
    private final List<AtomicLong> unexpectedBy = new ArrayList<>();

    LoadGen(Options o) {
        this.o = o;
    }

    public static void main(String[] args) {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("LoadGen: " + e.getMessage());
            System.err.println(Options.usage());
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.println(Options.usage());
            return;
        }
        try {
            new LoadGen(o).run();
        } catch (IOException | RuntimeException e) {
            System.err.println("LoadGen failed: " + e);
            System.exit(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            System.exit(130);
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    void run() throws IOException, InterruptedException {
        int n = o.ports();
        heard = new AtomicIntegerArray(n);
        try {
            open(n);
            say(String.format(Locale.ROOT, "LoadGen: %d ports -> %s, %d-byte frames, %s s (+%s s warm-up), rate %s, "
                            + "%d sender / %d receiver thread(s), %s", n, o.target(), o.size(), num(o.seconds()),
                    num(o.warmup()), o.rate() == 0 ? "max" : o.rate() + " frames/s", o.senders(), o.receivers(),
                    o.batch() == 0 ? "one system call per frame" : "up to " + o.batch() + " frames per system call"
                            + (o.offload() ? " (UDP offload " + ports.get(0).batch.offload() + ")" : "")));
            Map<Integer, Long> dropsBefore = SocketDrops.socketDrops();

            List<Thread> receivers = new ArrayList<>();
            for (int t = 0; t < o.receivers(); t++) {
                receivers.add(start("loadgen-rx-" + t, receiver(t)));
            }
            announce();

            long s0;
            long r0;
            long t0;
            long t1;
            long s1;
            long r1;
            sending = true;
            List<Thread> senders = new ArrayList<>();
            for (int t = 0; t < o.senders(); t++) {
                senders.add(start("loadgen-tx-" + t, sender(t)));
            }
            sleepSeconds(o.warmup());
            long cpu0 = cpuNanos();
            t0 = System.nanoTime();
            s0 = sum(sentBy);
            r0 = sum(receivedBy);
            sleepSeconds(o.seconds());
            t1 = System.nanoTime();
            s1 = sum(sentBy);
            r1 = sum(receivedBy);
            long cpu1 = cpuNanos();
            sending = false;
            for (Thread t : senders) {
                t.join();
            }
            // let what is queued in the switch and in our sockets arrive, then stop counting
            long lastCount = -1;
            for (int i = 0; i < 40 && sum(receivedBy) != lastCount; i++) {
                lastCount = sum(receivedBy);
                Thread.sleep(50);
            }
            receiving = false;
            for (Thread t : receivers) {
                t.join();
            }
            Map<Integer, Long> dropsAfter = SocketDrops.socketDrops();
            report(t1 - t0, s1 - s0, r1 - r0, cpu0 < 0 ? -1 : cpu1 - cpu0, dropsBefore, dropsAfter);
        } finally {
            for (Port p : ports) {
                if (p.batch != null) {
                    p.batch.close();
                } else {
                    p.channel.close();
                }
            }
        }
    }

    private void open(int n) throws IOException {
        InetAddress local = o.target().getAddress();
        for (int i = 0; i < n; i++) {
            long mac = MAC_BASE | i;
            if (o.batch() > 0) {
                DatagramEndpoint b;
                try {
                    b = DatagramEndpoints.open(new InetSocketAddress(local, 0), o.socketBuffer(), o.socketBuffer(),
                            o.batch(), o.offload());
                } catch (IOException e) {
                    throw new IOException("cannot open port socket " + i + " of " + n + ": " + e.getMessage()
                            + (n > 1000 ? " (ulimit -n?)" : ""), e);
                }
                ports.add(new Port(i, mac, null, b, frame(MAC_BASE | ((i + 1) % n), mac, o.size()),
                        frame(BROADCAST, mac, o.size())));
                continue;
            }
            DatagramChannel ch = DatagramChannel.open();
            try {
                ch.setOption(StandardSocketOptions.SO_RCVBUF, o.socketBuffer());
                ch.setOption(StandardSocketOptions.SO_SNDBUF, o.socketBuffer());
                ch.bind(new InetSocketAddress(local, 0));
                ch.connect(o.target());
                ch.configureBlocking(false);
            } catch (IOException e) {
                ch.close();
                throw new IOException("cannot open port socket " + i + " of " + n + ": " + e.getMessage()
                        + (n > 1000 ? " (ulimit -n?)" : ""), e);
            }
            ports.add(new Port(i, mac, ch, null, frame(MAC_BASE | ((i + 1) % n), mac, o.size()),
                    frame(BROADCAST, mac, o.size())));
        }
    }

    /** dst, src, EtherType, then the payload: a 4-byte marker "vl2b" and zeros. */
    static ByteBuffer frame(long dst, long src, int size) {
        ByteBuffer b = ByteBuffer.allocateDirect(size);
        b.putShort((short) (dst >>> 32)).putInt((int) dst);
        b.putShort((short) (src >>> 32)).putInt((int) src);
        b.putShort((short) ETHER_TYPE);
        b.putInt(0x766C3262);
        b.position(0).limit(size);
        return b;
    }

    /**
     * Each port broadcasts once; ports whose broadcast was not seen flooded to another port announce again
     * (up to 5 rounds). Paced, so that N * (N - 1) flooded copies do not overflow the socket buffers.
     */
    private void announce() throws IOException, InterruptedException {
        int n = ports.size();
        int missing = n;
        for (int round = 1; round <= 5 && missing > 0; round++) {
            for (Port p : ports) {
                if (heard.get(p.index) == 0) {
                    p.announce.clear();
                    if (p.batch != null) {
                        p.batch.send(o.target(), p.announce);
                    } else {
                        p.channel.write(p.announce);
                    }
                    if ((p.index & 7) == 7) {
                        LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(200L * Math.max(1, n / 64)));
                    }
                }
            }
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300 + 4L * n);
            while (System.nanoTime() < deadline && count(heard) < n) {
                Thread.sleep(10);
            }
            missing = n - count(heard);
        }
        say(String.format(Locale.ROOT, "announce: %d of %d ports learned by the switch (their broadcast came back "
                + "flooded)", n - missing, n));
        if (missing > 0) {
            say("warning: " + missing + " ports were not heard: frames to them will be flooded (see 'unexpected')");
        }
        // flooded copies still on their way must not count as traffic
        Thread.sleep(100);
    }

    private Runnable sender(int t) {
        AtomicLong sent = new AtomicLong();
        AtomicLong full = new AtomicLong();
        sentBy.add(sent);
        fullBy.add(full);
        List<Port> mine = new ArrayList<>();
        for (Port p : ports) {
            if (p.index % o.senders() == t) {
                mine.add(p);
            }
        }
        Port[] ring = mine.toArray(new Port[0]);
        double perThreadRate = o.rate() / (double) o.senders();
        int burst = Math.max(1, o.batch());
        return () -> {
            long count = 0;
            long fullCount = 0;
            long start = System.nanoTime();
            try {
                while (sending) {
                    for (Port p : ring) {
                        int ok = sendBurst(p, burst);
                        count += ok;
                        fullCount += burst - ok;
                        if (perThreadRate > 0) {
                            pace(start, count + fullCount, perThreadRate);
                        }
                    }
                    sent.lazySet(count);        // a plain store: cheap next to a system call
                    full.lazySet(fullCount);
                }
            } catch (IOException e) {
                System.err.println("LoadGen: send failed: " + e);
            } finally {
                sent.set(count);
                full.set(fullCount);
            }
        };
    }

    /**
     * Sends {@code burst} copies of the port's frame (one system call: a {@code write}, or with --batch a
     * {@code sendmmsg}, one GSO message with --offload); returns how many the socket took (the rest found its send
     * buffer full).
     */
    private int sendBurst(Port p, int burst) throws IOException {
        ByteBuffer f = p.frame;
        f.clear();
        if (p.batch == null) {
            return p.channel.write(f) > 0 ? 1 : 0;
        }
        for (int k = 0; k < burst; k++) {
            p.batch.queue(o.target(), f); // copies: position and limit stay
        }
        return burst - p.batch.flush();
    }

    /** Waits until {@code frames} are due at {@code rate} frames/s since {@code start}: parks, then spins. */
    private void pace(long start, long frames, double rate) {
        long due = start + (long) (frames * 1e9 / rate);
        long wait = due - System.nanoTime();
        if (wait > 200_000) {
            LockSupport.parkNanos(wait - 100_000);
        }
        while (System.nanoTime() < due && sending) {
            Thread.onSpinWait();
        }
    }

    /** What one receiver thread counted, published to the main thread with plain stores. */
    private static final class Tally {
        final AtomicLong received = new AtomicLong();
        final AtomicLong broadcasts = new AtomicLong();
        final AtomicLong unexpected = new AtomicLong();
        long count;
        long bcast;
        long other;

        /** Counts one datagram by what {@link #classify} said of it. */
        void add(int kind) {
            switch (kind) {
                case 0 -> count++;
                case 1 -> bcast++;
                default -> other++;
            }
        }

        void publish() {
            received.lazySet(count);
            broadcasts.lazySet(bcast);
            unexpected.lazySet(other);
        }
    }

    /** One pass of a receiver over its ports: takes what is queued (or waits a little) and counts it. */
    private interface Pass {
        void run(Tally tally) throws IOException;
    }

    private Runnable receiver(int t) throws IOException {
        Tally tally = new Tally();
        receivedBy.add(tally.received);
        broadcastBy.add(tally.broadcasts);
        unexpectedBy.add(tally.unexpected);
        List<Port> mine = new ArrayList<>();
        for (Port p : ports) {
            if (p.index % o.receivers() == t) {
                mine.add(p);
            }
        }
        if (o.batch() > 0) {
            return receiveLoop(tally, batchPass(mine.toArray(new Port[0])), () -> { });
        }
        Selector selector = Selector.open();
        for (Port p : mine) {
            p.channel.register(selector, SelectionKey.OP_READ, p);
        }
        ByteBuffer buf = ByteBuffer.allocateDirect(65536);
        Pass pass = tally1 -> {
            if (selector.select(20) == 0) {
                return;
            }
            Set<SelectionKey> keys = selector.selectedKeys();
            for (SelectionKey key : keys) {
                Port p = (Port) key.attachment();
                for (int i = 0; i < 64; i++) {     // bounded, so busy ports do not starve the others
                    buf.clear();
                    if (p.channel.read(buf) <= 0) {
                        break;
                    }
                    tally1.add(classify(buf, p));
                }
            }
            keys.clear();
        };
        return receiveLoop(tally, pass, () -> {
            try {
                selector.close();
            } catch (IOException ignored) {
                // stopping: nothing left to do
            }
        });
    }

    /** Runs {@code pass} until receiving stops, publishing the counts after each pass and at the end. */
    private Runnable receiveLoop(Tally tally, Pass pass, Runnable atExit) {
        return () -> {
            try {
                while (receiving) {
                    pass.run(tally);
                    tally.publish();
                }
            } catch (IOException e) {
                if (receiving) {
                    System.err.println("LoadGen: receive failed: " + e);
                }
            } finally {
                tally.publish();
                atExit.run();
            }
        };
    }

    /** 0: for this port; 1: a broadcast (marks its sender as heard); 2: anything else. */
    private int classify(ByteBuffer buf, Port p) {
        long dst = mac(buf, 0);
        if (dst == p.mac) {
            return 0;
        }
        if (dst == BROADCAST) {
            long src = mac(buf, 6);
            int from = (int) (src & 0xFFFF);
            if ((src & ~0xFFFFL) == MAC_BASE && from < heard.length()) {
                heard.lazySet(from, 1);
            }
            return 1;
        }
        return 2;
    }

    /**
     * --batch: takes what each port has queued (a recvmmsg each, without waiting); a pass that finds nothing pauses
     * 20 µs rather than spin on empty sockets.
     */
    private Pass batchPass(Port[] watched) {
        return tally -> {
            int seen = 0;
            for (Port p : watched) {
                int n = p.batch.receive(0);
                seen += n;
                for (int i = 0; i < n; i++) {
                    tally.add(classify(p.batch.datagram(i), p));
                }
            }
            if (seen == 0) {
                LockSupport.parkNanos(20_000);
            }
        };
    }

    private static long mac(ByteBuffer b, int at) {
        return ((b.getShort(at) & 0xFFFFL) << 32) | (b.getInt(at + 2) & 0xFFFF_FFFFL);
    }

    /** CPU time of this process (all threads), or -1 if the JVM does not tell. */
    private static long cpuNanos() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean
                ? ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime() : -1;
    }

    private void report(long windowNanos, long sentWindow, long receivedWindow, long cpuWindowNanos,
                        Map<Integer, Long> before, Map<Integer, Long> after) {
        double secs = windowNanos / 1e9;
        long sent = sum(sentBy);
        long received = sum(receivedBy);
        long full = sum(fullBy);
        long unexpected = sum(unexpectedBy);
        double offered = sentWindow / secs;
        double forwarded = receivedWindow / secs;
        double loss = sent == 0 ? 0 : 100.0 * (sent - received) / sent;
        int switchPort = o.target().getPort();
        long switchDrops = SocketDrops.delta(before, after, switchPort);
        long ourDrops = 0;
        boolean procOk = !after.isEmpty();
        for (Port p : ports) {
            ourDrops += SocketDrops.delta(before, after, p.localPort);
        }
        long rest = sent - received - switchDrops - ourDrops;
        double bitsPerFrame = 8.0 * o.size();
        say(String.format(Locale.ROOT, "sent       %,12d frames   offered   %,11.0f frames/s  (%,.1f Mbit/s of frames)",
                sent, offered, offered * bitsPerFrame / 1e6));
        say(String.format(Locale.ROOT, "received   %,12d frames   forwarded %,11.0f frames/s  (%,.1f Mbit/s)",
                received, forwarded, forwarded * bitsPerFrame / 1e6));
        say(String.format(Locale.ROOT, "loss       %12.2f %%        (sent - received over the whole run, warm-up "
                + "included)", loss));
        if (procOk) {
            say(String.format(Locale.ROOT, "  dropped at the switch's socket (receive buffer full): %,d", switchDrops));
            say(String.format(Locale.ROOT, "  dropped at LoadGen's sockets (receive buffer full):   %,d", ourDrops));
            say(String.format(Locale.ROOT, "  lost elsewhere (inside the switch, e.g. send buffer full): %,d", rest));
        } else {
            say("  (no /proc/net/udp: cannot tell where frames were dropped)");
        }
        double cores = cpuWindowNanos < 0 ? -1 : cpuWindowNanos / (double) windowNanos;
        if (cores >= 0) {
            say(String.format(Locale.ROOT, "LoadGen CPU: %.2f cores during the measurement", cores));
        }
        if (full > 0) {
            say(String.format(Locale.ROOT, "send buffer full: %,d writes refused (not counted as sent)", full));
        }
        if (unexpected > 0) {
            say(String.format(Locale.ROOT, "unexpected: %,d frames arrived at a port they were not addressed to "
                    + "(flooded: the switch did not know the destination)", unexpected));
        }
        System.out.println(String.format(Locale.ROOT, "RESULT ports=%d size=%d seconds=%s rate=%d sent=%d received=%d "
                        + "offered_fps=%.0f forwarded_fps=%.0f loss_pct=%.2f switch_sock_drops=%d loadgen_sock_drops=%d "
                        + "other_loss=%d unexpected=%d send_full=%d loadgen_cpu_cores=%.2f", ports.size(), o.size(), num(o.seconds()),
                o.rate(), sent, received, offered, forwarded, loss, procOk ? switchDrops : -1,
                procOk ? ourDrops : -1, procOk ? rest : -1, unexpected, full, cores));
    }

    private static Thread start(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void sleepSeconds(double s) throws InterruptedException {
        long until = System.nanoTime() + (long) (s * 1e9);
        long left;
        while ((left = until - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(Math.min(left, 100_000_000L));
        }
    }

    private static long sum(List<AtomicLong> counters) {
        long s = 0;
        for (AtomicLong c : counters) {
            s += c.get();
        }
        return s;
    }

    private static int count(AtomicIntegerArray a) {
        int c = 0;
        for (int i = 0; i < a.length(); i++) {
            c += a.get(i);
        }
        return c;
    }

    private static String num(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    private void say(String s) {
        if (!o.quiet()) {
            System.out.println(s);
        }
    }
}

package org.vl2.switching.internal;

import java.lang.annotation.Annotation;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.vl2.api.MacAddress;
import org.vl2.api.SwitchStatistics;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;
import org.vl2.bench.CoarseClock;
import org.vl2.bench.Stations;
import org.vl2.mactable.internal.BenchMacTables;

/**
 * The forwarding decision end to end: {@link Ingress#receive} as the UDP transport's receive thread calls
 * it (validate, learn the source, learning policy, send), with the real MAC table and an in-memory transport
 * whose {@code send} does nothing. The ports' frames go round a ring (port i to port i+1) of 2 or 16 ports:
 * <ul>
 *   <li>{@code knownUnicast}: every destination is learned, one send per frame;</li>
 *   <li>{@code broadcastFlood}: destination ff:ff:ff:ff:ff:ff, ports - 1 sends per frame;</li>
 *   <li>{@code knownUnicastFreshSource}: as knownUnicast, but each frame comes with a new source
 *       {@code InetSocketAddress}, as {@code DatagramChannel.receive} hands out when consecutive datagrams come
 *       from different senders (the JDK caches only the last sender's address). The difference to
 *       knownUnicast is the cost of that allocation plus hashing a new key;</li>
 *   <li>{@code knownUnicast2t}: two threads into one switch (today a transport has one receive thread);</li>
 *   <li>{@code knownUnicastCoarseClock}: as knownUnicast with a {@link CoarseClock} instead of three
 *       System.nanoTime calls per frame (port last-seen, MAC learn, MAC lookup).</li>
 * </ul>
 * The UDP send itself (a syscall, ~1-2 us on loopback) is not here: see bench/switch-frame-rate.sh.
 * Allocation per frame: {@code -prof gc}, {@code gc.alloc.rate.norm} (expected 0 B/op except FreshSource).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SwitchCoreBench {

    static final int FRAME_LENGTH = 64;
    static final int BASE_UDP_PORT = 20_000;

    /** A transport that sends nothing; frames are "received" by calling the switch directly. */
    static final class NullTransport implements Transport {
        @Override
        public String name() {
            return "null";
        }

        @Override
        public String mode() {
            return "raw";
        }

        @Override
        public String localAddress() {
            return "memory";
        }

        @Override
        public void start(FrameReceiver receiver) {
            // frames are injected by the benchmark
        }

        @Override
        public void stop() {
            // nothing runs
        }

        @Override
        public boolean send(SocketAddress remote, ByteBuffer frame) {
            return frame.hasRemaining();    // reads the buffer like a real send; no shared writes
        }
    }

    @State(Scope.Benchmark)
    public static class Switch {

        @Param({"2", "16"})
        public int ports;

        SwitchCore core;
        /** Where the transport delivers: the switch's ingress. */
        org.vl2.api.spi.FrameReceiver rx;
        NullTransport transport;
        InetSocketAddress[] endpoints;
        byte[] loopback;
        ByteBuffer[] unicast;
        ByteBuffer[] broadcast;

        @Setup(Level.Trial)
        public void start() {
            LongSupplier clock = newClock();
            core = new SwitchCore(BenchMacTables.create(8192, clock), config(), clock, false);
            rx = core.ingress();
            core.bindPolicy(new LearningPolicy());
            transport = new NullTransport();
            core.attach(transport);
            loopback = InetAddress.getLoopbackAddress().getAddress();
            endpoints = new InetSocketAddress[ports];
            unicast = new ByteBuffer[ports];
            broadcast = new ByteBuffer[ports];
            for (int i = 0; i < ports; i++) {
                endpoints[i] = new InetSocketAddress(InetAddress.getLoopbackAddress(), BASE_UDP_PORT + i);
                unicast[i] = Stations.frame(Stations.mac((i + 1) % ports), Stations.mac(i), -1, FRAME_LENGTH);
                broadcast[i] = Stations.frame(MacAddress.MASK, Stations.mac(i), -1, FRAME_LENGTH);
            }
            // every port announces itself (opens the port, learns its MAC), then one round of unicast must forward
            for (int i = 0; i < ports; i++) {
                rx.receive(transport, endpoints[i], broadcast[i].clear());
            }
            for (int i = 0; i < ports; i++) {
                rx.receive(transport, endpoints[i], unicast[i].clear());
            }
            SwitchStatistics s = core.statistics();
            if (s.ports() != ports || s.unicast() != ports || s.flooded() != ports || s.drops() != 0
                    || s.txErrors() != 0) {
                throw new IllegalStateException("switch not set up as expected: " + s);
            }
        }

        @TearDown(Level.Trial)
        public void stop() {
            core.deactivate();
        }

        LongSupplier newClock() {
            return System::nanoTime;
        }
    }

    /** The same switch with a {@link CoarseClock} for the switch core and the MAC table, instead of nanoTime. */
    @State(Scope.Benchmark)
    public static class CoarseClockSwitch extends Switch {
        CoarseClock clock;

        @Override
        LongSupplier newClock() {
            clock = new CoarseClock();
            return clock;
        }

        @TearDown(Level.Trial)
        public void stopClock() {
            clock.close();
        }
    }

    /** Each thread starts at its own port, goes round the ring and has its own views of the frames. */
    @State(Scope.Thread)
    public static class Ring {
        int i;
        ByteBuffer[] unicast;
        ByteBuffer[] broadcast;

        /** The next port; on the first call, takes this thread's views of the switch's frames. */
        int next(Switch s) {
            if (unicast == null) {
                init(s);
            }
            int k = i + 1;
            if (k == s.ports) {
                k = 0;
            }
            i = k;
            return k;
        }

        private void init(Switch s) {
            i = ThreadLocalRandom.current().nextInt(s.ports);
            unicast = new ByteBuffer[s.ports];
            broadcast = new ByteBuffer[s.ports];
            for (int k = 0; k < s.ports; k++) {
                unicast[k] = s.unicast[k].duplicate();
                broadcast[k] = s.broadcast[k].duplicate();
            }
        }
    }

    // The receiver may move a frame's position and limit (FrameReceiver contract): clear() restores them.

    @Benchmark
    public void knownUnicast(Switch s, Ring r) {
        int k = r.next(s);
        s.rx.receive(s.transport, s.endpoints[k], r.unicast[k].clear());
    }

    @Benchmark
    public void broadcastFlood(Switch s, Ring r) {
        int k = r.next(s);
        s.rx.receive(s.transport, s.endpoints[k], r.broadcast[k].clear());
    }

    @Benchmark
    public void knownUnicastFreshSource(Switch s, Ring r) throws UnknownHostException {
        int k = r.next(s);
        SocketAddress from = new InetSocketAddress(InetAddress.getByAddress(s.loopback), BASE_UDP_PORT + k);
        s.rx.receive(s.transport, from, r.unicast[k].clear());
    }

    @Benchmark
    public void knownUnicastCoarseClock(CoarseClockSwitch s, Ring r) {
        int k = r.next(s);
        s.rx.receive(s.transport, s.endpoints[k], r.unicast[k].clear());
    }

    @Benchmark
    @Threads(2)
    public void knownUnicast2t(Switch s, Ring r) {
        int k = r.next(s);
        s.rx.receive(s.transport, s.endpoints[k], r.unicast[k].clear());
    }

    static SwitchConfig config() {
        return new SwitchConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return SwitchConfig.class;
            }

            @Override
            public String policy() {
                return "learning";
            }

            @Override
            public String cipher() {
                return "auto";
            }

            @Override
            public int max_frame_size() {
                return 1522;
            }

            @Override
            public long port_idle_timeout_seconds() {
                return 300;
            }

            @Override
            public int max_ports() {
                return 1024;
            }

            @Override
            public int ports_per_address() {
                return 0; // the benchmark's ports all come from 127.0.0.1
            }

            @Override
            public int ports_per_transport() {
                return 0;
            }

            @Override
            public int ports_reserved_percent() {
                return 0;
            }

            @Override
            public long port_probation_seconds() {
                return 30;
            }

            @Override
            public int keepalive_seconds() {
                return 10;
            }

            @Override
            public int storm_control_pps() {
                return 0; // measure forwarding, not the limiter
            }

            @Override
            public int handshake_nice() {
                return 10;
            }

            @Override
            public boolean pairs() {
                return true;
            }

            @Override
            public boolean direct() {
                return true;
            }

            @Override
            public boolean allow_plaintext() {
                return false;
            }
        };
    }
}

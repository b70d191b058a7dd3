package org.vl2.bench;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.vl2.api.EthernetFrame;

/**
 * Parsing a 64-byte frame held in a direct buffer (as the UDP transport receives it) with the reused
 * {@link EthernetFrame} view: wrap, then everything the switch core reads per frame (runt check, source,
 * destination, VLAN id, EtherType). Untagged and 802.1Q-tagged.
 *
 * <p>Each invocation parses the next of {@value #FRAMES} frames with different MACs and VLANs, so nothing
 * is a compile-time constant; every field read goes to the blackhole. Expected allocation: 0 B/op
 * ({@code -prof gc}). {@code parseAllocating} is the non-flyweight baseline ({@link EthernetFrame#of} plus
 * {@code MacAddress} objects), to show what the flyweight saves.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class FrameBench {

    static final int FRAMES = 64;   // power of two
    static final int LENGTH = 64;

    ByteBuffer[] untagged;
    ByteBuffer[] tagged;
    final EthernetFrame view = new EthernetFrame();
    int i;

    @Setup(Level.Trial)
    public void setUp() {
        untagged = new ByteBuffer[FRAMES];
        tagged = new ByteBuffer[FRAMES];
        for (int k = 0; k < FRAMES; k++) {
            untagged[k] = Stations.frame(Stations.mac(2L * k), Stations.mac(2L * k + 1), -1, LENGTH);
            tagged[k] = Stations.frame(Stations.mac(2L * k), Stations.mac(2L * k + 1), 1 + k, LENGTH);
        }
    }

    private ByteBuffer next(ByteBuffer[] frames) {
        int k = (i + 1) & (FRAMES - 1);
        i = k;
        return frames[k];
    }

    @Benchmark
    public void parseUntagged(Blackhole bh) {
        parse(view.wrap(next(untagged)), bh);
    }

    @Benchmark
    public void parseTagged(Blackhole bh) {
        parse(view.wrap(next(tagged)), bh);
    }

    @Benchmark
    public void parseAllocating(Blackhole bh) {
        EthernetFrame f = EthernetFrame.of(next(tagged));
        bh.consume(f.isRunt());
        bh.consume(f.destination());
        bh.consume(f.source());
        bh.consume(f.vlanId());
        bh.consume(f.etherType());
    }

    private static void parse(EthernetFrame f, Blackhole bh) {
        bh.consume(f.isRunt());
        bh.consume(f.destinationBits());
        bh.consume(f.sourceBits());
        bh.consume(f.vlanId());
        bh.consume(f.etherType());
    }
}

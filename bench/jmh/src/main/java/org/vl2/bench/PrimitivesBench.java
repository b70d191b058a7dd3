package org.vl2.bench;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

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

/**
 * What the building blocks of {@code SwitchCore.receive} cost on this machine, to read the end-to-end numbers
 * against: a {@code System.nanoTime()} call (the receive path makes three per frame: port last-seen, MAC learn,
 * MAC lookup age check), an uncontended {@code LongAdder.increment()} (about nine per forwarded frame), a
 * {@code ThreadLocal.get()} (the frame view) and a {@code ConcurrentHashMap.get} keyed by {@link InetSocketAddress}
 * (the ingress port lookup).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class PrimitivesBench {

    static final int KEYS = 16;

    final LongAdder adder = new LongAdder();
    final ThreadLocal<Object> local = ThreadLocal.withInitial(Object::new);
    final Map<SocketAddress, Integer> endpoints = new ConcurrentHashMap<>();
    InetSocketAddress[] keys;
    int i;

    @Setup(Level.Trial)
    public void setUp() {
        keys = new InetSocketAddress[KEYS];
        for (int k = 0; k < KEYS; k++) {
            keys[k] = new InetSocketAddress(InetAddress.getLoopbackAddress(), 20_000 + k);
            endpoints.put(keys[k], k);
        }
    }

    @Benchmark
    public long nanoTime() {
        return System.nanoTime();
    }

    @Benchmark
    public void longAdderIncrement() {
        adder.increment();
    }

    @Benchmark
    public Object threadLocalGet() {
        return local.get();
    }

    @Benchmark
    public Integer endpointMapGet() {
        int k = (i + 1) & (KEYS - 1);
        i = k;
        return endpoints.get(keys[k]);
    }
}

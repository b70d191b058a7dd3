package org.vl2.rest.internal;

import java.io.OutputStream;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.vl2.api.MacTableStatistics;
import org.vl2.api.NetworkInfo;
import org.vl2.api.PortCounters;
import org.vl2.api.PortId;
import org.vl2.api.PortInfo;
import org.vl2.api.test.FakeMacTable;
import org.vl2.api.test.FakeSwitchService;

/**
 * What one {@code GET /metrics} costs the switch (building the snapshots from the service snapshots and writing the
 * text), with {@code ports} ports in 4 networks, every port with its own series (the default limit is 1024). In the
 * package of {@code Metrics} (package-private): the class path, not OSGi, makes that possible here.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class MetricsScrapeBench {

    @Param({"1000"})
    int ports;

    Metrics metrics;
    /** Counts what was written, so the text is not optimized away. */
    final OutputStream sink = new OutputStream() {
        long bytes;

        @Override
        public void write(int b) {
            bytes++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            bytes += len;
        }
    };

    @Setup
    public void setUp() {
        FakeSwitchService sw = new FakeSwitchService();
        for (int n = 1; n < 4; n++) {
            sw.networks.add(new NetworkInfo(n, "n" + n, 1400, "learning", null, null, false, ports / 4, List.of()));
        }
        for (int i = 1; i <= ports; i++) {
            sw.ports.add(new PortInfo(PortId.of(i), i % 4, "vl2", "vl2", "192.0.2.7:" + (10000 + i),
                    new PortCounters(i * 1000L, i * 1_500_000L, i * 900L, i * 1_400_000L, i, 0), Instant.EPOCH,
                    Instant.EPOCH));
        }
        FakeMacTable fdb = new FakeMacTable();
        fdb.statistics = new MacTableStatistics(ports, 0, 8192, 256, 300, ports, 0, 0, 0, 0);
        metrics = new Metrics(() -> sw, () -> fdb, List::of, 1024);
    }

    @Benchmark
    public OutputStream scrape() throws Exception {
        metrics.write(sink);
        return sink;
    }
}

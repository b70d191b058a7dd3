package org.vl2.rest.internal;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * CPU time of one scrape of 1000 ports, the thread's own: on a machine loaded by other work the wall time of
 * {@link MetricsScrapeBench} says more about the load than about the scrape. Run:
 * {@code java -cp bench/jmh/target/benchmarks.jar org.vl2.rest.internal.MetricsScrapeCpu}.
 */
public final class MetricsScrapeCpu {
    private MetricsScrapeCpu() {
    }

    public static void main(String[] args) throws Exception {
        MetricsScrapeBench b = new MetricsScrapeBench();
        b.ports = 1000;
        b.setUp();
        ThreadMXBean t = ManagementFactory.getThreadMXBean();
        for (int i = 0; i < 200; i++) {
            b.scrape();
        }
        int n = 200;
        long cpu0 = t.getCurrentThreadCpuTime();
        long wall0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            b.scrape();
        }
        System.out.printf("scrape of 1000 ports: %.2f ms CPU, %.2f ms wall (mean of %d after 200 warm-up)%n",
                (t.getCurrentThreadCpuTime() - cpu0) / 1e6 / n, (System.nanoTime() - wall0) / 1e6 / n, n);
    }
}

package org.vl2.mactable.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;

import org.junit.jupiter.api.Test;
import org.vl2.api.MacTableAdminService.LearnResult;
import org.vl2.api.PortId;

/** Lookups and refreshes of known stations must not allocate (they run once per frame). */
class HotPathAllocationTest {

    @Test
    void lookupAndRefreshAllocateNothing() {
        java.lang.management.ThreadMXBean plain = ManagementFactory.getThreadMXBean();
        assumeTrue(plain instanceof com.sun.management.ThreadMXBean);
        com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) plain;
        assumeTrue(bean.isThreadAllocatedMemorySupported() && bean.isThreadAllocatedMemoryEnabled());

        TestClock clock = new TestClock();
        MacTableImpl t = new MacTableImpl(new Settings(300, 8192, 0), clock);
        PortId[] ports = {PortId.of(1), PortId.of(2)};
        for (int i = 0; i < 1000; i++) {
            t.learn(i % 3, i % 7, 0x0200_0000_0000L | i, ports[i % 2]);
        }
        long tid = Thread.currentThread().getId();
        long empty = measure(bean, tid, () -> { });
        Runnable work = () -> {
            int found = 0;
            for (int round = 0; round < 200; round++) {
                clock.advanceNanos(2_000_000);
                for (int i = 0; i < 1000; i++) {
                    if (t.lookup(i % 3, i % 7, 0x0200_0000_0000L | i) != null) {
                        found++;
                    }
                    if (t.learn(i % 3, i % 7, 0x0200_0000_0000L | i, ports[i % 2]) != LearnResult.REFRESHED) {
                        throw new AssertionError("not a refresh: " + i);
                    }
                    t.lookup(5, 0, 0x0200_0000_0000L | i);    // unknown network
                    t.lookup(0, 9, 0x0200_0000_0000L | i);    // unknown VLAN
                }
            }
            if (found != 200_000) {
                throw new AssertionError("found " + found);
            }
        };
        work.run();     // the first run links call sites (VarHandle access modes ...), which allocates once
        // One allocation per call would show up as megabytes in every run. A run may rarely see a few hundred
        // bytes from the JVM itself (JIT deoptimization, GC), so: every run tiny, and at least one exactly zero.
        long min = Long.MAX_VALUE;
        for (int run = 0; run < 5; run++) {
            long used = measure(bean, tid, work) - empty;
            assertTrue(used < 16 * 1024, used + " bytes allocated by 400,000 lookups and 200,000 refreshes");
            min = Math.min(min, used);
        }
        assertEquals(0, min, "bytes allocated by 400,000 lookups and 200,000 refreshes");
    }

    private static long measure(com.sun.management.ThreadMXBean bean, long tid, Runnable work) {
        long before = bean.getThreadAllocatedBytes(tid);
        work.run();
        return bean.getThreadAllocatedBytes(tid) - before;
    }
}

package org.vl2.api;

/** A snapshot of one port's counters. {@code rxDrops} counts frames from the port that the switch refused. */
public record PortCounters(long rxFrames, long rxBytes, long txFrames, long txBytes, long rxDrops, long txDrops) {

    public static final PortCounters ZERO = new PortCounters(0, 0, 0, 0, 0, 0);
}

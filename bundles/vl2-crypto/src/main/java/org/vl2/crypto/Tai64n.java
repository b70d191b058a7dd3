package org.vl2.crypto;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The initiation's timestamp, TAI64N as WireGuard sends it: 8 bytes 2^62 + 10 + Unix seconds, 4 bytes
 * nanoseconds, big-endian, so that byte order is time order. Strictly increasing within a JVM, even when the wall
 * clock gives the same instant twice or steps back a little: the responder accepts only newer timestamps.
 */
final class Tai64n {

    static final int LENGTH = 12;
    private static final long TAI_OFFSET = 0x400000000000000AL;
    private static final long NANOS = 1_000_000_000L;
    /** Nanoseconds since the epoch of the last timestamp this JVM issued. */
    private static final AtomicLong LAST = new AtomicLong();

    private Tai64n() {
    }

    static byte[] now() {
        Instant i = Instant.now();
        long wall = i.getEpochSecond() * NANOS + i.getNano();
        return encode(LAST.updateAndGet(last -> Math.max(last + 1, wall)));
    }

    static byte[] encode(long epochNanos) {
        long seconds = TAI_OFFSET + Math.floorDiv(epochNanos, NANOS);
        int nanos = (int) Math.floorMod(epochNanos, NANOS);
        byte[] b = new byte[LENGTH];
        for (int k = 0; k < 8; k++) {
            b[k] = (byte) (seconds >>> (56 - 8 * k));
        }
        for (int k = 0; k < 4; k++) {
            b[8 + k] = (byte) (nanos >>> (24 - 8 * k));
        }
        return b;
    }
}

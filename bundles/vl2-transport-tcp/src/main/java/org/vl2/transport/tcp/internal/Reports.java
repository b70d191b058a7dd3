package org.vl2.transport.tcp.internal;

import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;

import org.slf4j.Logger;

/**
 * What the TCP transport refuses or closes, counted per kind, and said at most once a minute per kind: the first one
 * at once with its details, later ones as a count. A flood of bad connections (garbage, 10k connections, handshakes
 * that never end) costs a counter increment each, not a log line.
 */
final class Reports {

    /** Why a connection was refused or closed. */
    enum Kind {
        LIMIT("refused: max.connections reached"),
        SOURCE_LIMIT("refused: max.connections.per.source reached"),
        HANDSHAKE_FAILED("closed: TLS handshake failed (not TLS, or no common parameters)"),
        HANDSHAKE_TIMEOUT("closed: TLS handshake not done within handshake.timeout.seconds"),
        BAD_LENGTH("closed: a length prefix out of range (not a vl2 stream)"),
        IDLE("closed: nothing received for idle.timeout.seconds"),
        ERROR("closed: connection error");

        final String text;

        Kind(String text) {
            this.text = text;
        }
    }

    static final long INTERVAL_NANOS = 60_000_000_000L;

    private final Logger log;
    private final String where;
    private final Map<Kind, LongAdder> totals = new EnumMap<>(Kind.class);
    // report thread only (the transport's loop)
    private final Map<Kind, long[]> pending = new EnumMap<>(Kind.class);

    Reports(Logger log, String where) {
        this.log = log;
        this.where = where;
        for (Kind k : Kind.values()) {
            totals.put(k, new LongAdder());
            pending.put(k, new long[]{0, Long.MIN_VALUE}); // {since the last line, nanoTime of the last line}
        }
    }

    /** Counts one; logs it when the kind was not logged within a minute. Loop thread. */
    void count(Kind kind, String detail, long nowNanos) {
        totals.get(kind).increment();
        long[] p = pending.get(kind);
        p[0]++;
        if (p[1] == Long.MIN_VALUE || nowNanos - p[1] >= INTERVAL_NANOS) {
            log.warn("TCP transport on {}: connection {} {}{} ({} in all; said at most once a minute)", where,
                    detail, kind.text, p[0] > 1 ? ", " + (p[0] - 1) + " more since the last report" : "",
                    totals.get(kind).sum());
            p[0] = 0;
            p[1] = nowNanos;
        }
    }

    long total(Kind kind) {
        return totals.get(kind).sum();
    }

    /** Every kind's total, named in lower case ({@code handshake_failed}): the transport's receive drops. */
    Map<String, Long> totals() {
        Map<String, Long> all = new TreeMap<>();
        totals.forEach((kind, total) -> all.put(kind.name().toLowerCase(Locale.ROOT), total.sum()));
        return all;
    }
}

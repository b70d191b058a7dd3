package org.vl2.switching.internal.vl2;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.HashMap;
import java.util.Map;

import org.vl2.switching.internal.PortQuotas;

/**
 * How many unauthenticated answers (ERROR, KEY-REPLY, COOKIE-REPLY) one source gets per second. Their source
 * addresses can be forged, so without it a flood carrying a victim's address turns the switch into a steady
 * source of datagrams toward the victim (shorter than the flood, but all for one address). A source is an IPv4
 * address or an IPv6 /64 (one host, or one site's whole prefix: an attacker holding a /64 has 2^64 addresses).
 * Fixed one-second windows; at most {@link #MAX_SOURCES} sources are counted per second, new ones beyond wait for
 * the next. Answers are rare next to frames, so a lock and a small map are fine here.
 */
final class SourceBudget {

    /** Sources counted per second; beyond, new ones get nothing until the next second. */
    static final int MAX_SOURCES = 4_096;
    private static final long SECOND = 1_000_000_000L;

    private final int perSecond;
    /** By {@link PortQuotas#addressKey}: IPv4 and IPv6 keys never collide. */
    private final Map<Long, int[]> sources = new HashMap<>();
    private long windowStart;
    private boolean started;

    SourceBudget(int perSecond) {
        this.perSecond = perSecond;
    }

    /** Whether {@code source} may get one more answer in the second of {@code now} (and counts it if so). */
    synchronized boolean allow(SocketAddress source, long now) {
        if (!(source instanceof InetSocketAddress s) || s.getAddress() == null) {
            return false;
        }
        if (!started || now - windowStart >= SECOND) {
            started = true;
            windowStart = now;
            sources.clear();
        }
        long key = PortQuotas.addressKey(s); // IPv4: the address; IPv6: its /64
        int[] n = sources.get(key);
        if (n == null) {
            if (sources.size() >= MAX_SOURCES) {
                return false;
            }
            sources.put(key, new int[] {1});
            return true;
        }
        return ++n[0] <= perSecond;
    }

    /** Sources counted in this second (tests). */
    synchronized int sources() {
        return sources.size();
    }
}

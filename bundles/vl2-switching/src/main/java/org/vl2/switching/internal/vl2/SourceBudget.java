package org.vl2.switching.internal.vl2;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.HashMap;
import java.util.Map;

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
    private final Map<Long, int[]> v4 = new HashMap<>();
    private final Map<Long, int[]> v6 = new HashMap<>();
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
            v4.clear();
            v6.clear();
        }
        InetAddress a = s.getAddress();
        byte[] b = a.getAddress();
        long key = 0;
        for (int i = 0; i < Math.min(8, b.length); i++) { // IPv4: the address; IPv6: its /64
            key = key << 8 | (b[i] & 0xff);
        }
        Map<Long, int[]> counts = a instanceof Inet6Address ? v6 : v4;
        int[] n = counts.get(key);
        if (n == null) {
            if (v4.size() + v6.size() >= MAX_SOURCES) {
                return false;
            }
            counts.put(key, new int[] {1});
            return true;
        }
        return ++n[0] <= perSecond;
    }

    /** Sources counted in this second (tests). */
    synchronized int sources() {
        return v4.size() + v6.size();
    }
}

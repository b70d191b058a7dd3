package org.vl2.transport.vxlan.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * The port identity of a remote VTEP by its IP address: {@code (ip, configured port)}, or the address of the static
 * remote configured for that IP. A kernel VTEP varies its source port per flow, so the source port is never part of
 * the identity. Remembers the objects it hands out, so a known VTEP costs no allocation.
 *
 * <p>Used by the receive thread only (not thread-safe). Bounded: when full (spoofed sources, say) it starts over.
 */
final class VtepCache {

    static final int MAX_ENTRIES = 4096;

    private final int port;
    private final Map<InetAddress, InetSocketAddress> statics;
    private final HashMap<InetAddress, InetSocketAddress> known = new HashMap<>();

    /**
     * @param port    the VXLAN port of VTEPs without a static entry
     * @param statics the static remotes' addresses by IP (immutable)
     */
    VtepCache(int port, Map<InetAddress, InetSocketAddress> statics) {
        this.port = port;
        this.statics = statics;
    }

    InetSocketAddress of(InetAddress ip) {
        InetSocketAddress vtep = known.get(ip);
        if (vtep != null) {
            return vtep;
        }
        vtep = statics.get(ip);
        if (vtep == null) {
            vtep = new InetSocketAddress(ip, port);
        }
        if (known.size() >= MAX_ENTRIES) {
            known.clear();
        }
        known.put(ip, vtep);
        return vtep;
    }

    int size() {
        return known.size();
    }
}

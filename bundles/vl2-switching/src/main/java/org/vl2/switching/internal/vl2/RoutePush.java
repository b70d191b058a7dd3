package org.vl2.switching.internal.vl2;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.Collection;

import org.vl2.api.spi.Transport;
import org.vl2.crypto.CryptoException;
import org.vl2.crypto.Session;
import org.vl2.protocol.Routes;
import org.vl2.protocol.SealedHeader;
import org.vl2.protocol.Wire;
import org.vl2.switching.internal.Network;
import org.vl2.switching.internal.SwitchPort;

/**
 * Pushes each network's managed routes in force ({@link Network#routes()}) to its encrypted members, sealed
 * (docs/protocol.md, ROUTES): to every member whose last ROUTES-ACK names another version, once its session is
 * confirmed (a message opened under it: its address is proven), and again after 1, 2, 4 ... 30 s while the member
 * does not acknowledge (lost datagrams; an agent that predates ROUTES, which never will). Runs on the housekeeping
 * thread only, with a buffer of its own.
 */
public final class RoutePush {

    private static final long SECOND = 1_000_000_000L;
    private static final long MAX_BACKOFF = 30 * SECOND;

    private final ByteBuffer out = ByteBuffer.allocate(SealedHeader.LENGTH + Routes.FIXED_LENGTH
            + Routes.ENTRY_LENGTH * Routes.MAX_ROUTES + Session.TAG_LENGTH);

    /** One housekeeping round over every network; returns how many ROUTES went out. */
    public int tick(Collection<Network> networks, long nowNanos) {
        int sent = 0;
        for (Network n : networks) {
            Network.RouteSet set = n.routes();
            Routes message = null;
            for (SwitchPort p : n.ports()) {
                if (!p.authenticated() || !p.proven || p.removed || p.routesAcked == set.version()) {
                    continue;
                }
                if (p.routesSent != set.version()) {
                    p.routesSent = set.version();
                    p.routesTries = 0;
                    p.routesDueNanos = nowNanos;
                }
                if (nowNanos - p.routesDueNanos < 0) {
                    continue;
                }
                if (message == null) {
                    message = new Routes(n.id, set.version(), set.routes());
                }
                if (send(p, message)) {
                    sent++;
                }
                p.routesDueNanos = nowNanos + Math.min(MAX_BACKOFF, SECOND << Math.min(p.routesTries, 5));
                p.routesTries++;
            }
        }
        return sent;
    }

    private boolean send(SwitchPort p, Routes message) {
        Session s = p.session;
        Transport t = p.slot.transport;
        SocketAddress remote = p.remote;
        if (s == null || t == null || remote == null) {
            return false;
        }
        out.clear();
        SealedHeader.write(out, 0, Wire.ROUTES, s.remoteIndex());
        message.encode(out, SealedHeader.LENGTH);
        out.limit(SealedHeader.LENGTH + message.length() + Session.TAG_LENGTH);
        try {
            s.seal(out, 0, SealedHeader.LENGTH, message.length(), System.nanoTime());
        } catch (CryptoException e) {
            return false; // the session expired: the agent re-keys, the next round sends under the new keys
        }
        out.position(0);
        return t.send(remote, out);
    }

    /** A ROUTES-ACK opened from {@code p}: {@code plain} bytes of body at {@code at}. */
    static void acknowledged(SwitchPort p, ByteBuffer d, int at, int plain) {
        if (plain == Routes.ACK_LENGTH && Routes.ackNetwork(d, at) == p.network.id) {
            p.routesAcked = Routes.ackVersion(d, at);
        }
    }
}

package org.vl2.switching.internal.vl2;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Endpoints;
import org.vl2.protocol.Pair;
import org.vl2.switching.internal.PortPair;
import org.vl2.switching.internal.Settings;
import org.vl2.switching.internal.SwitchPort;
import org.vl2.switching.internal.TransportSlot;

/**
 * Direct paths, the switch's side (docs/protocol.md, "Direct paths"): a PAIR SEND to a sender that takes direct paths
 * carries its receiver's UDP endpoint, so that the sender may send the pair's frames straight to the receiver once a
 * probe gets through, the switch staying the relay. The switch only hands out the endpoint, hears from the sender
 * whether it sends direct (PAIR-ACK DIRECT, repeated while it does; RELAYED when it stops), keeps the sender's station
 * in the MAC table meanwhile (its frames no longer do), and ends a pair whose receiver moved away from the endpoint it
 * carried. Everything here is per pair or per move, never per frame; state changes run under the {@link Pairs} lock.
 */
final class DirectPaths {

    private static final Logger LOG = LoggerFactory.getLogger(DirectPaths.class);
    /**
     * The name of the vl2 protocol's UDP transport (org.vl2.transport.vl2): the only one whose members' endpoints
     * another agent can reach (a member on the TCP transport has a TCP connection there, no UDP endpoint).
     */
    static final String UDP_TRANSPORT = "vl2";

    private final Pairs pairs;
    private final Supplier<Settings> settings;

    DirectPaths(Pairs pairs, Supplier<Settings> settings) {
        this.pairs = pairs;
        this.settings = settings;
    }

    /**
     * The endpoint the PAIR SEND of {@code pp} carries: its receiver's, if the setting is on, both ends take direct
     * paths and the receiver is reached over UDP; else null. Under the pairing's lock, once per pair (its resends carry
     * the same), so that {@link #receiverMoved} sees every endpoint handed out.
     */
    InetSocketAddress peer(PortPair pp) {
        if (!settings.get().direct() || !pp.sender.directCapable || !pp.receiver.directCapable) {
            return null;
        }
        return udpEndpoint(pp.receiver);
    }

    /** {@code p}'s endpoint as another agent could reach it over UDP, or null (TCP, or what a PAIR may not carry). */
    static InetSocketAddress udpEndpoint(SwitchPort p) {
        TransportSlot slot = p.slot;
        SocketAddress remote = p.remote;
        if (!UDP_TRANSPORT.equals(slot.name) || !(remote instanceof InetSocketAddress a) || a.isUnresolved()
                || a.getPort() == 0) {
            return null;
        }
        InetAddress ip = a.getAddress();
        return ip.isAnyLocalAddress() || ip.isMulticastAddress() ? null : a; // an agent's decoder refuses these
    }

    /**
     * A PAIR-ACK of role SEND and status DIRECT or RELAYED from {@code p} about {@code pp}, one of p's send pairs, under
     * the pairing's lock. DIRECT for a pair offered to the sender also says it took it (its TAKEN was lost or
     * overtaken). Only the pair's sender speaks for it; DIRECT for a pair that is not in use or carried no endpoint is
     * a late answer.
     */
    void status(SwitchPort p, PortPair pp, int status) {
        if (pp.sender != p) {
            return;
        }
        if (status == Pair.RELAYED) {
            if (pp.direct) {
                pp.direct = false;
                LOG.debug("{} goes through the switch again", pp);
            }
            return;
        }
        if (pp.peer == null) {
            return;
        }
        if (pp.state == PortPair.OFFERED_TO_SENDER) {
            pairs.taken(pp);
        }
        if (pp.state != PortPair.ACTIVE) {
            return;
        }
        if (!pp.direct) {
            pp.direct = true;
            LOG.debug("{} goes straight to {}", pp, Endpoints.format(pp.peer));
        }
        // its frames no longer pass the switch to keep the source station known: the sender's repeated DIRECT does,
        // but never moves it here (behind another port now, it moved: that move ends the pair)
        pairs.refreshSource(p, pp);
    }

    /**
     * {@code p} moved to another endpoint (or transport): the pairs it receives on whose SEND carried its old endpoint
     * end, so that their flows are keyed again with the new one (their senders might go on sending to the old one).
     * Only p's own receive pairs are walked.
     */
    void receiverMoved(SwitchPort p) {
        if (p.pairsIn.length == 0) {
            return;
        }
        synchronized (pairs) { // a SEND being offered now either sees the new endpoint or is ended here
            InetSocketAddress now = udpEndpoint(p);
            for (PortPair pp : p.pairsIn) {
                InetSocketAddress sent = pp.peer;
                if (sent != null && !sent.equals(now)) {
                    pairs.revoke(pp, "its receiver moved to " + Endpoints.format(p.remote));
                }
            }
        }
    }

    /** Direct paths turned off: the pairs whose SEND carried an endpoint end (their senders may be sending there). */
    boolean endsWhenOff(PortPair pp) {
        return pp.peer != null && !settings.get().direct();
    }
}

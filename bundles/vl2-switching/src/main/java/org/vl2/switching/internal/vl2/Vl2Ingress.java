package org.vl2.switching.internal.vl2;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

import org.vl2.api.EthernetFrame;
import org.vl2.api.spi.Transport;
import org.vl2.crypto.CryptoException;
import org.vl2.crypto.Handshake;
import org.vl2.crypto.Identity;
import org.vl2.crypto.Session;
import org.vl2.protocol.FrameHeader;
import org.vl2.protocol.KeyRequest;
import org.vl2.protocol.ProtocolException;
import org.vl2.protocol.SealedHeader;
import org.vl2.protocol.Wire;
import org.vl2.switching.internal.Addressing;
import org.vl2.switching.internal.Egress;
import org.vl2.switching.internal.Forwarder;
import org.vl2.switching.internal.Network;
import org.vl2.switching.internal.PortPair;
import org.vl2.switching.internal.PortRegistry;
import org.vl2.switching.internal.Settings;
import org.vl2.switching.internal.SwitchCounters;
import org.vl2.switching.internal.SwitchPort;
import org.vl2.switching.internal.TransportSlot;

/**
 * The vl2 protocol on the switch (docs/protocol.md, docs/crypto.md), entered once per datagram of a transport in
 * mode {@code vl2}:
 * <pre>
 *   datagram ─ type? ─┬─ INITIATION ───────────── Admission.initiation ─ COOKIE-REPLY | queued: HandshakeWorker
 *                     │                            ─ (worker thread) RESPONSE(WELCOME) | ERROR
 *                     ├─ JOIN ─────────────────── Admission.join ─────── WELCOME | ERROR
 *                     ├─ KEY-REQUEST ──────────── Replies.keyReply
 *                     ├─ LEAVE (plain) ────────── Admission.leave
 *                     ├─ FRAME/KEEPALIVE (plain) ─ port by number+token ┐
 *                     └─ FRAME/KEEPALIVE/LEAVE/ROUTES-ACK/PAIR-ACK (sealed) ├─ KEEPALIVE: KEEPALIVE-ACK
 *                           port+session by receiver index, open ───────┘─ FRAME: Forwarder.forward
 *                           (a pair's index: Pairs.forward, not opened)    ROUTES-ACK: RoutePush.acknowledged
 *                                                                         PAIR-ACK: Pairs.acknowledged
 * </pre>
 * Frames to vl2 ports leave through {@link Vl2Framing}. Hot path (FRAME, KEEPALIVE): no locks, no logging, no
 * allocation.
 */
public final class Vl2Ingress {

    private final PortRegistry registry;
    private final Forwarder forwarder;
    private final SwitchCounters counters;
    private final LongSupplier nanoClock;
    private final Replies replies;
    private final Admission admission;
    private final HandshakeWorker handshakes;
    private final Pairs pairs;

    public Vl2Ingress(PortRegistry registry, LongFunction<Network> networks, Forwarder forwarder,
                      Addressing addressing, SwitchCounters counters, Supplier<Settings> settings,
                      LongSupplier nanoClock, Identity identity, Predicate<byte[]> listed,
                      HandshakeWorker handshakes, Pairs pairs) {
        this.handshakes = handshakes;
        this.pairs = pairs;
        this.registry = registry;
        this.forwarder = forwarder;
        this.counters = counters;
        this.nanoClock = nanoClock;
        this.replies = new Replies(identity, counters, nanoClock);
        this.admission = new Admission(registry, networks, addressing, replies, counters, settings, nanoClock,
                identity, listed, handshakes);
    }

    /** Stops the handshake thread (the switch stops). */
    public void stop() {
        handshakes.stop();
    }

    /** A member cut off by a configuration change: admission forgets its handshake state. */
    public void cutOff(SwitchPort p) {
        admission.forget(p);
    }

    public void receive(Transport transport, TransportSlot slot, SocketAddress source, ByteBuffer d, Egress e) {
        int type = Wire.type(d);
        if (type < 0) {
            if (Handshake.type(d) == Handshake.INITIATION) {
                admission.initiation(transport, slot, source, d, e);
            } else {
                counters.malformed.increment();
            }
            return;
        }
        if (Wire.version(d) != Wire.VERSION) {
            replies.unsupportedVersion(transport, source, d, e);
            return;
        }
        boolean sealed = (Wire.flags(d) & Wire.FLAG_SEALED) != 0;
        switch (type) {
            case Wire.FRAME, Wire.KEEPALIVE -> {
                if (d.remaining() < (type == Wire.FRAME ? FrameHeader.LENGTH : Wire.KEEPALIVE_LENGTH)) {
                    counters.malformed.increment();
                } else if (sealed) {
                    receiveSealed(transport, slot, source, type, d, e);
                } else {
                    receivePlain(transport, slot, source, type, d, e);
                }
            }
            case Wire.LEAVE -> {
                if (sealed) {
                    receiveSealed(transport, slot, source, type, d, e);
                } else {
                    admission.leave(slot, d);
                }
            }
            case Wire.ROUTES_ACK, Wire.PAIR_ACK -> {
                if (sealed) {
                    receiveSealed(transport, slot, source, type, d, e);
                } else {
                    counters.malformed.increment(); // routes and pairs exist only in sealed sessions
                }
            }
            case Wire.JOIN -> admission.join(transport, slot, source, d, e);
            case Wire.KEY_REQUEST -> keyRequest(transport, source, d, e);
            default -> counters.malformed.increment(); // WELCOME, ACK, ERROR: switch-bound only by mistake
        }
    }

    /** A plain FRAME or KEEPALIVE: the port its header names, if the token is right. */
    private void receivePlain(Transport transport, TransportSlot slot, SocketAddress source, int type, ByteBuffer d,
                              Egress e) {
        SwitchPort p = registry.session(FrameHeader.port(d));
        if (p == null || p.slot != slot || p.sealed || p.token != FrameHeader.token(d) || p.removed) {
            counters.badSession.increment();
            replies.unknownPort(transport, source, d, e);
            return;
        }
        if (!source.equals(p.remote)) {
            registry.move(p, source);
        }
        if (type == Wire.KEEPALIVE) {
            p.lastSeenNanos = nanoClock.getAsLong();
            replies.keepaliveAck(transport, source, d);
            return;
        }
        d.position(d.position() + FrameHeader.LENGTH);
        EthernetFrame view = e.view.wrap(d);
        if (forwarder.valid(view, d.remaining(), p)) {
            forwarder.forward(p, d, view, e);
        }
    }

    /**
     * A sealed FRAME, KEEPALIVE or LEAVE: the receiver index names port and session; only a message that opens
     * (authentic, not replayed) counts, so only then may it move the port (NAT rebinding, or an agent that moved
     * between the UDP and the TCP transport: the session is the member's, not the transport's).
     */
    private void receiveSealed(Transport transport, TransportSlot slot, SocketAddress source, int type, ByteBuffer d,
                               Egress e) {
        final int at = d.position();
        final int length = d.remaining();
        final int header = SealedHeader.LENGTH;
        if (length < header + Session.TAG_LENGTH) {
            counters.malformed.increment();
            return;
        }
        int index = SealedHeader.receiverIndex(d, at);
        SwitchPort p = registry.sealedSession(index);
        // any vl2 transport: a member that moved between UDP and TCP keeps its session (the move below)
        Session s = p == null || p.removed ? null : p.sessionFor(index);
        if (s == null && p != null && !p.removed) {
            PortPair pp = p.pairOut(index);
            if (pp != null) {
                pairs.forward(p, pp, slot, source, type, d, at, length); // sealed end to end: forwarded as it is
                return;
            }
        }
        if (s == null) {
            counters.badSession.increment();
            replies.unknownPort(transport, source, d, e); // the agent re-joins: the switch restarted, or it was cut off
            return;
        }
        int plain;
        try {
            plain = s.open(d, at, header, length - header, System.nanoTime());
        } catch (CryptoException ex) {
            counters.badSession.increment();
            p.rxDrops.increment();
            return;
        }
        if (!p.proven) {
            registry.proven(p); // the member has the keys: its address is real (quotas, docs/security.md)
        }
        if (s == p.pending) {
            p.confirm(s);
            registry.sessionsChanged(p); // the index of the session it replaced goes (rare: once per handshake)
        }
        if (!source.equals(p.remote) || p.slot != slot) {
            registry.move(p, slot, source);
        }
        if (type != Wire.FRAME) {
            // any message that opened under the session proves the member alive (a frame does so in the forwarder):
            // one whose frames all go on direct paths may send the switch nothing but PAIR-ACKs between keepalives
            p.lastSeenNanos = nanoClock.getAsLong();
        }
        if (type == Wire.FRAME) {
            d.limit(at + header + plain);
            d.position(at + header);
            EthernetFrame view = e.view.wrap(d);
            if (forwarder.valid(view, plain, p)) {
                forwarder.forward(p, d, view, e);
            }
        } else if (type == Wire.KEEPALIVE) {
            if (plain == 8) {
                replies.sealedKeepaliveAck(transport, source, p, d, at + header, e);
            }
        } else if (type == Wire.ROUTES_ACK) {
            RoutePush.acknowledged(p, d, at + header, plain);
        } else if (type == Wire.PAIR_ACK) {
            pairs.acknowledged(p, d, at + header, plain);
        } else {
            admission.left(p);
        }
    }

    /** A KEY-REQUEST: answered with the switch's public key (see {@link Replies#keyReply}). */
    private void keyRequest(Transport transport, SocketAddress source, ByteBuffer d, Egress e) {
        try {
            KeyRequest.decode(d);
        } catch (ProtocolException ex) {
            counters.malformed.increment();
            return;
        }
        replies.keyReply(transport, source, e);
    }
}

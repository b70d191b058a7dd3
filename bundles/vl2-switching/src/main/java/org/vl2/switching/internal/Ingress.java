package org.vl2.switching.internal;

import java.net.SocketAddress;
import java.nio.ByteBuffer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Endpoints;
import org.vl2.api.EthernetFrame;
import org.vl2.api.Networks;
import org.vl2.api.PortId;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;
import org.vl2.switching.internal.SwitchPort.Kind;
import org.vl2.switching.internal.vl2.Vl2Ingress;

/**
 * Where every datagram enters the switch: the {@link FrameReceiver} all transports deliver to. One path per
 * datagram, each step entered once:
 * <pre>
 *  Transport ──receive(datagram)──▶ Ingress ── slot of the transport? (else ignored)
 *     │                               ├─ mode vl2 ──▶ vl2.Vl2Ingress ─┬─ control (join, handshake, leave, key):
 *     │                               │                               │     vl2.Admission ─▶ PortRegistry, vl2.Replies
 *     │                               │                               └─ FRAME (plain or opened) ─┐
 *     │                               └─ mode raw ─── port by (source, the slot's raw network) ───┤
 *     └──receiveFrame(network,frame)─▶ Ingress (VXLAN: decapsulated) ─ port by (remote, network) ──┤
 *                        network open to plaintext? (else dropSealed) ─ unknown source: valid frame? │
 *                                                                     ─▶ PortRegistry.open          │
 *                                                                                                   ▼
 *    Forwarder: valid ─▶ learn (MAC table) ─▶ Addressing (DHCP/ARP answer, frame for the switch?) ─▶ policy
 *               ─▶ storm control (floods) ─▶ for each egress port: its PortFraming (RAW | ENCAP | vl2.Vl2Framing)
 *               ─▶ Transport.send / sendFrame (with the port) ─▶ counted sent if accepted (a batch refused
 *                  later: transmitFailed with the port, which moves it from the port's TX to its TX drops)
 * </pre>
 * Raw and VXLAN ports carry no identity: they are admitted only to a network open to plaintext
 * ({@link NetworkSettings#openToPlaintext}), checked on every frame (a network closed meanwhile also cuts them off,
 * {@link PortRegistry#cutOffUnauthorized}).
 * Hot path: no locks, no logging, no allocation once a port exists.
 */
final class Ingress implements FrameReceiver {

    private static final Logger LOG = LoggerFactory.getLogger(Ingress.class);

    private final PortRegistry registry;
    private final NetworkDirectory networks;
    private final Forwarder forwarder;
    private final Vl2Ingress vl2;
    private final SwitchCounters counters;
    private final ThreadLocal<Egress> egress = ThreadLocal.withInitial(Egress::new);

    Ingress(PortRegistry registry, NetworkDirectory networks, Forwarder forwarder, Vl2Ingress vl2,
            SwitchCounters counters) {
        this.registry = registry;
        this.networks = networks;
        this.forwarder = forwarder;
        this.vl2 = vl2;
        this.counters = counters;
    }

    @Override
    public void receive(Transport transport, SocketAddress source, ByteBuffer datagram) {
        counters.rxFrames.increment();
        counters.rxBytes.add(datagram.remaining());
        TransportSlot slot = registry.slot(transport.name());
        if (slot == null || slot.transport != transport) {
            return; // a transport we are not (or no longer) attached to
        }
        Egress e = egress.get();
        e.reset();
        if (slot.vl2) {
            vl2.receive(transport, slot, source, datagram, e);
            return;
        }
        long network = slot.network;
        SwitchPort in = slot.ports.get(e.probe.set(source, network));
        Network n = in != null ? in.network : networks.get(network);
        if (n == null) {
            counters.dropUnknownNetwork.increment(); // said once by Transports.checkRawNetworks
            return;
        }
        frame(slot, in, source, n, Kind.RAW, datagram, e);
    }

    @Override
    public void receiveFrame(Transport transport, SocketAddress remote, long network, ByteBuffer frame) {
        counters.rxFrames.increment();
        counters.rxBytes.add(frame.remaining());
        TransportSlot slot = registry.slot(transport.name());
        if (slot == null || slot.transport != transport) {
            return;
        }
        Egress e = egress.get();
        e.reset();
        SwitchPort in = slot.ports.get(e.probe.set(remote, network));
        Network n = in != null ? in.network : networks.get(network);
        if (n == null) {
            counters.dropUnknownNetwork.increment();
            return;
        }
        frame(slot, in, remote, n, Kind.ENCAP, frame, e);
    }

    /** A frame from a RAW or ENCAP port: validated before an unknown sender becomes a port. */
    private void frame(TransportSlot slot, SwitchPort in, SocketAddress source, Network network, Kind kind,
                       ByteBuffer frame, Egress e) {
        if (!network.settings().openToPlaintext()) {
            counters.dropSealed.increment();
            if (!slot.sealedDropSaid) {
                slot.sealedDropSaid = true; // once per transport slot until the networks change
                LOG.warn("Transport {}: dropping frames from {} for network {}: it is {} (only encrypted vl2 members); "
                        + "plaintext=true in its {} configuration opens it to raw and VXLAN ports; further drops are "
                        + "only counted (vl2:stats)", slot.name, Endpoints.format(source), Networks.format(network.id),
                        network.settings().access(), NetworkDefinition.FACTORY_PID);
            }
            return;
        }
        EthernetFrame view = e.view.wrap(frame);
        if (!forwarder.valid(view, frame.remaining(), in)) {
            return;
        }
        if (in == null) {
            in = registry.open(slot, kind, source, network, false);
            if (in == null) {
                return; // no room, or over a quota of unauthenticated ports: counted by the registry
            }
        }
        forwarder.forward(in, frame, view, e);
    }

    /** A transport that cannot say whose frames it refused: only the switch-wide frame count can be corrected. */
    @Override
    public void transmitFailed(Transport transport, int frames) {
        counters.transmitFailed(frames, 0);
        slotErrors(transport, frames);
    }

    /** The failed sends by transport too (a map read, only when something failed). */
    private void slotErrors(Transport transport, int frames) {
        TransportSlot slot = registry.slot(transport.name());
        if (slot != null) {
            slot.txErrors.add(frames);
        }
    }

    /**
     * Frames a transport accepted and then could not send (a refused batch), by port: they move from the port's TX
     * to its TX drops and from the switch's TX to its TX errors, in frame bytes (the transport counts what it was
     * handed, the port's framing says what it added). Without a port (control replies, never counted as sent): TX
     * errors only. A port removed in between has no counters left; the switch's move what the transport counted.
     * On the transport's thread, no allocation; a map read per report, only when something was refused.
     */
    @Override
    public void transmitFailed(Transport transport, PortId port, int frames, long bytes) {
        slotErrors(transport, frames);
        if (port == null) {
            counters.txErrors.add(frames);
            return;
        }
        SwitchPort p = registry.get(port);
        long frameBytes = p == null ? bytes : bytes - (long) frames * p.framing.overhead();
        counters.transmitFailed(frames, frameBytes);
        if (p != null) {
            p.txFrames.add(-frames);
            p.txBytes.add(-frameBytes);
            p.txDrops.add(frames);
        }
    }

    @Override
    public PortId attachPort(Transport transport, SocketAddress remote, long network) {
        TransportSlot slot = registry.slotFor(transport.name());
        Network n = networks.get(network);
        if (n == null) {
            LOG.warn("Transport {}: remote {} is for network {}, which this switch does not host (define it with a "
                    + "{} configuration); not attached", transport.name(), Endpoints.format(remote),
                    Networks.format(network), NetworkDefinition.FACTORY_PID);
            return null;
        }
        if (!n.settings().openToPlaintext()) {
            LOG.warn("Transport {}: remote {} is for network {}, which is {} (only encrypted vl2 members; plaintext=true "
                    + "in its {} configuration opens it); not attached", transport.name(), Endpoints.format(remote),
                    Networks.format(network), n.settings().access(), NetworkDefinition.FACTORY_PID);
            return null;
        }
        return registry.attach(slot, remote, n);
    }

    @Override
    public void connectionClosed(Transport transport, SocketAddress remote) {
        TransportSlot slot = registry.slot(transport.name());
        if (slot != null) {
            registry.connectionClosed(slot, remote);
        }
    }

    @Override
    public boolean detachPort(Transport transport, SocketAddress remote, long network) {
        return registry.detach(registry.slot(transport.name()), remote, network, transport.name());
    }
}

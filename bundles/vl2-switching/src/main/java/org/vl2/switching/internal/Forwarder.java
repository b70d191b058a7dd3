package org.vl2.switching.internal;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import org.vl2.api.EthernetFrame;
import org.vl2.api.MacAddress;
import org.vl2.api.MacTableAdminService;
import org.vl2.api.MacTableAdminService.LearnResult;
import org.vl2.api.PortId;
import org.vl2.api.spi.ForwardingPolicy;
import org.vl2.api.spi.Transport;

/**
 * The per-frame datapath once a frame has an ingress port: validate, check the port's IPv4 source (ip.guard),
 * learn the source (within the port's MAC limit), let the switch's own station answer (DHCP, ARP), ask the
 * network's policy, storm control for floods, then hand the frame to each egress port's framing. It knows no wire
 * format: ingress (raw, encapsulated, vl2) strips it before, the port's {@link PortFraming} adds it after.
 * Counters count what the transports accepted (see {@link SwitchCounters}).
 *
 * <p>Hot path: no locks, no logging, no allocation.
 */
public final class Forwarder {

    private static final long SECOND = 1_000_000_000L;

    private final MacTableAdminService fdb;
    private final PortRegistry registry;
    private final PolicyRegistry policies;
    private final Addressing station;
    private final PortHygiene hygiene;
    private final SwitchCounters counters;
    private final Supplier<Settings> settings;
    private final LongSupplier nanoClock;
    private volatile Pairing pairing = Pairing.NONE;

    Forwarder(MacTableAdminService fdb, PortRegistry registry, PolicyRegistry policies, Addressing station,
              PortHygiene hygiene, SwitchCounters counters, Supplier<Settings> settings, LongSupplier nanoClock) {
        this.fdb = fdb;
        this.registry = registry;
        this.policies = policies;
        this.station = station;
        this.hygiene = hygiene;
        this.counters = counters;
        this.settings = settings;
        this.nanoClock = nanoClock;
    }

    /** Who hears of unicast between pair-capable members and of stations that moved (the pair keys). */
    void pairing(Pairing p) {
        this.pairing = p;
    }

    /** Runt, oversize and multicast-source frames are dropped, counted (on {@code in} too, if known). */
    public boolean valid(EthernetFrame view, int length, SwitchPort in) {
        if (view.isRunt()) {
            drop(counters.dropRunt, in);
            return false;
        }
        if (length > settings.get().maxFrameSize()) {
            drop(counters.dropOversize, in);
            return false;
        }
        if (MacAddress.isMulticast(view.sourceBits())) {
            drop(counters.dropSourceMulticast, in);
            return false;
        }
        return true;
    }

    /** Learns the source and sends the frame where the network's policy says. The frame is valid. */
    public void forward(SwitchPort in, ByteBuffer frame, EthernetFrame view, Egress e) {
        final int length = frame.remaining();
        in.lastSeenNanos = nanoClock.getAsLong();
        in.rxFrames.increment();
        in.rxBytes.add(length);

        final Network net = in.network;
        if (!hygiene.sourceAllowed(in, net, frame, view)) {
            return; // an IPv4 source not assigned to the port (ip.guard): the table does not learn it either
        }
        LearnResult learned = fdb.learn(net.id, view.vlanId(), view.sourceBits(), in.id);
        if (in.removed) {
            fdb.flushPort(in.id); // lost a race with port removal: do not leave entries behind
            return;
        }
        if (learned == LearnResult.REFUSED) {
            // the port is at its MAC limit: forwarding it anyway would flood every answer to it as unknown unicast
            hygiene.macRefused(in, view);
            return;
        }
        if (learned == LearnResult.MOVED) {
            pairing.moved(net, view.vlanId(), view.sourceBits(), in); // its pairs no longer go where it is
        }
        int answer = station.answer(in, frame, view, e);
        if (answer == Addressing.REPLY) {
            transmit(in, null, e.dhcp, e.dhcp.remaining(), e);
        } else if (answer == Addressing.DROP) {
            return;
        }
        if (station.forSwitch(net, view)) {
            return; // addressed to the switch itself
        }

        ForwardingPolicy p = net.state().policy();
        if (p == null) {
            counters.dropNoPolicy.increment();
            policies.missing(net);
            return;
        }
        PortId out = p.egress(net.id, in.id, view, fdb);
        if (out == null) {
            counters.dropPolicy.increment();
        } else if (out.isFlood()) {
            if (stormed(in, net, view)) {
                drop(counters.dropStorm, in);
                return;
            }
            counters.flooded.increment();
            Network.Ports all = net.ports();
            for (int i = 0; i < all.size(); i++) {
                SwitchPort o = all.get(i);
                if (o != in) {
                    transmit(o, in, frame, length, e);
                }
            }
        } else if (out.equals(in.id)) {
            counters.filtered.increment(); // the destination sits behind the ingress port: it has the frame already
        } else {
            SwitchPort o = registry.get(out);
            if (o == null || o.network != net) {
                counters.dropPolicy.increment();
            } else {
                counters.unicast.increment();
                if (!o.proven && o.kind != SwitchPort.Kind.VL2) {
                    o.proven = true; // a station answered it: its address is real and receives (ends probation)
                }
                transmit(o, in, frame, length, e);
                if (in.pairCapable && o.pairCapable) {
                    pairing.unicast(in, o, view, e); // after the frame left: a first frame waits for nothing
                }
            }
        }
    }

    /**
     * Storm control: whether this flood exceeds the ingress port's budget for broadcast, multicast and unknown
     * unicast. A hub policy floods known unicast too; that is not a storm, so it is not charged.
     */
    private boolean stormed(SwitchPort in, Network net, EthernetFrame view) {
        long cost = settings.get().stormCostNanos();
        if (cost == 0) {
            return false;
        }
        long dst = view.destinationBits();
        if (!MacAddress.isMulticast(dst) && fdb.lookup(net.id, view.vlanId(), dst) != null) {
            return false; // known unicast flooded by a hub policy
        }
        long now = nanoClock.getAsLong();
        long credit = in.stormCredit;
        if (credit == Long.MAX_VALUE) {
            credit = SECOND; // a new port starts with a full second's burst
        } else {
            credit = Math.min(SECOND, credit + (now - in.stormRefilled));
        }
        in.stormRefilled = now;
        if (credit < cost) {
            in.stormCredit = credit;
            return true;
        }
        in.stormCredit = credit - cost;
        return false;
    }

    /**
     * Sends a frame to a port in the port's own framing; counted sent if the transport took it, else a TX error.
     * {@code in} may be null (the switch's own frames).
     */
    void transmit(SwitchPort out, SwitchPort in, ByteBuffer frame, int length, Egress e) {
        Transport t = out.slot.transport;
        if (t != null && out.framing.send(t, out, in, frame, length, e)) {
            out.txFrames.increment();
            out.txBytes.add(length);
            counters.txFrames.increment();
            counters.txBytes.add(length);
        } else {
            out.txDrops.increment();
            counters.txErrors.increment();
            out.slot.txErrors.increment();
        }
    }

    private static void drop(LongAdder reason, SwitchPort in) {
        reason.increment();
        if (in != null) {
            in.rxDrops.increment();
        }
    }
}

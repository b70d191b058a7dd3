package org.vl2.agent.internal;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Endpoints;
import org.vl2.protocol.Welcome;
import org.vl2.tap.Cidr;
import org.vl2.tap.TapDevice;
import org.vl2.tap.TapException;
import org.vl2.tap.TapFactory;
import org.vl2.tap.TapSettings;

/**
 * The agent's TAP device: created at start, re-created (same name and MAC) when the switch's WELCOME assigns another
 * MTU or other addresses (a {@link TapDevice} cannot be reconfigured), closed (deleted) when the agent stops. The
 * send pump waits here for the device that replaces a closed one.
 */
final class TapPort {

    private static final Logger LOG = LoggerFactory.getLogger(TapPort.class);

    private final TapFactory factory;
    private final Lifecycle life;
    /** The TAP device; replaced (by the control thread) when the switch assigns other addresses or MTU. */
    private volatile TapDevice tap;

    /** Creates the device. */
    TapPort(TapFactory factory, TapSettings settings, Lifecycle life) throws TapException {
        this.factory = factory;
        this.life = life;
        this.tap = factory.create(settings);
    }

    TapDevice device() {
        return tap;
    }

    /** Deletes the interface; wakes the send pump (its read returns -1). */
    void close() {
        tap.close();
    }

    /** After {@code t} was closed: true once another device replaced it, false when the agent stops. */
    boolean awaitOther(TapDevice t, long tickMillis) {
        synchronized (life.lock) {
            while (life.running() && tap == t) {
                try {
                    life.lock.wait(tickMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return life.running();
        }
    }

    /**
     * Puts the WELCOME's MTU and addresses on the device, unless configured ones win ({@code configured}: the
     * settings the device was created with, {@code mtuConfigured}; {@code maxMtu}: what the JOIN offered). A device
     * whose MTU or addresses change is re-created, keeping its name and MAC; one that would stay the same is not
     * touched. Returns what changed, or null.
     *
     * @throws TapException if the device could not be re-created (the old one is gone)
     */
    String configure(Welcome w, boolean first, TapSettings configured, boolean mtuConfigured, int maxMtu)
            throws TapException {
        TapDevice t = tap;
        TapSettings current = t.settings();
        int mtu = current.mtu();
        if (!mtuConfigured) {
            if (w.mtu() >= TapSettings.MIN_MTU && w.mtu() <= maxMtu) {
                mtu = w.mtu();
            } else {
                LOG.warn("{}Port agent: ignoring the network MTU {} from the switch (allowed: {}..{}), keeping {}",
                        life.tag,
                        w.mtu(), TapSettings.MIN_MTU, maxMtu, mtu);
            }
        } else if (first && w.mtu() != 0 && w.mtu() != mtu) {
            LOG.info("{}Port agent: mtu {} is configured; the network's MTU is {}", life.tag, mtu, w.mtu());
        }
        Cidr ipv4 = configured.ipv4();
        if (ipv4 == null && w.ipv4() != null) {
            ipv4 = cidr(w.ipv4(), w.ipv4Prefix());
        }
        Cidr ipv6 = configured.ipv6();
        if (ipv6 == null && w.ipv6() != null) {
            ipv6 = cidr(w.ipv6(), w.ipv6Prefix());
        }
        if (ipv6 != null && mtu < TapSettings.IPV6_MIN_MTU) {
            LOG.warn("{}Port agent: no IPv6 address {} on the TAP device: its MTU {} is below {}", life.tag, ipv6, mtu,
                    TapSettings.IPV6_MIN_MTU);
            ipv6 = null;
        }
        if (mtu == current.mtu() && Objects.equals(ipv4, current.ipv4()) && Objects.equals(ipv6, current.ipv6())) {
            return null;
        }
        TapSettings next = current.toBuilder().name(t.name()).mac(t.mac()).mtu(mtu).ipv4(ipv4).ipv6(ipv6).build();
        String change = describeChange(current, next);
        t.close(); // deletes the interface: the new one takes its name
        TapDevice created;
        try {
            created = factory.create(next);
        } catch (TapException e) {
            throw new TapException("TAP device " + t.name() + " could not be re-created for the addresses the switch"
                    + " assigned (" + change + "): " + e.getMessage() + "; restart the agent, or configure"
                    + " address/address6/mtu", e.errno(), e);
        }
        synchronized (life.lock) {
            tap = created;
            life.lock.notifyAll();
        }
        return change;
    }

    /** An address the kernel can take, or null (with a WARN) for one it cannot. */
    private Cidr cidr(InetAddress address, int prefix) {
        try {
            return Cidr.of(address, prefix);
        } catch (IllegalArgumentException e) {
            LOG.warn("{}Port agent: ignoring the address {}/{} from the switch: {}", life.tag,
                    Endpoints.format(address), prefix,
                    e.getMessage());
            return null;
        }
    }

    private static String describeChange(TapSettings from, TapSettings to) {
        List<String> c = new ArrayList<>(3);
        if (from.mtu() != to.mtu()) {
            c.add("MTU " + from.mtu() + " -> " + to.mtu());
        }
        if (!Objects.equals(from.ipv4(), to.ipv4())) {
            c.add((from.ipv4() == null ? "none" : from.ipv4()) + " -> " + (to.ipv4() == null ? "none" : to.ipv4()));
        }
        if (!Objects.equals(from.ipv6(), to.ipv6())) {
            c.add((from.ipv6() == null ? "none" : from.ipv6()) + " -> " + (to.ipv6() == null ? "none" : to.ipv6()));
        }
        return "re-created: " + String.join(", ", c);
    }

    /** What the agent put on the device (configured, or assigned by the switch). */
    static List<String> addresses(TapDevice t) {
        List<String> a = new ArrayList<>(2);
        if (t.settings().ipv4() != null) {
            a.add(t.settings().ipv4().toString());
        }
        if (t.settings().ipv6() != null) {
            a.add(t.settings().ipv6().toString());
        }
        return a;
    }

    /** {@code vl2tap0 (02:..., mtu 1454, 10.1.1.101/24, bridge br0)}. */
    String describe() {
        TapDevice t = tap;
        StringBuilder sb = new StringBuilder(t.name()).append(" (").append(t.mac()).append(", mtu ")
                .append(t.mtu());
        for (String a : addresses(t)) {
            sb.append(", ").append(a);
        }
        if (t.settings().bridge() != null) {
            sb.append(", bridge ").append(t.settings().bridge());
        }
        if (t.offload()) {
            sb.append(", offload");
        }
        return sb.append(')').toString();
    }
}

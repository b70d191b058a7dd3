package org.vl2.switching.internal;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.net.SocketException;
import java.util.Collection;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;

import org.vl2.api.spi.Transport;

/**
 * How many unauthenticated ports (raw, learned VXLAN, plaintext vl2: {@link SwitchPort#authenticated()} false,
 * not configured) each source address and each transport holds, and all of them together. A source address of such
 * a port is only claimed: anyone can send a datagram "from" a victim, so without these bounds K forged ports at one
 * address turn one broadcast into K copies toward it, and one host can fill max.ports so that no member can join.
 *
 * <p>An encrypted member that has not yet sent a message that opens counts for its source address too (only there):
 * its initiation proved the key, not the address, so forged initiations could otherwise point any number of ports
 * at one victim. Its first opened message proves the address (the member derived the keys from the RESPONSE sent
 * there) and ends that.
 *
 * <p>IPv6 addresses are grouped by /64: one host usually has a whole /64 to choose source addresses from. Only the
 * registry uses this, on its lock (port creation and removal, never per frame of a known port).
 */
public final class PortQuotas {

    /** Why an endpoint gets no port. */
    enum Refusal {
        /** max.ports are in use. */
        PORT_LIMIT("max.ports"),
        /** Only the share reserved for encrypted members is left. */
        RESERVED("ports.reserved.percent"),
        /** The transport holds its quota of unauthenticated ports. */
        TRANSPORT("ports.per.transport"),
        /** The source address (IPv6 /64) holds its quota. */
        ADDRESS("ports.per.address"),
        /** The source is one of this switch's own listeners: a port there would send the switch its own floods. */
        OWN_LISTENER("-");

        /** The property that sets the bound, for the log ("-": none). */
        final String property;

        Refusal(String property) {
            this.property = property;
        }
    }

    /** What a port is counted as ({@link SwitchPort#quota}). */
    static final int NONE = 0;
    static final int UNAUTHENTICATED = 1;
    static final int UNCONFIRMED = 2;

    private final Map<Long, Integer> perAddress = new HashMap<>();
    private final Map<TransportSlot, Integer> perTransport = new IdentityHashMap<>();
    private int total;
    /** Encrypted members counted as {@link #UNCONFIRMED}. */
    private int unconfirmed;

    /**
     * Whether one more port fits for {@code source} on {@code slot}; null if it does. {@code as}: what the port would
     * be counted as: {@link #NONE} (a configured VTEP) needs room below max.ports only, {@link #UNCONFIRMED} (an
     * encrypted member) also room at its address, {@link #UNAUTHENTICATED} every quota.
     */
    Refusal check(Settings s, int ports, TransportSlot slot, SocketAddress source, int as) {
        if (ports >= s.maxPorts()) {
            return Refusal.PORT_LIMIT;
        }
        Settings.Quotas q = s.quotas();
        if (as == UNCONFIRMED && q.perAddress() > 0 && perAddress.getOrDefault(addressKey(source), 0) >= q.perAddress()) {
            return Refusal.ADDRESS;
        }
        if (as != UNAUTHENTICATED) {
            return null;
        }
        if (total >= q.unauthenticatedRoom(s.maxPorts())) {
            return Refusal.RESERVED;
        }
        if (q.perTransport() > 0 && perTransport.getOrDefault(slot, 0) >= q.perTransport()) {
            return Refusal.TRANSPORT;
        }
        if (q.perAddress() > 0 && perAddress.getOrDefault(addressKey(source), 0) >= q.perAddress()) {
            return Refusal.ADDRESS;
        }
        return null;
    }

    /** Whether an unauthenticated port may move to {@code to} (a different address): its quota is not full. */
    boolean mayMove(Settings s, SwitchPort p, SocketAddress to) {
        int perAddress = s.quotas().perAddress();
        long key = addressKey(to);
        return p.quota == NONE || perAddress == 0 || key == p.quotaAddress
                || this.perAddress.getOrDefault(key, 0) < perAddress;
    }

    /** What a new port counts as: nothing if configured or a confirmed member. */
    static int countsAs(SwitchPort p) {
        if (p.permanent) {
            return NONE;
        }
        if (p.authenticated()) {
            return p.proven ? NONE : UNCONFIRMED;
        }
        return UNAUTHENTICATED;
    }

    /** Counts a new port (see {@link #countsAs}). */
    void add(SwitchPort p) {
        count(p, countsAs(p), addressKey(p.remote));
    }

    private void count(SwitchPort p, int as, long address) {
        p.quota = as;
        if (as == NONE) {
            return;
        }
        p.quotaAddress = address;
        perAddress.merge(address, 1, Integer::sum);
        if (as == UNAUTHENTICATED) {
            perTransport.merge(p.slot, 1, Integer::sum);
            total++;
        } else {
            unconfirmed++;
        }
    }

    /** A port gone, configured now (a static VTEP that sent before), or a member whose message opened. */
    void release(SwitchPort p) {
        int as = p.quota;
        if (as == NONE) {
            return;
        }
        p.quota = NONE;
        perAddress.computeIfPresent(p.quotaAddress, (k, n) -> n == 1 ? null : n - 1);
        if (as == UNAUTHENTICATED) {
            perTransport.computeIfPresent(p.slot, (k, n) -> n == 1 ? null : n - 1);
            total--;
        } else {
            unconfirmed--;
        }
    }

    /** A plaintext member moved (NAT rebinding, re-join): it counts for its new address from now on. */
    void moved(SwitchPort p, SocketAddress to) {
        int as = p.quota;
        if (as != NONE) {
            release(p);
            count(p, as, addressKey(to));
        }
    }

    /**
     * Whether the quotas {@code p} counts in are under pressure: its address holds its full quota, or the
     * unauthenticated ports hold more than half of what their transport or the switch allows them. Then a port
     * that never proved it receives is likely forged and gives its room back after the probation timeout.
     */
    boolean underPressure(Settings s, SwitchPort p) {
        if (p.quota != UNAUTHENTICATED) {
            return false;
        }
        Settings.Quotas q = s.quotas();
        return q.perAddress() > 0 && perAddress.getOrDefault(p.quotaAddress, 0) >= q.perAddress()
                || q.perTransport() > 0 && 2 * perTransport.getOrDefault(p.slot, 0) > q.perTransport()
                || 2 * total > q.unauthenticatedRoom(s.maxPorts());
    }

    /**
     * Whether ports that proved no address (unauthenticated ones and encrypted members whose first message has not
     * opened yet) fill the room beside the reserve. An initiation proves a key, not its source address, so spoofed
     * initiations from many addresses could otherwise take the reserve too: from here on the switch asks every
     * initiation for a cookie, which only an address that receives can return.
     */
    boolean addressProofRequired(Settings s) {
        return total + unconfirmed >= s.quotas().unauthenticatedRoom(s.maxPorts());
    }

    /** Encrypted members whose first sealed message has not opened yet (tests). */
    int unconfirmed() {
        return unconfirmed;
    }

    /** Unauthenticated ports now (tests, log). */
    int total() {
        return total;
    }

    /** Unauthenticated ports of the address (IPv6: its /64) now. */
    int atAddress(SocketAddress source) {
        return perAddress.getOrDefault(addressKey(source), 0);
    }

    /**
     * The quota key of a source: the IPv4 address, or the /64 of an IPv6 address (the IPv4 keys have the top bits
     * set, a range of the IPv6 space, ffff::/16, that is reserved). Other address types: their hash.
     */
    public static long addressKey(SocketAddress source) {
        if (source instanceof InetSocketAddress i && i.getAddress() != null) {
            InetAddress a = i.getAddress();
            if (a instanceof Inet4Address) {
                return 0xffff_ffff_0000_0000L | (a.hashCode() & 0xffff_ffffL); // Inet4Address's hash is the address
            }
            byte[] b = a.getAddress();
            long prefix = 0;
            for (int k = 0; k < 8; k++) {
                prefix = prefix << 8 | (b[k] & 0xff);
            }
            return prefix;
        }
        return source.hashCode();
    }

    /** Why {@code r} refused a port, for the log: the bound and where it is set. */
    static String reason(Refusal r, Settings.Quotas q) {
        return switch (r) {
            case RESERVED -> "only the share of max.ports reserved for encrypted members is left ("
                    + r.property + "=" + q.reservedPercent() + " in " + SwitchCore.PID + ")";
            case TRANSPORT -> "the transport holds its " + r.property + "=" + q.perTransport() + " unauthenticated ports"
                    + " (" + SwitchCore.PID + ")";
            case ADDRESS -> "its address (IPv6: its /64) holds its " + r.property + "=" + q.perAddress()
                    + " unauthenticated (or not yet confirmed encrypted) ports (" + SwitchCore.PID + ")";
            case OWN_LISTENER -> "it is one of this switch's own listeners, so it is forged (a port there would loop "
                    + "floods back into the switch)";
            case PORT_LIMIT -> r.property;
        };
    }

    /**
     * Whether {@code source} is where one of this switch's transports listens (same UDP port, an address of this
     * host). Such a source is forged: a port for it would send the switch its own floods, and with two listeners a
     * pair of such ports forwards one broadcast between them forever. Only for new endpoints (not per frame).
     */
    static boolean ownListener(SocketAddress source, Collection<TransportSlot> slots) {
        if (!(source instanceof InetSocketAddress s) || s.getAddress() == null) {
            return false;
        }
        for (TransportSlot t : slots) {
            Transport transport = t.transport;
            if (transport == null || listenerPort(transport.localAddress()) != s.getPort()) {
                continue;
            }
            InetAddress a = s.getAddress();
            if (a.isLoopbackAddress() || a.isAnyLocalAddress()) {
                return true;
            }
            try {
                return NetworkInterface.getByInetAddress(a) != null;
            } catch (SocketException e) {
                return false;
            }
        }
        return false;
    }

    /** The port of a transport's {@code ip:port} (IPv6 in brackets); -1 if it has none. */
    static int listenerPort(String local) {
        int colon = local == null ? -1 : local.lastIndexOf(':');
        if (colon < 0 || local.indexOf(']', colon) >= 0) {
            return -1;
        }
        try {
            return Integer.parseInt(local.substring(colon + 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}

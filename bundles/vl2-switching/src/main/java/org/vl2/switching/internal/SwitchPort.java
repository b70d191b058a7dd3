package org.vl2.switching.internal;

import java.net.Inet4Address;
import java.net.SocketAddress;
import java.time.Instant;
import java.util.concurrent.atomic.LongAdder;

import org.vl2.api.Endpoints;
import org.vl2.api.PortCounters;
import org.vl2.api.PortId;
import org.vl2.api.PortInfo;
import org.vl2.crypto.Session;

/** A port of the switch: a remote endpoint reached through a transport, member of one network. */
public final class SwitchPort {

    /** How frames are carried to the port. */
    public enum Kind {
        /** One frame per datagram, no header (seed format); the port is its source address. */
        RAW,
        /** vl2 protocol: FRAME messages; the port is a member's session, wherever it sends from. */
        VL2,
        /** The transport encapsulates itself (VXLAN); the port is (remote, network). */
        ENCAP
    }

    public final PortId id;
    public final Kind kind;
    /** How a frame is put on the wire for this port (raw, encapsulated by the transport, vl2 plain or sealed). */
    public final PortFraming framing;
    public final Network network;
    /**
     * The transport the port is reached through. Changes only for an encrypted member whose sealed message opened
     * on another transport (an agent that moved between UDP and TCP keeps its session, see
     * {@link PortRegistry#move}).
     */
    public volatile TransportSlot slot;
    /** Key in the slot's port map (RAW, ENCAP); null for VL2 ports. */
    public final PortKey key;
    public final Instant created;
    /** Configured (a static VTEP): never expires. A learned port becomes permanent when it is configured. */
    public volatile boolean permanent;

    /** vl2 ports: the member id, session token, name and assigned address. */
    public final long member;
    /** Joined through the encrypted handshake: only sealed messages count, and frames to it are sealed. */
    public volatile boolean sealed;
    /** The member's authenticated public key (sealed ports). */
    public volatile byte[] publicKey;
    /** The newest session (sends and receives) and the one before it (receives until it expires, so a rekey loses nothing). */
    public volatile Session session;
    public volatile Session pending;
    public volatile Session previous;
    public volatile long token;
    public volatile String name;
    public volatile Inet4Address address;

    /** Where frames go; changes only for vl2 ports (NAT rebinding, roaming). */
    public volatile SocketAddress remote;

    public final LongAdder rxFrames = new LongAdder();
    public final LongAdder rxBytes = new LongAdder();
    public final LongAdder rxDrops = new LongAdder();
    public final LongAdder txFrames = new LongAdder();
    public final LongAdder txBytes = new LongAdder();
    public final LongAdder txDrops = new LongAdder();

    /**
     * Storm control: flood credit in nanoseconds (one second's worth at most) and when it was last topped up.
     * Written only by the thread receiving this port's frames (one per transport), so plain fields.
     */
    long stormCredit = Long.MAX_VALUE;
    long stormRefilled;
    /** Per-port hygiene: DHCP budget, MAC limit reports, addresses bound by DHCP (see {@link PortHygiene}). */
    final PortGuard guard = new PortGuard();

    /**
     * The remote showed that it receives at its address. A raw or learned VXLAN port: a unicast frame was forwarded
     * to it (a station answered it); one that never was is on probation: its source address is only claimed, so it
     * expires after {@code port.probation.seconds} of silence instead of the idle timeout. An encrypted member: a
     * message of its member opened (it derived the keys from the RESPONSE sent to its address). Set once.
     */
    public volatile boolean proven;
    /**
     * What the port counts as in {@link PortQuotas} (none, unauthenticated, unconfirmed member) and under which
     * address; written under the registry's lock.
     */
    int quota;
    long quotaAddress;

    /** The version of the network's routes the member last acknowledged (ROUTES-ACK), 0 before the first. */
    public volatile long routesAcked;
    /** Housekeeping only: the version last sent, when to send it again, how often it went unacknowledged. */
    public long routesSent;
    public long routesDueNanos;
    public int routesTries;

    /** An encrypted member whose JOIN said it takes pair keys (JOIN capability CAP_PAIRS). */
    public volatile boolean pairCapable;
    /**
     * A pair-capable member whose JOIN also said it takes direct paths (CAP_DIRECT): as a pair's sender it gets the
     * receiver's endpoint in PAIR SEND, as a receiver it takes a pair's frames straight from the sender.
     */
    public volatile boolean directCapable;
    /**
     * Pairs this port sends on and receives on (copy-on-write, written by the pairing under its lock, read lock-free
     * by the data path): a handful per member, so a scan is cheaper than a map.
     */
    public volatile PortPair[] pairsOut = NO_PAIRS;
    public volatile PortPair[] pairsIn = NO_PAIRS;
    static final PortPair[] NO_PAIRS = new PortPair[0];

    /** Monotonic time of the last datagram received from the port; a plain volatile write per frame. */
    public volatile long lastSeenNanos;
    /**
     * Monotonic time at which the stream connection the port was reached through closed (TCP: a dead agent, a
     * reset), 0 while it is open or for datagram transports. Housekeeping removes the port (and frees its lease)
     * a short grace after it unless the member shows up again meanwhile (moves to another connection or transport).
     */
    public volatile long connectionClosedNanos;
    /** Set once the port is removed, so that a racing receive does not resurrect it silently. */
    public volatile boolean removed;

    SwitchPort(PortId id, Kind kind, PortFraming framing, Network network, TransportSlot slot, PortKey key,
               SocketAddress remote, long member, boolean permanent, long nowNanos, Instant created) {
        this.id = id;
        this.framing = framing;
        this.kind = kind;
        this.network = network;
        this.slot = slot;
        this.key = key;
        this.remote = remote;
        this.member = member;
        this.permanent = permanent;
        this.lastSeenNanos = nowNanos;
        this.created = created;
    }

    /**
     * Whether the port is an encrypted vl2 member: it joined through the handshake, so its key is authenticated
     * and only messages that open with its session count. Raw, VXLAN and plaintext vl2 ports are not: their
     * source address (and plaintext member id) is only claimed.
     */
    public boolean authenticated() {
        return kind == Kind.VL2 && sealed;
    }

    /**
     * A new handshake's session. A first one is used at once; a later one (re-join, rekey) waits as pending
     * until a message opens with it (the agent has the keys then), so frames sealed for it never reach an agent
     * still on the old keys. The old one keeps opening until it expires.
     */
    public synchronized void install(Session next) {
        if (session == null) {
            session = next;
        } else {
            pending = next;
        }
    }

    /** A message opened with the pending session: it becomes the one frames are sealed with. */
    public synchronized void confirm(Session s) {
        if (pending == s) {
            previous = session;
            session = s;
            pending = null;
            routesAcked = 0; // maybe another agent instance (a restart): it gets the routes again, under these keys
        }
    }

    /** The session with this (switch-side) index, or null. */
    public Session sessionFor(int index) {
        Session s = session;
        if (s != null && s.localIndex() == index) {
            return s;
        }
        s = pending;
        if (s != null && s.localIndex() == index) {
            return s;
        }
        s = previous;
        return s != null && s.localIndex() == index ? s : null;
    }

    /** The pair this port sends on under {@code index}, or null. */
    public PortPair pairOut(int index) {
        for (PortPair pp : pairsOut) {
            if (pp.index == index) {
                return pp;
            }
        }
        return null;
    }

    /** The pair this port sends flow (vlan, source, destination) on, whatever its state, or null. */
    public PortPair pairOut(int vlan, long source, long destination) {
        for (PortPair pp : pairsOut) {
            if (pp.carries(vlan, source, destination)) {
                return pp;
            }
        }
        return null;
    }

    PortInfo info(long nowNanos, Instant now) {
        PortCounters c = new PortCounters(rxFrames.sum(), rxBytes.sum(), txFrames.sum(), txBytes.sum(),
                rxDrops.sum(), txDrops.sum());
        Instant lastSeen = now.minusNanos(Math.max(0, nowNanos - lastSeenNanos));
        Inet4Address a = address;
        String mode = slot.transport == null ? "detached" : sealed ? slot.mode + "/encrypted" : slot.mode;
        return new PortInfo(id, network.id, slot.name, mode,
                Endpoints.format(remote), c, created, lastSeen,
                kind == Kind.VL2 ? memberId(member) : null, name,
                a == null ? null : a.getHostAddress());
    }

    /** A member id as operators see it: 16 hex digits. */
    public static String memberId(long member) {
        return org.vl2.crypto.Identity.formatMemberId(member);
    }

    @Override
    public String toString() {
        return "port " + id + " (" + slot.name + " " + Endpoints.format(remote) + ")";
    }
}

package org.vl2.switching.internal;

import java.net.SocketAddress;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Endpoints;
import org.vl2.api.MacTableAdminService;
import org.vl2.api.Networks;
import org.vl2.api.PortId;
import org.vl2.api.spi.Transport;
import org.vl2.crypto.Session;
import org.vl2.switching.internal.SwitchPort.Kind;

/**
 * The only place ports are created and removed: raw and encapsulated ports for a source (learned on their first
 * valid frame, or attached by a transport), vl2 ports once admission accepted a member, expiry of silent ports,
 * cut-off of members a private network no longer authorizes, the port limit, the quotas of unauthenticated ports
 * ({@link PortQuotas}: per source address and transport, room reserved for encrypted members, probation of ports
 * that never proved they receive) and port ids. Lookups (by id, by
 * (source, network) in a transport's slot, by session number) take no lock; changes are serialised on the
 * registry's lock, which admission also holds while it decides ({@link #exclusive}).
 */
public final class PortRegistry {

    private static final Logger LOG = LoggerFactory.getLogger(PortRegistry.class);
    /** Between two warnings about refused unauthenticated ports. */
    private static final long QUOTA_LOG_NANOS = 60_000_000_000L;
    /**
     * How long a member whose stream connection closed keeps its port: time for an agent that reconnects, or that
     * moves to another transport, to show up there with its session (it sends a keepalive at once).
     */
    static final long CONNECTION_GRACE_NANOS = 5_000_000_000L;

    private final MacTableAdminService fdb;
    private final Addressing addressing;
    private final Supplier<Settings> settings;
    private final LongSupplier nanoClock;
    private final SwitchCounters counters;
    private final Object lock = new Object();
    /** On the lock. */
    private final PortQuotas quotas = new PortQuotas();
    private long quotaWarnedAt;
    private boolean quotaWarned;

    private final Map<PortId, SwitchPort> ports = new ConcurrentHashMap<>();
    /**
     * Encrypted members that proved their keys, by the address they send from: their rekeys go ahead of newcomers'
     * joins on the handshake thread ({@code HandshakeWorker}). Changed under the lock, read without it.
     */
    private final Map<SocketAddress, SwitchPort> provenRemotes = new ConcurrentHashMap<>();
    /** By transport name: the slots (and their ports) outlive the transport services. */
    private final Map<String, TransportSlot> slots = new ConcurrentHashMap<>();
    /** Plaintext vl2 sessions by port number (the number and token in their header). */
    private final SessionTable sessions = new SessionTable();
    /** Sealed sessions by the switch's session index: random 32-bit, unlike any other live one. */
    private final SessionTable sealedSessions = new SessionTable();
    private final SecureRandom random = new SecureRandom();
    private final AtomicInteger nextPortNumber = new AtomicInteger(1);
    private final AtomicBoolean portLimitWarned = new AtomicBoolean();
    /** Told about every member cut off (admission forgets its handshake state). */
    private volatile Consumer<SwitchPort> cutOffListener = p -> { };
    private volatile Consumer<SwitchPort> removedListener = p -> { };
    private volatile Consumer<SwitchPort> movedListener = p -> { };

    PortRegistry(MacTableAdminService fdb, Addressing addressing, Supplier<Settings> settings, LongSupplier nanoClock,
                 SwitchCounters counters) {
        this.fdb = fdb;
        this.addressing = addressing;
        this.settings = settings;
        this.nanoClock = nanoClock;
        this.counters = counters;
    }

    void onCutOff(Consumer<SwitchPort> listener) {
        this.cutOffListener = listener;
    }

    /** Told of every port removed, after its MAC entries and indices went (the pairing revokes its pairs). */
    void onRemoved(Consumer<SwitchPort> listener) {
        this.removedListener = listener;
    }

    /** Told of every port moved to another endpoint, after the move (the pairing ends pairs that named the old one). */
    void onMoved(Consumer<SwitchPort> listener) {
        this.movedListener = listener;
    }

    // ---- lookups (no lock) ----------------------------------------------------------------------------------

    public SwitchPort get(PortId id) {
        return ports.get(id);
    }

    Collection<SwitchPort> all() {
        return ports.values();
    }

    int size() {
        return ports.size();
    }

    /** The vl2 port with this port number, or null. */
    public SwitchPort session(int number) {
        return sessions.get(number);
    }

    /**
     * Whether an encrypted member that proved its keys sends from {@code source} (a hint, not a proof: the source
     * of a datagram can be forged; it only picks the handshake thread's lane, the handshake still authenticates).
     */
    public boolean establishedAt(SocketAddress source) {
        SwitchPort p = provenRemotes.get(source);
        return p != null && !p.removed;
    }

    /** Whether a sealed member with this public key holds a port now (rare: when the replay guard is full). */
    public boolean holdsSealedPort(byte[] key) {
        for (SwitchPort p : ports.values()) {
            if (p.sealed && java.util.Arrays.equals(p.publicKey, key)) {
                return true;
            }
        }
        return false;
    }

    /** The vl2 port with a sealed session under this (switch-side) index, or null; the port says which session. */
    public SwitchPort sealedSession(int index) {
        return sealedSessions.get(index);
    }

    /** Slots of the session table now (it follows the live ports). */
    int sessionCapacity() {
        return sessions.capacity();
    }

    /** Sealed session indices held now (current, pending and previous sessions of the live ports). */
    int sealedSessionCount() {
        return sealedSessions.size();
    }

    /**
     * A new sealed session for {@code p}: a fresh random index (no live session has it; a port's later sessions keep
     * the lowest byte of its first, which picks its receive thread), {@code respond} builds the
     * handshake's answer with it (null: refused), and its session is installed; indices of sessions the port no
     * longer holds (a replaced pending one) are released. Returns what respond returned.
     */
    public <T> T newSession(SwitchPort p, IntFunction<T> respond, Function<T, Session> session) {
        synchronized (p) {
            Session current = p.session;
            int index = sealedSessions.allocate(p, random, current == null ? -1 : current.localIndex() & 0xff);
            T answer = respond.apply(index);
            if (answer != null) {
                p.install(session.apply(answer));
            }
            sessionsChanged(p);
            return answer;
        }
    }

    /**
     * The sessions of {@code p} changed (a pending one confirmed, the previous one dropped): releases the indices it
     * no longer holds, all of them once it is removed. Rare (once per handshake), so it may rebuild the table.
     */
    public void sessionsChanged(SwitchPort p) {
        synchronized (p) {
            sealedSessions.retain(p, k -> !p.removed && (p.sessionFor(k) != null || p.pairOut(k) != null));
        }
    }

    /**
     * A fresh index for a pair that {@code sender} sends on (docs/protocol.md, "Pair keys"), from the space of the
     * sealed sessions' indices, so the datagrams find the sender's port as a session's do and never collide with
     * one; with the lowest byte of the sender's session index, which picks the receive thread: the flow stays on the
     * thread its frames came through before the pair, in order. Released by {@link #sessionsChanged} once the port no
     * longer holds the pair. 0 if the port has no session (gone meanwhile).
     */
    public int newPairIndex(SwitchPort sender) {
        synchronized (sender) {
            Session s = sender.session;
            if (s == null || sender.removed) {
                return 0;
            }
            return sealedSessions.allocate(sender, random, s.localIndex() & 0xff);
        }
    }

    TransportSlot slot(String transport) {
        return slots.get(transport);
    }

    TransportSlot slotFor(String transport) {
        return slots.computeIfAbsent(transport, TransportSlot::new);
    }

    Collection<TransportSlot> slots() {
        return slots.values();
    }

    /** Removes the raw ports of {@code slot} that are not in {@code network} (the transport feeds another one now). */
    void moveRaw(TransportSlot slot, long network, String why) {
        for (SwitchPort p : ports.values()) {
            if (p.slot == slot && p.kind == Kind.RAW && p.network.id != network) {
                remove(p, why, false);
            }
        }
    }

    int portCount(TransportSlot slot) {
        int n = 0;
        for (SwitchPort p : ports.values()) {
            if (p.slot == slot) {
                n++;
            }
        }
        return n;
    }

    // ---- changes ----------------------------------------------------------------------------------------

    /** Runs a decision that must see the ports unchanged while it runs (admission, network changes). */
    public <T> T exclusive(Supplier<T> change) {
        synchronized (lock) {
            return change.get();
        }
    }

    /**
     * Whether another port fits for {@code source} on {@code slot}: below max.ports; an encrypted member
     * ({@code authenticated}) also within the quota of its source address (until its first message opens, see
     * {@link PortQuotas}), any other port within every quota of unauthenticated ports. A refusal is counted and
     * warned about (rate-limited). Call it inside {@link #exclusive}.
     */
    public boolean hasRoom(TransportSlot slot, SocketAddress source, boolean authenticated) {
        return hasRoom(slot, source, authenticated ? PortQuotas.UNCONFIRMED : PortQuotas.UNAUTHENTICATED);
    }

    private boolean hasRoom(TransportSlot slot, SocketAddress source, int as) {
        PortQuotas.Refusal r = quotas.check(settings.get(), ports.size(), slot, source, as);
        if (r == null) {
            return true;
        }
        refused(r, slot, source);
        return false;
    }

    /** Counts a refusal; warns about it (quotas: at most once a minute). */
    private void refused(PortQuotas.Refusal r, TransportSlot slot, SocketAddress source) {
        if (r == PortQuotas.Refusal.PORT_LIMIT) {
            counters.dropPortLimit.increment();
            if (portLimitWarned.compareAndSet(false, true)) {
                LOG.warn("Port limit reached ({} ports, max.ports in {}): new endpoints are refused", ports.size(),
                        SwitchCore.PID);
            }
        } else {
            counters.dropPortQuota.increment();
            long now = nanoClock.getAsLong();
            if (!quotaWarned || now - quotaWarnedAt > QUOTA_LOG_NANOS) {
                quotaWarned = true;
                quotaWarnedAt = now;
                LOG.warn("Port refused for {} on transport {}: {}. Source addresses of raw, VXLAN and plaintext ports, "
                        + "and of encrypted members before their first message, are only claimed, so the switch bounds "
                        + "them (docs/security.md); further refusals are counted (vl2:stats, port quota) and warned "
                        + "about at most once a minute",
                        Endpoints.format(source), slot.name, PortQuotas.reason(r, settings.get().quotas()));
            }
        }
    }

    /**
     * A RAW or ENCAP port for (source, network), the existing one if any; null if it does not fit (counted). A
     * {@code permanent} port (a configured VTEP) is not bound by the quotas of unauthenticated ports.
     */
    SwitchPort open(TransportSlot slot, Kind kind, SocketAddress source, Network network, boolean permanent) {
        SwitchPort port;
        PortKey key = new PortKey(source, network.id);
        synchronized (lock) {
            port = slot.ports.get(key);
            if (port != null) {
                return port;
            }
            if (!hasRoom(slot, source, permanent ? PortQuotas.NONE : PortQuotas.UNAUTHENTICATED)) {
                return null;
            }
            if (!permanent && PortQuotas.ownListener(source, slots.values())) {
                refused(PortQuotas.Refusal.OWN_LISTENER, slot, source);
                return null;
            }
            port = new SwitchPort(nextPortId(), kind, kind == Kind.RAW ? PortFraming.RAW : PortFraming.ENCAP,
                    network, slot, key, source, 0, permanent, nanoClock.getAsLong(), Instant.now());
            ports.put(port.id, port);
            slot.ports.put(key, port);
            network.add(port);
            quotas.add(port);
        }
        LOG.info("Port {} up: {} {} {}{}{}", port.id, slot.name, slot.mode, Endpoints.format(source),
                network.id == Networks.DEFAULT ? "" : " in network " + Networks.format(network.id),
                permanent ? " (static)" : "");
        return port;
    }

    /** A permanent ENCAP port (a configured remote VTEP); an existing learned one becomes permanent. */
    PortId attach(TransportSlot slot, SocketAddress remote, Network network) {
        SwitchPort p = slot.ports.get(new PortKey(remote, network.id));
        if (p != null) {
            synchronized (lock) {
                p.permanent = true; // it sent before it was configured: from now on it is configured
                quotas.release(p);
            }
            return p.id;
        }
        p = open(slot, Kind.ENCAP, remote, network, true);
        return p == null ? null : p.id;
    }

    boolean detach(TransportSlot slot, SocketAddress remote, long network, String transport) {
        SwitchPort p = slot == null ? null : slot.ports.get(new PortKey(remote, network));
        if (p == null) {
            return false;
        }
        remove(p, "detached by transport " + transport, true);
        return true;
    }

    /**
     * A vl2 port for an admitted member, with its framing, registered under its session number. Call it inside
     * {@link #exclusive}, after {@link #hasRoom} (the port's {@code sealed} is set in {@code setUp}).
     */
    public SwitchPort openMember(TransportSlot slot, PortFraming framing, SocketAddress source, Network network,
                                 long member, Consumer<SwitchPort> setUp) {
        SwitchPort port = new SwitchPort(nextPortId(), Kind.VL2, framing, network, slot, null, source, member, false,
                nanoClock.getAsLong(), Instant.now());
        setUp.accept(port);
        ports.put(port.id, port);
        sessions.put(port.id.number(), port);
        network.members.put(member, port);
        network.add(port);
        quotas.add(port);
        return port;
    }

    /**
     * A message of an encrypted member opened for the first time: it holds the session keys, so its address
     * receives, and it no longer counts for that address ({@link PortQuotas}). Once per port (the caller checks
     * {@link SwitchPort#proven} first), so the lock is not taken per frame.
     */
    public void proven(SwitchPort p) {
        synchronized (lock) {
            p.proven = true;
            if (p.authenticated() && !p.removed) {
                provenRemotes.put(p.remote, p);
            }
            if (p.quota == PortQuotas.UNCONFIRMED) {
                quotas.release(p);
            }
        }
    }

    /**
     * NAT rebinding or roaming: a member's session now comes from another address. An unauthenticated (plaintext)
     * member does not move to an address whose quota is full: whoever holds its token could otherwise point any
     * number of ports at one victim. Its frames still count; it stays where it was.
     */
    public void move(SwitchPort p, SocketAddress source) {
        move(p, p.slot, source);
    }

    /**
     * {@link #move(SwitchPort, SocketAddress)}, also to another transport: an encrypted member whose sealed message
     * opened on {@code slot} (an agent that moved between UDP and TCP keeps its session and port). Only a proven
     * encrypted member changes transports: it counts in no quota, so the move is free of quota bookkeeping.
     */
    public void move(SwitchPort p, TransportSlot slot, SocketAddress source) {
        SocketAddress old;
        TransportSlot from;
        synchronized (lock) {
            old = p.remote;
            from = p.slot;
            if (source.equals(old) && slot == from || p.removed) {
                return;
            }
            if (slot != from && !(p.authenticated() && p.quota == PortQuotas.NONE)) {
                return;
            }
            if (!quotas.mayMove(settings.get(), p, source)) {
                refused(PortQuotas.Refusal.ADDRESS, p.slot, source);
                return;
            }
            p.remote = source;
            p.slot = slot;
            p.connectionClosedNanos = 0;
            if (provenRemotes.remove(old, p)) {
                provenRemotes.put(source, p);
            }
            quotas.moved(p, source);
        }
        LOG.info("Port {} (member {}) moved from {} to {}{}", p.id, SwitchPort.memberId(p.member),
                Endpoints.format(old), Endpoints.format(source),
                slot == from ? "" : " (transport " + from.name + " -> " + slot.name + ")");
        movedListener.accept(p);
    }

    /**
     * A stream transport's connection from {@code remote} closed: the vl2 port reached through it is removed after
     * {@link #CONNECTION_GRACE_NANOS} unless its member shows up again (see {@link #expireIdle}), so a dead agent's
     * port and address are free within seconds rather than after the session timeout. Rare (once per connection):
     * a scan of the ports. A match is marked under the lock that {@link #move} holds: a member whose message arrives
     * on another transport while its old connection is being closed (an agent moving back to UDP) is either moved
     * first and not marked, or marked first and cleared by the move, never moved and then marked.
     */
    void connectionClosed(TransportSlot slot, SocketAddress remote) {
        long now = nanoClock.getAsLong();
        for (SwitchPort p : ports.values()) {
            if (p.kind == Kind.VL2 && p.slot == slot && remote.equals(p.remote) && !p.removed) {
                synchronized (lock) {
                    if (p.slot == slot && remote.equals(p.remote) && !p.removed) {
                        p.connectionClosedNanos = now == 0 ? 1 : now;
                    }
                }
            }
        }
    }

    private PortId nextPortId() {
        return PortId.of(nextPortNumber.getAndIncrement());
    }

    /**
     * Removes a port: MAC entries flushed. {@code releaseLease}: a vl2 member's address is freed (the port
     * expired); otherwise it is kept (the switch stops, the member left, the network went).
     */
    public void remove(SwitchPort port, String why, boolean releaseLease) {
        remove(port, why, releaseLease, 0);
    }

    /**
     * {@link #remove(SwitchPort, String, boolean)}; with {@code closedNanos} other than 0 only if the port's connection
     * is still the one that closed then (a {@link #move} in between cleared it: the member came back).
     */
    private void remove(SwitchPort port, String why, boolean releaseLease, long closedNanos) {
        synchronized (lock) {
            if (port.removed || closedNanos != 0 && port.connectionClosedNanos != closedNanos) {
                return;
            }
            port.removed = true;
            ports.remove(port.id, port);
            if (port.key != null) {
                port.slot.ports.remove(port.key, port);
            }
            if (port.kind == Kind.VL2) {
                sessions.remove(port.id.number(), port);
                port.network.members.remove(port.member, port);
                provenRemotes.remove(port.remote, port);
            }
            port.network.remove(port);
            quotas.release(port);
            portLimitWarned.set(false);
        }
        int flushed = fdb.flushPort(port.id);
        if (port.kind == Kind.VL2) {
            sessionsChanged(port); // removed: every index goes
            addressing.portGone(port, releaseLease);
        }
        removedListener.accept(port);
        LOG.info("Port {} down ({} {}): {}; {} MAC entries flushed", port.id, port.slot.name,
                Endpoints.format(port.remote), why, flushed);
    }

    /**
     * Removes ports silent for longer than their timeout: vl2 members after three keepalive intervals; raw and
     * learned VXLAN ports after the idle timeout, or the (shorter) probation timeout while no unicast was ever
     * forwarded to them: a forged port only ever sends, so it holds its quota briefly once the forger stops.
     */
    void expireIdle() {
        Settings s = settings.get();
        long now = nanoClock.getAsLong();
        for (SwitchPort p : ports.values()) {
            long closed = p.connectionClosedNanos;
            if (closed != 0 && now - closed > CONNECTION_GRACE_NANOS) {
                remove(p, "its " + p.slot.name + " connection from " + Endpoints.format(p.remote) + " closed "
                        + TimeUnit.NANOSECONDS.toSeconds(now - closed) + " s ago and it did not come back", true,
                        closed);
                continue;
            }
            boolean probation = onProbation(p, s);
            long timeout = timeout(p, s, probation);
            long idle = now - p.lastSeenNanos;
            if (timeout > 0 && idle > timeout) {
                remove(p, "silent for " + TimeUnit.NANOSECONDS.toSeconds(idle) + " s"
                        + (probation ? " (on probation: no unicast was ever forwarded to it, and the quotas of "
                        + "unauthenticated ports are under pressure)" : ""), true);
            }
        }
    }

    private static long timeout(SwitchPort p, Settings s, boolean probation) {
        if (p.permanent) {
            return 0;
        }
        if (p.kind == Kind.VL2) {
            return s.sessionTimeoutNanos();
        }
        long idle = s.portIdleTimeoutNanos();
        if (probation) {
            long probationNanos = s.quotas().probationNanos();
            return idle == 0 ? probationNanos : Math.min(idle, probationNanos);
        }
        return idle;
    }

    /**
     * A raw or learned VXLAN port that never got a unicast frame, while the quotas it counts in are under pressure
     * ({@link PortQuotas#underPressure}): then it expires after the probation timeout. Without pressure it keeps
     * the idle timeout, so a seed VPort whose host stays quiet until someone calls on it is not dropped meanwhile.
     */
    private boolean onProbation(SwitchPort p, Settings s) {
        if (p.kind == Kind.VL2 || p.permanent || p.proven || s.quotas().probationNanos() == 0) {
            return false;
        }
        synchronized (lock) {
            return quotas.underPressure(s, p);
        }
    }

    /**
     * Whether a handshake needs an initiation whose cookie proves its source address: ports that proved none fill
     * the room beside the reserve ({@link PortQuotas#addressProofRequired}).
     */
    public boolean addressProofRequired() {
        Settings s = settings.get();
        synchronized (lock) {
            return quotas.addressProofRequired(s);
        }
    }

    /** Encrypted members not confirmed yet (tests). */
    int unconfirmed() {
        synchronized (lock) {
            return quotas.unconfirmed();
        }
    }

    /** Unauthenticated ports now, and at an address (tests). */
    int unauthenticated() {
        synchronized (lock) {
            return quotas.total();
        }
    }

    int unauthenticatedAt(SocketAddress source) {
        synchronized (lock) {
            return quotas.atAddress(source);
        }
    }

    /**
     * Removes the ports {@code s} no longer admits: vl2 members a private network does not authorize, and every port
     * without an identity (raw, VXLAN, plaintext vl2 joins) once the network is not open to plaintext. Their next
     * frame finds no port (or session) and is dropped. Inside {@link #exclusive}, before the settings are published,
     * so that a network shown as sealed or private has no such port left.
     */
    void cutOffUnauthorized(Network n, NetworkSettings s) {
        boolean plaintext = s.openToPlaintext();
        for (SwitchPort p : n.ports()) {
            if (p.kind != Kind.VL2) {
                if (!plaintext) {
                    remove(p, "network " + Networks.format(n.id) + " is " + s.access() + " (not open to plaintext: "
                            + "raw and VXLAN ports are not admitted)", false);
                }
            } else if (!p.sealed && !plaintext || s.privateNetwork() && !s.authorizes(p.publicKey, p.member)) {
                cutOffListener.accept(p);
                remove(p, "member " + SwitchPort.memberId(p.member) + " is not authorized on " + s.access()
                        + " network " + Networks.format(n.id) + (p.sealed ? " (any more)" : " (it joined in plaintext)"),
                        true);
            }
        }
    }
}

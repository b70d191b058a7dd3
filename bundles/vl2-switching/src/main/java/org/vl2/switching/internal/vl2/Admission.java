package org.vl2.switching.internal.vl2;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Endpoints;
import org.vl2.api.Networks;
import org.vl2.api.spi.Transport;
import org.vl2.crypto.CipherPolicy;
import org.vl2.crypto.CipherSuite;
import org.vl2.crypto.CookieChecker;
import org.vl2.crypto.CryptoException;
import org.vl2.crypto.Identity;
import org.vl2.crypto.Responder;
import org.vl2.crypto.Session;
import org.vl2.crypto.TimestampGuard;
import org.vl2.ipam.AddressConflictException;
import org.vl2.ipam.LeaseTable;
import org.vl2.protocol.ErrorCode;
import org.vl2.protocol.Join;
import org.vl2.protocol.Leave;
import org.vl2.protocol.ProtocolException;
import org.vl2.protocol.Welcome;
import org.vl2.protocol.Wire;
import org.vl2.switching.internal.Addressing;
import org.vl2.switching.internal.Egress;
import org.vl2.switching.internal.Network;
import org.vl2.switching.internal.NetworkSettings;
import org.vl2.switching.internal.PortRegistry;
import org.vl2.switching.internal.Settings;
import org.vl2.switching.internal.SwitchCounters;
import org.vl2.switching.internal.SwitchPort;
import org.vl2.switching.internal.SwitchPort.Kind;
import org.vl2.switching.internal.TransportSlot;

/**
 * Who becomes a member: plaintext JOIN (where allowed), the encrypted handshake (INITIATION: cookies under load
 * through {@link HandshakeGate}, replay guard, then the JOIN it carries), LEAVE. Admission checks network,
 * authorization, frame size, room and address, then asks the {@link PortRegistry} for the member's port, all on
 * the registry's lock. Everything here is rare next to frames, so it may allocate.
 */
final class Admission {

    private static final Logger LOG = LoggerFactory.getLogger(Admission.class);
    /** Between two warnings about a handshake flood. */
    private static final long FLOOD_LOG_NANOS = 60_000_000_000L;
    static final int COOKIE_REPLIES_PER_SOURCE = 10;
    /** What an unauthenticated ERROR says about an address: nobody's member id, nobody's address. */
    static final String ADDRESS_TAKEN = "address in use or outside the network";

    private final PortRegistry registry;
    private final LongFunction<Network> networks;
    private final Addressing addressing;
    private final Replies replies;
    private final SwitchCounters counters;
    private final Supplier<Settings> settings;
    private final LongSupplier nanoClock;
    private final Identity identity;
    /**
     * Newest answered initiation timestamp per member key: replayed initiations are refused. When full it forgets
     * only keys that neither hold a port nor are listed by a private network: no passer-by pushes a member out.
     */
    private final TimestampGuard guard;
    /** mac1 and mac2 of initiations, and the cookies the switch hands out under load. */
    private final CookieChecker cookies;
    /** Where the Diffie-Hellman runs: off the receive threads (docs/architecture.md, Threads). */
    private final HandshakeWorker worker;
    private final HandshakeGate gate;
    /** What agents whose cipher offer this switch cannot meet are told, and logging each such member once. */
    private final CipherRefusals ciphers = new CipherRefusals();
    /**
     * Cookie replies per source (IPv4 address, IPv6 /64) and second: an honest agent asks once a second, a flood
     * forging one victim's address draws at most this many 52-byte replies toward it.
     */
    private final SourceBudget cookieBudget = new SourceBudget(COOKIE_REPLIES_PER_SOURCE);
    private final SecureRandom random = new SecureRandom();
    private final AtomicLong floodLoggedAt = new AtomicLong(Long.MIN_VALUE);
    /** Between two refusals logged. */
    private static final long REFUSAL_LOG_NANOS = 1_000_000_000L;
    private long refusalLoggedAt = Long.MIN_VALUE;
    private long refusalsNotLogged;

    Admission(PortRegistry registry, LongFunction<Network> networks, Addressing addressing, Replies replies,
              SwitchCounters counters, Supplier<Settings> settings, LongSupplier nanoClock, Identity identity,
              Predicate<byte[]> listed, HandshakeWorker worker) {
        this.worker = worker;
        this.gate = new HandshakeGate(worker::perSecond);
        this.registry = registry;
        this.networks = networks;
        this.addressing = addressing;
        this.replies = replies;
        this.counters = counters;
        this.settings = settings;
        this.nanoClock = nanoClock;
        this.identity = identity;
        this.cookies = new CookieChecker(identity);
        this.guard = new TimestampGuard(TimestampGuard.DEFAULT_CAPACITY,
                key -> listed.test(key) || registry.holdsSealedPort(key));
    }

    /** A plaintext JOIN: only for a network open to plaintext (never a sealed or private one). */
    void join(Transport transport, TransportSlot slot, SocketAddress source, ByteBuffer d, Egress e) {
        Join j;
        try {
            j = Join.decode(d);
        } catch (ProtocolException ex) {
            counters.malformed.increment();
            return;
        }
        int requestLength = d.remaining();
        Network target = networks.apply(j.network());
        if (target != null && !target.settings().openToPlaintext()) {
            // the same answer for sealed and private: an unauthenticated sender learns nothing about the network
            replies.error(transport, source, ErrorCode.NOT_AUTHORIZED, 0, j.nonce(),
                    "encrypted joins only (agent: switch.key)", requestLength, e);
            return;
        }
        Admitted a = admit(transport, slot, source, j, j.member(), null, requestLength, e, null);
        if (a == null) {
            return;
        }
        replies.welcome(transport, source, a.welcome, requestLength, e);
        a.log(null);
    }

    /**
     * An INITIATION (docs/crypto.md), on a receive thread: what it costs is decided here (mac1, cookies under load,
     * the budget: HMACs only), the handshake itself is queued for the {@link HandshakeWorker}. A full queue drops it
     * (counted as throttled; the agent retries in a second).
     */
    void initiation(Transport transport, TransportSlot slot, SocketAddress source, ByteBuffer d, Egress e) {
        int requestLength = d.remaining();
        if (!(source instanceof InetSocketAddress from) || from.isUnresolved()) {
            counters.malformed.increment();
            return;
        }
        CookieChecker.Check check = cookies.check(d, from);
        if (check == CookieChecker.Check.MALFORMED || check == CookieChecker.Check.BAD_MAC1) {
            counters.badSession.increment(); // not for this switch's key: one HMAC spent, nothing answered
            return;
        }
        long now = nanoClock.getAsLong();
        boolean unproven = check != CookieChecker.Check.MAC2_VALID;
        boolean addressProof = unproven && registry.addressProofRequired();
        // the worker falls behind: a queue slot only for an initiation that proved its address
        boolean backlog = unproven && worker.backlogged();
        HandshakeGate.Decision decision = gate.decide(check, from.getAddress(), now, addressProof || backlog);
        if (decision != HandshakeGate.Decision.HANDSHAKE) {
            refuseInitiation(transport, source, d, from, decision, now, addressProof, backlog);
            return;
        }
        byte[] initiation = new byte[requestLength];
        d.get(d.position(), initiation);
        if (!worker.offer(w -> handshake(transport, slot, source, initiation, w), this::unanswered,
                registry.establishedAt(source), e)) {
            unanswered();
        }
    }

    /** An initiation the handshake thread had no room or time for: the agent retries. */
    private void unanswered() {
        counters.handshakesThrottled.increment();
        counters.badSession.increment();
    }

    /** A cookie reply (within the source's budget) or nothing, for an initiation the gate gave no handshake. */
    private void refuseInitiation(Transport transport, SocketAddress source, ByteBuffer d, InetSocketAddress from,
                                  HandshakeGate.Decision decision, long now, boolean addressProof, boolean backlog) {
        if (decision == HandshakeGate.Decision.COOKIE_REPLY && cookieBudget.allow(source, now)) {
            transport.send(source, ByteBuffer.wrap(cookies.cookieReply(d, from))); // 52 bytes, < the request
            counters.cookieReplies.increment();
        } else {
            counters.handshakesThrottled.increment();
        }
        counters.badSession.increment();
        // at most one line per FLOOD_LOG_NANOS; a flood refuses on every receive thread, so no lock here
        long logged = floodLoggedAt.get();
        if ((logged != Long.MIN_VALUE && now - logged <= FLOOD_LOG_NANOS)
                || !floodLoggedAt.compareAndSet(logged, now)) {
            return;
        }
        if (addressProof) {
            LOG.warn("Ports that proved no source address fill the room beside the reserve for encrypted "
                    + "members (ports.reserved.percent in org.vl2.switching): until they go, initiations "
                    + "without a valid cookie get a COOKIE-REPLY instead of a handshake (docs/security.md)");
        } else if (backlog) {
            // the same words as a flood by rate: operators (and NetworkE2EIT) look for them
            LOG.warn("Handshake flood: the handshake thread's queue is half full; until it catches up, initiations "
                    + "without a valid cookie get a COOKIE-REPLY instead of a handshake, and each source address at "
                    + "most {} handshakes per second (docs/crypto.md)", HandshakeGate.PER_SOURCE);
        } else {
            LOG.warn("Handshake flood: more than {} initiations per second; until it stops, initiations "
                    + "without a valid cookie get a COOKIE-REPLY instead of a handshake, and each source "
                    + "address at most {} handshakes per second (docs/crypto.md)", gate.loadThreshold(),
                    HandshakeGate.PER_SOURCE);
        }
    }

    /**
     * On the handshake worker: authenticates the member, admits it like a JOIN (the initiation's payload is the
     * JOIN), answers a RESPONSE carrying the WELCOME and gives the port the new session. Unauthenticated or
     * unauthorized initiations get at most an ERROR no longer than themselves, and leave no state.
     */
    private void handshake(Transport transport, TransportSlot slot, SocketAddress source, byte[] initiation,
                           Egress e) {
        int requestLength = initiation.length;
        Responder r;
        Join j;
        try {
            r = Responder.consume(identity, ByteBuffer.wrap(initiation), guard);
            j = Join.decode(ByteBuffer.wrap(r.payload()));
        } catch (CryptoException | ProtocolException ex) {
            counters.badSession.increment();
            return;
        }
        byte[] key = r.initiatorPublicKey();
        long member = r.initiatorMemberId();
        CipherPolicy policy = settings.get().cipher();
        CipherSuite suite = r.choose(policy);
        Admitted a = admit(transport, slot, source, j, member, key, requestLength, e,
                suite == null ? ciphers.refusal(r, policy, member, source) : null);
        if (a == null) {
            return;
        }
        ByteBuffer w = ByteBuffer.allocate(Wire.WELCOME_LENGTH);
        a.welcome.encode(w);
        Responder.Reply reply = registry.newSession(a.port, index -> {
            try {
                return r.respond(index, w.array(), Session.Limits.DEFAULT, suite);
            } catch (CryptoException ex) {
                return null; // a copy of this initiation was answered a moment ago
            }
        }, Responder.Reply::session);
        if (reply == null) {
            counters.badSession.increment();
            return;
        }
        transport.send(source, ByteBuffer.wrap(reply.response()));
        counters.handshakes.increment();
        a.log(" (encrypted, " + suite.configName() + ")");
    }

    /**
     * A member admitted: its port and the WELCOME to send, and what to log (null: not at the level it would have).
     * {@code rekey}: an encrypted member's new handshake on its port from the address it has, what its agent does
     * every 120 s: logged at DEBUG, as 10,000 members would otherwise write 83 lines a second (arrivals, re-joins from
     * elsewhere and plaintext re-joins stay INFO).
     */
    private record Admitted(SwitchPort port, Welcome welcome, String log, boolean rekey) {

        void log(String suffix) {
            if (log == null) {
                return;
            }
            String line = suffix == null ? log : log + suffix;
            if (rekey) {
                LOG.debug(line);
            } else {
                LOG.info(line);
            }
        }
    }

    /**
     * Admission, shared by JOIN and INITIATION: network, authorization, room, address; then the member's port,
     * new or kept (a re-join keeps port, address and MAC entries). {@code key} is the member's authenticated
     * public key, null for a plaintext JOIN. {@code cipherRefusal}: the ERROR for an authorized member whose
     * cipher offer this switch cannot meet (after authorization: an unauthorized one learns nothing of the setting),
     * null if none. Sends the ERROR and returns null when the member is refused.
     */
    private Admitted admit(Transport transport, TransportSlot slot, SocketAddress source, Join j, long member,
                           byte[] key, int requestLength, Egress e, CipherRefusals.Refusal cipherRefusal) {
        return registry.exclusive(() -> {
            Network n = networks.apply(j.network());
            if (n == null) {
                replies.error(transport, source, ErrorCode.UNKNOWN_NETWORK, 0, j.nonce(), "no such network",
                        requestLength, e);
                return null;
            }
            Network.State state = n.state();
            NetworkSettings s = state.settings();
            if (key == null && !s.openToPlaintext()) { // closed since join() looked: decided under the lock
                replies.error(transport, source, ErrorCode.NOT_AUTHORIZED, 0, j.nonce(),
                        "encrypted joins only (agent: switch.key)", requestLength, e);
                return null;
            }
            if (!s.authorizes(key, member)) {
                // listed before the answer leaves: whoever saw the ERROR finds the member waiting (the API, vl2:members)
                if (key != null) { // proved its key: listed as waiting for an operator to authorize it
                    n.waiting().refused(member, key, j.name(), Endpoints.format(source), java.time.Instant.now());
                }
                refused("Refused member {} ({}) on private network {}: not authorized", SwitchPort.memberId(member),
                        Endpoints.format(source), Networks.format(n.id));
                // unauthenticated answer (plaintext ERROR): generic, it names nobody; the log says who
                replies.error(transport, source, ErrorCode.NOT_AUTHORIZED, 0, j.nonce(), "not authorized",
                        requestLength, e);
                return null;
            }
            if (cipherRefusal != null) {
                replies.error(transport, source, cipherRefusal.code(), 0, j.nonce(), cipherRefusal.message(),
                        requestLength, e);
                counters.badSession.increment();
                ciphers.logOnce(cipherRefusal);
                return null;
            }
            if (j.maxFrameSize() < 64) {
                replies.error(transport, source, ErrorCode.BAD_REQUEST, 0, j.nonce(),
                        "max frame size " + j.maxFrameSize() + " < 64", requestLength, e);
                return null;
            }
            SwitchPort port = n.member(member);
            if (port != null && port.sealed && key == null) {
                // a member id is no secret: a plaintext JOIN claiming an authenticated member's never touches its
                // port, lease or address
                replies.error(transport, source, ErrorCode.NOT_AUTHORIZED, 0, j.nonce(), "not authorized",
                        requestLength, e);
                refused("Refused a plaintext JOIN from {} claiming member {} on network {}: the member is joined"
                        + " encrypted", Endpoints.format(source), SwitchPort.memberId(member), Networks.format(n.id));
                return null;
            }
            if (port != null && (port.slot != slot || port.sealed != (key != null))) {
                registry.remove(port, "member " + SwitchPort.memberId(member) + " re-joined " + (port.slot != slot
                        ? "through transport " + slot.name : key != null ? "encrypted" : "in plaintext"), false);
                port = null;
            }
            if (port == null && !registry.hasRoom(slot, source, key != null)) {
                replies.error(transport, source, ErrorCode.PORT_LIMIT, 0, j.nonce(), "the switch has no free port",
                        requestLength, e);
                return null;
            }
            Inet4Address address;
            int prefix = 0;
            LeaseTable leases = state.leases();
            if (leases != null) {
                try {
                    address = leases.lease(Addressing.memberKey(member, key != null), j.requestedIpv4(), null);
                    prefix = leases.pool().prefixLength();
                } catch (AddressConflictException ex) {
                    replies.error(transport, source, ErrorCode.ADDRESS_CONFLICT, 0, j.nonce(), ADDRESS_TAKEN,
                            requestLength, e);
                    refused("Refused member {} ({}) on network {}: {}", SwitchPort.memberId(member),
                            Endpoints.format(source), Networks.format(n.id), ex.getMessage());
                    return null;
                }
            } else {
                address = j.requestedIpv4();
                SwitchPort holder = address == null ? null : holderOf(n, address, member);
                if (holder != null) {
                    replies.error(transport, source, ErrorCode.ADDRESS_CONFLICT, 0, j.nonce(), ADDRESS_TAKEN,
                            requestLength, e);
                    refused("Refused member {} ({}) on network {}: {} is in use by member {}",
                            SwitchPort.memberId(member), Endpoints.format(source), Networks.format(n.id),
                            address.getHostAddress(), SwitchPort.memberId(holder.member));
                    return null;
                }
            }
            long token = key == null ? random.nextLong() : 0;
            String joined;
            if (port == null) {
                port = registry.openMember(slot, key != null ? Vl2Framing.SEALED : Vl2Framing.PLAIN, source, n,
                        member, p -> {
                            p.sealed = key != null;
                            p.pairCapable = key != null && (j.capabilities() & Join.CAP_PAIRS) != 0;
                            p.directCapable = p.pairCapable && (j.capabilities() & Join.CAP_DIRECT) != 0;
                            p.publicKey = key;
                            p.token = token;
                            p.name = j.name();
                            p.address = address;
                        });
                joined = "up";
            } else {
                port.token = token;
                port.name = j.name();
                port.address = address;
                port.pairCapable = key != null && (j.capabilities() & Join.CAP_PAIRS) != 0;
                port.directCapable = port.pairCapable && (j.capabilities() & Join.CAP_DIRECT) != 0;
                n.refreshRoutes(); // a gateway's address may have changed
                if (key == null) {
                    port.lastSeenNanos = nanoClock.getAsLong();
                    if (!source.equals(port.remote)) {
                        // plaintext: the token is the proof, and the JOIN gives a new one; within the quota of the
                        // new address
                        registry.move(port, source);
                    }
                }
                // sealed: an initiation may be a replay (after a restart, or once the guard forgot it): the port
                // moves, and counts as alive, only when a message opens under the new session
                joined = "re-joined";
            }
            boolean rekey = key != null && port.remote != null && port.remote.equals(source) && !"up".equals(joined);
            Inet6Address ipv6 = (j.capabilities() & Join.CAP_IPV6) == 0 ? null
                    : s.ipv6For(key != null ? member : plaintextInterfaceId(member));
            Welcome welcome = new Welcome(n.id, j.nonce(), port.id.number(), token, s.mtu(),
                    settings.get().keepaliveSeconds(), leases != null ? address : null, prefix, ipv6,
                    ipv6 == null ? 0 : 64);
            String log = !(rekey ? LOG.isDebugEnabled() : LOG.isInfoEnabled()) ? null
                    : "Port " + port.id + " " + joined + ": vl2 " + Endpoints.format(source) + " member "
                    + SwitchPort.memberId(member) + (j.name().isEmpty() ? "" : " '" + j.name() + "'") + " in network "
                    + Networks.format(n.id) + (address == null ? "" : ", address " + address.getHostAddress())
                    + (ipv6 == null ? "" : ", " + Endpoints.format(ipv6));
            n.waiting().admitted(member);
            return new Admitted(port, welcome, log, rekey);
        });
    }

    /**
     * The IPv6 interface id of a plaintext member: a hash of the member id it claims, so that no plaintext JOIN is
     * given an authenticated member's address (those use the member id itself, which is derived from the key).
     */
    static long plaintextInterfaceId(long member) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update("vl2 plaintext member ".getBytes(StandardCharsets.US_ASCII));
            byte[] h = sha.digest(ByteBuffer.allocate(8).putLong(member).array());
            return ByteBuffer.wrap(h).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /**
     * Logs a refusal (who and why, which the ERROR does not say) at most once a second: refusals answer
     * unauthenticated datagrams, which must not flood the log. The next line says how many were not logged.
     */
    private synchronized void refused(String format, Object... args) {
        long now = nanoClock.getAsLong();
        if (refusalLoggedAt != Long.MIN_VALUE && now - refusalLoggedAt < REFUSAL_LOG_NANOS) {
            refusalsNotLogged++;
            return;
        }
        refusalLoggedAt = now;
        if (refusalsNotLogged > 0) {
            format += " ({} more refusals in the last second not logged)";
            args = java.util.Arrays.copyOf(args, args.length + 1);
            args[args.length - 1] = refusalsNotLogged;
            refusalsNotLogged = 0;
        }
        LOG.info(format, args);
    }

    /** The vl2 port (other than {@code member}'s) that holds {@code address} in a network without a pool. */
    private static SwitchPort holderOf(Network n, Inet4Address address, long member) {
        for (SwitchPort p : n.ports()) {
            if (p.kind == Kind.VL2 && p.member != member && address.equals(p.address)) {
                return p;
            }
        }
        return null;
    }

    /** A plain LEAVE: the port number and token must match a plaintext session of this transport. */
    void leave(TransportSlot slot, ByteBuffer d) {
        Leave l;
        try {
            l = Leave.decode(d);
        } catch (ProtocolException ex) {
            counters.malformed.increment();
            return;
        }
        SwitchPort p = registry.session(l.port());
        if (p == null || p.slot != slot || p.sealed || p.token != l.token()) {
            counters.badSession.increment();
            return;
        }
        left(p);
    }

    /** A member said goodbye (plain LEAVE with its token, or a sealed LEAVE that opened). */
    void left(SwitchPort p) {
        registry.remove(p, "member " + SwitchPort.memberId(p.member) + " left", false);
        addressing.left(p);
    }

    /** A member cut off: its next initiation is a new one, whatever its timestamp. */
    void forget(SwitchPort p) {
        byte[] key = p.publicKey;
        if (key != null) {
            guard.forget(key);
        }
    }
}

package org.vl2.switching.internal;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Endpoints;
import org.vl2.api.NetworkInfo;
import org.vl2.api.Networks;
import org.vl2.api.spi.Transport;
import org.vl2.crypto.CookieChecker;
import org.vl2.crypto.CryptoException;
import org.vl2.crypto.Handshake;
import org.vl2.crypto.Identity;
import org.vl2.crypto.Responder;
import org.vl2.crypto.TimestampGuard;
import org.vl2.ipam.AddressConflictException;
import org.vl2.ipam.DhcpServer;
import org.vl2.ipam.Lease;
import org.vl2.ipam.LeaseTable;
import org.vl2.protocol.ErrorCode;
import org.vl2.protocol.FrameHeader;
import org.vl2.protocol.Join;
import org.vl2.protocol.KeyReply;
import org.vl2.protocol.KeyRequest;
import org.vl2.protocol.Leave;
import org.vl2.protocol.ProtocolError;
import org.vl2.protocol.ProtocolException;
import org.vl2.protocol.Welcome;
import org.vl2.protocol.Wire;
import org.vl2.switching.internal.SwitchPort.Kind;

/**
 * The slow path of the vl2 protocol on the switch: JOIN (admission, address lease, port), LEAVE, error
 * answers, NAT rebinding, and the switch's own DHCP/ARP answers. Everything here is rare next to frames, so
 * it may allocate and takes the core's port lock for changes.
 *
 * <p>No answer is ever longer than the datagram it answers, and error answers are rate-limited: a spoofed
 * source cannot use the switch to amplify or reflect traffic.
 */
final class Vl2Control {

    private static final Logger LOG = LoggerFactory.getLogger(Vl2Control.class);
    /** Unauthenticated answers (errors, key replies) allowed per second in total. */
    private static final int ERRORS_PER_SECOND = 50;

    /** Between two warnings about a handshake flood. */
    private static final long FLOOD_LOG_NANOS = 60_000_000_000L;

    private final SwitchCore core;
    private final Path leaseDir;
    /** The switch's key pair: agents pin its public key. */
    final Identity identity;
    /** Newest answered initiation timestamp per member key: replayed initiations are refused. */
    final TimestampGuard guard = new TimestampGuard();
    /** mac1 and mac2 of initiations, and the cookies the switch hands out under load. */
    final CookieChecker cookies;
    private final HandshakeGate gate = new HandshakeGate();
    private long floodLoggedAt = Long.MIN_VALUE;
    private final SecureRandom random = new SecureRandom();
    private long errorWindowStart;
    private int errorsInWindow;

    Vl2Control(SwitchCore core, Path leaseDir, Identity identity) {
        this.core = core;
        this.leaseDir = leaseDir;
        this.identity = identity;
        this.cookies = new CookieChecker(identity);
    }

    // ---- messages -------------------------------------------------------------------------------------

    void receive(Transport transport, TransportSlot slot, SocketAddress source, int type, ByteBuffer d, Egress e) {
        switch (type) {
            case Wire.JOIN -> join(transport, slot, source, d, e);
            case Handshake.INITIATION -> initiation(transport, slot, source, d, e);
            case Wire.LEAVE -> leave(slot, d);
            case Wire.KEY_REQUEST -> keyRequest(transport, source, d, e);
            default -> core.malformed.increment(); // WELCOME, ACK, ERROR: switch-bound only by mistake
        }
    }

    /**
     * A KEY-REQUEST: answered with the switch's public key (public anyway: agents pin it), 40 bytes for 64, within
     * the budget of unauthenticated answers. Agents that trust on first use pin it; others compare it with theirs.
     */
    private void keyRequest(Transport transport, SocketAddress source, ByteBuffer d, Egress e) {
        try {
            KeyRequest.decode(d);
        } catch (ProtocolException ex) {
            core.malformed.increment();
            return;
        }
        if (!allowError()) {
            return;
        }
        ByteBuffer out = e.control;
        out.clear();
        new KeyReply(identity.publicKey()).encode(out);
        transport.send(source, out.flip());
    }

    /** A plaintext JOIN: only where the switch allows plaintext, and never for a private network. */
    private void join(Transport transport, TransportSlot slot, SocketAddress source, ByteBuffer d, Egress e) {
        Join j;
        try {
            j = Join.decode(d);
        } catch (ProtocolException ex) {
            core.malformed.increment();
            return;
        }
        int requestLength = d.remaining();
        if (!core.settings.allowPlaintext()) {
            error(transport, source, ErrorCode.NOT_AUTHORIZED, 0, j.nonce(),
                    "encrypted joins only (agent: switch.key)", requestLength, e);
            return;
        }
        Admitted a = admit(transport, slot, source, j, j.member(), null, requestLength, e);
        if (a == null) {
            return;
        }
        ByteBuffer out = e.control;
        out.clear();
        a.welcome.encode(out);
        out.flip();
        if (out.remaining() <= requestLength) {
            transport.send(source, out);
        }
        LOG.info(a.log);
    }

    /**
     * An INITIATION (docs/crypto.md): authenticates the member, admits it like a JOIN (its payload is the JOIN),
     * answers a RESPONSE carrying the WELCOME and gives the port the new session. Unauthenticated or unauthorized
     * initiations get at most an ERROR no longer than themselves, and leave no state.
     */
    private void initiation(Transport transport, TransportSlot slot, SocketAddress source, ByteBuffer d, Egress e) {
        int requestLength = d.remaining();
        if (!(source instanceof InetSocketAddress from) || from.isUnresolved()) {
            core.malformed.increment();
            return;
        }
        CookieChecker.Check check = cookies.check(d, from);
        if (check == CookieChecker.Check.MALFORMED || check == CookieChecker.Check.BAD_MAC1) {
            core.badSession.increment(); // not for this switch's key: one HMAC spent, nothing answered
            return;
        }
        long now = core.nanoClock.getAsLong();
        HandshakeGate.Decision decision = gate.decide(check, from.getAddress(), now);
        if (decision != HandshakeGate.Decision.HANDSHAKE) {
            if (decision == HandshakeGate.Decision.COOKIE_REPLY) {
                transport.send(source, ByteBuffer.wrap(cookies.cookieReply(d, from))); // 52 bytes, < the request
            }
            core.badSession.increment();
            if (now - floodLoggedAt > FLOOD_LOG_NANOS || floodLoggedAt == Long.MIN_VALUE) {
                floodLoggedAt = now;
                LOG.warn("Handshake flood: more than {} initiations per second; until it stops, initiations without"
                        + " a valid cookie get a COOKIE-REPLY instead of a handshake, and each source address at most"
                        + " {} handshakes per second (docs/crypto.md)", HandshakeGate.LOAD_THRESHOLD,
                        HandshakeGate.PER_SOURCE);
            }
            return;
        }
        Responder r;
        Join j;
        try {
            r = Responder.consume(identity, d, guard);
            j = Join.decode(ByteBuffer.wrap(r.payload()));
        } catch (CryptoException | ProtocolException ex) {
            core.badSession.increment();
            return;
        }
        byte[] key = r.initiatorPublicKey();
        long member = r.initiatorMemberId();
        Admitted a = admit(transport, slot, source, j, member, key, requestLength, e);
        if (a == null) {
            return;
        }
        ByteBuffer w = ByteBuffer.allocate(Wire.WELCOME_LENGTH);
        a.welcome.encode(w);
        Responder.Reply reply;
        try {
            reply = r.respond(a.port.nextSessionIndex(), w.array());
        } catch (CryptoException ex) {
            core.badSession.increment(); // a copy of this initiation was answered a moment ago
            return;
        }
        a.port.install(reply.session());
        transport.send(source, ByteBuffer.wrap(reply.response()));
        LOG.info(a.log + " (encrypted)");
    }

    /** A member admitted: its port and the WELCOME to send, and what to log. */
    private record Admitted(SwitchPort port, Welcome welcome, String log) {
    }

    /**
     * Admission, shared by JOIN and INITIATION: network, authorization, room, address; then the member's port,
     * new or kept (a re-join keeps port, address and MAC entries). {@code key} is the member's authenticated
     * public key, null for a plaintext JOIN. Sends the ERROR and returns null when the member is refused.
     */
    private Admitted admit(Transport transport, TransportSlot slot, SocketAddress source, Join j, long member,
                           byte[] key, int requestLength, Egress e) {
        synchronized (core.portLock) {
            Network n = core.networks.get(j.network());
            if (n == null) {
                error(transport, source, ErrorCode.UNKNOWN_NETWORK, 0, j.nonce(),
                        "no network " + Networks.format(j.network()) + " on this switch", requestLength, e);
                return null;
            }
            if (!authorized(n.settings, key, member)) {
                error(transport, source, ErrorCode.NOT_AUTHORIZED, 0, j.nonce(), key == null
                        ? "private network: encrypted joins only" : "member " + member(member)
                        + " is not authorized on network " + Networks.format(n.id), requestLength, e);
                LOG.info("Refused member {} ({}) on private network {}: not authorized", member(member),
                        Endpoints.format(source), Networks.format(n.id));
                return null;
            }
            if (j.maxFrameSize() < 64) {
                error(transport, source, ErrorCode.BAD_REQUEST, 0, j.nonce(),
                        "max frame size " + j.maxFrameSize() + " < 64", requestLength, e);
                return null;
            }
            SwitchPort port = n.members.get(member);
            if (port != null && (port.slot != slot || port.sealed != (key != null))) {
                core.removePort(port, "member " + member(member) + " re-joined " + (port.slot != slot
                        ? "through transport " + slot.name : key != null ? "encrypted" : "in plaintext"), false);
                port = null;
            }
            if (port == null && !core.hasRoom()) {
                error(transport, source, ErrorCode.PORT_LIMIT, 0, j.nonce(), "the switch has no free port",
                        requestLength, e);
                return null;
            }
            Inet4Address address;
            int prefix = 0;
            LeaseTable leases = n.leases;
            if (leases != null) {
                try {
                    address = leases.lease(memberKey(member), j.requestedIpv4(), null);
                    prefix = leases.pool().prefixLength();
                } catch (AddressConflictException ex) {
                    error(transport, source, ErrorCode.ADDRESS_CONFLICT, 0, j.nonce(), ex.getMessage(),
                            requestLength, e);
                    return null;
                }
            } else {
                address = j.requestedIpv4();
                SwitchPort holder = address == null ? null : holderOf(n, address, member);
                if (holder != null) {
                    error(transport, source, ErrorCode.ADDRESS_CONFLICT, 0, j.nonce(), address.getHostAddress()
                            + " is in use by member " + member(holder.member), requestLength, e);
                    return null;
                }
            }
            long token = key == null ? random.nextLong() : 0;
            String joined;
            if (port == null) {
                port = new SwitchPort(core.nextPortId(), Kind.VL2, n, slot, null, source, member, false,
                        core.nanoClock.getAsLong(), Instant.now());
                port.sealed = key != null;
                port.publicKey = key;
                port.token = token;
                port.name = j.name();
                port.address = address;
                core.ports.put(port.id, port);
                core.sessions.put(port);
                n.members.put(member, port);
                n.add(port);
                joined = "up";
            } else {
                port.token = token;
                port.name = j.name();
                port.address = address;
                port.lastSeenNanos = core.nanoClock.getAsLong();
                if (!source.equals(port.remote)) {
                    port.remote = source;
                }
                joined = "re-joined";
            }
            NetworkSettings s = n.settings;
            Inet6Address ipv6 = (j.capabilities() & Join.CAP_IPV6) != 0 ? s.ipv6For(member) : null;
            Welcome welcome = new Welcome(n.id, j.nonce(), port.id.number(), token, s.mtu(),
                    core.settings.keepaliveSeconds(), leases != null ? address : null, prefix, ipv6,
                    ipv6 == null ? 0 : 64);
            String log = "Port " + port.id + " " + joined + ": vl2 " + Endpoints.format(source) + " member "
                    + member(member) + (j.name().isEmpty() ? "" : " '" + j.name() + "'") + " in network "
                    + Networks.format(n.id) + (address == null ? "" : ", address " + address.getHostAddress())
                    + (ipv6 == null ? "" : ", " + Endpoints.format(ipv6));
            return new Admitted(port, welcome, log);
        }
    }

    /** Whether a member may be on a network: any member of a public network; listed ones of a private one. */
    static boolean authorized(NetworkSettings s, byte[] key, long member) {
        if (!s.privateNetwork()) {
            return true;
        }
        // a plaintext join proves nothing about who sends it: never on a private network
        return key != null && (s.members().contains(Identity.fingerprint(key))
                || s.members().contains(member(member)));
    }

    private void leave(TransportSlot slot, ByteBuffer d) {
        Leave l;
        try {
            l = Leave.decode(d);
        } catch (ProtocolException ex) {
            core.malformed.increment();
            return;
        }
        SwitchPort p = core.sessions.get(l.port());
        if (p == null || p.slot != slot || p.sealed || p.token != l.token()) {
            core.badSession.increment();
            return;
        }
        left(p);
    }

    /** A member said goodbye (plain LEAVE with its token, or a sealed LEAVE that opened). */
    void left(SwitchPort p) {
        core.removePort(p, "member " + member(p.member) + " left", false);
        LeaseTable leases = p.network.leases;
        if (leases != null) {
            // kept as long as the port would have lived, so a quick restart of the agent gets it back
            leases.expireIn(memberKey(p.member), Duration.ofNanos(core.settings.sessionTimeoutNanos()));
        }
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

    /** Answers a KEEPALIVE in place: the same 24 bytes with the type changed, so nothing is allocated. */
    void keepaliveAck(Transport transport, SocketAddress source, ByteBuffer d) {
        int at = d.position() + 2;
        d.put(at, (byte) Wire.KEEPALIVE_ACK);
        int limit = d.limit();
        d.limit(d.position() + Wire.KEEPALIVE_LENGTH);
        transport.send(source, d);
        d.limit(limit);
    }

    /** Answers a sealed KEEPALIVE with a sealed KEEPALIVE-ACK echoing its 8-byte sequence (40 bytes, as the request). */
    void sealedKeepaliveAck(Transport transport, SocketAddress source, SwitchPort p, ByteBuffer d, int sequenceAt,
                            Egress e) {
        org.vl2.crypto.Session s = p.session;
        if (s == null) {
            return;
        }
        ByteBuffer out = e.control;
        out.clear();
        out.put(0, (byte) Wire.MAGIC).put(1, (byte) Wire.VERSION).put(2, (byte) Wire.KEEPALIVE_ACK)
                .put(3, (byte) Wire.FLAG_SEALED).putInt(4, s.remoteIndex()).putLong(16, d.getLong(sequenceAt));
        out.limit(16 + 8 + org.vl2.crypto.Session.TAG_LENGTH);
        try {
            s.seal(out, 0, 16, 8, System.nanoTime());
        } catch (CryptoException ex) {
            return;
        }
        transport.send(source, out);
    }

    /** FRAME or KEEPALIVE for a session the switch does not have (it restarted, the port expired): re-join. */
    void unknownPort(Transport transport, SocketAddress source, ByteBuffer d, Egress e) {
        error(transport, source, ErrorCode.UNKNOWN_PORT, FrameHeader.port(d), 0, "re-join", d.remaining(), e);
    }

    void unsupportedVersion(Transport transport, SocketAddress source, ByteBuffer d, Egress e) {
        core.malformed.increment();
        error(transport, source, ErrorCode.UNSUPPORTED_VERSION, 0, 0, "this switch speaks version " + Wire.VERSION,
                d.remaining(), e);
    }

    /** NAT rebinding or roaming: the session (token checked) now comes from another address. */
    void moved(SwitchPort p, SocketAddress source) {
        SocketAddress old;
        synchronized (core.portLock) {
            old = p.remote;
            if (source.equals(old)) {
                return;
            }
            p.remote = source;
        }
        LOG.info("Port {} (member {}) moved from {} to {}", p.id, member(p.member), Endpoints.format(old),
                Endpoints.format(source));
    }

    private void error(Transport transport, SocketAddress source, ErrorCode code, int port, long nonce,
                       String message, int requestLength, Egress e) {
        if (requestLength < Wire.ERROR_HEADER_LENGTH || !allowError()) {
            return;
        }
        ByteBuffer out = e.control;
        out.clear();
        new ProtocolError(code, port, nonce, message).encode(out, Math.min(requestLength, out.capacity()));
        out.flip();
        transport.send(source, out);
        if (code != ErrorCode.UNKNOWN_PORT && LOG.isDebugEnabled()) {
            LOG.debug("Refused {} from {}: {} ({})", nonce != 0 ? "join" : "message", Endpoints.format(source),
                    code.label(), message);
        }
    }

    private synchronized boolean allowError() {
        long now = core.nanoClock.getAsLong();
        if (now - errorWindowStart > 1_000_000_000L) {
            errorWindowStart = now;
            errorsInWindow = 0;
        }
        return ++errorsInWindow <= ERRORS_PER_SECOND;
    }

    // ---- ports and leases --------------------------------------------------------------------------------

    /** A vl2 port went: its member's address is freed if the port expired, else kept (see removePort). */
    void portGone(SwitchPort port, boolean releaseLease) {
        LeaseTable leases = port.network.leases;
        if (releaseLease && leases != null && leases.release(memberKey(port.member))) {
            LOG.info("Lease of member {} ({}) released", member(port.member),
                    port.address == null ? "-" : port.address.getHostAddress());
        }
    }

    void expireLeases() {
        for (Network n : core.networks.values()) {
            LeaseTable leases = n.leases;
            if (leases != null) {
                int freed = leases.removeExpired();
                if (freed > 0) {
                    LOG.info("Network {}: {} expired leases freed", Networks.format(n.id), freed);
                }
            }
        }
    }

    /** (Re)builds a network's lease table and DHCP server when its addressing settings change. Under portLock. */
    void applyAddressing(Network n, NetworkSettings old, NetworkSettings s) {
        boolean poolChanged = n.leases == null || !Objects.equals(String.valueOf(old.pool()), String.valueOf(s.pool()));
        if (s.pool() == null) {
            n.dhcp = null;
            n.leases = null;
            return;
        }
        if (poolChanged) {
            Path file = leaseDir == null ? null : leaseDir.resolve(Networks.format(n.id) + ".leases");
            Duration grace = Duration.ofNanos(core.settings.sessionTimeoutNanos());
            LeaseTable table;
            try {
                table = LeaseTable.load(s.pool(), file, Clock.systemUTC(), grace);
            } catch (IOException | RuntimeException ex) {
                LOG.error("Network {}: cannot read its leases from {} ({}); addresses are assigned from scratch and "
                        + "not saved until this is fixed", Networks.format(n.id), file, ex.getMessage());
                try {
                    table = LeaseTable.load(s.pool(), null, Clock.systemUTC(), grace);
                } catch (IOException impossible) {
                    throw new IllegalStateException(impossible);
                }
            }
            n.leases = table;
        }
        n.dhcp = s.dhcp() ? new DhcpServer(n.leases, n.serverMacAddress(), s.mtu(), s.leaseTime(), s.gateway(),
                s.dns()) : null;
    }

    List<NetworkInfo.Lease> leases(Network n) {
        LeaseTable leases = n.leases;
        if (leases == null) {
            return List.of();
        }
        List<NetworkInfo.Lease> list = new ArrayList<>();
        for (Lease l : leases.leases()) {
            list.add(new NetworkInfo.Lease(l.key(), l.address().getHostAddress(), l.expires()));
        }
        return list;
    }

    /** DHCP and ARP for the switch's address on a network with DHCP: the answer goes back to the ingress port. */
    void serveDhcp(Network n, DhcpServer dhcp, SwitchPort in, ByteBuffer frame, Egress e) {
        int result;
        synchronized (dhcp) {
            result = dhcp.handle(frame, e.dhcp);
        }
        // Never more bytes back than came in: a short (unpadded) DHCP request from a spoofable raw or VXLAN source
        // must not make the switch an amplifier. Real clients pad their requests to 300 bytes, so they get answers.
        if (result == DhcpServer.REPLY && e.dhcp.remaining() <= frame.remaining()) {
            core.send(in, null, e.dhcp, e.dhcp.remaining(), e);
        }
    }

    static String memberKey(long member) {
        return "member:" + member(member);
    }

    static String member(long member) {
        return Identity.formatMemberId(member);
    }
}

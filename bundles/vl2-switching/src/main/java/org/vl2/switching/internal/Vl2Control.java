package org.vl2.switching.internal;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
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
import org.vl2.ipam.AddressConflictException;
import org.vl2.ipam.DhcpServer;
import org.vl2.ipam.Lease;
import org.vl2.ipam.LeaseTable;
import org.vl2.protocol.ErrorCode;
import org.vl2.protocol.FrameHeader;
import org.vl2.protocol.Join;
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
    /** Error answers allowed per second in total. */
    private static final int ERRORS_PER_SECOND = 50;

    private final SwitchCore core;
    private final Path leaseDir;
    private final SecureRandom random = new SecureRandom();
    private long errorWindowStart;
    private int errorsInWindow;

    Vl2Control(SwitchCore core, Path leaseDir) {
        this.core = core;
        this.leaseDir = leaseDir;
    }

    // ---- messages -------------------------------------------------------------------------------------

    void receive(Transport transport, TransportSlot slot, SocketAddress source, int type, ByteBuffer d, Egress e) {
        switch (type) {
            case Wire.JOIN -> join(transport, slot, source, d, e);
            case Wire.LEAVE -> leave(slot, d);
            default -> core.malformed.increment(); // WELCOME, ACK, ERROR: switch-bound only by mistake
        }
    }

    private void join(Transport transport, TransportSlot slot, SocketAddress source, ByteBuffer d, Egress e) {
        Join j;
        try {
            j = Join.decode(d);
        } catch (ProtocolException ex) {
            core.malformed.increment();
            return;
        }
        int requestLength = d.remaining();
        Welcome welcome;
        String joined;
        synchronized (core.portLock) {
            Network n = core.networks.get(j.network());
            if (n == null) {
                error(transport, source, ErrorCode.UNKNOWN_NETWORK, 0, j.nonce(),
                        "no network " + Networks.format(j.network()) + " on this switch", requestLength, e);
                return;
            }
            if (j.maxFrameSize() < 64) {
                error(transport, source, ErrorCode.BAD_REQUEST, 0, j.nonce(),
                        "max frame size " + j.maxFrameSize() + " < 64", requestLength, e);
                return;
            }
            SwitchPort port = n.members.get(j.member());
            if (port != null && port.slot != slot) {
                core.removePort(port, "member " + member(j.member()) + " re-joined through transport " + slot.name,
                        false);
                port = null;
            }
            if (port == null && !core.hasRoom()) {
                error(transport, source, ErrorCode.PORT_LIMIT, 0, j.nonce(), "the switch has no free port",
                        requestLength, e);
                return;
            }
            Inet4Address address;
            int prefix = 0;
            LeaseTable leases = n.leases;
            if (leases != null) {
                try {
                    address = leases.lease(memberKey(j.member()), j.requestedIpv4(), null);
                    prefix = leases.pool().prefixLength();
                } catch (AddressConflictException ex) {
                    error(transport, source, ErrorCode.ADDRESS_CONFLICT, 0, j.nonce(), ex.getMessage(),
                            requestLength, e);
                    return;
                }
            } else {
                address = j.requestedIpv4();
                SwitchPort holder = address == null ? null : holderOf(n, address, j.member());
                if (holder != null) {
                    error(transport, source, ErrorCode.ADDRESS_CONFLICT, 0, j.nonce(), address.getHostAddress()
                            + " is in use by member " + member(holder.member), requestLength, e);
                    return;
                }
            }
            long token = random.nextLong();
            if (port == null) {
                port = new SwitchPort(core.nextPortId(), Kind.VL2, n, slot, null, source, j.member(), false,
                        core.nanoClock.getAsLong(), Instant.now());
                port.token = token;
                port.name = j.name();
                port.address = address;
                core.ports.put(port.id, port);
                core.sessions.put(port);
                n.members.put(j.member(), port);
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
            Inet6Address ipv6 = (j.capabilities() & Join.CAP_IPV6) != 0 ? s.ipv6For(j.member()) : null;
            welcome = new Welcome(n.id, j.nonce(), port.id.number(), token, s.mtu(), core.settings.keepaliveSeconds(),
                    leases != null ? address : null, prefix, ipv6, ipv6 == null ? 0 : 64);
            joined = "Port " + port.id + " " + joined + ": vl2 " + Endpoints.format(source) + " member "
                    + member(j.member()) + (j.name().isEmpty() ? "" : " '" + j.name() + "'") + " in network "
                    + Networks.format(n.id) + (address == null ? "" : ", address " + address.getHostAddress())
                    + (ipv6 == null ? "" : ", " + Endpoints.format(ipv6));
        }
        ByteBuffer out = e.control;
        out.clear();
        welcome.encode(out);
        out.flip();
        if (out.remaining() <= requestLength) {
            transport.send(source, out);
        }
        LOG.info(joined);
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
        if (p == null || p.slot != slot || p.token != l.token()) {
            core.badSession.increment();
            return;
        }
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
        if (result == DhcpServer.REPLY) {
            core.send(in, null, e.dhcp, e.dhcp.remaining(), e);
        }
    }

    static String memberKey(long member) {
        return "member:" + member(member);
    }

    static String member(long member) {
        return String.format("%016x", member);
    }
}

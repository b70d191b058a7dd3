package org.vl2.switching.internal.vl2;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.function.LongSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Endpoints;
import org.vl2.api.spi.Transport;
import org.vl2.crypto.CryptoException;
import org.vl2.crypto.Identity;
import org.vl2.crypto.Session;
import org.vl2.protocol.ErrorCode;
import org.vl2.protocol.FrameHeader;
import org.vl2.protocol.KeyReply;
import org.vl2.protocol.ProtocolError;
import org.vl2.protocol.Welcome;
import org.vl2.protocol.SealedHeader;
import org.vl2.protocol.Wire;
import org.vl2.switching.internal.Egress;
import org.vl2.switching.internal.SwitchCounters;
import org.vl2.switching.internal.SwitchPort;

/**
 * What the switch answers on the vl2 protocol: WELCOME, ERROR, KEEPALIVE-ACK (plain and sealed), KEY-REPLY.
 * No answer is ever longer than the datagram it answers, and unauthenticated answers (errors, key replies) share
 * a budget per second: a spoofed source cannot use the switch to amplify or reflect traffic.
 */
final class Replies {

    private static final Logger LOG = LoggerFactory.getLogger(Replies.class);
    /** Unauthenticated answers (errors, key replies) allowed per second in total. */
    private static final int ERRORS_PER_SECOND = 50;
    /** ... and per source (an IPv4 address, an IPv6 /64): a forged source cannot draw the whole budget at a victim. */
    static final int ERRORS_PER_SOURCE = 5;
    private final SourceBudget perSource = new SourceBudget(ERRORS_PER_SOURCE);

    private final Identity identity;
    private final SwitchCounters counters;
    private final LongSupplier nanoClock;
    private long errorWindowStart;
    private int errorsInWindow;

    Replies(Identity identity, SwitchCounters counters, LongSupplier nanoClock) {
        this.identity = identity;
        this.counters = counters;
        this.nanoClock = nanoClock;
    }

    /** A WELCOME to a plaintext JOIN, if it is no longer than the JOIN. */
    void welcome(Transport transport, SocketAddress source, Welcome welcome, int requestLength, Egress e) {
        ByteBuffer out = e.control;
        out.clear();
        welcome.encode(out);
        out.flip();
        if (out.remaining() <= requestLength) {
            transport.send(source, out);
        }
    }

    /**
     * A KEY-REPLY with the switch's public key (public anyway: agents pin it), 40 bytes for 64, within the budget
     * of unauthenticated answers. Agents that trust on first use pin it; others compare it with theirs.
     */
    void keyReply(Transport transport, SocketAddress source, Egress e) {
        if (!allowError(source)) {
            return;
        }
        ByteBuffer out = e.control;
        out.clear();
        new KeyReply(identity.publicKey()).encode(out);
        transport.send(source, out.flip());
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
        Session s = p.session;
        if (s == null) {
            return;
        }
        ByteBuffer out = e.control;
        out.clear();
        SealedHeader.write(out, 0, Wire.KEEPALIVE_ACK, s.remoteIndex());
        out.putLong(SealedHeader.LENGTH, d.getLong(sequenceAt));
        out.limit(SealedHeader.LENGTH + 8 + Session.TAG_LENGTH);
        try {
            s.seal(out, 0, SealedHeader.LENGTH, 8, System.nanoTime());
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
        counters.malformed.increment();
        error(transport, source, ErrorCode.UNSUPPORTED_VERSION, 0, 0, "this switch speaks version " + Wire.VERSION,
                d.remaining(), e);
    }

    /** An ERROR no longer than the request, within the budget; nothing if the request is shorter than its header. */
    void error(Transport transport, SocketAddress source, ErrorCode code, int port, long nonce, String message,
               int requestLength, Egress e) {
        if (requestLength < Wire.ERROR_HEADER_LENGTH || !allowError(source)) {
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

    /** Within the source's budget and the global one; a refused source does not use up the global one. */
    private boolean allowError(SocketAddress source) {
        return perSource.allow(source, nanoClock.getAsLong()) && allowGlobal();
    }

    private synchronized boolean allowGlobal() {
        long now = nanoClock.getAsLong();
        if (now - errorWindowStart > 1_000_000_000L) {
            errorWindowStart = now;
            errorsInWindow = 0;
        }
        return ++errorsInWindow <= ERRORS_PER_SECOND;
    }
}

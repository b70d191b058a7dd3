package org.vl2.agent.internal;

import java.net.Inet4Address;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLongArray;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.crypto.CryptoException;
import org.vl2.crypto.Initiator;
import org.vl2.crypto.Session;
import org.vl2.protocol.Join;
import org.vl2.protocol.Keepalive;
import org.vl2.protocol.KeyRequest;
import org.vl2.protocol.Leave;
import org.vl2.protocol.Pair;
import org.vl2.protocol.Routes;
import org.vl2.protocol.SealedHeader;
import org.vl2.protocol.Wire;
import org.vl2.tap.Cidr;

/**
 * vl2 mode: the control messages the agent sends (control thread; the LEAVE also when stopping): JOIN, inside a
 * handshake INITIATION when encrypted; KEY-REQUEST; KEEPALIVE, sealed when encrypted, whose ACKs give the round trip;
 * LEAVE. Writes into one reused buffer; the rare allocations are the handshake's.
 */
final class Vl2Messages {

    private static final Logger LOG = LoggerFactory.getLogger(Vl2Messages.class);
    /** Encrypted: a sealed KEEPALIVE (header, sequence, tag) and a sealed LEAVE (header, tag). */
    static final int SEALED_KEEPALIVE_LENGTH = SealedHeader.LENGTH + 8 + SealedCodec.TAG;
    static final int SEALED_LEAVE_LENGTH = SealedHeader.LENGTH + SealedCodec.TAG;

    private final AgentConfig.Settings settings;
    private final boolean encrypted;
    private final SwitchTrust trust;
    private final long member;
    private final String joinName;
    private final int maxFrame;
    private final LinkKeeper links;
    private final Counters counters;
    private final JoinRound round;
    private final SecureRandom random = new SecureRandom();
    private final ByteBuffer buffer = ByteBuffer.allocate(Wire.JOIN_LENGTH);
    /** A KEY-REQUEST is outstanding: the receive pump passes KEY-REPLYs on only then. */
    private volatile boolean keyRequested;
    /** Send times of the last keepalives, by sequence number modulo the length: late ACKs still count. */
    private final AtomicLongArray keepaliveSentNanos = new AtomicLongArray(8);
    private volatile long keepaliveSequence;
    /** The last keepalive round trip in nanoseconds, -1 if none yet. */
    private volatile long rttNanos = -1;

    Vl2Messages(AgentConfig.Settings settings, SwitchTrust trust, String joinName, int maxFrame, LinkKeeper links,
                Counters counters, JoinRound round) {
        this.settings = settings;
        this.encrypted = settings.encrypted();
        this.trust = trust;
        this.member = trust.identity().memberId();
        this.joinName = joinName;
        this.maxFrame = maxFrame;
        this.links = links;
        this.counters = counters;
        this.round = round;
    }

    long member() {
        return member;
    }

    int maxFrame() {
        return maxFrame;
    }

    boolean keyRequested() {
        return keyRequested;
    }

    /** The KEY-REPLY came. */
    void keyAnswered() {
        keyRequested = false;
    }

    long rttNanos() {
        return rttNanos;
    }

    /**
     * Sends a JOIN with a fresh nonce; encrypted, inside a new handshake (new index, ephemeral key and timestamp: the
     * switch answers an initiation only once), whose RESPONSE any later round of this one may still complete.
     * {@code inUse} are the keys (current and replaced ones) whose indices a new handshake must not reuse.
     *
     * @throws IllegalArgumentException if the switch's key cannot be used (the agent stops)
     */
    boolean join(Session... inUse) {
        long nonce = random.nextLong();
        int slot = round.add(nonce);
        Cidr v4 = settings.tap().ipv4();
        int capabilities = (settings.tap().ipv6() == null ? Join.CAP_IPV6 : 0)
                | (encrypted && settings.pairs() ? Join.CAP_PAIRS : 0)
                | (encrypted && settings.direct() ? Join.CAP_DIRECT : 0);
        Join join = new Join(settings.network(), member, nonce, maxFrame, capabilities,
                v4 == null ? null : (Inet4Address) v4.address(), joinName);
        buffer.clear();
        join.encode(buffer);
        ByteBuffer message = buffer.flip();
        if (encrypted) {
            byte[] payload = new byte[message.remaining()]; // the whole 64-byte JOIN
            message.get(payload);
            Initiator handshake = Initiator.create(trust.identity(), trust.switchKey(), newIndex(inUse),
                    payload, round.freshCookie(), settings.cipher().offer());
            round.handshake(slot, handshake);
            message = ByteBuffer.wrap(handshake.initiation());
        }
        if (links.sendControl(message)) {
            counters.joins.incrementAndGet();
            return true;
        }
        return false;
    }

    /**
     * Encrypted: a random non-zero session index, unlike the keys' in use and the round's others, so
     * that the receive path tells them apart by the index alone.
     */
    private int newIndex(Session... inUse) {
        while (true) {
            int index = random.nextInt();
            boolean taken = index == 0 || round.usesIndex(index);
            for (Session s : inUse) {
                taken |= s != null && s.localIndex() == index;
            }
            if (!taken) {
                return index;
            }
        }
    }

    /** A KEY-REQUEST: which key does the switch hold (trust on first use, or to diagnose unanswered handshakes)? */
    boolean keyRequest() {
        buffer.clear();
        new KeyRequest().encode(buffer);
        keyRequested = true;
        return links.sendControl(buffer.flip());
    }

    /** A KEEPALIVE with the next sequence number; encrypted, sealed: 16-byte header, sequence, tag. */
    void keepalive(Vl2Session.Joined s) {
        long seq = keepaliveSequence + 1;
        keepaliveSentNanos.set((int) (seq % keepaliveSentNanos.length()), System.nanoTime());
        keepaliveSequence = seq; // after the send time: the receive pump reads them in the other order
        buffer.clear();
        if (s.keys() != null) {
            buffer.limit(SEALED_KEEPALIVE_LENGTH);
            SealedHeader.write(buffer, 0, Wire.KEEPALIVE, s.keys().remoteIndex());
            buffer.putLong(SealedHeader.LENGTH, seq);
            try {
                s.keys().seal(buffer, 0, SealedHeader.LENGTH, 8, links.clock().nanos());
            } catch (CryptoException e) {
                return; // the keys expired: a new handshake is under way
            }
        } else {
            new Keepalive(false, s.port(), s.token(), seq).encode(buffer);
            buffer.flip();
        }
        if (links.sendControl(buffer)) {
            counters.keepalives.incrementAndGet();
        }
    }

    /** Receive pump: the round trip of the keepalive with sequence number {@code seq}, if one of the last few. */
    void acknowledged(long seq) {
        long latest = keepaliveSequence;
        if (seq > 0 && seq <= latest && latest - seq < keepaliveSentNanos.length()) {
            long rtt = System.nanoTime() - keepaliveSentNanos.get((int) (seq % keepaliveSentNanos.length()));
            if (rtt >= 0) {
                rttNanos = rtt;
            }
        }
    }

    /** Encrypted: a sealed ROUTES-ACK naming the version of {@code r} (whether or not the agent applied it). */
    void routesAck(Vl2Session.Joined s, Routes r) {
        buffer.clear();
        buffer.limit(SealedHeader.LENGTH + Routes.ACK_LENGTH + SealedCodec.TAG);
        SealedHeader.write(buffer, 0, Wire.ROUTES_ACK, s.keys().remoteIndex());
        Routes.encodeAck(buffer, SealedHeader.LENGTH, r.network(), r.version());
        try {
            s.keys().seal(buffer, 0, SealedHeader.LENGTH, Routes.ACK_LENGTH, links.clock().nanos());
        } catch (CryptoException e) {
            return; // the keys expired: the switch sends the ROUTES again under the new ones
        }
        links.sendControl(buffer);
    }

    /** Encrypted: a sealed PAIR-ACK: whether the agent took pair {@code p} ({@link Pair#TAKEN}) or not. */
    void pairAck(Vl2Session.Joined s, Pair p, int status) {
        pairAck(s, p.index(), p.role(), status);
    }

    /**
     * Encrypted: a sealed PAIR-ACK of {@code role} for pair {@code index} with {@code status}: an answer to a PAIR, or
     * a sender's word on its direct path ({@link Pair#DIRECT}, {@link Pair#RELAYED}).
     */
    void pairAck(Vl2Session.Joined s, int index, int role, int status) {
        buffer.clear();
        buffer.limit(SealedHeader.LENGTH + Pair.ACK_LENGTH + SealedCodec.TAG);
        SealedHeader.write(buffer, 0, Wire.PAIR_ACK, s.keys().remoteIndex());
        Pair.encodeAck(buffer, SealedHeader.LENGTH, settings.network(), index, role, status);
        try {
            s.keys().seal(buffer, 0, SealedHeader.LENGTH, Pair.ACK_LENGTH, links.clock().nanos());
        } catch (CryptoException e) {
            return; // the keys expired: unanswered, the switch sends the PAIR again under the new ones (or gives up)
        }
        links.sendControl(buffer);
    }

    /**
     * Stopping: the switch forgets the port at once rather than after 3 silent intervals. No answer, so no waiting.
     * Encrypted, the LEAVE is sealed (an empty body: header and tag), so nobody else can end the port.
     */
    void leave(Link l, Vl2Session.Joined s) {
        ByteBuffer b;
        try {
            if (s.keys() != null) {
                b = ByteBuffer.allocate(SEALED_LEAVE_LENGTH);
                SealedHeader.write(b, 0, Wire.LEAVE, s.keys().remoteIndex());
                s.keys().seal(b, 0, SealedHeader.LENGTH, 0, links.clock().nanos());
            } else {
                b = ByteBuffer.allocate(Wire.LEAVE_LENGTH);
                new Leave(s.port(), s.token()).encode(b);
                b.flip();
            }
            l.send(b);
            counters.controlSent.incrementAndGet();
        } catch (CryptoException | RuntimeException e) {
            LOG.debug("Port agent: LEAVE not sent: {}", e.toString());
        }
    }
}

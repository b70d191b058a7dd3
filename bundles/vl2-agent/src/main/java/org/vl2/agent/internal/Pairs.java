package org.vl2.agent.internal;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;

import org.vl2.api.EthernetFrame;
import org.vl2.crypto.CipherSuite;
import org.vl2.crypto.CryptoException;
import org.vl2.crypto.Session;
import org.vl2.protocol.Pair;
import org.vl2.protocol.SealedHeader;

/**
 * Encrypted vl2 mode: the pair keys this agent holds (docs/protocol.md, "Pair keys"). A pair is one direction of one
 * flow, the frames with exactly one VLAN, source MAC and destination MAC, keyed by the switch, so that it forwards
 * them without opening and sealing each one again. A {@link Send} pair seals the matching frames from the TAP with
 * its own keys and its index as the sealed header's receiver index; a {@link Receive} pair opens what arrives under
 * its index and takes a frame only if its VLAN and addresses are the pair's (what the switch would have checked).
 *
 * <p>The send pump looks up every frame here, the receive pump every datagram whose index is none of the session's:
 * copy-on-write arrays read once (volatile), so that an agent without pairs pays one read of an empty array and no
 * thread ever takes a lock or allocates per frame. The control thread writes them (PAIR, REVOKE, the sweep of
 * expired pairs, {@link #clear}); a data thread removes a pair it found expired (rare: once per pair). At most
 * {@link #MAX} pairs each way (a scan of 64 entries stays cheaper than a hash); beyond that a PAIR is refused and
 * those frames keep going through the switch's session path.
 */
final class Pairs {

    /** Pairs each way at most: the switch gets REFUSED beyond that. */
    static final int MAX = 64;

    /**
     * A pair this agent seals with: frames (vlan, source, destination) go out under {@code index}; {@code path} is the
     * direct path to the receiver when the switch gave its endpoint (direct paths on), else null.
     */
    record Send(int vlan, long source, long destination, int index, Session keys, long keyTag, DirectPath path) {
    }

    /**
     * A pair this agent opens with: what arrives under {@code index} must be a frame (vlan, source, destination);
     * {@code replies} seals the PROBE-ACKs of a direct path (null with direct paths off).
     */
    record Receive(int index, int vlan, long source, long destination, Session keys, long keyTag, Session replies) {
    }

    private static final Send[] NO_SEND = new Send[0];
    private static final Receive[] NO_RECEIVE = new Receive[0];
    private static final int TPID = 0x8100;
    private static final int TPID_8021AD = 0x88A8;

    private final int capacity;
    /** Direct paths on: a SEND's receiver endpoint becomes a {@link DirectPath}, a RECEIVE gets reply keys. */
    private final boolean direct;
    private final java.util.SplittableRandom salts = new java.util.SplittableRandom(
            new java.security.SecureRandom().nextLong());
    private final Counters counters;
    /** Replaced as a whole under {@code this}; read without a lock. */
    private volatile Send[] sending = NO_SEND;
    private volatile Receive[] receiving = NO_RECEIVE;

    /** {@code capacity} pairs each way: {@link #MAX}, or 0 when pairs are off (every PAIR refused). */
    Pairs(int capacity, Counters counters) {
        this(capacity, false, counters);
    }

    /** {@code direct}: direct paths on (docs/protocol.md, "Direct paths"). */
    Pairs(int capacity, boolean direct, Counters counters) {
        this.capacity = capacity;
        this.direct = direct && capacity > 0;
        this.counters = counters;
    }

    // ---------------------------------------------------------------------------------------------------------
    /** Whether this agent takes pair keys at all (encrypted, setting pairs on). */
    boolean enabled() {
        return capacity > 0;
    }

    // Data path

    /** Send pump: the pair for the frame at {@code at} ({@code length} bytes), or null (the session path). */
    Send sending(ByteBuffer buf, int at, int length) {
        Send[] s = sending;
        if (s.length == 0 || length < 14) {
            return null; // no pairs; or not even an Ethernet header (the switch drops it either way)
        }
        int vlan = vlan(buf, at, length);
        long destination = mac(buf, at);
        long source = mac(buf, at + 6);
        for (Send p : s) {
            if (p.destination == destination && p.source == source && p.vlan == vlan) {
                return p;
            }
        }
        return null;
    }

    /** Peer pump: the send pair whose index is {@code index} (a PROBE-ACK names it), or null. */
    Send sendingIndex(int index) {
        for (Send p : sending) {
            if (p.index == index) {
                return p;
            }
        }
        return null;
    }

    /**
     * Peer pump: the sender of receive pair {@code r} probed from {@code from}. If this agent sends the reverse flow on
     * a direct path, that is where the other member can be reached from here (behind a NAT, perhaps not where the
     * switch sees it): the path probes there too. Once a second per pair at most (a scan of the send pairs).
     */
    void probedFrom(Receive r, InetSocketAddress from) {
        for (Send p : sending) {
            DirectPath d = p.path;
            if (d != null && p.source == r.destination && p.destination == r.source && p.vlan == r.vlan) {
                if (!from.equals(d.peer) && !from.equals(d.candidate)) {
                    d.candidate = from;
                }
                return;
            }
        }
    }

    /** The pairs this agent seals with now (the control thread probes their direct paths). */
    Send[] sendingNow() {
        return sending;
    }

    /** Receive pump: the pair whose index is {@code index}, or null. */
    Receive receiving(int index) {
        for (Receive p : receiving) {
            if (p.index == index) {
                return p;
            }
        }
        return null;
    }

    /**
     * Receive pumps (the switch's relay and the peer socket): opens the sealed FRAME at {@code at} ({@code n} bytes,
     * the 16-byte header first) under receive pair {@code p} in place and takes it only if it is a frame of {@code
     * maxFrame} bytes at most and of the pair's flow: position and limit then bound the frame and its length is
     * returned; else -1, counted (unopened, malformed, pair mismatch; keys found expired drop the pair).
     */
    int openFrame(Receive p, ByteBuffer buf, int at, int n, long nowNanos, int maxFrame) {
        int header = SealedHeader.LENGTH;
        int length;
        try {
            length = p.keys.open(buf, at, header, n - header, nowNanos);
        } catch (CryptoException e) {
            if (e.reason() == CryptoException.Reason.EXPIRED) {
                expired(p);
            }
            counters.unopened();
            return -1;
        }
        if (length < EthernetFrame.HEADER_LENGTH || length > maxFrame) {
            counters.malformed(); // a runt, or longer than the TAP's MTU allows
            return -1;
        }
        if (!matches(p, buf, at + header, length)) {
            counters.pairMismatch(); // not the flow the switch keyed: what it would have refused to forward
            return -1;
        }
        buf.position(at + header).limit(at + header + length);
        counters.pairOpened.incrementAndGet();
        return length;
    }

    /** Whether the frame at {@code at} is of pair {@code p}'s flow: the switch checked nothing on the way. */
    static boolean matches(Receive p, ByteBuffer buf, int at, int length) {
        return mac(buf, at) == p.destination && mac(buf, at + 6) == p.source && vlan(buf, at, length) == p.vlan;
    }

    /**
     * The frame's VLAN id (802.1Q), {@link Pair#UNTAGGED}, or -1 (no pair's): an 802.1ad outer tag, which the switch
     * keys its MAC table by but never pairs, or a tag cut short.
     */
    static int vlan(ByteBuffer buf, int at, int length) {
        int tpid = buf.getShort(at + 12) & 0xFFFF;
        if (tpid == TPID) {
            return length >= 18 ? buf.getShort(at + 14) & 0xFFF : -1;
        }
        return tpid == TPID_8021AD ? -1 : Pair.UNTAGGED;
    }

    /** The 48-bit MAC address at {@code at}. */
    static long mac(ByteBuffer buf, int at) {
        return (buf.getShort(at) & 0xFFFFL) << 32 | buf.getInt(at + 2) & 0xFFFF_FFFFL;
    }

    /** A data thread found {@code p}'s keys expired: no longer used (unless already replaced). */
    synchronized void expired(Send p) {
        sending = without(sending, p);
    }

    /**
     * The switch answered a frame under send pair {@code index} with unknown-port: it does not know the pair (it
     * restarted, or ended the pair and the REVOKE was lost). The flow goes through the session again, and the switch
     * keys it anew if it may. Returns whether this agent sent under that index.
     */
    synchronized boolean unknownToSwitch(int index) {
        Send[] s = sending;
        Send[] rest = without(s, index);
        sending = rest;
        return rest.length != s.length;
    }

    /** A data thread found {@code p}'s keys expired. */
    synchronized void expired(Receive p) {
        receiving = without(receiving, p);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Control thread

    /**
     * A PAIR from the switch: SEND and RECEIVE install (replacing the pair of the same flow or index), REVOKE
     * removes the index from both tables (taken even if unknown: the switch may repeat it). Returns the PAIR-ACK's
     * status, {@link Pair#TAKEN} or {@link Pair#REFUSED} (an AEAD this agent does not have, no lifetime, no room).
     */
    synchronized int take(Pair p, long nowNanos) {
        int index = p.index();
        if (p.role() == Pair.REVOKE) {
            sending = without(sending, index);
            receiving = without(receiving, index);
            counters.pairsRevoked.incrementAndGet();
            return Pair.TAKEN;
        }
        CipherSuite suite = CipherSuite.ofWireId(p.suite());
        if (suite == null || p.lifetimeSeconds() == 0 || capacity == 0) {
            counters.pairsRefused.incrementAndGet();
            return Pair.REFUSED;
        }
        long tag = keyTag(p);
        if (p.role() == Pair.SEND) {
            for (Send held : sending) {
                if (held.index == index && held.keyTag == tag) {
                    // the same offer again (the switch missed the PAIR-ACK): new keys would start the counter at 0
                    // again under the same key, a nonce used twice; the pair stays as it is. The same key for
                    // another flow is no switch's doing: refused, for the same reason
                    boolean same = held.vlan == p.vlan() && held.source == p.source()
                            && held.destination == p.destination();
                    (same ? counters.pairsTaken : counters.pairsRefused).incrementAndGet();
                    return same ? Pair.TAKEN : Pair.REFUSED;
                }
            }
            // one flow, one pair: a new key for a flow replaces its old one, an index names one flow only
            Send[] s = without(sending, index);
            int at = 0;
            while (at < s.length && !(s[at].vlan == p.vlan() && s[at].source == p.source()
                    && s[at].destination == p.destination())) {
                at++;
            }
            if (at == s.length && s.length >= capacity) {
                counters.pairsRefused.incrementAndGet();
                return Pair.REFUSED;
            }
            Send replaced = at < s.length ? s[at] : null;
            s = replaced != null ? s.clone() : Arrays.copyOf(s, s.length + 1);
            DirectPath path = direct && p.peer() != null ? new DirectPath(p.peer(), replies(suite, p, nowNanos),
                    salts.nextInt()) : null;
            if (path != null && replaced != null && replaced.path != null && replaced.path.peer.equals(p.peer())) {
                // the flow's new key (a renewal) to the same endpoint: whether datagrams get there is the endpoint's
                // matter, not the key's, and the receiver took the new pair before the switch sent it here
                path.inherit(replaced.path);
            }
            s[at] = new Send(p.vlan(), p.source(), p.destination(), index, keys(suite, p, nowNanos), tag, path);
            sending = s;
        } else {
            Receive[] r = receiving;
            int at = 0;
            while (at < r.length && r[at].index != index) {
                at++;
            }
            if (at < r.length && r[at].keyTag == tag) {
                // the same key again: new keys would forget which counters were opened (replays); the flow it names
                // is taken as said
                Receive held = r[at];
                r = r.clone();
                r[at] = new Receive(index, p.vlan(), p.source(), p.destination(), held.keys, tag, held.replies);
                receiving = r;
                counters.pairsTaken.incrementAndGet();
                return Pair.TAKEN;
            }
            if (at == r.length && r.length >= capacity) {
                counters.pairsRefused.incrementAndGet();
                return Pair.REFUSED;
            }
            r = at < r.length ? r.clone() : Arrays.copyOf(r, r.length + 1);
            r[at] = new Receive(index, p.vlan(), p.source(), p.destination(), keys(suite, p, nowNanos), tag,
                    direct ? replies(suite, p, nowNanos) : null);
            receiving = r;
        }
        counters.pairsTaken.incrementAndGet();
        return Pair.TAKEN;
    }

    /** 64 bits of SHA-256 of the pair's key: tells a repeated offer from a new key under a reused index. */
    private static long keyTag(Pair p) {
        byte[] k = p.key();
        try {
            byte[] h = java.security.MessageDigest.getInstance("SHA-256").digest(k);
            return ByteBuffer.wrap(h).getLong();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        } finally {
            Arrays.fill(k, (byte) 0);
        }
    }

    private static Session keys(CipherSuite suite, Pair p, long nowNanos) {
        return Session.pair(suite, p.index(), p.key(), Duration.ofSeconds(p.lifetimeSeconds()), nowNanos);
    }

    /** The pair's reply keys: the receiver seals its PROBE-ACKs with them, the sender opens them. */
    private static Session replies(CipherSuite suite, Pair p, long nowNanos) {
        return Session.pairReplies(suite, p.index(), p.key(), Duration.ofSeconds(p.lifetimeSeconds()), nowNanos);
    }

    /** How many send pairs go straight to their receivers now. */
    int directCount() {
        int n = 0;
        for (Send p : sending) {
            if (p.path != null && p.path.up) {
                n++;
            }
        }
        return n;
    }

    /** Timers: drops the pairs whose keys expired (those nobody used since: the data threads drop the others). */
    synchronized void expire(long nowNanos) {
        for (Send p : sending) {
            if (p.keys.isExpired(nowNanos)) {
                sending = without(sending, p);
            }
        }
        for (Receive p : receiving) {
            if (p.keys.isExpired(nowNanos)) {
                receiving = without(receiving, p);
            }
        }
    }

    /**
     * The session with the switch is given up, or a new join replaced it: the switch has dropped the old port's
     * pairs, so every frame goes through the session path until it hands out new ones.
     */
    synchronized void clear() {
        sending = NO_SEND;
        receiving = NO_RECEIVE;
    }

    /** How many pairs this agent seals with. */
    int sendCount() {
        return sending.length;
    }

    /** How many pairs this agent opens with. */
    int receiveCount() {
        return receiving.length;
    }

    private static Send[] without(Send[] s, Send p) {
        return s.length == 0 ? s : Arrays.stream(s).filter(x -> x != p).toArray(n -> n == 0 ? NO_SEND : new Send[n]);
    }

    private static Send[] without(Send[] s, int index) {
        return s.length == 0 ? s : Arrays.stream(s).filter(x -> x.index != index)
                .toArray(n -> n == 0 ? NO_SEND : new Send[n]);
    }

    private static Receive[] without(Receive[] r, Receive p) {
        return r.length == 0 ? r : Arrays.stream(r).filter(x -> x != p)
                .toArray(n -> n == 0 ? NO_RECEIVE : new Receive[n]);
    }

    private static Receive[] without(Receive[] r, int index) {
        return r.length == 0 ? r : Arrays.stream(r).filter(x -> x.index != index)
                .toArray(n -> n == 0 ? NO_RECEIVE : new Receive[n]);
    }
}

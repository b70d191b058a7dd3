package org.vl2.switching.internal.vl2;

import static org.vl2.switching.internal.PortPair.append;
import static org.vl2.switching.internal.PortPair.find;
import static org.vl2.switching.internal.PortPair.remove;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.EthernetFrame;
import org.vl2.api.MacAddress;
import org.vl2.api.MacTableAdminService;
import org.vl2.api.PairInfo;
import org.vl2.api.PortId;
import org.vl2.api.spi.Transport;
import org.vl2.crypto.CryptoException;
import org.vl2.crypto.Session;
import org.vl2.protocol.Pair;
import org.vl2.protocol.SealedHeader;
import org.vl2.protocol.Wire;
import org.vl2.switching.internal.Egress;
import org.vl2.switching.internal.LearningPolicy;
import org.vl2.switching.internal.Network;
import org.vl2.switching.internal.Pairing;
import org.vl2.switching.internal.PortPair;
import org.vl2.switching.internal.PortRegistry;
import org.vl2.switching.internal.Settings;
import org.vl2.switching.internal.SwitchCounters;
import org.vl2.switching.internal.SwitchPort;
import org.vl2.switching.internal.TransportSlot;

/**
 * Pair keys (docs/protocol.md, "Pair keys"; docs/crypto.md): the switch keys a unicast flow between two encrypted
 * members once, so that it forwards the flow's frames sealed end to end instead of opening and sealing every one (two
 * of the four AEAD passes per frame, and all of the switch's).
 *
 * <p>When a known unicast frame goes from member A to member B, both pair-capable, on a network whose forwarding is
 * the learning bridge's (the egress depends on the destination alone, so it can be decided once per flow) and without
 * ip.guard (which checks every frame's IPv4 source), the switch draws a key and an index and sends PAIR RECEIVE to B;
 * when B acknowledges it, PAIR SEND to A. A then seals the flow's frames (exactly this VLAN, source and destination
 * MAC) with the pair key under the pair index, and the switch forwards each datagram unchanged to B, after checking
 * that it came from A's endpoint, refreshing A's station in the MAC table as the frame would have. B opens it and
 * takes the frame only if its VLAN and addresses are the pair's: what the switch checked per frame, the receiver
 * checks now. The trust is the one of the sessions: the switch saw every frame in clear before, and it made the key.
 *
 * <p>A pair ends (REVOKE to the ends that hold it, again until each acknowledges) when a station of its flow moves to
 * another port, an end leaves or is removed, the network or the switch settings change, or its receiver says it does
 * not hold it (an agent that restarted). {@link #RENEW_NANOS} after it was made the switch keys the flow again (make
 * before break: the sender replaces the pair when it takes the new one; the old one runs out at its lifetime, so what
 * was sealed under it on the way is not lost), so no key lives longer than {@link #LIFETIME_SECONDS} seconds, as a
 * session's. Frames on an ended pair are dropped and counted; its sender
 * falls back to its session at the REVOKE. A SEND may carry the receiver's endpoint, so that the sender sends the
 * frames straight there ({@link DirectPaths}).
 *
 * <p>Threads: the receive threads offer (first frame of a flow), forward and take acknowledgements; the housekeeping
 * thread retries and expires ({@link #tick}). State changes are serialised on this object and rare (per flow); the
 * frame path reads volatile arrays and a pair's volatile state only.
 */
public final class Pairs implements Pairing {

    private static final Logger LOG = LoggerFactory.getLogger(Pairs.class);
    private static final long SECOND = 1_000_000_000L;
    /** The lifetime a PAIR gives its ends. */
    static final int LIFETIME_SECONDS = 120;
    /** When the switch ends a pair itself, before the ends would refuse it: the flow's next frame keys a new one. */
    static final long RENEW_NANOS = (LIFETIME_SECONDS - 10) * SECOND;
    private static final long LIFETIME_NANOS = LIFETIME_SECONDS * SECOND;
    static final long RETRY_NANOS = SECOND;
    static final int MAX_TRIES = 4;
    /** A flow whose pair an end refused (or never answered) is not keyed again for this long. */
    static final long FAILED_HOLD_NANOS = 60 * SECOND;
    /**
     * Frames of a flow through the sender's session after it took the flow's pair, at most: those it sealed before it
     * took it (its send queue, GSO batches) stay below this.
     */
    static final int UNUSED_AFTER_FRAMES = 4096;
    /** Pairs a member sends on, and receives on, at most (an agent holds 64 of each). */
    static final int MAX_PER_PORT = 64;
    private static final int MESSAGE_ROOM = SealedHeader.LENGTH + Math.max(Pair.PEER_LENGTH, Pair.ACK_LENGTH)
            + Session.TAG_LENGTH;

    private final PortRegistry registry;
    private final MacTableAdminService fdb;
    private final SwitchCounters counters;
    private final Supplier<Settings> settings;
    private final LongSupplier nanoClock;
    private final DirectPaths direct;
    private final SecureRandom random = new SecureRandom();
    /** Every pair not yet forgotten (guarded by this): housekeeping and settings changes visit these, not every port. */
    private final Set<PortPair> live = new HashSet<>();
    /** The pairs by their stations, for a station that moves. */
    private final PairStations stations = new PairStations();

    public Pairs(PortRegistry registry, MacTableAdminService fdb, SwitchCounters counters,
                 Supplier<Settings> settings, LongSupplier nanoClock) {
        this.registry = registry;
        this.fdb = fdb;
        this.counters = counters;
        this.settings = settings;
        this.nanoClock = nanoClock;
        this.direct = new DirectPaths(this, settings);
    }

    // ---- the frame path ----------------------------------------------------------------------------------------

    @Override
    public void unicast(SwitchPort in, SwitchPort out, EthernetFrame frame, Egress e) {
        if (!settings.get().pairs()) {
            return;
        }
        int vlan = vlan(frame);
        if (vlan < 0) {
            return;
        }
        long source = frame.sourceBits();
        long destination = frame.destinationBits();
        boolean keyed = false; // a flow has one pair, and a second one while it is renewed
        for (PortPair pp : in.pairsOut) {
            if (!pp.carries(vlan, source, destination)) {
                continue;
            }
            keyed = true; // keyed, being keyed, renewed, ending, or refused lately
            int state = pp.state;
            if (pp.receiver != out && state != PortPair.REVOKED && state != PortPair.FAILED) {
                // the destination is behind another port now without a move this switch saw (an operator's static
                // entry): the pair would deliver to the old port; the flow's next frame keys anew
                revoke(pp, "its destination is behind " + out.id + " now");
            } else if (state == PortPair.ACTIVE && !pp.renewed && ++pp.sessionFrames > UNUSED_AFTER_FRAMES) {
                // the sender took the pair but does not use it (its agent joined again and forgot its pairs):
                // end it, and the flow's next frame keys it anew
                revoke(pp, "its sender does not use it");
            }
        }
        if (!keyed && eligible(in, out)) {
            offer(in, out, vlan, source, destination, null);
        }
    }

    /**
     * A sealed datagram under the index of a pair that {@code p} sends on: forwarded unchanged (between {@code at}
     * and the limit) to the pair's receiver if it is a FRAME from p's own endpoint on a pair in use. Frame path: no
     * allocation, no lock, no AEAD.
     */
    void forward(SwitchPort p, PortPair pp, TransportSlot slot, SocketAddress source, int type, ByteBuffer d,
                 int at, int length) {
        int state = pp.state;
        if (type != Wire.FRAME || state != PortPair.ACTIVE && state != PortPair.OFFERED_TO_SENDER
                || slot != p.slot || !source.equals(p.remote)) {
            // not a frame, a pair ended (its sender has not heard yet), or not from the member's endpoint: the
            // member's session messages move its port, never a pair's frames
            counters.pairDrops.increment();
            return;
        }
        SwitchPort o = pp.receiver;
        Transport t = o.slot.transport;
        int frameLength = length - SealedHeader.LENGTH - Session.TAG_LENGTH;
        long now = nanoClock.getAsLong();
        p.lastSeenNanos = now;
        p.rxFrames.increment();
        p.rxBytes.add(frameLength);
        // the flow's frames would have refreshed its source's MAC entry: keep the station known on this port, once a
        // second, but never move it here: behind another port now, it moved (the move's frame ends this pair)
        if (now - pp.refreshedNanos >= SECOND) {
            if (!refreshSource(p, pp)) {
                counters.pairDrops.increment();
                return;
            }
            pp.refreshedNanos = now;
        }
        if (o.removed || t == null) {
            counters.pairDrops.increment();
            return;
        }
        int limit = d.limit();
        d.position(at).limit(at + length);
        boolean sent = t.send(o.remote, d, o.id);
        d.limit(limit);
        if (sent) {
            o.txFrames.increment();
            o.txBytes.add(frameLength);
            counters.transmitted(frameLength);
            counters.pairFrames.increment();
        } else {
            o.txDrops.increment();
            counters.transmitFailed();
        }
    }

    /** The pair's VLAN field for a frame: untagged, an 802.1Q tag's id, or -1 for other tags (never paired). */
    static int vlan(EthernetFrame frame) {
        if (!frame.hasVlanTag()) {
            return Pair.UNTAGGED;
        }
        return frame.outerTpid() == EthernetFrame.TPID_8021Q ? frame.vlanId() : -1;
    }

    private boolean eligible(SwitchPort in, SwitchPort out) {
        return eligible(in, out, 0);
    }

    /** Whether a flow from {@code in} to {@code out} may be keyed, with {@code spare} pairs of the limit in hand. */
    private boolean eligible(SwitchPort in, SwitchPort out, int spare) {
        if (!settings.get().pairs()) {
            return false;
        }
        Network net = in.network;
        Session a = in.session;
        Session b = out.session;
        return net == out.network && in.authenticated() && out.authenticated() && !in.removed && !out.removed
                && a != null && b != null && a.cipher() == b.cipher() // both ends' pins hold
                && net.state().policy() instanceof LearningPolicy
                && !net.settings().hygiene().ipGuard()
                && in.pairsOut.length < MAX_PER_PORT + spare && out.pairsIn.length < MAX_PER_PORT + spare;
    }

    // ---- keying ------------------------------------------------------------------------------------------------

    /** Keys flow (vlan, source, destination) from {@code in} to {@code out}: a new one, or {@code predecessor}'s renewal. */
    private synchronized void offer(SwitchPort in, SwitchPort out, int vlan, long source, long destination,
                                    PortPair predecessor) {
        if (predecessor == null && in.pairOut(vlan, source, destination) != null || in.removed || out.removed
                || in.session == null) {
            return;
        }
        int index = registry.newPairIndex(in);
        if (index == 0) {
            return;
        }
        byte[] key = new byte[Pair.KEY_LENGTH];
        random.nextBytes(key);
        long now = nanoClock.getAsLong();
        PortPair pp = new PortPair(index, vlan, source, destination, in, out, in.session.cipher().wireId(), key, now);
        in.pairsOut = append(in.pairsOut, pp);
        out.pairsIn = append(out.pairsIn, pp);
        live.add(pp);
        stations.add(pp);
        pp.tries = 1;
        pp.dueNanos = now + RETRY_NANOS;
        if (predecessor != null) {
            pp.predecessor = predecessor;
            predecessor.successor = pp;
        }
        counters.pairsOffered.increment();
        send(out, pp, Pair.RECEIVE);
    }

    /** A PAIR-ACK opened from {@code p}: {@code plain} bytes of body at {@code at}. */
    void acknowledged(SwitchPort p, ByteBuffer d, int at, int plain) {
        if (plain != Pair.ACK_LENGTH || Pair.ackNetwork(d, at) != p.network.id) {
            counters.malformed.increment();
            return;
        }
        int index = Pair.ackIndex(d, at);
        int role = Pair.ackRole(d, at);
        int status = Pair.ackStatus(d, at);
        boolean taken = status == Pair.TAKEN;
        synchronized (this) {
            PortPair pp = find(role == Pair.SEND ? p.pairsOut : role == Pair.RECEIVE ? p.pairsIn : null, index);
            if (role == Pair.REVOKE) {
                PortPair held = find(p.pairsIn, index);
                if (held == null) {
                    held = find(p.pairsOut, index);
                }
                if (held != null && held.state != PortPair.REVOKED && held.state != PortPair.FAILED) {
                    // unasked: the end does not hold the pair (its agent restarted): frames on it would be lost
                    counters.pairsRevoked.increment();
                    LOG.debug("{} ends: {} does not hold it", held, p.id);
                    PortPair next = held.successor;
                    end(held, false, true);
                    if (next != null) {
                        revoke(next, "an end does not hold its predecessor");
                    }
                    return;
                }
                pp = find(p.pairsOut, index);
                if (pp != null && pp.sender == p) {
                    pp.revokeSender = false;
                }
                PortPair in = find(p.pairsIn, index);
                if (in != null && in.receiver == p) {
                    in.revokeReceiver = false;
                    pp = in;
                }
                if (pp != null && pp.state == PortPair.REVOKED && !pp.revokeSender && !pp.revokeReceiver) {
                    finish(pp, false);
                }
                return;
            }
            if (pp == null) {
                return; // a late answer for a pair that went
            }
            if (status == Pair.DIRECT || status == Pair.RELAYED) {
                if (role == Pair.SEND) {
                    direct.status(p, pp, status); // a sender on its direct path; of another role: meaningless
                }
                return;
            }
            long now = nanoClock.getAsLong();
            if (role == Pair.RECEIVE && pp.state == PortPair.OFFERED_TO_RECEIVER) {
                if (!taken) {
                    refused(pp, "the receiving member refused it", false);
                    return;
                }
                pp.state = PortPair.OFFERED_TO_SENDER;
                pp.tries = 1;
                pp.dueNanos = now + RETRY_NANOS;
                pp.peer = direct.peer(pp); // its resends carry the same
                send(pp.sender, pp, Pair.SEND);
            } else if (role == Pair.SEND && pp.state == PortPair.OFFERED_TO_SENDER) {
                if (!taken) {
                    refused(pp, "the sending member refused it", true);
                    return;
                }
                taken(pp);
            }
        }
    }

    /** Both ends hold {@code pp} now: it is in use. Under this lock. */
    void taken(PortPair pp) {
        pp.state = PortPair.ACTIVE;
        Arrays.fill(pp.key, (byte) 0); // forwarding needs no key
        pp.key = null;
        counters.pairsActive.increment();
        LOG.debug("{} in use", pp);
        PortPair old = pp.predecessor;
        if (old != null) {
            // the sender moved to this one when it took it (same flow: it replaces); what it sealed under the old one
            // just before may still be on its way, so the old one stays usable and runs out at its lifetime (tick),
            // 10 s from now
            pp.predecessor = null;
            old.successor = null;
            old.renewed = true;
        }
    }

    /**
     * An end refused (or never answered): the end that took it gives it up ({@code receiverHolds}: the receiver took
     * it, or may have), and the flow is not keyed again for a while.
     */
    private void refused(PortPair pp, String why, boolean receiverHolds) {
        if (pp.predecessor != null) {
            pp.predecessor.successor = null; // the pair it would renew runs to its lifetime, then the flow is keyed anew
            pp.predecessor = null;
        }
        counters.pairsRefused.increment();
        LOG.debug("{} not used: {}", pp, why);
        end(pp, true, receiverHolds);
    }

    // ---- ending ------------------------------------------------------------------------------------------------

    @Override
    public void moved(Network network, int vlan, long mac, SwitchPort to) {
        PortPair[] pairs = stations.at(vlan, mac);
        if (pairs == null) {
            return;
        }
        for (PortPair pp : pairs) {
            if (pp.sender.network == network && fdbVlan(pp.vlan) == vlan
                    && (pp.source == mac && pp.sender != to || pp.destination == mac && pp.receiver != to)) {
                revoke(pp, "station moved to " + to.id);
            }
        }
    }

    /** {@code p} moved to another endpoint: the pairs whose SEND carried its old one end (direct paths). */
    public void moved(SwitchPort p) {
        direct.receiverMoved(p);
    }

    /** A port went: every pair it sent or received on ends (its own copy went with its session). */
    public void removed(SwitchPort p) {
        for (PortPair pp : p.pairsOut) {
            revoke(pp, p.id + " removed");
        }
        for (PortPair pp : p.pairsIn) {
            revoke(pp, p.id + " removed");
        }
    }

    /** The switch's or a network's settings changed: pairs that may no longer be used end. */
    public void settingsChanged() {
        boolean on = settings.get().pairs();
        for (PortPair pp : livePairs()) {
            Network n = pp.sender.network;
            if (!on || !(n.state().policy() instanceof LearningPolicy) || n.settings().hygiene().ipGuard()) {
                revoke(pp, "the settings changed");
            } else if (direct.endsWhenOff(pp)) {
                revoke(pp, "direct paths were turned off");
            }
        }
    }

    /** Ends a pair: REVOKE to the ends that may hold it, until they acknowledge; its frames are dropped meanwhile. */
    synchronized void revoke(PortPair pp, String why) {
        int state = pp.state;
        if (state == PortPair.REVOKED || state == PortPair.FAILED) {
            return;
        }
        counters.pairsRevoked.increment();
        LOG.debug("{} ends: {}", pp, why);
        PortPair next = pp.successor;
        end(pp, false, true);
        if (next != null) {
            revoke(next, why);
        }
    }

    /** {@code receiverHolds}: the receiver took the pair (or may have: its answer may be lost) and is told. */
    private void end(PortPair pp, boolean failed, boolean receiverHolds) {
        int state = pp.state;
        if (pp.predecessor != null) {
            pp.predecessor.successor = null;
            pp.predecessor = null;
        }
        if (pp.key != null) {
            Arrays.fill(pp.key, (byte) 0);
            pp.key = null;
        }
        // an offer may have been taken though its answer was lost: a REVOKE to every end it went to
        pp.revokeReceiver = receiverHolds && !pp.receiver.removed;
        pp.revokeSender = state >= PortPair.OFFERED_TO_SENDER && !pp.sender.removed;
        pp.state = PortPair.REVOKED;
        pp.failed = failed;
        pp.tries = 1;
        pp.dueNanos = nanoClock.getAsLong() + RETRY_NANOS;
        if (pp.revokeReceiver) {
            send(pp.receiver, pp, Pair.REVOKE);
        }
        if (pp.revokeSender) {
            send(pp.sender, pp, Pair.REVOKE);
        }
        if (!pp.revokeReceiver && !pp.revokeSender) {
            finish(pp, false);
        }
    }

    /**
     * Both ends dropped it (or could not be told): the pair leaves the receiver's list; the sender's keeps it as
     * FAILED for a while if it was refused (no new offer per frame meanwhile), else it goes and its index with it.
     */
    private void finish(PortPair pp, boolean expired) {
        pp.receiver.pairsIn = remove(pp.receiver.pairsIn, pp);
        stations.drop(pp);
        if (pp.failed && !expired && !pp.sender.removed) {
            pp.state = PortPair.FAILED;
            pp.dueNanos = nanoClock.getAsLong() + FAILED_HOLD_NANOS;
            return;
        }
        pp.sender.pairsOut = remove(pp.sender.pairsOut, pp);
        live.remove(pp);
        registry.sessionsChanged(pp.sender); // its index goes
    }

    /** Housekeeping: offers and REVOKEs again, ends pairs at their renewal time, forgets refusals. */
    public synchronized void tick() {
        long now = nanoClock.getAsLong();
        for (PortPair pp : livePairs()) {
            int state = pp.state;
            if (state == PortPair.FAILED) {
                if (now - pp.dueNanos >= 0) {
                    finish(pp, true);
                }
            } else if (state != PortPair.ACTIVE && now - pp.dueNanos >= 0) {
                if (pp.tries >= MAX_TRIES) {
                    if (state == PortPair.REVOKED) {
                        finish(pp, false); // an end that never answers keeps nothing it can use for long
                    } else {
                        refused(pp, "no answer after " + MAX_TRIES + " tries", true);
                    }
                    continue;
                }
                pp.tries++;
                pp.dueNanos = now + (RETRY_NANOS << (pp.tries - 1));
                if (state == PortPair.OFFERED_TO_RECEIVER) {
                    send(pp.receiver, pp, Pair.RECEIVE);
                } else if (state == PortPair.OFFERED_TO_SENDER) {
                    send(pp.sender, pp, Pair.SEND);
                } else {
                    if (pp.revokeReceiver) {
                        send(pp.receiver, pp, Pair.REVOKE);
                    }
                    if (pp.revokeSender) {
                        send(pp.sender, pp, Pair.REVOKE);
                    }
                }
            } else if (state == PortPair.ACTIVE && now - pp.createdNanos >= LIFETIME_NANOS) {
                counters.pairsRevoked.increment(); // renewed, or its renewal did not come through: the ends refuse it now
                end(pp, false, true);
            } else if (state == PortPair.ACTIVE && now - pp.createdNanos >= RENEW_NANOS && pp.successor == null
                    && !pp.renewed && eligible(pp.sender, pp.receiver, 1)) {
                // make before break: the sender replaces it when it takes the new one, then this one ends
                offer(pp.sender, pp.receiver, pp.vlan, pp.source, pp.destination, pp);
            }
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    /** A copy of the live pairs. */
    private synchronized List<PortPair> livePairs() {
        return new ArrayList<>(live);
    }

    /** What {@code vl2:pairs} shows: every pair not yet forgotten, by network and sender port; never a key. */
    public List<PairInfo> info() {
        long now = nanoClock.getAsLong();
        List<PairInfo> out = new ArrayList<>();
        for (PortPair pp : livePairs()) {
            int state = pp.state;
            String text = switch (state) {
                case PortPair.ACTIVE -> pp.direct ? "direct" : "active";
                case PortPair.REVOKED -> "ending";
                case PortPair.FAILED -> "refused";
                default -> "offered";
            };
            out.add(new PairInfo(pp.sender.network.id, pp.index, pp.vlan == Pair.UNTAGGED ? -1 : pp.vlan,
                    MacAddress.of(pp.source), MacAddress.of(pp.destination), pp.sender.id, pp.receiver.id, text,
                    Duration.ofNanos(Math.max(0, now - pp.createdNanos))));
        }
        out.sort(Comparator.comparingLong(PairInfo::network).thenComparingInt(p -> p.sender().number())
                .thenComparingInt(p -> p.receiver().number()).thenComparing(p -> p.destination().toString()));
        return out;
    }

    /**
     * Keeps the pair's source station known on its sender's port {@code p}, as the flow's frames would: learned again
     * if it aged out, never moved back from another port (a move the switch saw ends the pair). False if it is behind
     * another port now.
     */
    boolean refreshSource(SwitchPort p, PortPair pp) {
        int vlan = fdbVlan(pp.vlan);
        PortId holder = fdb.lookup(p.network.id, vlan, pp.source);
        if (holder != null && !holder.equals(p.id)) {
            return false;
        }
        fdb.learn(p.network.id, vlan, pp.source, p.id);
        return true;
    }

    static int fdbVlan(int pairVlan) {
        return pairVlan == Pair.UNTAGGED ? EthernetFrame.UNTAGGED : pairVlan;
    }

    /** PAIR {@code role} for {@code pp} to {@code to}, sealed with its session. Rare: per flow, not per frame. */
    private void send(SwitchPort to, PortPair pp, int role) {
        Session s = to.session;
        Transport t = to.slot.transport;
        SocketAddress remote = to.remote;
        if (s == null || t == null || remote == null || to.removed || role != Pair.REVOKE && pp.key == null) {
            return;
        }
        Pair message = role == Pair.REVOKE
                ? Pair.revoke(to.network.id, pp.index, pp.vlan, pp.source, pp.destination)
                : new Pair(to.network.id, pp.index, role, pp.suite, pp.vlan, pp.source, pp.destination,
                        Math.max(1, LIFETIME_SECONDS - (int) ((nanoClock.getAsLong() - pp.createdNanos) / SECOND)),
                        pp.key, role == Pair.SEND ? pp.peer : null);
        int length = message.encodedLength();
        ByteBuffer out = ByteBuffer.allocate(MESSAGE_ROOM);
        SealedHeader.write(out, 0, Wire.PAIR, s.remoteIndex());
        message.encode(out, SealedHeader.LENGTH);
        out.limit(SealedHeader.LENGTH + length + Session.TAG_LENGTH);
        try {
            s.seal(out, 0, SealedHeader.LENGTH, length, System.nanoTime());
        } catch (CryptoException e) {
            return; // the session expired: its member re-keys, the retry goes under the new keys
        }
        out.position(0);
        t.send(remote, out);
    }
}

package org.vl2.agent.internal;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

import org.vl2.crypto.CryptoException;
import org.vl2.crypto.Session;
import org.vl2.protocol.Pair;
import org.vl2.protocol.Probe;
import org.vl2.protocol.SealedHeader;
import org.vl2.protocol.Wire;

/**
 * Direct paths, the control thread's part (docs/protocol.md, "Direct paths"): for each send pair whose PAIR SEND
 * carried the receiver's endpoint, PROBEs sealed with the pair key straight to that endpoint, once a second while the
 * pair carries frames (and at once for a new one); a PROBE-ACK that opened ({@link DirectPath#acknowledged}) within
 * {@link #DEAD_MILLIS} keeps the path up, and the send pump then sends the pair's frames there instead of to the
 * switch. The switch hears of each change (PAIR-ACK DIRECT or RELAYED) and, while the path is up and used, a DIRECT
 * every {@link #REPORT_MILLIS}: its MAC table keeps this member's station, which the frames no longer refresh there.
 *
 * <p>What a probe that fails costs: nothing but the relay through the switch, which is where the frames stay. A path
 * that stops answering (the receiver roamed, a firewall closed) is down after {@link #DEAD_MILLIS} and its frames go
 * through the switch again at once; a path that never answered is probed {@link #FIRST_PROBES} times a second apart,
 * then every {@link #RETRY_MILLIS} while the flow goes on.
 */
final class DirectPaths {

    /** Probe interval of a path in use (or new). */
    static final long PROBE_MILLIS = 1_000;
    /** No PROBE-ACK for this long: the path is down, its frames go through the switch. */
    static final long DEAD_MILLIS = 3_500;
    /** Probes a second apart before a path that never answered is probed only every {@link #RETRY_MILLIS}. */
    static final int FIRST_PROBES = 5;
    static final long RETRY_MILLIS = 30_000;
    /** A pair that sealed nothing for this long is not probed (its path goes down; its next frame probes again). */
    static final long IDLE_MILLIS = 30_000;
    /** While up and used, the switch is told DIRECT again this often. */
    static final long REPORT_MILLIS = 10_000;

    private static final int PROBE_DATAGRAM = SealedHeader.LENGTH + Probe.LENGTH + Session.TAG_LENGTH;

    private final Pairs pairs;
    private final Counters counters;
    private final AgentClock clock;
    /** Control thread only: where probes are built. */
    private final ByteBuffer probe = ByteBuffer.allocate(PROBE_DATAGRAM);

    /** What the switch is told: a PAIR-ACK of role SEND with {@link Pair#DIRECT} or {@link Pair#RELAYED}. */
    @FunctionalInterface
    interface Reports {
        void report(int index, int status);
    }

    DirectPaths(Pairs pairs, Counters counters, AgentClock clock) {
        this.pairs = pairs;
        this.counters = counters;
        this.clock = clock;
    }

    /**
     * Probes what is due, takes paths up and down and tells the switch; {@code link} is the current link (its peer
     * socket sends the probes: none, no probes). Returns when it wants to run next, or {@link Long#MAX_VALUE}.
     */
    long tick(long now, Link link, Reports reports) {
        Pairs.Send[] sending = pairs.sendingNow();
        Link peers = link == null ? null : link.peers();
        long next = Long.MAX_VALUE;
        for (Pairs.Send p : sending) {
            DirectPath d = p.path();
            if (d == null) {
                continue;
            }
            long f = d.frames;
            if (f != d.framesSeen || d.lastUsed == 0) {
                d.framesSeen = f;
                d.lastUsed = now; // a new pair counts as used: its flow is why the switch keyed it
            }
            boolean used = now - d.lastUsed < IDLE_MILLIS;
            long ack = d.lastAck;
            boolean fresh = ack != 0 && now - ack < DEAD_MILLIS && peers != null;
            d.up = fresh; // the send pump reads it with the pair's next frame
            if (fresh && (d.reported != Pair.DIRECT || used && now - d.reportedAt >= REPORT_MILLIS)) {
                report(reports, p, d, Pair.DIRECT, now);
            } else if (!fresh && d.reported == Pair.DIRECT) {
                report(reports, p, d, Pair.RELAYED, now);
            }
            if (peers == null || !used) {
                continue;
            }
            if (now >= d.nextProbe) {
                if (ack >= d.lastProbeAt) {
                    d.unanswered = 0; // answered since the last probe
                }
                sendProbe(peers, p, d, d.peer);
                InetSocketAddress other = d.candidate;
                if (other != null) {
                    sendProbe(peers, p, d, other); // where the receiver's own probes come from (a NAT's mapping)
                }
                d.lastProbeAt = now;
                d.unanswered++;
                d.nextProbe = now + (d.unanswered <= FIRST_PROBES || fresh ? PROBE_MILLIS : RETRY_MILLIS);
            }
            next = Math.min(next, Math.min(d.nextProbe, now + PROBE_MILLIS)); // also: to see use and silence in time
        }
        return next;
    }

    private void report(Reports reports, Pairs.Send p, DirectPath d, int status, long now) {
        d.reported = status;
        if (status == Pair.DIRECT) {
            d.reportedAt = now;
        }
        reports.report(p.index(), status);
    }

    /** A PROBE sealed with the pair's key under its index, straight to {@code to}, an endpoint of the receiver's. */
    private void sendProbe(Link peers, Pairs.Send p, DirectPath d, InetSocketAddress to) {
        ByteBuffer b = probe.clear();
        SealedHeader.write(b, 0, Wire.PROBE, p.index());
        Probe.encode(b, SealedHeader.LENGTH, d.nextProbeId());
        try {
            p.keys().seal(b, 0, SealedHeader.LENGTH, Probe.LENGTH, clock.nanos());
        } catch (CryptoException e) {
            return; // the pair's keys expired: it goes at the next sweep
        }
        b.position(0).limit(PROBE_DATAGRAM);
        if (peers.sendTo(to, b)) {
            counters.probesSent.incrementAndGet();
        }
    }
}

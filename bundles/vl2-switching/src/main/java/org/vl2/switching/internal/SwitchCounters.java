package org.vl2.switching.internal;

import java.util.concurrent.atomic.LongAdder;

import org.vl2.api.SwitchStatistics;

/**
 * The switch-wide counters. TX counts what the transports really took: a frame is counted sent when the transport
 * accepted it, and when a batched transport reports later that it could not put some of those on the wire after
 * all ({@link #transmitFailed}), they move from sent to TX errors, so sent + errors = frames handed to transports
 * (the port's own counters move the same way, see {@link Ingress#transmitFailed(org.vl2.api.spi.Transport,
 * org.vl2.api.PortId, int, long)}).
 */
public final class SwitchCounters {

    final LongAdder rxFrames = new LongAdder();
    final LongAdder rxBytes = new LongAdder();
    final LongAdder txFrames = new LongAdder();
    final LongAdder txBytes = new LongAdder();
    final LongAdder unicast = new LongAdder();
    final LongAdder flooded = new LongAdder();
    final LongAdder filtered = new LongAdder();
    final LongAdder dropRunt = new LongAdder();
    final LongAdder dropOversize = new LongAdder();
    final LongAdder dropSourceMulticast = new LongAdder();
    final LongAdder dropNoPolicy = new LongAdder();
    final LongAdder dropPolicy = new LongAdder();
    final LongAdder dropPortLimit = new LongAdder();
    /** New unauthenticated endpoints refused by a quota (per address, per transport, the members' reserve). */
    final LongAdder dropPortQuota = new LongAdder();
    final LongAdder dropStorm = new LongAdder();
    final LongAdder dropUnknownNetwork = new LongAdder();
    /** Per-port hygiene (see {@link PortHygiene}). */
    final LongAdder dropMacLimit = new LongAdder();
    final LongAdder dropDhcpSpoofed = new LongAdder();
    final LongAdder dropDhcpRate = new LongAdder();
    final LongAdder dropIpGuard = new LongAdder();
    /** Frames of raw and VXLAN ports for a network not open to plaintext (sealed or private). */
    final LongAdder dropSealed = new LongAdder();
    /** vl2 datagrams that are not a well-formed message. */
    public final LongAdder malformed = new LongAdder();
    /** vl2 datagrams for no session, a wrong token, or that do not open. */
    public final LongAdder badSession = new LongAdder();
    final LongAdder txErrors = new LongAdder();
    /** Encrypted handshakes completed, COOKIE-REPLYs sent, initiations throttled (control path, not per frame). */
    public final LongAdder handshakes = new LongAdder();
    public final LongAdder cookieReplies = new LongAdder();
    public final LongAdder handshakesThrottled = new LongAdder();
    /** Pair keys (docs/protocol.md): frames forwarded on a pair (no AEAD), and dropped on one (ended, not the sender's endpoint). */
    public final LongAdder pairFrames = new LongAdder();
    public final LongAdder pairDrops = new LongAdder();
    /** Pairs offered, taken by both ends, ended by the switch, refused (or unanswered) by an end. */
    public final LongAdder pairsOffered = new LongAdder();
    public final LongAdder pairsActive = new LongAdder();
    public final LongAdder pairsRevoked = new LongAdder();
    public final LongAdder pairsRefused = new LongAdder();

    /** A frame of {@code bytes} a transport accepted outside the forwarder (a pair's). */
    public void transmitted(long bytes) {
        txFrames.increment();
        txBytes.add(bytes);
    }

    /** A frame a transport refused outside the forwarder (a pair's). */
    public void transmitFailed() {
        txErrors.increment();
    }

    /** Frames of {@code bytes} in all that a transport accepted earlier and then failed to send (a refused batch). */
    void transmitFailed(int frames, long bytes) {
        txFrames.add(-frames);
        txBytes.add(-bytes);
        txErrors.add(frames);
    }

    SwitchStatistics snapshot(int ports) {
        return new SwitchStatistics(ports, rxFrames.sum(), rxBytes.sum(), txFrames.sum(), txBytes.sum(),
                unicast.sum(), flooded.sum(), filtered.sum(), dropRunt.sum(), dropOversize.sum(),
                dropSourceMulticast.sum(), dropNoPolicy.sum(), dropPolicy.sum(), dropPortLimit.sum(), txErrors.sum(),
                dropUnknownNetwork.sum(), malformed.sum(), badSession.sum(), dropStorm.sum(), dropPortQuota.sum(),
                dropMacLimit.sum(), dropDhcpSpoofed.sum(), dropDhcpRate.sum(), dropIpGuard.sum(),
                dropSealed.sum(), handshakes.sum(), cookieReplies.sum(), handshakesThrottled.sum(), pairFrames.sum(),
                pairDrops.sum(), pairsActive.sum(), pairsRevoked.sum() + pairsRefused.sum());
    }
}

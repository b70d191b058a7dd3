package org.vl2.agent.internal;

import java.nio.ByteBuffer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.crypto.CryptoException;
import org.vl2.crypto.Handshake;
import org.vl2.crypto.Initiator;
import org.vl2.protocol.ProtocolException;
import org.vl2.protocol.Welcome;

/**
 * Encrypted: the switch's answers to the handshakes of a join round, on the control thread ({@link Vl2Session} hands
 * them over). A RESPONSE must answer one of the current round's handshakes (by its receiver index, before any
 * Diffie-Hellman), verify, and carry the WELCOME for that handshake's JOIN; a COOKIE-REPLY gives the cookie the next
 * handshake carries. What verifies goes back to the session ({@link Vl2Session#verified}, {@link Vl2Session#welcome},
 * {@link Vl2Session#olderSwitch}); everything else is a counted drop.
 */
final class HandshakeAnswers {

    private static final Logger LOG = LoggerFactory.getLogger(Vl2Session.class);

    private final Vl2Session session;
    private final JoinRound round;
    private final Counters counters;
    private final Timing timing;
    private final long network;
    private final String tag;

    HandshakeAnswers(Vl2Session session, JoinRound round, Counters counters, Timing timing, long network, String tag) {
        this.session = session;
        this.round = round;
        this.counters = counters;
        this.timing = timing;
        this.network = network;
        this.tag = tag;
    }

    /**
     * A RESPONSE or COOKIE-REPLY. The first RESPONSE that verifies ends the round. When the switch was slower than the
     * retry interval it answers two handshakes of the round, and, as with two WELCOMEs, the later one holds the keys it
     * sends with: for a short while after the round, a RESPONSE to a handshake sent after the one in use replaces its
     * keys; one to an earlier handshake is stale.
     */
    void take(byte[] datagram, long now) {
        ByteBuffer d = ByteBuffer.wrap(datagram);
        int receiver;
        try {
            receiver = Handshake.receiverIndex(d);
        } catch (CryptoException e) {
            counters.malformed();
            return;
        }
        int slot = round.answered(receiver);
        if (slot < 0) {
            counters.malformed(); // stale: an answer to an earlier round or handshake, or no handshake under way
            return;
        }
        if (Handshake.type(d) == Handshake.COOKIE_REPLY) {
            cookieReply(round.initiator(slot), d, now);
            return;
        }
        Initiator.Completion done;
        try {
            done = round.initiator(slot).consume(d, timing.sessionLimits(), timing.clock().nanos());
        } catch (CryptoException e) {
            if (e.reason() == CryptoException.Reason.CIPHER_MISMATCH) { // authenticated: an older switch, ChaCha20
                session.olderSwitch(now);
                return;
            }
            counters.unopened(); // forged, modified, or a copy of one already consumed
            return;
        }
        session.verified(now);
        Welcome w;
        try {
            w = Welcome.decode(ByteBuffer.wrap(done.payload()));
        } catch (ProtocolException | RuntimeException e) {
            counters.malformed(); // verified, but not a WELCOME: the next handshake of the round may do better
            return;
        }
        if (w.nonce() != round.nonce(slot) || w.network() != network) {
            counters.malformed(); // verified, but not the WELCOME for this JOIN
            return;
        }
        round.use(slot, now, timing.joinRetryMillis());
        session.welcome(w, now, done.session());
    }

    /**
     * A COOKIE-REPLY: the switch is under a handshake flood and answers only initiations that prove their source
     * address with a cookie (mac2, docs/crypto.md). Keep the cookie and send the next handshake with it at once (the
     * switch limits its cookie replies, so this cannot loop faster than it allows).
     */
    private void cookieReply(Initiator handshake, ByteBuffer d, long now) {
        byte[] c;
        try {
            c = handshake.consumeCookieReply(d);
        } catch (CryptoException e) {
            counters.unopened(); // forged, or for another key
            return;
        }
        if (round.cookie(c)) {
            LOG.info("{}Port agent: the switch is under a handshake flood and asked for a cookie: retrying with it",
                    tag);
        }
        counters.cookieReplies.incrementAndGet();
        if (session.joining) {
            session.nextJoinAt = now;
        }
    }
}

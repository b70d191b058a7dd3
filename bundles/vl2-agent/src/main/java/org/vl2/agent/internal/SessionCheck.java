package org.vl2.agent.internal;

import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.crypto.Session;
import org.vl2.protocol.ProtocolError;

/**
 * vl2 mode, encrypted: whether the switch still holds the keys the agent seals with. Only what opens under those keys
 * answers that (anyone on the path can send plaintext from the switch's address):
 * <ul>
 *   <li>confirmation: new keys count as held once a message from the switch opened under them. Under load the switch
 *   answers a backlog of a round's handshakes late, each answer replacing its pending session, so until then the
 *   round stays answerable (a later answer gives the keys the switch holds), and keys unconfirmed for an interval
 *   get a new handshake, well before the switch expires a silent port (3 intervals);</li>
 *   <li>an {@code unknown-port} ERROR, which is unauthenticated: a sealed KEEPALIVE asks the switch itself; an answer
 *   under the keys shows the ERROR was not the switch's (counted, ignored), silence for rejoinMillis (or four round
 *   trips) gets a new handshake while the current keys keep carrying frames.</li>
 * </ul>
 * A plaintext agent takes an {@code unknown-port} at its word: it re-joins, at most once per rejoinMillis.
 */
final class SessionCheck {

    private static final Logger LOG = LoggerFactory.getLogger(Vl2Session.class); // the session's lines, one category

    private final Vl2Session session;
    private final Timing timing;
    private final Counters counters;
    private final Lifecycle life;

    /** The current keys once a message from the switch opened under them, else older keys or null. */
    private volatile Session confirmed;

    // control thread only
    /**
     * When an {@code unknown-port} for the current session made the agent ask the switch (0: no question open), and
     * how many authentic messages the session had had at that moment.
     */
    private long probeAt;
    private long probeAuthentic;
    /** When an {@code unknown-port} last made the agent re-join or ask (at most one per rejoinMillis). */
    private long lastUnknownPortRejoin;

    SessionCheck(Vl2Session session, Timing timing, Counters counters, Lifecycle life) {
        this.session = session;
        this.timing = timing;
        this.counters = counters;
        this.life = life;
    }

    /** Receive pump: a message from the switch opened under {@code keys}: if they are the current ones, it holds them. */
    void opened(Session keys) {
        if (confirmed != keys) {
            Vl2Session.Joined s = session.joined();
            if (s != null && s.keys() == keys) {
                confirmed = keys;
            }
        }
    }

    /** Joined encrypted, but nothing from the switch has opened under the current keys yet. */
    boolean unconfirmed() {
        Vl2Session.Joined s = session.joined();
        return s != null && s.keys() != null && confirmed != s.keys();
    }

    /**
     * How long new keys may go unconfirmed: one keepalive interval, or four measured round trips if longer. The
     * first keepalive under them is answered in a round trip; silence for an interval means the switch holds other
     * keys (or the answer was lost).
     */
    long confirmWaitMillis(Vl2Session.Joined s) {
        return Math.max(s.keepaliveMillis(), 4 * TimeUnit.NANOSECONDS.toMillis(session.rttNanos()));
    }

    /** Timers, joined: keys unconfirmed for {@link #confirmWaitMillis} start a new handshake; true if they did. */
    boolean confirmationOverdue(long now) {
        Vl2Session.Joined s = session.joined();
        if (!unconfirmed() || now - s.since() < confirmWaitMillis(s)) {
            return false;
        }
        String wait = Lifecycle.duration(confirmWaitMillis(s));
        LOG.info("{}Port agent: the switch did not confirm the session keys of port {} within {} (it answered a"
                + " later handshake of the round after this one was given up, or the answer was lost): new handshake",
                life.tag, Integer.toUnsignedString(s.port()), wait);
        counters.unconfirmedSessions.incrementAndGet();
        if (session.previousKeys() != null) {
            session.startRekey(now); // the switch seals with the previous keys until it opens a message under new ones
        } else {
            session.startJoin(now, "the switch has not confirmed the session keys for " + wait + ": re-joining");
        }
        return true;
    }

    /**
     * The switch does not know this port (session): it restarted or expired it. Plaintext: re-join, at most every
     * rejoinMillis. Encrypted, the ERROR is unauthenticated (the index it names is in the clear in every sealed
     * message), so it only makes the agent ask the switch under the session's keys: a sealed KEEPALIVE, at most
     * every rejoinMillis. A switch that still has the session answers it and the ERROR is ignored; one that stays
     * silent under the keys for rejoinMillis gets a new handshake ({@link SessionCheck#probe}), while the current keys
     * keep carrying frames.
     */
    void unknownPort(ProtocolError e, long now) {
        Vl2Session.Joined s = session.joined();
        // encrypted, the port field names the switch's session index the agent sent to, or a pair's index: a switch
        // that lost the port (a restart) answers the flows on pair keys first, and a pair it ended without this agent
        // hearing of it would swallow its flow; the flow goes back to the session, and the switch is asked as for the
        // session (unauthenticated as the ERROR is, the worst it does is send a flow the slow way until it is keyed
        // again)
        if (s == null || e.port() != (s.keys() != null ? s.keys().remoteIndex() : s.port())
                && !(s.keys() != null && session.pairs().unknownToSwitch(e.port()))) {
            counters.malformed(); // about a port (session) this agent does not have (any more)
            return;
        }
        if (session.joining && !session.rekeying || now - lastUnknownPortRejoin < timing.rejoinMillis()) {
            return; // already re-joining; and at most one round per rejoinMillis
        }
        lastUnknownPortRejoin = now;
        if (s.keys() != null) {
            if (!session.joining) {
                ask(now, s); // unless a handshake is under way
            }
            return;
        }
        LOG.info("{}Port agent: the switch does not know port {} (it restarted, or expired the port):"
                + " re-joining", life.tag, Integer.toUnsignedString(s.port()));
        session.startJoin(now, null);
    }

    /** An {@code unknown-port} named the current session: asks the switch under its keys, unless already asking. */
    void ask(long now, Vl2Session.Joined s) {
        if (probeAt != 0) {
            return;
        }
        probeAt = now;
        probeAuthentic = session.authenticMessages();
        session.sendKeepalive(s);
    }

    /** A new round: the question is moot. */
    void reset() {
        probeAt = 0;
    }

    /**
     * Timers, joined: the answer to the question an {@code unknown-port} asked. Something opened since: the switch has
     * the session, the ERROR was not its own (counted, ignored). Nothing within {@link #probeWaitMillis}: the switch
     * has lost the session (it restarted, expired the port, or no longer authorizes this member): a new handshake,
     * the current keys carrying frames meanwhile. Returns when it wants to look again.
     */
    long probe(long now) {
        if (probeAt == 0) {
            return Long.MAX_VALUE;
        }
        if (session.authenticMessages() > probeAuthentic) {
            probeAt = 0;
            counters.ignored();
            return Long.MAX_VALUE;
        }
        long wait = probeWaitMillis();
        if (now - probeAt < wait) {
            return probeAt + wait;
        }
        probeAt = 0;
        LOG.info("{}Port agent: the switch does not know the session of port {} and did not answer under its keys"
                + " (it restarted, expired the port, or no longer authorizes this member): new handshake", life.tag,
                Integer.toUnsignedString(session.joined().port()));
        session.pairs().clear(); // the switch has lost the port, and its pairs with it
        session.startRekey(now);
        return now;
    }

    /**
     * How long the question an {@code unknown-port} asked may go unanswered: rejoinMillis, or four of the last
     * measured round trips if longer, so that a switch (or host) slowed by load is not taken for one that lost
     * the session: an answer that is only late must not cost a handshake.
     */
    private long probeWaitMillis() {
        return Math.max(timing.rejoinMillis(), 4 * TimeUnit.NANOSECONDS.toMillis(session.rttNanos()));
    }
}

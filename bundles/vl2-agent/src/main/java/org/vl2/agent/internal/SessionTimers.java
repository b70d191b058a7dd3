package org.vl2.agent.internal;

/**
 * vl2 mode: every timer of the session in one place (wireguard-go's timers.go), run by the control thread through
 * {@link #tick}, which returns when it wants to run next.
 *
 * <ul>
 *   <li>joining: a JOIN (handshake) at once, then after {@code joinRetryMillis} doubling per unanswered one up to a
 *   cap, with jitter ({@link JoinBackoff}); refused ones (ICMP port unreachable) do not double it; every {@code slowRetryMillis} after a retryable ERROR; three unanswered
 *   make a join problem;</li>
 *   <li>joined: a KEEPALIVE whenever nothing was sent, or nothing was received, for one interval (the WELCOME's),
 *   and at once on a new link; three silent intervals and the agent re-joins;</li>
 *   <li>encrypted: a rekey (new handshake, the current keys carrying frames meanwhile) when the keys are old; the
 *   previous keys dropped when they expire; a finished round's handshakes forgotten after their grace, once a
 *   message from the switch opened under the keys in use; a new handshake when none did within an interval.</li>
 * </ul>
 * Nothing here touches the data path: what was sent is read from the counters.
 */
final class SessionTimers {

    private final Vl2Session session;
    private final Timing timing;
    private final Counters counters;

    /** The counters' sum of what was sent at the last look, and when it last changed. */
    private long sentSeen = -1;
    private long lastSentAt;
    private long lastKeepaliveAt;
    /** The link's generation at the last keepalive: a new link (another transport, a new connection) gets one. */
    private int linkSeen;
    /** The link's generation at the last look while joining. */
    private int joinLinkSeen;
    /** When the last JOIN (handshake, KEY-REQUEST) was due and sent. */
    private long lastJoinAt;

    SessionTimers(Vl2Session session, Timing timing, Counters counters) {
        this.session = session;
        this.timing = timing;
        this.counters = counters;
    }

    /** A join round ended with a WELCOME: the keepalive timers start over. */
    void joined(long now) {
        sentSeen = -1;
        lastKeepaliveAt = now;
        linkSeen = session.linkGeneration();
    }

    /** Sends what is due (JOIN or handshake, KEEPALIVE), re-joins or rekeys; returns when it wants to run next. */
    long tick(long now) {
        long nanos = timing.clock().nanos();
        session.expirePrevious(nanos);
        // the round stays answerable until the switch confirms the keys in use: it may hold a later handshake's
        session.round.expire(now, session.joining || session.check.unconfirmed());
        if (session.joining && session.rekeying) {
            // a switch silent under the current keys during a rekey is as silent as without one (it has lost the
            // port too, or never had the new keys): a join round, as below; the rekey would wait for the keys to expire
            Vl2Session.Joined s = session.joined();
            if (silent(now, s, heard(s))) {
                return now;
            }
        }
        if (session.joining) {
            int link = session.linkGeneration();
            if (link != joinLinkSeen) {
                // a new link while joining (auto fell back to TCP, a new connection): the next JOIN goes there at
                // once, not at the next retry (that cost up to a retry interval of every fallback)
                joinLinkSeen = link;
                session.nextJoinAt = Math.min(session.nextJoinAt, now);
            }
            if (now >= session.nextJoinAt) {
                // the previous JOIN refused (an ICMP port unreachable since: no switch process is there) is not
                // unanswered: the wait stays at the retry interval, so an agent re-joins within it of its switch's
                // restart; only silence (an overloaded or unreachable switch) lengthens it
                boolean refused = session.refusedSince(lastJoinAt, now);
                session.sendJoinAttempt();
                lastJoinAt = now;
                session.nextJoinAt = now + (session.backingOff ? timing.slowRetryMillis()
                        : session.backoff.after(refused ? 1 : session.joinAttempts));
            }
            // a rekey that goes unanswered is a problem only once the current keys have expired
            session.noAnswerYet(nanos);
            if (!session.rekeying) {
                return session.nextJoinAt;
            }
            // a rekey: the current keys still carry frames, and keepalives keep the port alive meanwhile
            Vl2Session.Joined s = session.joined();
            return Math.min(session.nextJoinAt, keepAlive(now, s, heard(s)));
        }
        Vl2Session.Joined s = session.joined();
        long heard = heard(s);
        if (silent(now, s, heard)) {
            return now;
        }
        if (session.check.confirmationOverdue(now)) {
            return now;
        }
        long probe = session.check.probe(now);
        if (session.joining) {
            return now; // the switch lost the session: a new handshake
        }
        if (s.keys() != null && s.keys().needsRekey(nanos)) {
            session.startRekey(now);
            return now;
        }
        long direct = s.keys() != null ? session.directPaths(now, s) : Long.MAX_VALUE;
        return Math.min(Math.min(probe, direct), keepAlive(now, s, heard));
    }

    /** Three keepalive intervals without a word from the switch: a new join round (not a rekey); true if so. */
    private boolean silent(long now, Vl2Session.Joined s, long heard) {
        long interval = s.keepaliveMillis();
        if (now - heard < 3 * interval) {
            return false;
        }
        session.startJoin(now, "the switch has been silent for " + Lifecycle.duration(3 * interval) + " (3"
                + " keepalive intervals): re-joining");
        return true;
    }

    /**
     * When the switch was last heard in this session. Encrypted, only what opened counts: anybody can send
     * plaintext datagrams from the switch's address.
     */
    private long heard(Vl2Session.Joined s) {
        return Math.max(s.keys() != null ? session.lastAuthentic() : session.lastFromSwitch(), s.since());
    }

    /**
     * Sends a KEEPALIVE when nothing was sent under the session (frames on pair keys do not count: they never move the
     * port), or nothing was received, for one interval; returns when it wants to run next.
     */
    private long keepAlive(long now, Vl2Session.Joined s, long heard) {
        long interval = s.keepaliveMillis();
        long sent = counters.sentUnderSession(); // comparing counters costs the data path nothing
        if (sent != sentSeen) {
            sentSeen = sent;
            lastSentAt = now;
        }
        boolean quietOut = now - lastSentAt >= interval;
        boolean quietIn = now - heard >= interval && now - lastKeepaliveAt >= interval;
        // a new link (auto moved between UDP and TCP, or a new TCP connection): a keepalive at once, so the switch
        // moves the port to it with the session and sends there, before frames from the TAP happen to
        int link = session.linkGeneration();
        boolean moved = link != linkSeen;
        if (quietOut || quietIn || moved) {
            linkSeen = link;
            session.sendKeepalive(s);
            lastKeepaliveAt = now;
            lastSentAt = now;
            sentSeen = counters.sentUnderSession();
        }
        long next = Math.min(lastSentAt + interval, heard + 3 * interval);
        return Math.min(next, Math.max(heard, lastKeepaliveAt) + interval);
    }
}

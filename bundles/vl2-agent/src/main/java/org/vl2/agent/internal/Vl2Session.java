package org.vl2.agent.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Endpoints;
import org.vl2.api.Networks;
import org.vl2.crypto.Identity;
import org.vl2.crypto.Session;
import org.vl2.protocol.ErrorCode;
import org.vl2.protocol.Pair;
import org.vl2.protocol.ProtocolError;
import org.vl2.protocol.Welcome;
import org.vl2.protocol.Wire;
import org.vl2.tap.TapException;

/**
 * vl2 mode: this agent's membership of its network (docs/protocol.md, docs/crypto.md).
 *
 * <pre>
 *   control thread:  start round -> JOIN (encrypted: inside a handshake INITIATION), retried with back-off
 *                      <- WELCOME (encrypted: inside the RESPONSE, which gives the keys)   -> joined, TAP configured
 *                      <- ERROR: retry slowly, re-join (unknown-port) or stop for good
 *                      <- COOKIE-REPLY: retry at once with the cookie
 *                    KEY-REQUEST -> KEY-REPLY: trust on first use, or say which key the switch holds
 *   receive pump:    decodes; control messages come here through {@link #offer}, acknowledgements through
 *                    {@link #acknowledged}
 *   timers:          {@link SessionTimers}: JOIN retries, keepalives, silence, rekey
 * </pre>
 *
 * The data path reads {@link #joined()} once per frame: port, token or keys of the current session, replaced as a
 * whole. Everything else runs on the control thread.
 */
final class Vl2Session implements ControlMessage.Handler {

    private static final Logger LOG = LoggerFactory.getLogger(Vl2Session.class);
    static final String NO_ANSWER = "no answer from the switch";

    /**
     * What a WELCOME gave; replaced as a whole (the data path reads it once per frame). Encrypted, the token is 0
     * and {@code keys} the handshake's session, which seals everything sent; plaintext, keys is null.
     */
    record Joined(int port, long token, long keepaliveMillis, long since, List<String> assigned, Session keys) {
    }

    private final AgentConfig.Settings settings;
    private final boolean encrypted;
    private final SwitchTrust trust;
    private final Timing timing;
    private final Lifecycle life;
    private final Lifecycle.Halt halt;
    private final Counters counters;
    private final LinkKeeper links;
    private final TapPort tap;
    final SessionTimers timers;
    final SessionCheck check;
    /** Encrypted: the pair keys the switch handed this agent (docs/protocol.md, "Pair keys"); plaintext: none. */
    private final Pairs pairs;
    private final DirectPaths direct;

    // shared with the receive pump and the status
    /** The current session, null before the first WELCOME. */
    private volatile Joined joined;
    /** Encrypted: the keys the current ones replaced, accepted for receiving until they expire. */
    private final ReplacedKeys replaced = new ReplacedKeys();
    /** Why the agent is not (or no longer) joined, for the status; null when joined or still trying quietly. */
    private volatile String joinProblem;
    /**
     * Encrypted: the clock's millis of the last message that proved to come from the switch (opened, or a RESPONSE
     * that verified), 0 if none: what tells a live switch from a silent one, since anyone on the path can send
     * plaintext datagrams.
     */
    private volatile long lastAuthentic;
    /**
     * Encrypted: messages from the switch that opened under the session's keys. Written by the receive pump alone
     * (so the increment is safe); a count, unlike the time, tells "one came since" even when time stood still.
     */
    private volatile long authenticMessages;
    /** Control messages from the receive pump to the control thread; bounded against a flood. */
    private final BlockingQueue<ControlMessage> inbox = new ArrayBlockingQueue<>(64);

    // control thread only
    final JoinRound round;
    /** How long the round waits before its next JOIN: doubling per unanswered attempt, capped, with jitter. */
    final JoinBackoff backoff;
    private final Vl2Messages send;
    private final JoinProblems problems;
    private final HandshakeAnswers answers;
    boolean joining;
    /** After a retryable ERROR: JOIN every slowRetryMillis until the switch says otherwise. */
    boolean backingOff;
    /** Encrypted: the current round replaces keys that still work (a rekey), rather than re-joining. */
    boolean rekeying;
    long nextJoinAt;
    int joinAttempts;
    private long roundMalformed;
    /** Encrypted: the protocol version an unauthenticated ERROR claimed during this round (0: none), for the status. */
    private int claimedVersion;
    private String loggedJoinProblem;
    /** Encrypted, with a routing table to install into: the network's managed routes on this host; else null. */
    private volatile ManagedRoutes managedRoutes;
    private volatile Runnable tapRecreated;

    Vl2Session(AgentConfig.Settings settings, SwitchTrust trust, String joinName, int maxFrame, Timing timing,
               Lifecycle life, Lifecycle.Halt halt, Counters counters, LinkKeeper links, TapPort tap) {
        this.settings = settings;
        this.encrypted = settings.encrypted();
        this.trust = trust;
        this.timing = timing;
        this.life = life;
        this.halt = halt;
        this.counters = counters;
        this.links = links;
        this.tap = tap;
        this.round = new JoinRound(timing.clock());
        this.backoff = new JoinBackoff(timing.joinRetryMillis(), new SplittableRandom());
        this.check = new SessionCheck(this, timing, counters, life);
        this.timers = new SessionTimers(this, timing, counters);
        this.send = new Vl2Messages(settings, trust, joinName, maxFrame, links, counters, round);
        this.problems = new JoinProblems(settings, trust, timing, links);
        this.answers = new HandshakeAnswers(this, round, counters, timing, settings.network(), life.tag);
        this.pairs = new Pairs(encrypted && settings.pairs() ? Pairs.MAX : 0, settings.direct(), counters);
        this.direct = new DirectPaths(pairs, counters, timing.clock());
    }

    /** Timers: direct paths' probes and reports (docs/protocol.md, "Direct paths"); when to run next. */
    long directPaths(long now, Joined s) {
        return direct.tick(now, links.link(), (index, status) -> send.pairAck(s, index, Pair.SEND, status));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Read by the receive pump and the status

    Joined joined() {
        return joined;
    }

    Session previousKeys() {
        return replaced.previous();
    }

    Session olderKeys() {
        return replaced.older();
    }

    /** The network this agent joins (as PAIRs name it). */
    long network() {
        return settings.network();
    }

    /** The pair keys (the data path looks frames up there). */
    Pairs pairs() {
        return pairs;
    }

    String joinProblem() {
        return joinProblem;
    }

    long rttNanos() {
        return send.rttNanos();
    }

    long member() {
        return send.member();
    }

    SwitchTrust trust() {
        return trust;
    }

    boolean keyRequested() {
        return send.keyRequested();
    }

    long lastAuthentic() {
        return lastAuthentic;
    }

    long authenticMessages() {
        return authenticMessages;
    }

    /** Changes whenever the link is replaced (see {@link LinkKeeper#generation}). */
    int linkGeneration() {
        return links.generation();
    }

    /**
     * Whether an ICMP port unreachable came at or after {@code since} (the previous JOIN's time) and the switch has
     * not spoken since: that JOIN was refused, not left unanswered.
     */
    boolean refusedSince(long since, long now) {
        return links.unreachableAt(now) && links.lastUnreachable() >= since;
    }

    /** When the link last heard anything from the switch (plaintext: what counts as alive). */
    long lastFromSwitch() {
        return links.lastFromSwitch();
    }

    /** Encrypted: a message opened under {@code keys}: the switch is alive, and holds them if they are current. */
    void authentic(long now, Session keys) {
        lastAuthentic = now;
        authenticMessages++; // the receive pump alone writes it
        check.opened(keys);
    }

    /** Receive pump: a control message for the control thread; false if the inbox is full (a flood). */
    boolean offer(ControlMessage m) {
        if (!inbox.offer(m)) {
            return false;
        }
        life.signal();
        return true;
    }

    /** True if control messages wait. */
    boolean hasMail() {
        return !inbox.isEmpty();
    }

    /** Receive pump: a KEEPALIVE-ACK for keepalive {@code seq}: the round trip. */
    void acknowledged(long seq) {
        send.acknowledged(seq);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Control thread

    /**
     * Takes the waiting control messages, then runs the timers; returns when it wants to run next. Logs a join
     * problem once per change, not per retry.
     */
    long run(long now) {
        long wakeAt;
        try {
            for (ControlMessage m; (m = inbox.poll()) != null && life.running(); ) {
                m.deliverTo(this, timing.clock().millis());
            }
            wakeAt = life.running() ? timers.tick(timing.clock().millis()) : Long.MAX_VALUE;
        } catch (RuntimeException e) {
            LOG.warn("{}Port agent: unexpected error, carrying on", life.tag, e); // never lose the control thread
            wakeAt = now + timing.tickMillis();
        }
        String jp = joinProblem;
        if (life.running() && jp != null && !jp.equals(loggedJoinProblem)) {
            LOG.warn("{}Port agent: {}", life.tag, jp);
            counters.joinProblemsLogged.incrementAndGet();
        }
        loggedJoinProblem = jp;
        return wakeAt;
    }

    /**
     * Starts a join round now; {@code problem} is what the status says meanwhile (null: nothing). The session is given
     * up: its port's pair keys too (the switch drops them with the port).
     */
    void startJoin(long now, String problem) {
        startRound(now, problem);
        pairs.clear();
    }

    /** A new handshake while the current keys carry frames until its RESPONSE arrives; pair keys stay. */
    void startRekey(long now) {
        startRound(now, null);
        rekeying = true;
    }

    private void startRound(long now, String problem) {
        joining = true;
        rekeying = false;
        backingOff = false;
        joinAttempts = 0;
        nextJoinAt = now;
        round.start();
        roundMalformed = counters.malformed.get();
        claimedVersion = 0;
        check.reset();
        joinProblem = problem;
    }

    /** Timers: the old keys (and pair keys) expired: the switch cannot send with them any more either. */
    void expirePrevious(long nanos) {
        replaced.expire(nanos);
        pairs.expire(nanos);
    }

    /** Timers: sends the round's next JOIN (or, waiting for the switch's key, a KEY-REQUEST). */
    void sendJoinAttempt() {
        byte[] key = trust.switchKey();
        Link l = links.link();
        if (encrypted && key == null && l != null && trust.pinnedAt(l.remote())) {
            key = trust.switchKey(); // pinned on first use under the switch's address, by another spelling
        }
        if (encrypted && key == null ? send.keyRequest() : sendJoin()) {
            joinAttempts++; // unsent ones (no socket) are the link's problem, which the status shows
            if (encrypted && key != null && joinAttempts % 3 == 0) {
                // unanswered handshakes: ask which key the switch holds, to say so if it is another one
                send.keyRequest();
            }
        }
    }

    /** Timers: the round went unanswered for three attempts; a rekey only once the current keys have expired. */
    void noAnswerYet(long nanos) {
        if (!backingOff && joinAttempts >= 3 && (joinProblem == null || joinProblem.startsWith(NO_ANSWER))
                && (!rekeying || joined.keys().isExpired(nanos))) {
            joinProblem = problems.noAnswer(claimedVersion, counters.malformed.get() > roundMalformed);
        }
    }

    /** A JOIN (encrypted: a handshake); a switch key that cannot be used stops the agent. */
    private boolean sendJoin() {
        Joined s = joined;
        try {
            return send.join(s == null ? null : s.keys(), replaced.previous(), replaced.older());
        } catch (IllegalArgumentException e) {
            fatal(problems.unusableSwitchKey(e));
            return false;
        }
    }

    /** A KEEPALIVE in session {@code s}. */
    void sendKeepalive(Joined s) {
        send.keepalive(s);
    }

    /** Stopping: a LEAVE, if joined. */
    void sendLeave(Link l) {
        Joined s = joined;
        if (l != null && s != null) {
            send.leave(l, s);
        }
    }

    /** Where the routes the switch pushes go (set once, before the session starts). */
    void managedRoutes(ManagedRoutes m) {
        managedRoutes = m;
    }

    /** What runs on the control thread after a WELCOME re-created the TAP device (set once, before the start). */
    void onTapRecreated(Runnable r) {
        tapRecreated = r;
    }

    ManagedRoutes managedRoutes() {
        return managedRoutes;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Control messages from the switch

    /**
     * Encrypted: the network's managed routes (opened under the session, so the switch's): installed as far as this
     * agent accepts them, and acknowledged in any case, so that the switch stops resending.
     */
    @Override
    public void routes(org.vl2.protocol.Routes r, long now) {
        Joined s = joined;
        if (s == null || s.keys() == null) {
            counters.notJoined(); // before the WELCOME or after a LEAVE: the switch resends once joined
            return;
        }
        if (r.network() != settings.network()) {
            counters.malformed(); // not for this session's network
            return;
        }
        ManagedRoutes m = managedRoutes;
        if (m != null) {
            m.offer(r);
        }
        send.routesAck(s, r);
    }

    /** Encrypted: a PAIR (opened under the session, so the switch's): taken or refused, acknowledged in any case. */
    @Override
    public void pair(Pair p, long now) {
        Joined s = joined;
        if (s == null || s.keys() == null) {
            counters.notJoined(); // before the WELCOME or after a LEAVE
        } else if (p.network() != settings.network()) {
            counters.malformed(); // not for this session's network
        } else {
            send.pairAck(s, p, pairs.take(p, timing.clock().nanos()));
        }
    }

    /**
     * An ERROR in another protocol version. Plaintext, while joining, the agent stops and says so. Encrypted, it is
     * unauthenticated (anyone can send it from the switch's address), so it is counted and ignored: it only adds a
     * hint to the status of a join that goes unanswered.
     */
    @Override
    public void foreignVersion(int version) {
        if (encrypted) {
            counters.ignored();
            if (joining && !rekeying) {
                claimedVersion = version;
            }
            return;
        }
        counters.malformed();
        if (joining) {
            fatal(problems.foreignVersion(version));
        }
    }

    @Override
    public void keyReply(byte[] key, long now) {
        if (!Identity.isUsablePublicKey(key)) {
            // not canonical, or a low-order point: no switch has such a key, and pinned it would stop the agent
            counters.ignored();
            return;
        }
        send.keyAnswered();
        SwitchTrust.Outcome outcome;
        try {
            Link l = links.link();
            outcome = trust.offered(key, joining, l == null ? null : l.remote());
        } catch (IOException | RuntimeException e) {
            fatal(problems.cannotPin(key, e));
            return;
        }
        if (outcome == SwitchTrust.Outcome.PINNED) {
            joinAttempts = 0;
            nextJoinAt = now;
            joinProblem = null;
        } else if (outcome == SwitchTrust.Outcome.MISMATCH) {
            joinProblem = trust.mismatch();
            LOG.error("{}Port agent: {}", life.tag, joinProblem);
        }
    }

    /** Encrypted: a RESPONSE or COOKIE-REPLY, verified and taken by {@link HandshakeAnswers}. */
    @Override
    public void handshakeAnswer(byte[] datagram, long now) {
        answers.take(datagram, now);
    }

    /** {@link HandshakeAnswers}: an authenticated RESPONSE that refuses this agent's ciphers: an older switch. */
    void olderSwitch(long now) {
        backingOff = true;
        nextJoinAt = now + timing.slowRetryMillis();
        joinProblem = problems.cipherOfAnOlderSwitch();
    }

    /** {@link HandshakeAnswers}: a RESPONSE verified: the switch spoke. */
    void verified(long now) {
        lastAuthentic = now;
    }

    @Override
    public void welcome(Welcome w, long now) {
        welcome(w, now, null);
    }

    /**
     * An answer to a JOIN of the current round: plaintext, a WELCOME; encrypted, the WELCOME of a verified RESPONSE
     * and the session {@code keys} it gave. Every JOIN the switch receives gives a fresh token, so when two JOINs of
     * a round were answered the later WELCOME holds the token the switch keeps: it replaces the earlier one until
     * the next round starts.
     */
    void welcome(Welcome w, long now, Session keys) {
        if (!round.contains(w.nonce()) || w.network() != settings.network()) {
            counters.malformed(); // stale: an answer to an earlier round
            return;
        }
        Joined old = joined;
        boolean wasJoining = joining;
        boolean wasRekey = rekeying;
        long keepaliveMillis = (w.keepaliveSeconds() == 0 ? AgentConfig.DEFAULT_KEEPALIVE_SECONDS
                : w.keepaliveSeconds()) * timing.secondMillis();
        List<String> assigned = new ArrayList<>(2);
        if (w.ipv4() != null) {
            assigned.add(Endpoints.format(w.ipv4()) + "/" + w.ipv4Prefix());
        }
        if (w.ipv6() != null) {
            assigned.add(Endpoints.format(w.ipv6()) + "/" + w.ipv6Prefix());
        }
        Joined s = new Joined(w.port(), keys == null ? w.token() : 0, keepaliveMillis, now, List.copyOf(assigned),
                keys);
        if (keys != null) {
            // the switch sends with the old keys until it has opened a message under the new ones
            if (old != null && old.keys() != null) {
                replaced.replaced(old.keys());
            }
            counters.handshakes.incrementAndGet();
        }
        if (old == null || old.port() != s.port() || wasJoining && !wasRekey) {
            pairs.clear(); // a new port at the switch (a join, not a rekey): the old one's pairs are gone
        }
        joined = s; // frames flow with the new token (keys) from here on
        joining = false;
        rekeying = false;
        backingOff = false;
        joinProblem = null;
        if (wasJoining) {
            timers.joined(now);
        }
        String change;
        try {
            change = tap.configure(w, old == null, settings.tap(), settings.mtuConfigured(),
                    encrypted ? AgentConfig.MAX_SEALED_MTU : AgentConfig.MAX_VL2_MTU);
        } catch (TapException e) {
            halt.halt(e.getMessage(), LOG);
            return; // re-creating the TAP device failed
        }
        if (keys != null) {
            sendKeepalive(s); // the first message under the new keys confirms them at the switch
        }
        Runnable r = tapRecreated;
        if (change != null && r != null) {
            r.run(); // the routes through the old device (and its sysctls) went with it; also the first WELCOME's
        }
        if (old == null || wasJoining && (old.port() != s.port() || !old.assigned().equals(s.assigned())
                || change != null)) {
            LOG.info("{}Port agent joined network {} as port {} (member {}, {}): {}, MTU {}, keepalive {}{}", life.tag,
                    Networks.format(settings.network()), Integer.toUnsignedString(s.port()),
                    MemberIdentity.format(send.member()), keys != null ? AgentConfig.ENCRYPTED + " " + keys.cipher()
                            .displayName() : AgentConfig.PLAINTEXT,
                    assigned.isEmpty() ? "no address from the switch" : String.join(", ", assigned),
                    tap.device().mtu(), Lifecycle.duration(keepaliveMillis), change == null ? "" : "; TAP " + change);
        } else if (wasRekey) {
            LOG.debug("{}Port agent: new session keys for port {} (rekey)", life.tag,
                    Integer.toUnsignedString(s.port()));
        } else if (wasJoining) {
            LOG.info("{}Port agent re-joined network {} as port {}", life.tag, Networks.format(settings.network()),
                    Integer.toUnsignedString(s.port()));
        }
    }

    @Override
    public void error(ProtocolError e, long now) {
        if (e.code() == ErrorCode.UNKNOWN_PORT) {
            check.unknownPort(e, now);
            return;
        }
        if (!joining || !round.contains(e.nonce())) {
            counters.malformed(); // stale, or not about a JOIN
            return;
        }
        if (!e.code().retryable() && !encrypted) {
            fatal(problems.refusedForGood(e, send.maxFrame()));
            return;
        }
        // retryable; or, encrypted, any: unauthenticated, so never fatal there (it names this handshake's JOIN, so
        // say it and retry slowly, as for the retryable refusals)
        backingOff = true;
        nextJoinAt = now + timing.slowRetryMillis();
        joinProblem = problems.refused(e, send.member(), send.maxFrame());
    }

    /** The switch refused this agent for good: stop, on the fatal logger. */
    private void fatal(String message) {
        joining = false;
        halt.halt(message, PortAgent.FATAL);
    }
}

package org.vl2.agent.internal;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.vl2.api.AgentService;
import org.vl2.api.AgentState;
import org.vl2.api.AgentStatus;
import org.vl2.api.Endpoints;
import org.vl2.api.MacAddress;
import org.vl2.api.Networks;
import org.vl2.crypto.Identity;
import org.vl2.crypto.Session;
import org.vl2.tap.TapDevice;

/**
 * What one agent says about itself: its {@link AgentStatus} (state and why, TAP device, link, session, counters),
 * the start line's description of the switch, and its {@link Counters} and threads for whoever looks closer.
 * Reads the other parts' volatile state; changes nothing.
 */
final class Diagnostics {

    /** Names of the pair keys' counters in {@link #exported()} (vl2-api names the older ones). */

    private final AgentConfig.Settings settings;
    private final Lifecycle life;
    private final Counters counters;
    private final TapPort tap;
    private final LinkKeeper links;
    /** vl2 mode; null otherwise. */
    private final Vl2Session session;
    private final Instant since = Instant.now();

    Diagnostics(AgentConfig.Settings settings, Lifecycle life, Counters counters, TapPort tap, LinkKeeper links,
                Vl2Session session) {
        this.settings = settings;
        this.life = life;
        this.counters = counters;
        this.tap = tap;
        this.links = links;
        this.session = session;
    }

    Counters counters() {
        return counters;
    }

    /** The counters {@link org.vl2.api.AgentService#counters()} exports (read at scrape time). */
    Map<String, Long> exported() {
        return Map.ofEntries(Map.entry(AgentService.HANDSHAKES, counters.handshakes.get()),
                Map.entry(AgentService.COOKIE_REPLIES, counters.cookieReplies.get()),
                discarded("foreign", counters.foreign), discarded("malformed", counters.malformed),
                discarded("unopened", counters.unopened), discarded("ignored", counters.ignored),
                discarded("queue_full", counters.queueFull), discarded("not_joined", counters.notJoined),
                discarded("pair_mismatch", counters.pairMismatch),
                // pair keys: frames the switch forwarded without opening them, and the PAIRs behind them
                Map.entry(AgentService.PAIR_FRAMES_SEALED, counters.pairSealed.get()),
                Map.entry(AgentService.PAIR_FRAMES_OPENED, counters.pairOpened.get()),
                Map.entry(AgentService.PAIRS_TAKEN, counters.pairsTaken.get()),
                Map.entry(AgentService.PAIRS_REFUSED, counters.pairsRefused.get()),
                Map.entry(AgentService.PAIRS_REVOKED, counters.pairsRevoked.get()),
                Map.entry(AgentService.PAIRS_SENDING, session == null ? 0L : session.pairs().sendCount()),
                Map.entry(AgentService.PAIRS_RECEIVING, session == null ? 0L : session.pairs().receiveCount()),
                // direct paths: a pair's frames that bypassed the switch, and the probes that found the way
                Map.entry(AgentService.DIRECT_FRAMES_SENT, counters.directSent.get()),
                Map.entry(AgentService.DIRECT_FRAMES_RECEIVED, counters.directReceived.get()),
                Map.entry(AgentService.PROBES_SENT, counters.probesSent.get()),
                Map.entry(AgentService.PROBES_ANSWERED, counters.probesAnswered.get()),
                Map.entry(AgentService.PAIRS_DIRECT, session == null ? 0L : session.pairs().directCount()));
    }

    private static Map.Entry<String, Long> discarded(String reason, AtomicLong c) {
        return Map.entry(AgentService.DISCARDED_PREFIX + reason, c.get());
    }

    /** True while one of the agent's threads runs. */
    boolean threadsAlive() {
        return life.threadsAlive();
    }

    AgentStatus status() {
        long now = links.clock().millis();
        AgentState state = stateAt(now);
        Link l = links.link();
        InetSocketAddress r = l != null ? l.remote() : links.resolved();
        long last = links.lastFromSwitch();
        TapDevice t = tap.device();
        Vl2Session.Joined s = session == null ? null : session.joined();
        long rtt = session == null ? -1 : session.rttNanos();
        SwitchTrust trust = session == null ? null : session.trust();
        byte[] switchKey = trust == null ? null : trust.switchKey();
        MacAddress mac = t.mac();
        return new AgentStatus(t.name(), mac, t.mtu(), TapPort.addresses(t), t.settings().bridge(),
                settings.switchAddress().toString(), r == null ? null : Endpoints.format(r)
                        + (l != null && l.stream() ? " over " + l.streamKind() : ""),
                l == null ? null : Endpoints.format(l.local()), settings.mode(), state, problemAt(state),
                counters.tapRxFrames.get(), counters.tapRxBytes.get(), counters.tapTxFrames.get(),
                counters.tapTxBytes.get(), counters.drops.get(), since,
                last == 0 ? null : Instant.now().minusMillis(now - last), statusNetwork(), // timers' clock: no date
                session != null ? MemberIdentity.format(session.member()) : null,
                s == null ? 0 : Integer.toUnsignedLong(s.port()), s == null ? List.of() : s.assigned(),
                rtt < 0 ? null : Duration.ofNanos(rtt), settings.vni(),
                trust == null ? null : trust.identity().fingerprint(), settings.encrypted(),
                settings.encrypted() && switchKey != null ? Identity.fingerprint(switchKey) : null,
                s == null || s.keys() == null ? null : s.keys().cipher().displayName());
    }

    /**
     * vl2 mode: the network joined. vxlan mode: the configured network, if any (the switch decides by the VNI; its
     * mapping, --vxlan-vni, usually makes them the same). Raw mode: none.
     */
    private String statusNetwork() {
        if (settings.vl2() || settings.vxlan() && settings.network() != Networks.DEFAULT) {
            return Networks.format(settings.network());
        }
        return null;
    }

    private AgentState stateAt(long now) {
        if (life.stopped()) {
            return AgentState.STOPPED;
        }
        if (life.failure() != null) {
            return AgentState.FAILED;
        }
        if (!life.started()) {
            return AgentState.STARTING;
        }
        if (links.link() == null || links.unreachableAt(now)) {
            return AgentState.SWITCH_UNREACHABLE;
        }
        if (session != null) {
            if (session.joinProblem() != null) {
                return AgentState.SWITCH_UNREACHABLE;
            }
            if (session.joined() == null) {
                return AgentState.STARTING; // the first JOINs are under way
            }
        }
        return AgentState.RUNNING;
    }

    private String problemAt(AgentState state) {
        if (state == AgentState.FAILED) {
            return life.failure();
        }
        if (state != AgentState.SWITCH_UNREACHABLE) {
            return null;
        }
        Link l = links.link();
        if (l == null) {
            String p = links.linkProblem();
            return p != null ? p : "no socket to the switch yet";
        }
        String jp = session == null ? null : session.joinProblem();
        if (jp != null && !links.unreachableAt(links.clock().millis())) {
            return jp;
        }
        return LinkKeeper.unreachableProblem(l);
    }

    /**
     * {@code 203.0.113.7:9991 (vl2, network 0000000000000000, member ..., from ...)}, with the resolved address for
     * a name, and why it is not connected. vxlan mode says its VNI and that nothing protects it.
     */
    String describeSwitch() {
        StringBuilder sb = new StringBuilder(settings.switchAddress().toString());
        Link l = links.link();
        sb.append(" (").append(settings.mode());
        if (session != null) {
            SwitchTrust trust = session.trust();
            sb.append(", network ").append(Networks.format(settings.network())).append(", member ")
                    .append(MemberIdentity.format(session.member())).append(", public key ")
                    .append(trust.identity().fingerprint());
            if (settings.encrypted()) {
                byte[] key = trust.switchKey();
                sb.append(", ").append(AgentConfig.ENCRYPTED).append(" (cipher ").append(settings.cipher().describe())
                        .append("; AES-GCM: ").append(Session.aesGcmImplementation()).append(")").append(key == null
                        ? " (switch key not known yet: trust on first use)"
                        : " to switch key " + Identity.fingerprint(key) + (trust.firstUse() ? " (pinned on first"
                        + " use)" : ""));
            } else {
                sb.append(", ").append(AgentConfig.PLAINTEXT);
            }
        } else if (settings.vxlan()) {
            sb.append(", VNI ").append(settings.vni()).append(", plaintext and without identity: frames from the"
                    + " switch's address are accepted");
        }
        if (l != null) {
            if (settings.switchAddress().isName()) {
                sb.append(", at ").append(Endpoints.format(l.remote()));
            }
            sb.append(", from ").append(Endpoints.format(l.local())).append(l.describe());
        } else {
            sb.append("; not connected yet: ").append(links.linkProblem());
        }
        return sb.append(')').toString();
    }
}

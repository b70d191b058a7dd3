package org.vl2.agent.internal;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Endpoints;
import org.vl2.netio.DatagramEndpoints;
import org.vl2.netio.stream.StreamEndpoints;
import org.vl2.protocol.KeyRequest;
import org.vl2.protocol.Wire;

/**
 * Keeps the agent's {@link Link} to the switch: resolves the switch's address, opens the socket, replaces it
 * when the address changed or the socket's local address left this host (reusing the local port), and tells a
 * switch that answers with ICMP port unreachable from one that is merely silent. The pumps only use the current
 * link and report what they saw ({@link #heard}, {@link #unreachable}, {@link #wantCheck}).
 *
 * <p><b>Connected.</b> In raw and vl2 modes the socket is connected to the switch's address, so the kernel accepts
 * datagrams only from there (nobody else writes frames into this host's TAP device) and reports ICMP port
 * unreachable as an error on the next receive or send. In vxlan mode it cannot be: like every VTEP, the switch sends
 * to the agent's address at the VXLAN port from source ports it picks per flow, so the socket is bound to that port
 * on the local address of the route to the switch, and the vxlan codec checks the source address.
 *
 * <p><b>When.</b> The control thread calls {@link #checkIfDue}: the link is checked when nothing came from the
 * switch for the silence time, when a send failed for another reason than port unreachable, and every retry
 * interval while there is no socket. A DNS name is resolved again each time; the socket is replaced only if the
 * address changed or its local address left this host (a new DHCP lease, another Wi-Fi), and the new one reuses the
 * old local port when it is free. In vl2 mode a new local endpoint costs nothing (the switch moves a port whose
 * token arrives, or whose sealed message opens, from a new address); a new switch answers {@code unknown-port} and
 * the agent re-joins.
 *
 * <p>The cost of a connected socket: the switch must answer from the address the agent sends to. A switch host with
 * several addresses whose transport listens on the wildcard address may answer from another one, whose datagrams
 * the kernel then drops; bind the switch's transport to the address the agents use.
 */
final class LinkKeeper {

    private static final Logger LOG = LoggerFactory.getLogger(LinkKeeper.class);
    /** TCP link: connecting (through the proxy) and the TLS handshake together take at most this long. */
    static final int CONNECT_TIMEOUT_MILLIS = 10_000;
    /** auto, on UDP: a TCP fallback that fails waits the retry interval doubled this often at most (5, 10, 20 s). */
    private static final int FALLBACK_BACKOFF_STEPS = 2;
    /** auto, on TCP: how long a UDP probe waits for the switch's answer. */
    static final int PROBE_WAIT_MILLIS = 1_000;
    /**
     * auto: a new UDP link that got no answer for this many JOIN retry intervals, in tenths (1.5 s), makes the agent
     * try TCP: two JOINs are out by then, so one lost datagram does not trigger it (the second's answer has half a
     * second), and a switch that works answers in milliseconds. The UDP JOINs go on while TCP connects, and an answer
     * over UDP meanwhile keeps the agent on UDP. Short, because the goal is forwarding within 10 s of the start,
     * boot included.
     */
    static final int FALLBACK_JOIN_TENTHS = 15;

    private final SwitchAddress switchAddress;
    private final SwitchAddress.Resolver resolver;
    private final Timing timing;
    private final AgentClock clock;
    private final Lifecycle life;
    private final Counters counters;
    private final boolean vxlan;
    /** UDP, or TCP with its port, TLS and proxy. */
    private final AgentConfig.LinkPath path;
    /** Opens the UDP sockets. */
    private final UdpLinks udp;
    private final long sinceMillis;

    /** The socket, or null while the name does not resolve or no socket could be opened. */
    private volatile Link link;
    /** The last resolved address (kept while reconnecting fails), for the status. */
    private volatile InetSocketAddress resolved;
    /** Why there is no link, or why the last check failed; null if it did not. */
    private volatile String linkProblem;
    /** Wall-clock millis of the last datagram from the switch (vl2: the last vl2 message), 0 if none. */
    private volatile long lastFromSwitch;
    /** Wall-clock millis of the last ICMP port unreachable, 0 if none. */
    private volatile long lastUnreachable;
    /**
     * Whether the last word from the switch's address was an ICMP port unreachable rather than a datagram: which came
     * last, by the order the receive pump read them, not by their times (two in the same millisecond, or on a clock
     * that stands still, would tie).
     */
    private volatile boolean refusedLast;
    /** A send failed for another reason than port unreachable: the control thread should check the link. */
    private volatile boolean checkWanted;
    /**
     * Counts the links put in place, so the session can tell a new one (it sends a keepalive there at once). Written
     * by the control thread only (and before it starts).
     */
    private volatile int generation;

    // control thread only
    /** The local port of the last socket, for the next one when reconnecting failed in between. */
    private int lastLocalPort;
    private long lastCheck;
    /** What was last logged about ICMP port unreachable. */
    private boolean refused;
    /** TCP: the lost connection last logged, so a reconnect that keeps failing says it once. */
    private String lostLogged;
    /** auto: the link is the TCP fallback. */
    private boolean onTcp;
    /** auto: when the current UDP link was opened (the clock's millis). */
    private long udpOpenedAt;
    /** auto: when to try TCP next (on UDP) or to probe UDP next (on TCP). */
    private long nextSwitch;
    /** auto, on UDP: TCP attempts that failed in a row (the next waits longer: a switch without a TCP transport). */
    private int fallbackFailures;
    /** The TCP connects and UDP probes, off the control thread. */
    private final LinkAttempts attempts;
    /** The TCP link just replaced, read for a short grace so what the switch had queued on it is not lost. */
    private final RetiredLink retired = new RetiredLink();

    LinkKeeper(AgentConfig.Settings settings, SwitchAddress.Resolver resolver, Timing timing, Lifecycle life,
               Counters counters) {
        this.switchAddress = settings.switchAddress();
        this.resolver = resolver;
        this.timing = timing;
        this.clock = timing.clock();
        this.life = life;
        this.counters = counters;
        this.vxlan = settings.vxlan();
        this.path = settings.path();
        this.udp = new UdpLinks(settings.tap().offload() && settings.udpOffload()
                && DatagramEndpoints.batchedUnavailableReason() == null, settings.vl2() && settings.direct());
        this.sinceMillis = clock.millis();
        this.lastCheck = sinceMillis;
        this.attempts = new LinkAttempts(life, clock);
    }

    /** True while a TCP connection is being made (the start line says so rather than warn that there is no link). */
    boolean connecting() {
        LinkAttempts.Kind k = attempts.pending();
        return k == LinkAttempts.Kind.CONNECT || k == LinkAttempts.Kind.FALLBACK;
    }

    /** The current socket, or null. */
    Link link() {
        return link;
    }

    InetSocketAddress resolved() {
        return resolved;
    }

    String linkProblem() {
        return linkProblem;
    }

    long lastFromSwitch() {
        return lastFromSwitch;
    }

    /** The last link, in its short grace after a move (the receive pump reads it beside the current one). */
    RetiredLink retired() {
        return retired;
    }

    /** Changes whenever another link is put in place (a move between UDP and TCP, a reconnect). */
    int generation() {
        return generation;
    }

    /** Something came from the switch (a valid datagram of the link's kind). */
    void heard(long now) {
        lastFromSwitch = now;
        if (refusedLast) { // a read, not a write, per datagram
            refusedLast = false;
        }
    }

    /** What the agent's timers read the time from (the codecs too: when the switch was heard, a key's age). */
    AgentClock clock() {
        return clock;
    }

    /** An ICMP port unreachable: the switch's port is closed. */
    void unreachable() {
        lastUnreachable = clock.millis();
        refusedLast = true;
        counters.refusals.incrementAndGet();
    }

    /** When the last ICMP port unreachable came (the agent's clock), 0 if none did. */
    long lastUnreachable() {
        return lastUnreachable;
    }

    /** A send failed for another reason (e.g. network unreachable): check the link at the next retry. */
    void wantCheck() {
        checkWanted = true;
    }

    /** An ICMP port unreachable within the hold time, and nothing from the switch since. */
    boolean unreachableAt(long now) {
        return refusedLast && now - lastUnreachable < timing.unreachableHoldMillis();
    }

    /** Why the switch is unreachable while the link is up: the ICMP error's text. */
    static String unreachableProblem(Link l) {
        return "ICMP port unreachable from " + Endpoints.format(l.remote()) + ": is the vl2 switch running there and"
                + " listening on UDP port " + l.remote().getPort() + "?";
    }

    /**
     * Control thread: checks the link when it is due (silent switch, a failed send, no socket).
     */
    void checkIfDue(long now) {
        retired.closeIfOverdue(now);
        LinkAttempts.Outcome done = attempts.poll();
        if (done != null) {
            finished(done);
        }
        boolean due;
        Link l = link;
        if (l == null || checkWanted || l.broken() != null) {
            due = now - lastCheck >= timing.retryMillis();
        } else {
            due = now - lastCheck >= timing.silenceMillis()
                    && now - Math.max(lastFromSwitch, sinceMillis) >= timing.silenceMillis();
        }
        if (due && attempts.pending() == null) { // after a connect or probe under way: the next round
            lastCheck = now;
            checkWanted = false;
            check(false);
        }
        if (path.auto()) {
            if (onTcp) {
                probeUdpIfDue(now);
            } else {
                fallBackIfDue(now);
            }
        }
    }

    /**
     * auto, on UDP: when the switch did not answer a new UDP link for 1.5 s (two JOINs), or an answering one went
     * silent for the silence time, starts a TCP connect (off this thread: JOINs and keepalives go on over UDP
     * meanwhile); the UDP link stays if TCP fails too, and TCP is tried again after 5, 10, then every 20 s (auto is
     * the default: a switch may run no TCP transport at all; a late TCP listener is found within 20 s).
     */
    private void fallBackIfDue(long now) {
        Link l = link;
        if (l == null || l.stream() || now < nextSwitch || attempts.pending() != null) {
            return;
        }
        long heard = lastFromSwitch;
        boolean answered = heard >= udpOpenedAt;
        long quiet = now - Math.max(heard, udpOpenedAt);
        if (quiet < (answered ? timing.silenceMillis() : FALLBACK_JOIN_TENTHS * timing.joinRetryMillis() / 10)) {
            if (answered) {
                fallbackFailures = 0; // UDP works: a later fallback starts with the short wait again
            }
            return;
        }
        // 5, 10, then every 20 s while TCP fails too (a switch without a TCP transport, or down altogether)
        nextSwitch = now + (timing.retryMillis() << Math.min(fallbackFailures, FALLBACK_BACKOFF_STEPS));
        InetSocketAddress remote = new InetSocketAddress(l.remote().getAddress(), path.tcpPort());
        attempts.start(LinkAttempts.Kind.FALLBACK, l.remote(), () -> openStream(remote));
    }

    /** Control thread: puts a finished attempt's link in place, or says why it failed. */
    private void finished(LinkAttempts.Outcome o) {
        Link next = o.link();
        switch (o.kind()) {
            case FALLBACK -> {
                Link udp = link;
                if (next != null && udp != null && (udp.stream() || lastFromSwitch >= o.startedAt())) {
                    // the switch answered over UDP while TCP connected: UDP it is
                    next.close();
                    if (!udp.stream()) {
                        LOG.info("{}Port agent: switch {} answered over UDP while the TCP fallback connected:"
                                + " staying on UDP", life.tag, switchAddress);
                    }
                } else if (next != null) {
                    long quiet = clock.millis() - Math.max(lastFromSwitch, udpOpenedAt);
                    if (replace(next, o.target())) {
                        onTcp = true;
                        fallbackFailures = 0;
                        nextSwitch = clock.millis() + 2 * timing.retryMillis();
                        LOG.warn("{}Port agent: no answer from switch {} over UDP for {}: now over {} at {}, from {}"
                                + " (UDP is tried again every {})", life.tag, switchAddress,
                                Lifecycle.duration(quiet / 100 * 100), path.tcpText(), Endpoints.format(next.remote()),
                                Endpoints.format(next.local()), Lifecycle.duration(2 * timing.retryMillis()));
                    }
                } else {
                    fallbackFailures++;
                    String problem = "no answer over UDP, and TCP fails too: "
                            + streamProblem(tcpRemote(o.target()), o.error(), -1);
                    if (!problem.equals(linkProblem)) {
                        LOG.warn("{}Port agent: {}", life.tag, problem);
                    }
                    linkProblem = problem;
                }
            }
            case PROBE -> {
                if (next != null && onTcp && replace(next, next.remote())) {
                    onTcp = false;
                    udpOpenedAt = clock.millis();
                    heard(udpOpenedAt); // the probe's answer: UDP is an answering link (the silence time applies)
                    LOG.info("{}Port agent: switch {} answers over UDP again: back to UDP at {}", life.tag,
                            switchAddress, Endpoints.format(next.remote()));
                } else if (next != null) {
                    next.close();
                }
                // else UDP is still blocked (or ICMP port unreachable): stay on TCP
            }
            case CONNECT -> {
                InetSocketAddress remote = tcpRemote(o.target());
                if (next == null) {
                    String problem = streamProblem(remote, o.error(), timing.retryMillis());
                    if (!problem.equals(linkProblem)) {
                        LOG.warn("{}Port agent: {}", life.tag, problem);
                    }
                    linkProblem = problem;
                    resolved = o.target();
                } else if (replace(next, o.target())) {
                    LOG.info("{}Port agent: switch {} at {} over {}, from {}", life.tag, switchAddress,
                            Endpoints.format(remote), path.tcpText(), Endpoints.format(next.local()));
                }
            }
            default -> throw new IllegalStateException(o.kind().toString());
        }
    }

    private InetSocketAddress tcpRemote(InetSocketAddress udpTarget) {
        return new InetSocketAddress(udpTarget.getAddress(), path.tcpPort());
    }

    /**
     * auto, on TCP: every two retry intervals (10 s), a KEY-REQUEST over a new UDP socket, off this thread; any answer
     * within a second means UDP works both ways, and that socket becomes the link (the TCP connection closes).
     */
    private void probeUdpIfDue(long now) {
        if (now < nextSwitch || attempts.pending() != null) {
            return;
        }
        nextSwitch = now + 2 * timing.retryMillis();
        attempts.start(LinkAttempts.Kind.PROBE, resolved, this::probeUdp);
    }

    /** The attempt's thread: a new UDP socket that the switch answered, or why not. */
    private Link probeUdp() throws IOException {
        InetSocketAddress target = switchAddress.resolve(resolver);
        Link udp = this.udp.open(target, 0);
        try {
            ByteBuffer probe = ByteBuffer.allocate(Wire.KEY_REQUEST_LENGTH);
            new KeyRequest().encode(probe);
            probe.flip();
            if (udp.send(probe) && udp.receive(PROBE_WAIT_MILLIS) > 0) {
                Link answered = udp;
                udp = null;
                return answered;
            }
            throw new IOException("no answer over UDP within " + Lifecycle.duration(PROBE_WAIT_MILLIS));
        } finally {
            if (udp != null) {
                udp.close();
            }
        }
    }

    /**
     * Control thread: logs a change of reachability, the switch's answers: port unreachable, and the recovery from
     * it (problems resolving and opening are logged by {@link #check}).
     */
    void logReachability() {
        Link l = link;
        boolean unreachable = l != null && unreachableAt(clock.millis());
        if (unreachable != refused && life.running()) {
            if (unreachable) {
                LOG.warn("{}Port agent: switch {} unreachable: {}", life.tag, switchAddress, unreachableProblem(l));
            } else {
                LOG.info("{}Port agent: switch {} reachable again ({})", life.tag, switchAddress,
                        !refusedLast ? "it answers"
                                : "no port unreachable for " + Lifecycle.duration(timing.unreachableHoldMillis()));
            }
            refused = unreachable;
        }
    }

    /** Receive pump: waits up to a tick for a link while there is none. */
    void awaitLink() {
        awaitOther(null);
    }

    /**
     * Waits up to a tick while the current link is {@code without}: null (no link yet), or one without a peer socket
     * (the peer pump, on a TCP link).
     */
    void awaitOther(Link without) {
        synchronized (life.lock) {
            if (life.running() && link == without) {
                try {
                    life.lock.wait(timing.tickMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    life.stopRunning();
                }
            }
        }
    }

    /** Sends one control message unless the agent is stopping (then the LEAVE must be the last word). */
    boolean sendControl(ByteBuffer message) {
        synchronized (life.lock) {
            Link l = link;
            if (!life.running() || l == null) {
                return false;
            }
            if (!l.send(message)) {
                // a full send buffer (the next round retries), or e.g. network unreachable: check the link soon
                checkWanted = true;
                return false;
            }
            counters.controlSent.incrementAndGet();
            return true;
        }
    }

    /** Stopping: under the lock, stops the threads and takes the link away (for a last LEAVE, then closing). */
    Link stop() {
        synchronized (life.lock) {
            life.stopRunning(); // under the lock: no JOIN or keepalive can follow the LEAVE
            Link l = link;
            link = null;
            life.lock.notifyAll();
            attempts.stop();
            retired.close();
            return l;
        }
    }

    /**
     * Resolves the switch's address and (re)connects if there is no socket, if the address changed, or if the
     * socket's local address is gone from this host. Logs only changes.
     */
    void check(boolean first) {
        InetSocketAddress target;
        try {
            target = switchAddress.resolve(resolver);
        } catch (UnknownHostException | RuntimeException e) {
            String problem = "cannot resolve " + switchAddress.host() + " (" + e.getMessage()
                    + "): check the name and this host's DNS; retrying every "
                    + Lifecycle.duration(timing.retryMillis());
            if (!first && !problem.equals(linkProblem)) {
                LOG.warn("{}Port agent: {}", life.tag, problem); // at start, the "Port agent up" line says it
            }
            linkProblem = problem;
            return;
        }
        Link old = link;
        if (path.tcp() || onTcp) {
            checkStream(first, old, new InetSocketAddress(target.getAddress(), path.tcpPort()), target);
            return;
        }
        if (old != null && old.remote().equals(target) && localAddressExists(old.local())) {
            linkProblem = null;
            return;
        }
        Link next;
        synchronized (life.lock) {
            if (!life.running()) {
                return;
            }
            int localPort = old == null ? lastLocalPort : old.local().getPort();
            // Close the old socket first, so the new one can take over its local port (the switch then sees the
            // same endpoint if this host's address did not change).
            link = null;
            if (old != null) {
                old.close();
            }
            try {
                next = vxlan ? udp.openVxlan(target) : udp.open(target, localPort);
            } catch (IOException | RuntimeException e) {
                String problem = (vxlan && e instanceof BindException ? e.getMessage()
                        : "cannot open a UDP socket to " + Endpoints.format(target) + " (" + e + "): is the network"
                        + " up?") + " retrying every " + Lifecycle.duration(timing.retryMillis());
                if (!first && !problem.equals(linkProblem)) {
                    LOG.warn("{}Port agent: {}", life.tag, problem);
                }
                linkProblem = problem;
                resolved = target;
                lastLocalPort = localPort;
                return;
            }
            resolved = target;
            linkProblem = null;
            link = next;
            generation++;
            udpOpenedAt = clock.millis();
            life.lock.notifyAll();
        }
        if (!first) {
            LOG.info("{}Port agent: switch {} at {}, sending from {}{}", life.tag, switchAddress,
                    Endpoints.format(target),
                    Endpoints.format(next.local()), old == null ? ""
                            : " (was " + Endpoints.format(old.remote()) + " from "
                            + Endpoints.format(old.local()) + ")");
        }
    }

    /**
     * transport tcp (or auto on TCP): starts a connect when there is no connection, it ended, or the switch's address
     * changed. Connecting (up to {@link #CONNECT_TIMEOUT_MILLIS}) runs off the control thread and outside the lock,
     * so keepalives, the pumps and a stop never wait for it; the new link replaces the old one only once it is up.
     */
    private void checkStream(boolean first, Link old, InetSocketAddress remote, InetSocketAddress resolvedTarget) {
        String lost = old == null ? null : old.broken();
        if (old != null && lost == null && old.remote().equals(remote)) {
            linkProblem = null;
            return;
        }
        if (lost != null && !first && !("lost: " + lost).equals(lostLogged)) {
            LOG.warn("{}Port agent: connection to switch {} at {} lost ({}); connecting again", life.tag,
                    switchAddress, Endpoints.format(old.remote()), lost);
            lostLogged = "lost: " + lost;
        }
        if (old == null && linkProblem == null) {
            linkProblem = "connecting over " + path.tcpText() + " to " + Endpoints.format(remote);
        }
        resolved = resolvedTarget;
        attempts.start(LinkAttempts.Kind.CONNECT, resolvedTarget, () -> openStream(remote));
    }

    private String streamProblem(InetSocketAddress remote, Exception e, long retryMillis) {
        return "cannot connect to the switch over " + path.tcpText() + " at " + Endpoints.format(remote) + " ("
                + (e.getMessage() == null ? e.toString() : e.getMessage()) + "): is its TCP transport running there"
                + " (bin/vl2-switch --tcp)? " + (retryMillis < 0 ? "trying again after "
                + Lifecycle.duration(timing.retryMillis()) + ", then less often (up to every "
                + Lifecycle.duration(timing.retryMillis() << FALLBACK_BACKOFF_STEPS) + ")"
                : "retrying every " + Lifecycle.duration(retryMillis));
    }

    /** A TCP link to {@code remote} (through the proxy, TLS as configured), within {@link #CONNECT_TIMEOUT_MILLIS}. */
    private Link openStream(InetSocketAddress remote) throws IOException {
        InetSocketAddress proxy = path.proxy() == null ? null : path.proxy().resolve(resolver);
        return new Link(StreamEndpoints.connect(remote, proxy, path.tls(), CONNECT_TIMEOUT_MILLIS), remote,
                path.tcpText());
    }

    /**
     * Puts {@code next}, opened outside the lock, in place of the current link (which is closed); false, with
     * {@code next} closed, when the agent is stopping.
     */
    private boolean replace(Link next, InetSocketAddress resolvedTarget) {
        Link old;
        synchronized (life.lock) {
            if (!life.running()) {
                next.close();
                return false;
            }
            old = link;
            resolved = resolvedTarget;
            linkProblem = null;
            link = next;
            generation++;
            lostLogged = null;
            life.lock.notifyAll();
        }
        if (old != null && old != next) {
            retired.retire(old, clock.millis()); // a TCP link: read a little longer, then closed
        }
        return true;
    }

    /** False when {@code local} is a specific address that no interface of this host has any more. */
    private static boolean localAddressExists(InetSocketAddress local) {
        InetAddress a = local.getAddress();
        if (a.isAnyLocalAddress()) {
            return true;
        }
        try {
            return NetworkInterface.getByInetAddress(a) != null;
        } catch (SocketException e) {
            return true; // cannot tell: keep the socket
        }
    }
}

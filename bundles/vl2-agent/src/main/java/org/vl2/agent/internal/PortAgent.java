package org.vl2.agent.internal;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.AgentRoutes;
import org.vl2.api.AgentService;
import org.vl2.api.AgentStatus;
import org.vl2.api.Networks;
import org.vl2.protocol.VxlanHeader;
import org.vl2.tap.TapDevice;
import org.vl2.tap.TapException;
import org.vl2.tap.Routing;
import org.vl2.tap.TapFactory;


/**
 * The port agent: connects this host's kernel to a vl2 switch.
 *
 * <pre>
 *     Linux kernel &lt;==[TAP vl2tap0]==&gt; PortAgent &lt;==[UDP: vl2 messages, raw or VXLAN frames]==&gt; switch
 * </pre>
 *
 * <p><b>vl2 mode</b> (the default) speaks the vl2 protocol (docs/protocol.md) to the switch's vl2 transport,
 * UDP 9991. The agent JOINs a network as its member (the member id derives from the agent's X25519 key pair,
 * kept in {@code identity.file}), every second with a fresh nonce until the switch answers; the WELCOME gives it
 * a port id, the network's MTU, the keepalive interval and usually its addresses, which the agent puts on the TAP
 * device. A KEEPALIVE goes out whenever nothing was sent or nothing was received for one interval; three silent
 * intervals and the agent re-joins. A switch that restarted answers the next frame or keepalive with
 * {@code unknown-port}, and the agent re-joins at once (it gets its address back from the switch's persisted
 * leases). Stopping sends a LEAVE.
 *
 * <p><b>Encrypted</b> (vl2 mode with {@code encryption}, the default; docs/crypto.md): the JOIN travels inside
 * the handshake's INITIATION (type 8), sealed to the switch's pinned public key ({@code switch.key}) and
 * authenticated with the agent's key; the RESPONSE (type 9) carries the WELCOME and gives the session keys.
 * Every FRAME, KEEPALIVE and LEAVE then goes out SEALED (the negotiated AEAD): 16-byte header with the switch's
 * session index and a counter, the body encrypted in place, a 16-byte tag; from the switch only sealed FRAMEs and
 * KEEPALIVE-ACKs that open under this agent's session index are accepted, anything else is a counted drop. After
 * {@link Session#needsRekey two minutes} the agent makes a new handshake while the old session keeps carrying
 * frames, switches to the new keys when the RESPONSE arrives and still accepts frames under the old ones until
 * they expire (three minutes). Plaintext vl2 ({@code encryption = false}) sends the JOIN in the clear and puts
 * the WELCOME's port id and session token in front of each frame instead; a switch may refuse it.
 *
 * <p><b>Pair keys</b> (encrypted, {@code pairs}, on by default; {@link Pairs}): the JOIN tells the switch that the
 * agent takes PAIR messages. For a unicast flow between two members (one VLAN, source and destination MAC) the switch
 * hands both a key of its own over their sessions; the sender seals that flow's frames with it behind the pair's
 * index, the switch forwards them without opening them, and the receiver takes them only if they are of the flow.
 * Each PAIR is answered with a sealed PAIR-ACK; a rekey keeps the pairs, a new join or a lost session drops them, and
 * a pair whose lifetime is over falls back to the session path. {@code pairs = false}: every frame goes through the
 * switch's session path.
 *
 * <p><b>raw mode</b> is the seed VPort's wire format: every UDP datagram carries exactly one Ethernet frame
 * (no FCS) and nothing else, in both directions, to UDP 9990. There is no handshake and no header, so a vl2
 * agent joins a seed VSwitch and a seed VPort joins a vl2 switch. The switch learns the agent's port (its UDP
 * endpoint) from the first datagram it receives; the agent sends nothing artificial to announce itself. As
 * soon as the TAP device is up the kernel sends frames of its own (IPv6 router solicitation, ARP), and the
 * first of them registers the port.
 *
 * <p><b>vxlan mode</b> speaks RFC 7348 to the switch's vxlan transport (UDP 4789), as a Linux vxlan device
 * would: each frame travels behind the 8-byte VXLAN header (the I flag and the configured {@code vni}, which the
 * switch maps to a network by its vni list). There is no handshake, no address assignment and no identity:
 * the switch learns the agent as a port from its traffic (by its IP address and the switch's VXLAN port) and
 * expires it after its port idle timeout, so the agent sends the raw-mode keepalive frame, encapsulated, when
 * it has sent nothing for {@code keepalive.seconds}. Plaintext, and anyone who can send datagrams with the
 * switch's source address can write frames into the TAP device: use it on networks you trust, as VXLAN itself.
 *
 * <p><b>Structure</b> (one concern per class, as wireguard-go's device/): this class is the DS component only and
 * wires one agent: {@link AgentConfig} (schema, validation), {@link SwitchTrust} (identity, pinned switch key),
 * {@link TapPort} (the TAP device), {@link LinkKeeper} (the socket to the switch, a {@link Link}), a
 * {@link FrameCodec} for the mode, the two pumps {@link TapToSwitch} ({@code vl2-agent-tap-rx}) and
 * {@link SwitchToTap} ({@code vl2-agent-udp-rx}), which neither allocate nor log per frame, the
 * {@link ControlLoop} ({@code vl2-agent-control}: everything slow) with, in vl2 mode, the {@link Vl2Session} and its
 * {@link SessionTimers}, and {@link Diagnostics} with the {@link Counters}. No static state: one instance is one
 * network's TAP device, session and link.
 *
 * <p><b>MTU.</b> In vl2 mode the TAP device gets the network's MTU from the WELCOME unless {@code mtu} is set.
 * In raw mode the default, {@value AgentConfig#DEFAULT_MTU}, is 1500 (the usual underlay MTU) - 20 (IPv4 header)
 * - 8 (UDP header) - 18 (Ethernet header, 14, plus one 802.1Q tag, 4): a full-size frame, tagged or not, travels in
 * one unfragmented 1500-byte IPv4 datagram. In vxlan mode the default is {@value AgentConfig#VXLAN_DEFAULT_MTU},
 * what a Linux vxlan device takes, so that the agent and the kernel VTEPs on a VNI agree. Frames longer than the TAP
 * MTU allows (MTU + 22: the Ethernet header and two tags) are dropped and counted, in both directions.
 */

// immediate: a component that offers a service is otherwise delayed, activated only when a consumer gets the service;
// in an agent without the shell (vl2-shell's completer and commands are the only consumers) it would never start
@Component(service = AgentService.class, configurationPid = AgentConfig.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE, immediate = true)
@Designate(ocd = AgentConfig.Config.class, factory = true)
public final class PortAgent implements AgentService {

    private static final Logger LOG = LoggerFactory.getLogger(PortAgent.class);
    /**
     * The one ERROR line of an agent that cannot start (or is refused for good) goes here, and nothing else: the
     * launchers route this logger to a file and stop on it (docs/operating.md).
     */
    static final Logger FATAL = LoggerFactory.getLogger("org.vl2.fatal");
    /** What a factory instance whose configuration names no TAP device gets: the kernel numbers it. */
    static final String FACTORY_TAP_NAME = "vl2tap%d";

    private final AgentConfig.Settings settings;
    private final Timing timing;
    private final Lifecycle life;
    private final TapPort tap;
    private final LinkKeeper links;
    /** vl2 mode; null in raw and vxlan modes. */
    private final Vl2Session session;
    /** The network's managed routes on this host (encrypted vl2 mode with a routing table); else null. */
    private final ManagedRoutes routes;
    /** Gateway mode (forwarding, masquerade); null when off. */
    private final GatewayMode gateway;
    /** What this instance holds among the process's instances (TAP name, VXLAN port). */
    private final AgentInstances.Claim claim;
    /** Status, counters and threads of this agent (tests read them here). */
    final Diagnostics diagnostics;
    /** The send pump (tests look at its turn). */
    final TapToSwitch sendPump;
    /**
     * Runs {@link #leave} when the JVM's shutdown begins (SIGTERM, Ctrl-C): Karaf stops this bundle late in its own
     * shutdown, seconds after the signal, and until the LEAVE the switch keeps pushing this member's routes (a
     * gateway's members would wait that long to fail over). Removed when the agent stops before that.
     */
    final Thread stopHook;

    /**
     * One instance per configuration: the plain {@code org.vl2.agent} (one network, as before factory
     * configurations), or each factory configuration {@code org.vl2.agent~NAME} (etc/org.vl2.agent-NAME.cfg), whose
     * NAME tags its log lines and threads. A factory instance without tap.name gets {@value #FACTORY_TAP_NAME}.
     */
    @Activate
    public PortAgent(@Reference TapFactory tapFactory, @Reference AgentInstances instances,
                     @Reference Routing routing, AgentConfig.Config config, Map<String, Object> properties) {
        this(tapFactory, instances, instanceName(properties),
                properties.get("service.factoryPid") != null && properties.get("tap.name") == null, config,
                InetAddress::getByName, Timing.DEFAULT, routing, RouteJournal.defaultFile(instanceName(properties)));
    }

    /** The instance of a plain configuration, alone in its process. */
    public PortAgent(TapFactory tapFactory, AgentConfig.Config config) {
        this(tapFactory, config, InetAddress::getByName, Timing.DEFAULT);
    }

    PortAgent(TapFactory tapFactory, AgentConfig.Config config, SwitchAddress.Resolver resolver, Timing timing) {
        this(tapFactory, new AgentInstances(), "", false, config, resolver, timing);
    }

    PortAgent(TapFactory tapFactory, AgentInstances instances, String instance, boolean numberedTap,
              AgentConfig.Config config, SwitchAddress.Resolver resolver, Timing timing) {
        this(tapFactory, instances, instance, numberedTap, config, resolver, timing, null, null);
    }

    /**
     * @param routing the kernel's routing table (managed routes, gateway mode); null: routes are acknowledged, not
     *                installed
     * @param journal where this instance records what it changes on the host (undone after a crash)
     */
    PortAgent(TapFactory tapFactory, AgentInstances instances, String instance, boolean numberedTap,
              AgentConfig.Config config, SwitchAddress.Resolver resolver, Timing timing, Routing routing,
              java.nio.file.Path journal) {
        this.life = new Lifecycle(instance);
        String tag = life.tag;
        AgentConfig.Settings valid;
        try {
            valid = AgentConfig.validate(config);
        } catch (IllegalArgumentException e) {
            FATAL.error("{}{}; the port agent does not start until this is fixed", tag, e.getMessage());
            throw e;
        }
        this.settings = numberedTap ? valid.withTapName(FACTORY_TAP_NAME) : valid;
        this.timing = timing;
        boolean vl2 = settings.vl2();
        boolean encrypted = settings.encrypted();
        if (!settings.vxlan() && config.vni() != 0) {
            LOG.info("{}Port agent: vni {} ignored in {} mode (it is for mode vxlan)", tag, config.vni(),
                    settings.mode());
        }
        if (encrypted && settings.switchKey() == null && !settings.trustOnFirstUse()) {
            FATAL.error("{}{}", tag, AgentConfig.NO_SWITCH_KEY);
            throw new IllegalStateException(AgentConfig.NO_SWITCH_KEY);
        }
        if (settings.switchKey() != null && config.trust_on_first_use()) {
            LOG.info("{}Port agent: trust.on.first.use ignored: switch.key pins the switch's key", tag);
        }
        if (!encrypted && config.switch_key() != null && !config.switch_key().isBlank()) {
            LOG.info("{}Port agent: switch.key ignored ({})", tag, vl2 ? "encryption is off" : settings.mode()
                    + " mode is plaintext");
        }
        try {
            this.claim = instances.claim(instance, settings);
        } catch (IllegalStateException e) {
            FATAL.error("{}{}", tag, e.getMessage());
            throw e;
        }
        RouteJournal hostChanges = journal == null ? null : new RouteJournal(journal);
        String uplink = config.masquerade() == null ? "" : config.masquerade().trim();
        String gatewayProblem = !uplink.isEmpty() && !config.gateway()
                ? "Invalid configuration org.vl2.agent: masquerade=" + uplink + " (needs gateway=true, --gateway)"
                : config.gateway() && hostChanges == null ? "gateway mode needs the agent's data directory"
                : config.gateway() ? GatewayMode.check(uplink) : null;
        if (gatewayProblem != null) {
            claim.release();
            FATAL.error("{}{}; the port agent does not start until this is fixed", tag, gatewayProblem);
            throw new IllegalStateException(gatewayProblem);
        }
        if (hostChanges != null) {
            ManagedRoutes.cleanUp(routing, hostChanges, tag); // what a crashed predecessor left, before anything new
        }
        this.gateway = config.gateway() ? new GatewayMode(uplink, hostChanges, tag) : null;
        SwitchTrust trust = null;
        int maxFrame = 0;
        TapPort tapPort = null;
        try {
            if (vl2) {
                trust = SwitchTrust.load(settings, tag, instances);
                maxFrame = settings.mtuConfigured() ? settings.tap().mtu() + TapDevice.FRAME_OVERHEAD
                        : encrypted ? AgentConfig.MAX_SEALED_FRAME : AgentConfig.MAX_VL2_FRAME;
            } else if (!settings.vxlan() && settings.network() != Networks.DEFAULT) {
                LOG.info("{}Port agent: network {} ignored in raw mode (the switch puts raw ports into the network its "
                        + "raw transport feeds: bin/vl2-switch --raw-network)", tag,
                        Networks.format(settings.network()));
            }
            tapPort = new TapPort(tapFactory, settings.tap(), life);
        } catch (TapException e) {
            claim.release();
            // The user-facing message of the standalone agent: the cause and the fix, in one line.
            String message = "Port agent not started: " + e.getMessage();
            FATAL.error("{}{}", tag, message);
            throw new IllegalStateException(message, e);
        } catch (RuntimeException e) {
            claim.release();
            throw e;
        }
        this.tap = tapPort;
        Counters counters = new Counters();
        LinkKeeper links = null;
        Vl2Session session = null;
        ManagedRoutes routes = null;
        TapToSwitch sender = null;
        try {
            // One more byte than the longest datagram: one that fills the buffer was truncated. In vl2 mode the TAP
            // device may be re-created with another MTU, up to what the JOIN announced; encrypted, the tag follows.
            int headroom = vl2 ? Vl2Framing.HEADER : settings.vxlan() ? VxlanHeader.LENGTH : 0;
            int tailroom = encrypted ? SealedCodec.TAG : 0;
            int room = headroom + (vl2 ? maxFrame : tap.device().maxFrameLength()) + tailroom + 1;
            links = new LinkKeeper(settings, resolver, timing, life, counters);
            if (vl2) {
                session = new Vl2Session(settings, trust, settings.name() != null ? settings.name()
                        : AgentConfig.hostName(), maxFrame, timing, life, this::halt, counters, links, tap);
            }
            if (session != null && encrypted && routing != null && hostChanges != null) {
                LinkKeeper keeper = links;
                GatewayMode g = gateway;
                routes = new ManagedRoutes(routing, config.accept_routes(), config.accept_default_route(), tap,
                        new UnderlayPeers(keeper, settings.path().proxy(), resolver), hostChanges, tag,
                        g == null ? null : g::forwardOn);
                session.managedRoutes(routes);
            }
            if (gateway != null) {
                try {
                    gateway.start(tap.device().name());
                } catch (java.io.IOException e) {
                    String message = "Port agent not started: gateway mode: " + e.getMessage();
                    FATAL.error("{}{}", tag, message);
                    throw new IllegalStateException(message, e);
                }
            }
            if (session != null) {
                ManagedRoutes r = routes;
                session.onTapRecreated(() -> tapRecreated(r));
            }
            CodecContext context = new CodecContext(counters, links, tap, room);
            FrameCodec codec = encrypted ? new SealedCodec(context, session) : vl2 ? new Vl2Codec(context, session)
                    : settings.vxlan() ? new VxlanCodec(settings.vni(), context) : new RawCodec(context);
            boolean offload = settings.tap().offload();
            life.run();
            links.check(true);
            if (session != null) {
                session.startJoin(timing.clock().millis(), null);
            }
            sender = new TapToSwitch(tap, links, codec, counters, life, this::halt, timing.tickMillis(),
                    room, offload);
            life.start(sender, "tap-rx");
            life.start(new SwitchToTap(tap, links, codec, counters, life, timing.tickMillis(), room, offload, sender),
                    "udp-rx");
            if (encrypted && settings.direct()) {
                life.start(new SwitchToTap(tap, links, new PeerCodec(context, session.pairs()), counters, life,
                        timing.tickMillis(), room, offload, sender, true), "peer-rx");
            }
            life.start(new ControlLoop(life, timing, links, session, counters,
                    codec.keepalive(tap.device().mac().toBytes()), settings.keepaliveMillis()), "control");
            life.markStarted();
        } catch (RuntimeException | Error e) {
            this.links = links;
            this.session = session;
            this.routes = routes;
            this.diagnostics = null;
            shutdown();
            throw e;
        }
        this.links = links;
        this.session = session;
        this.routes = routes;
        this.diagnostics = new Diagnostics(settings, life, counters, tap, links, session);
        this.sendPump = sender;
        Thread hook = new Thread(this::leave, "vl2-agent-" + (instance.isEmpty() ? "" : instance + "-") + "stop");
        try {
            Runtime.getRuntime().addShutdownHook(hook);
        } catch (IllegalStateException e) {
            // activated while the JVM already shuts down: no hook, the deactivation that follows says LEAVE (an
            // exception here would leave the threads, the TAP device and the claim behind, with no stop to come)
            hook = null;
        }
        this.stopHook = hook;
        String up = tag + "Port agent up: TAP " + tap.describe() + " <-> switch " + diagnostics.describeSwitch()
                + (vl2 ? ": joining" : "");
        if (links.link() != null || links.connecting()) {
            LOG.info(up);
        } else {
            LOG.warn(up);
        }
    }

    @Override
    public AgentStatus status() {
        return diagnostics.status();
    }

    /** Managed routes (encrypted vl2 mode with a routing table) and gateway mode; null where neither is. */
    @Override
    public AgentRoutes routes() {
        String g = gateway == null ? null : gateway.describe();
        if (routes != null) {
            return routes.view(g);
        }
        return g == null ? null : new AgentRoutes(false, false, g, null, List.of(), List.of());
    }

    @Override
    public java.util.Map<String, Long> counters() {
        return diagnostics.exported();
    }

    @Deactivate
    void deactivate() {
        shutdown();
        Counters c = diagnostics.counters();
        // sent and received: through the switch, and on direct paths straight to and from other members
        LOG.info("{}Port agent down: TAP {} removed, switch {} (frames sent: {}, received: {}, dropped: {})",
                life.tag, tap.device().name(), settings.switchAddress(), c.tapRxFrames.get(), c.tapTxFrames.get(),
                c.drops.get());
    }

    /**
     * Says LEAVE (vl2 mode, best effort), closes the socket and the TAP device (which deletes it), then waits a
     * bounded time for the threads.
     */
    private void shutdown() {
        if (stopHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(stopHook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook runs (or ran) leave(), which is safe to repeat
            }
        }
        leave();
        tap.close(); // wakes the send pump (read returns -1) and deletes the interface
        life.joinThreads(timing.joinMillis());
        claim.release();
        life.markStopped();
    }

    /**
     * The first half of a stop, at once: LEAVE (the switch withdraws this member's routes and port), the managed
     * routes and the gateway's host changes undone (before the TAP device goes: the pins are on the underlay and
     * would stay). Idempotent and safe from any thread: the link is taken under the lifecycle lock (nothing is sent
     * after the LEAVE, the control thread stops), routes and gateway mode refuse work once stopped.
     */
    private void leave() {
        Link l = links == null ? null : links.stop();
        if (links == null) {
            synchronized (life.lock) {
                life.stopRunning();
            }
        }
        leaveAndClose(l);
        if (routes != null) {
            routes.stop();
        }
        if (gateway != null) {
            gateway.stop();
        }
    }

    /** A WELCOME re-created the TAP device: routes and gateway sysctls again on the new one. */
    private void tapRecreated(ManagedRoutes r) {
        if (r != null) {
            r.tapRecreated();
        }
        if (gateway != null) {
            try {
                gateway.start(tap.device().name());
            } catch (java.io.IOException e) {
                LOG.warn("{}Port agent: gateway mode on the re-created {}: {}", life.tag, tap.device().name(),
                        e.getMessage());
            }
        }
    }

    /**
     * The instance's name: a factory configuration's NAME ({@code org.vl2.agent~NAME}, as Karaf names the
     * configuration of etc/org.vl2.agent-NAME.cfg), or its whole PID if it has none; empty for the plain
     * configuration.
     */
    static String instanceName(Map<String, Object> properties) {
        if (properties.get("service.factoryPid") == null) {
            return "";
        }
        String pid = String.valueOf(properties.get("service.pid"));
        int tilde = pid.indexOf('~');
        return tilde >= 0 ? pid.substring(tilde + 1) : pid;
    }

    /** Stops the data path for good (FAILED): the reason goes into the status and onto {@code log}. */
    private void halt(String message, Logger log) {
        life.fail(message);
        leaveAndClose(links.stop()); // stops the receive pump; the send pump stops at its next frame or at stop
        if (routes != null) {
            routes.stop(); // no route into a data path that stopped
        }
        if (gateway != null) {
            // no forwarding and no masquerade for a network this host no longer reaches (a FAILED agent may stay
            // up for days until someone restarts it)
            gateway.stop();
        }
        log.error("{}Port agent: {}", life.tag, message);
    }

    private void leaveAndClose(Link l) {
        if (l == null) {
            return;
        }
        if (session != null) {
            session.sendLeave(l);
        }
        l.close();
    }
}

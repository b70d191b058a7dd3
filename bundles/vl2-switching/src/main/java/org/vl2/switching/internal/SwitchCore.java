package org.vl2.switching.internal;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Endpoints;
import org.vl2.api.EthernetFrame;
import org.vl2.api.MacAddress;
import org.vl2.api.MacTableAdminService;
import org.vl2.api.MemberInfo;
import org.vl2.api.NetworkInfo;
import org.vl2.api.Networks;
import org.vl2.api.PortId;
import org.vl2.api.PortInfo;
import org.vl2.api.SwitchService;
import org.vl2.api.SwitchStatistics;
import org.vl2.api.spi.ForwardingPolicy;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;
import org.vl2.crypto.CryptoException;
import org.vl2.crypto.Handshake;
import org.vl2.crypto.Identity;
import org.vl2.crypto.Session;
import org.vl2.ipam.DhcpServer;
import org.vl2.protocol.FrameHeader;
import org.vl2.protocol.Wire;
import org.vl2.switching.internal.SwitchPort.Kind;

/**
 * The switch core. Every bound {@link Transport} delivers its datagrams here: raw frames (mode {@code raw}),
 * vl2-protocol messages (mode {@code vl2}, see docs/protocol.md) or frames the transport decapsulated itself
 * (VXLAN). Each frame is validated, its source learned, and the policy of the ingress port's network decides
 * where it goes — never outside that network. Transports, policies and networks are dynamic references, so
 * all can be added, replaced or removed while frames flow.
 *
 * <p>Hot path ({@link #receive}, {@link #receiveFrame}): no locks, no logging, no allocation once a port
 * exists. The vl2 control messages (join, leave, errors) take the slow path in {@link Vl2Control}.
 */
@Component(service = SwitchService.class, configurationPid = SwitchCore.PID, immediate = true)
@Designate(ocd = SwitchConfig.class)
public final class SwitchCore implements SwitchService, FrameReceiver {

    static final String PID = "org.vl2.switching";
    static final String MODE_VL2 = "vl2";
    /** Header of a sealed message: magic, version, type, flags, receiver index, counter. */
    static final int SEALED_HEADER = 16;
    private static final Logger LOG = LoggerFactory.getLogger(SwitchCore.class);
    private static final long HOUSEKEEPING_MILLIS = 500;

    final MacTableAdminService fdb;
    private final ConfigurationAdmin configAdmin;
    final LongSupplier nanoClock;
    final Vl2Control control;

    volatile Settings settings;
    private final Map<String, ForwardingPolicy> policies = new ConcurrentHashMap<>();
    /** The switch-wide policy in use: the one the settings name, or null while it is not registered. */
    private volatile ForwardingPolicy policy;
    private final AtomicBoolean noPolicyWarned = new AtomicBoolean();
    private final AtomicBoolean portLimitWarned = new AtomicBoolean();

    /** By transport name: the slots (and their ports) outlive the transport services. */
    private final Map<String, TransportSlot> slots = new ConcurrentHashMap<>();
    /** Every transport of each name with its ranking, so that the best one serves the slot. */
    private final Map<String, List<Candidate>> candidates = new ConcurrentHashMap<>();
    final Map<PortId, SwitchPort> ports = new ConcurrentHashMap<>();
    final SessionTable sessions = new SessionTable();
    final Map<Long, Network> networks = new ConcurrentHashMap<>();
    private final Map<NetworkDefinition, Long> definitions = new ConcurrentHashMap<>();
    final Network defaultNetwork;
    private final AtomicInteger nextPortNumber = new AtomicInteger(1);
    final Object portLock = new Object();

    private final ThreadLocal<Egress> egress = ThreadLocal.withInitial(Egress::new);
    private final ScheduledExecutorService housekeeping;
    private final AtomicInteger ticks = new AtomicInteger();
    /** Policies written by setPolicy whose configuration update has not come back through modified() yet. */
    private final java.util.ArrayDeque<String> policyEchoes = new java.util.ArrayDeque<>();
    private final java.util.concurrent.atomic.AtomicLong testServiceIds = new java.util.concurrent.atomic.AtomicLong();

    private final LongAdder rxFrames = new LongAdder();
    private final LongAdder rxBytes = new LongAdder();
    private final LongAdder txFrames = new LongAdder();
    private final LongAdder txBytes = new LongAdder();
    private final LongAdder unicast = new LongAdder();
    private final LongAdder flooded = new LongAdder();
    private final LongAdder filtered = new LongAdder();
    private final LongAdder dropRunt = new LongAdder();
    private final LongAdder dropOversize = new LongAdder();
    private final LongAdder dropSourceMulticast = new LongAdder();
    private final LongAdder dropNoPolicy = new LongAdder();
    private final LongAdder dropPolicy = new LongAdder();
    private final LongAdder dropPortLimit = new LongAdder();
    private final LongAdder dropStorm = new LongAdder();
    private final LongAdder dropUnknownNetwork = new LongAdder();
    final LongAdder malformed = new LongAdder();
    final LongAdder badSession = new LongAdder();
    private final LongAdder txErrors = new LongAdder();

    private record Candidate(Transport transport, int ranking, long serviceId) {
    }

    @Activate
    public SwitchCore(@Reference MacTableAdminService fdb, @Reference ConfigurationAdmin configAdmin,
                      SwitchConfig config, BundleContext context) {
        this(fdb, configAdmin, config, System::nanoTime, true, stateDirectory(context), null);
    }

    /** For tests: a controllable clock, no housekeeping thread when {@code housekeep} is false. */
    SwitchCore(MacTableAdminService fdb, ConfigurationAdmin configAdmin, SwitchConfig config, LongSupplier nanoClock,
               boolean housekeep) {
        this(fdb, configAdmin, config, nanoClock, housekeep, null, Identity.generate());
    }

    /** For tests: state (leases) in {@code stateDir}, a fresh key pair. */
    SwitchCore(MacTableAdminService fdb, ConfigurationAdmin configAdmin, SwitchConfig config, LongSupplier nanoClock,
               boolean housekeep, Path stateDir) {
        this(fdb, configAdmin, config, nanoClock, housekeep, stateDir, Identity.generate());
    }

    /**
     * @param stateDir where leases ({@code leases/}) and the switch's key pair ({@code switch-identity}) are kept;
     *                 null = in memory only
     * @param identity the switch's key pair, or null to load (or create) it in {@code stateDir}
     */
    SwitchCore(MacTableAdminService fdb, ConfigurationAdmin configAdmin, SwitchConfig config, LongSupplier nanoClock,
               boolean housekeep, Path stateDir, Identity identity) {
        this.fdb = fdb;
        this.configAdmin = configAdmin;
        this.nanoClock = nanoClock;
        try {
            this.settings = Settings.from(config);
        } catch (IllegalArgumentException e) {
            LOG.error("{}; the switch does not start until this is fixed", e.getMessage());
            throw e;
        }
        if (identity == null) {
            Path file = stateDir.resolve("switch-identity");
            try {
                identity = Identity.loadOrCreate(file);
            } catch (IOException | RuntimeException e) {
                LOG.error("Cannot read or create the switch's key pair {}: {}; the switch does not start until this is "
                        + "fixed", file, e.getMessage());
                throw new IllegalStateException(e.getMessage(), e);
            }
        }
        this.control = new Vl2Control(this, stateDir == null ? null : stateDir.resolve("leases"), identity);
        this.defaultNetwork = new Network(NetworkSettings.builtInDefault());
        networks.put(defaultNetwork.id, defaultNetwork);
        if (housekeep) {
            housekeeping = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "vl2-switch-housekeeping");
                t.setDaemon(true);
                return t;
            });
            housekeeping.scheduleWithFixedDelay(this::housekeepSafely, HOUSEKEEPING_MILLIS, HOUSEKEEPING_MILLIS,
                    TimeUnit.MILLISECONDS);
        } else {
            housekeeping = null;
        }
        LOG.info("Started vl2 switch ({})", settings);
        LOG.info("Switch public key {} (agents pin it: switch.key, bin/vl2-agent --switch-key)", identity.fingerprint());
    }

    /** {@code ${karaf.data}/vl2} in Karaf, else the bundle's data area. */
    private static Path stateDirectory(BundleContext context) {
        String data = System.getProperty("karaf.data");
        if (data != null && !data.isBlank()) {
            return Path.of(data, "vl2");
        }
        java.io.File f = context == null ? null : context.getDataFile("");
        return f == null ? Path.of(System.getProperty("java.io.tmpdir"), "vl2-switch") : f.toPath();
    }

    @Modified
    void modified(SwitchConfig config) {
        Settings next;
        try {
            next = Settings.from(config);
        } catch (IllegalArgumentException e) {
            LOG.error("{}; keeping the previous configuration ({})", e.getMessage(), settings);
            return;
        }
        synchronized (policyEchoes) {
            // ConfigAdmin delivers our own setPolicy writes back, in order and asynchronously: an echo of an older
            // write must not undo a newer setPolicy that has not come back yet (hub, learning in quick succession)
            if (!policyEchoes.isEmpty() && policyEchoes.peekFirst().equals(next.policy())) {
                policyEchoes.pollFirst();
                if (!policyEchoes.isEmpty()) {
                    next = next.withPolicy(settings.policy());
                }
            }
        }
        if (!next.policy().equals(settings.policy()) && !policies.containsKey(next.policy())) {
            LOG.error("Invalid configuration {}: policy={} is not a registered forwarding policy (available: {}); "
                    + "keeping the previous configuration ({})", PID, next.policy(), policies(), settings);
            return;
        }
        settings = next;
        selectPolicy();
        LOG.info("vl2 switch reconfigured ({})", next);
    }

    @Deactivate
    void deactivate() {
        if (housekeeping != null) {
            housekeeping.shutdownNow();
        }
        for (TransportSlot slot : slots.values()) {
            Transport t = slot.transport;
            slot.transport = null;
            if (t != null) {
                t.stop();
            }
        }
        for (SwitchPort p : List.copyOf(ports.values())) {
            // their port numbers mean nothing to the next switch instance; leases stay for the members' re-join
            removePort(p, "the switch stops", false);
        }
        LOG.info("Stopped vl2 switch");
    }

    // ---- dynamic references: transports, policies, networks -----------------------------------------------

    /**
     * Of the transports registered under one name, the one with the highest service ranking serves that name's
     * ports (on a tie, the one registered first, as OSGi orders services). A better one registering takes the
     * ports over; when the serving one goes, the next best takes over, else the ports wait, detached.
     */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindTransport")
    void bindTransport(Transport transport, Map<String, Object> properties) {
        Candidate c = new Candidate(transport, ranking(properties), serviceId(properties));
        synchronized (portLock) {
            candidates.computeIfAbsent(transport.name(), n -> new ArrayList<>()).add(c);
        }
        electTransport(transport.name());
    }

    /**
     * For tests, without service properties: ranking 0, in bind order. Not named bindTransport: DS would prefer
     * a one-argument method of the bind name over the one with the properties.
     */
    void attach(Transport transport) {
        bindTransport(transport, Map.of(Constants.SERVICE_ID, testServiceIds.incrementAndGet()));
    }


    void unbindTransport(Transport transport) {
        synchronized (portLock) {
            List<Candidate> list = candidates.get(transport.name());
            if (list != null) {
                list.removeIf(c -> c.transport == transport);
            }
        }
        electTransport(transport.name());
    }

    private void electTransport(String name) {
        Transport previous;
        Candidate best;
        TransportSlot slot;
        synchronized (portLock) {
            List<Candidate> list = candidates.getOrDefault(name, List.of());
            best = list.stream().max(Comparator.comparingInt(Candidate::ranking)
                    .thenComparing(Comparator.comparingLong(Candidate::serviceId).reversed())).orElse(null);
            slot = slots.computeIfAbsent(name, TransportSlot::new);
            previous = slot.transport;
            if (best != null && best.transport == previous) {
                return;
            }
            if (best != null) {
                slot.mode = best.transport.mode();
                slot.vl2 = MODE_VL2.equals(slot.mode);
                slot.ranking = best.ranking;
            }
            // from now on frames of the previous one (if any) are ignored
            slot.transport = best == null ? null : best.transport;
        }
        if (previous != null) {
            previous.stop();
        }
        if (best == null) {
            if (previous != null) {
                LOG.info("Transport {} detached; its {} ports are kept for a transport of that name (or until they"
                        + " expire)", name, portCount(slot));
            }
            return;
        }
        best.transport.start(this);
        LOG.info("Transport {} ({} mode, ranking {}) on {} attached{}", name, best.transport.mode(), best.ranking,
                best.transport.localAddress(), portCount(slot) == 0 ? "" : "; it takes over " + portCount(slot)
                        + " ports");
    }

    private int portCount(TransportSlot slot) {
        int n = 0;
        for (SwitchPort p : ports.values()) {
            if (p.slot == slot) {
                n++;
            }
        }
        return n;
    }

    private static int ranking(Map<String, Object> properties) {
        Object r = properties.get(Constants.SERVICE_RANKING);
        return r instanceof Integer i ? i : 0;
    }

    private static long serviceId(Map<String, Object> properties) {
        Object id = properties.get(Constants.SERVICE_ID);
        return id instanceof Long l ? l : Long.MAX_VALUE;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindPolicy")
    void bindPolicy(ForwardingPolicy p) {
        policies.put(p.name(), p);
        selectPolicy();
    }

    void unbindPolicy(ForwardingPolicy p) {
        policies.remove(p.name(), p);
        selectPolicy();
    }

    private void selectPolicy() {
        String wanted = settings.policy();
        ForwardingPolicy next = policies.get(wanted);
        ForwardingPolicy previous = policy;
        policy = next;
        if (next != null && next != previous) {
            noPolicyWarned.set(false);
            LOG.info("Forwarding policy: {}", wanted);
        } else if (next == null && previous != null) {
            LOG.warn("Forwarding policy '{}' went away; frames are dropped until it is back (available: {})",
                    wanted, policies());
        }
        for (Network n : networks.values()) {
            String own = n.settings.policy();
            n.policy = own == null ? next : policies.get(own);
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindNetwork", updated = "updatedNetwork")
    void bindNetwork(NetworkDefinition definition) {
        NetworkSettings s = definition.settings();
        synchronized (portLock) {
            Long owner = s.id();
            for (Map.Entry<NetworkDefinition, Long> e : definitions.entrySet()) {
                if (e.getValue().equals(owner)) {
                    LOG.error("Invalid configuration {}: id={} is already defined by {}; this definition is "
                            + "ignored", definition.pid(), Networks.format(s.id()), e.getKey().pid());
                    return;
                }
            }
            definitions.put(definition, owner);
            Network n = networks.get(owner);
            if (n == null) {
                n = new Network(s);
                networks.put(owner, n);
            }
            apply(n, s);
        }
        LOG.info("Network {} is up", s.describe());
    }

    void updatedNetwork(NetworkDefinition definition) {
        synchronized (portLock) {
            Long id = definitions.get(definition);
            Network n = id == null ? null : networks.get(id);
            if (n == null) {
                return;
            }
            apply(n, definition.settings());
        }
        LOG.info("Network {} reconfigured", definition.settings().describe());
    }

    void unbindNetwork(NetworkDefinition definition) {
        Network n;
        synchronized (portLock) {
            Long id = definitions.remove(definition);
            if (id == null) {
                return;
            }
            n = networks.get(id);
            if (n == null) {
                return;
            }
            if (n == defaultNetwork) {
                apply(n, NetworkSettings.builtInDefault());
                LOG.info("Network {} back to its built-in settings", n.settings.describe());
                return;
            }
            networks.remove(id, n);
        }
        int removed = 0;
        for (SwitchPort p : n.ports()) {
            removePort(p, "its network was removed", false);
            removed++;
        }
        LOG.info("Network {} removed ({} ports removed)", n.settings.describe(), removed);
    }

    /** Applies settings to a network: policy, leases and DHCP. Under portLock. */
    private void apply(Network n, NetworkSettings s) {
        NetworkSettings old = n.settings;
        n.settings = s;
        String own = s.policy();
        n.policy = own == null ? policy : policies.get(own);
        if (own != null && n.policy == null) {
            LOG.warn("Network {}: forwarding policy '{}' is not registered; its frames are dropped until it is "
                    + "(available: {})", Networks.format(n.id), own, policies());
        }
        control.applyAddressing(n, old, s);
        cutOffUnauthorized(n, s);
    }

    /** Removes the vl2 ports that {@code s} no longer authorizes (private networks). */
    private void cutOffUnauthorized(Network n, NetworkSettings s) {
        if (!s.privateNetwork()) {
            return;
        }
        for (SwitchPort p : n.ports()) {
            if (p.kind == Kind.VL2 && !Vl2Control.authorized(s, p.publicKey, p.member)) {
                cutOff(p);
            }
        }
    }

    /** A member no longer authorized: its port goes now (its next frame finds no session and is dropped). */
    private void cutOff(SwitchPort p) {
        byte[] key = p.publicKey;
        if (key != null) {
            control.guard.forget(key);
        }
        removePort(p, "member " + Vl2Control.member(p.member) + " is not authorized on private network "
                + Networks.format(p.network.id) + " (any more)", true);
    }

    // ---- hot path ---------------------------------------------------------------------------------------

    @Override
    public void receive(Transport transport, SocketAddress source, ByteBuffer datagram) {
        rxFrames.increment();
        rxBytes.add(datagram.remaining());
        TransportSlot slot = slots.get(transport.name());
        if (slot == null || slot.transport != transport) {
            return; // a transport we are not (or no longer) attached to
        }
        Egress e = egress.get();
        e.reset();
        if (slot.vl2) {
            receiveMessage(transport, slot, source, datagram, e);
            return;
        }
        SwitchPort in = slot.ports.get(e.probe.set(source, Networks.DEFAULT));
        ingress(slot, in, source, defaultNetwork, Kind.RAW, datagram, e);
    }

    @Override
    public void receiveFrame(Transport transport, SocketAddress remote, long network, ByteBuffer frame) {
        rxFrames.increment();
        rxBytes.add(frame.remaining());
        TransportSlot slot = slots.get(transport.name());
        if (slot == null || slot.transport != transport) {
            return;
        }
        Egress e = egress.get();
        e.reset();
        SwitchPort in = slot.ports.get(e.probe.set(remote, network));
        Network n = in != null ? in.network : networks.get(network);
        if (n == null) {
            dropUnknownNetwork.increment();
            return;
        }
        ingress(slot, in, remote, n, Kind.ENCAP, frame, e);
    }

    /** A frame from a RAW or ENCAP port: validated before an unknown sender becomes a port. */
    private void ingress(TransportSlot slot, SwitchPort in, SocketAddress source, Network network, Kind kind,
                         ByteBuffer frame, Egress e) {
        EthernetFrame view = e.view.wrap(frame);
        if (!valid(view, frame.remaining(), in)) {
            return;
        }
        if (in == null) {
            in = openPort(slot, kind, source, network, false);
            if (in == null) {
                dropPortLimit.increment();
                return;
            }
        }
        forward(in, frame, view, e);
    }

    /** A vl2-protocol datagram: FRAME and KEEPALIVE here; the rest (rare) in {@link Vl2Control}. */
    private void receiveMessage(Transport transport, TransportSlot slot, SocketAddress source, ByteBuffer d,
                                Egress e) {
        int type = Wire.type(d);
        if (type < 0) {
            if (Handshake.type(d) == Handshake.INITIATION) {
                control.receive(transport, slot, source, Handshake.INITIATION, d, e);
            } else {
                malformed.increment();
            }
            return;
        }
        if (Wire.version(d) != Wire.VERSION) {
            control.unsupportedVersion(transport, source, d, e);
            return;
        }
        if (type == Wire.FRAME || type == Wire.KEEPALIVE) {
            int length = d.remaining();
            if (length < (type == Wire.FRAME ? FrameHeader.LENGTH : Wire.KEEPALIVE_LENGTH)) {
                malformed.increment();
                return;
            }
            if ((Wire.flags(d) & Wire.FLAG_SEALED) != 0) {
                receiveSealed(transport, slot, source, type, d, e);
                return;
            }
            SwitchPort in = session(transport, slot, source, d, e);
            if (in == null) {
                return;
            }
            if (type == Wire.KEEPALIVE) {
                in.lastSeenNanos = nanoClock.getAsLong();
                control.keepaliveAck(transport, source, d);
                return;
            }
            d.position(d.position() + FrameHeader.LENGTH);
            EthernetFrame view = e.view.wrap(d);
            if (valid(view, d.remaining(), in)) {
                forward(in, d, view, e);
            }
            return;
        }
        if (type == Wire.LEAVE && (Wire.flags(d) & Wire.FLAG_SEALED) != 0) {
            receiveSealed(transport, slot, source, type, d, e);
            return;
        }
        control.receive(transport, slot, source, type, d, e);
    }

    /**
     * A sealed FRAME, KEEPALIVE or LEAVE (docs/crypto.md): the receiver index names port and session; only a
     * message that opens (authentic, not replayed) counts, so only then may it move the port (NAT rebinding).
     */
    private void receiveSealed(Transport transport, TransportSlot slot, SocketAddress source, int type, ByteBuffer d,
                               Egress e) {
        final int at = d.position();
        final int length = d.remaining();
        if (length < SEALED_HEADER + Session.TAG_LENGTH) {
            malformed.increment();
            return;
        }
        int index = d.getInt(at + 4);
        SwitchPort p = sessions.get(index >>> 8);
        Session s = p == null || p.slot != slot || p.removed ? null : p.sessionFor(index);
        if (s == null) {
            badSession.increment();
            control.unknownPort(transport, source, d, e); // the agent re-joins: the switch restarted, or it was cut off
            return;
        }
        int plain;
        try {
            plain = s.open(d, at, SEALED_HEADER, length - SEALED_HEADER, System.nanoTime());
        } catch (CryptoException ex) {
            badSession.increment();
            p.rxDrops.increment();
            return;
        }
        if (s == p.pending) {
            p.confirm(s);
        }
        if (!source.equals(p.remote)) {
            control.moved(p, source);
        }
        if (type == Wire.FRAME) {
            d.limit(at + SEALED_HEADER + plain);
            d.position(at + SEALED_HEADER);
            EthernetFrame view = e.view.wrap(d);
            if (valid(view, plain, p)) {
                forward(p, d, view, e);
            }
        } else if (type == Wire.KEEPALIVE) {
            p.lastSeenNanos = nanoClock.getAsLong();
            if (plain == 8) {
                control.sealedKeepaliveAck(transport, source, p, d, at + SEALED_HEADER, e);
            }
        } else {
            control.left(p);
        }
    }

    /** The port a FRAME/KEEPALIVE names, if its token is right; moves the port when its source changed. */
    SwitchPort session(Transport transport, TransportSlot slot, SocketAddress source, ByteBuffer d, Egress e) {
        SwitchPort p = sessions.get(FrameHeader.port(d));
        if (p == null || p.slot != slot || p.sealed || p.token != FrameHeader.token(d) || p.removed) {
            badSession.increment();
            control.unknownPort(transport, source, d, e);
            return null;
        }
        if (!source.equals(p.remote)) {
            control.moved(p, source);
        }
        return p;
    }

    private boolean valid(EthernetFrame view, int length, SwitchPort in) {
        if (view.isRunt()) {
            drop(dropRunt, in);
            return false;
        }
        if (length > settings.maxFrameSize()) {
            drop(dropOversize, in);
            return false;
        }
        if (MacAddress.isMulticast(view.sourceBits())) {
            drop(dropSourceMulticast, in);
            return false;
        }
        return true;
    }

    /** Learns the source and sends the frame where the network's policy says. */
    private void forward(SwitchPort in, ByteBuffer frame, EthernetFrame view, Egress e) {
        final int length = frame.remaining();
        in.lastSeenNanos = nanoClock.getAsLong();
        in.rxFrames.increment();
        in.rxBytes.add(length);

        final Network net = in.network;
        fdb.learn(net.id, view.vlanId(), view.sourceBits(), in.id);
        if (in.removed) {
            fdb.flushPort(in.id); // lost a race with port removal: do not leave entries behind
            return;
        }
        DhcpServer dhcp = net.dhcp;
        if (dhcp != null) {
            long dst = view.destinationBits();
            if (dst == MacAddress.MASK || dst == net.serverMac) {
                control.serveDhcp(net, dhcp, in, frame, e);
                if (dst == net.serverMac) {
                    return; // addressed to the switch itself
                }
            }
        }

        ForwardingPolicy p = net.policy;
        if (p == null) {
            dropNoPolicy.increment();
            if (noPolicyWarned.compareAndSet(false, true)) {
                String name = net.settings.policy() != null ? net.settings.policy() : settings.policy();
                LOG.warn("Forwarding policy '{}' (of network {}) is not registered; its frames are dropped until it is "
                        + "(available: {})", name, Networks.format(net.id), policies());
            }
            return;
        }
        PortId out = p.egress(net.id, in.id, view, fdb);
        if (out == null) {
            dropPolicy.increment();
        } else if (out.isFlood()) {
            if (stormed(in, net, view)) {
                drop(dropStorm, in);
                return;
            }
            flooded.increment();
            for (SwitchPort o : net.ports()) {
                if (o != in) {
                    send(o, in, frame, length, e);
                }
            }
        } else if (out.equals(in.id)) {
            filtered.increment(); // the destination sits behind the ingress port: it has the frame already
        } else {
            SwitchPort o = ports.get(out);
            if (o == null || o.network != net) {
                dropPolicy.increment();
            } else {
                unicast.increment();
                send(o, in, frame, length, e);
            }
        }
    }

    /**
     * Storm control: whether this flood exceeds the ingress port's budget for broadcast, multicast and unknown
     * unicast. A hub policy floods known unicast too; that is not a storm, so it is not charged.
     */
    private boolean stormed(SwitchPort in, Network net, EthernetFrame view) {
        long cost = settings.stormCostNanos();
        if (cost == 0) {
            return false;
        }
        long dst = view.destinationBits();
        if (!MacAddress.isMulticast(dst) && fdb.lookup(net.id, view.vlanId(), dst) != null) {
            return false; // known unicast flooded by a hub policy
        }
        long now = nanoClock.getAsLong();
        long credit = in.stormCredit;
        if (credit == Long.MAX_VALUE) {
            credit = 1_000_000_000L; // a new port starts with a full second's burst
        } else {
            credit = Math.min(1_000_000_000L, credit + (now - in.stormRefilled));
        }
        in.stormRefilled = now;
        if (credit < cost) {
            in.stormCredit = credit;
            return true;
        }
        in.stormCredit = credit - cost;
        return false;
    }

    /** Sends a frame to a port in the port's own framing. {@code in} may be null (the switch's own frames). */
    void send(SwitchPort out, SwitchPort in, ByteBuffer frame, int length, Egress e) {
        Transport t = out.slot.transport;
        boolean ok;
        if (t == null) {
            ok = false;
        } else if (out.kind == Kind.RAW) {
            ok = t.send(out.remote, frame);
        } else if (out.kind == Kind.ENCAP) {
            ok = t.sendFrame(out.remote, out.network.id, frame);
        } else if (out.sealed) {
            ok = sendSealed(t, out, frame, length, e);
        } else {
            ok = sendVl2(t, out, in != null && in.kind == Kind.VL2, frame, length, e);
        }
        if (ok) {
            out.txFrames.increment();
            out.txBytes.add(length);
            txFrames.increment();
            txBytes.add(length);
        } else {
            out.txDrops.increment();
            txErrors.increment();
        }
    }

    /**
     * A FRAME message to a vl2 port. A frame that came in as a FRAME has its old header in front of it: that
     * header is rewritten in place, so nothing is copied. Other frames are copied once into the thread's egress
     * buffer (behind room for the header), however many vl2 ports a flood reaches.
     */
    private boolean sendVl2(Transport t, SwitchPort out, boolean headroom, ByteBuffer frame, int length, Egress e) {
        ByteBuffer d;
        int at;
        if (headroom) {
            d = frame;
            at = frame.position() - FrameHeader.LENGTH;
        } else {
            d = e.vl2Copy(frame, length);
            at = 0;
        }
        FrameHeader.write(d, at, out.id.number(), out.token);
        int position = d.position();
        d.position(at);
        try {
            return t.send(out.remote, d);
        } finally {
            d.position(position);
        }
    }

    /** A sealed FRAME to an encrypted port: the frame copied behind the header and sealed there, once per port. */
    private static boolean sendSealed(Transport t, SwitchPort out, ByteBuffer frame, int length, Egress e) {
        Session s = out.session;
        if (s == null) {
            return false;
        }
        ByteBuffer b = e.sealed;
        b.clear();
        b.put(0, (byte) Wire.MAGIC).put(1, (byte) Wire.VERSION).put(2, (byte) Wire.FRAME)
                .put(3, (byte) Wire.FLAG_SEALED).putInt(4, s.remoteIndex());
        b.put(SEALED_HEADER, frame, frame.position(), length);
        b.limit(SEALED_HEADER + length + Session.TAG_LENGTH);
        try {
            s.seal(b, 0, SEALED_HEADER, length, System.nanoTime());
        } catch (CryptoException ex) {
            return false; // the session expired: the agent re-keys or re-joins
        }
        return t.send(out.remote, b);
    }

    private static void drop(LongAdder reason, SwitchPort in) {
        reason.increment();
        if (in != null) {
            in.rxDrops.increment();
        }
    }

    // ---- port registry ------------------------------------------------------------------------------------

    @Override
    public void transmitFailed(Transport transport, int frames) {
        txErrors.add(frames);
    }

    @Override
    public PortId attachPort(Transport transport, SocketAddress remote, long network) {
        TransportSlot slot = slots.computeIfAbsent(transport.name(), TransportSlot::new);
        Network n = networks.get(network);
        if (n == null) {
            LOG.warn("Transport {}: remote {} is for network {}, which this switch does not host (define it with a "
                    + "{} configuration); not attached", transport.name(), Endpoints.format(remote),
                    Networks.format(network), NetworkDefinition.FACTORY_PID);
            return null;
        }
        SwitchPort p = slot.ports.get(new PortKey(remote, network));
        if (p != null) {
            p.permanent = true; // it sent before it was configured: from now on it is configured
            return p.id;
        }
        p = openPort(slot, Kind.ENCAP, remote, n, true);
        return p == null ? null : p.id;
    }

    @Override
    public boolean detachPort(Transport transport, SocketAddress remote, long network) {
        TransportSlot slot = slots.get(transport.name());
        SwitchPort p = slot == null ? null : slot.ports.get(new PortKey(remote, network));
        if (p == null) {
            return false;
        }
        removePort(p, "detached by transport " + transport.name(), true);
        return true;
    }

    /** A RAW or ENCAP port for (source, network); null if the switch is full. */
    private SwitchPort openPort(TransportSlot slot, Kind kind, SocketAddress source, Network network,
                                boolean permanent) {
        SwitchPort port;
        PortKey key = new PortKey(source, network.id);
        synchronized (portLock) {
            port = slot.ports.get(key);
            if (port != null) {
                return port;
            }
            if (!hasRoom()) {
                return null;
            }
            port = new SwitchPort(nextPortId(), kind, network, slot, key, source, 0, permanent,
                    nanoClock.getAsLong(), Instant.now());
            ports.put(port.id, port);
            slot.ports.put(key, port);
            network.add(port);
        }
        LOG.info("Port {} up: {} {} {}{}{}", port.id, slot.name, slot.mode, Endpoints.format(source),
                network.id == Networks.DEFAULT ? "" : " in network " + Networks.format(network.id),
                permanent ? " (static)" : "");
        return port;
    }

    /** Under portLock. */
    boolean hasRoom() {
        if (ports.size() >= settings.maxPorts()) {
            if (portLimitWarned.compareAndSet(false, true)) {
                LOG.warn("Port limit reached ({} ports, max.ports in {}): new endpoints are refused", ports.size(),
                        PID);
            }
            return false;
        }
        return true;
    }

    PortId nextPortId() {
        return PortId.of(nextPortNumber.getAndIncrement());
    }

    /**
     * Removes a port: MAC entries flushed. {@code releaseLease}: a vl2 member's address is freed (the port
     * expired); otherwise it is kept (the switch stops, the member left, the network went).
     */
    void removePort(SwitchPort port, String why, boolean releaseLease) {
        synchronized (portLock) {
            if (port.removed) {
                return;
            }
            port.removed = true;
            ports.remove(port.id, port);
            if (port.key != null) {
                port.slot.ports.remove(port.key, port);
            }
            if (port.kind == Kind.VL2) {
                sessions.remove(port);
                port.network.members.remove(port.member, port);
            }
            port.network.remove(port);
            portLimitWarned.set(false);
        }
        int flushed = fdb.flushPort(port.id);
        if (port.kind == Kind.VL2) {
            control.portGone(port, releaseLease);
        }
        LOG.info("Port {} down ({} {}): {}; {} MAC entries flushed", port.id, port.slot.name,
                Endpoints.format(port.remote), why, flushed);
    }

    private void housekeepSafely() {
        try {
            expireIdlePorts();
            if (ticks.incrementAndGet() % 20 == 0) {
                control.expireLeases();
            }
        } catch (RuntimeException e) {
            LOG.error("Housekeeping failed; will retry", e);
        }
    }

    /** Removes ports silent for longer than their timeout. Package-private for tests. */
    void expireIdlePorts() {
        Settings s = settings;
        long now = nanoClock.getAsLong();
        for (SwitchPort p : ports.values()) {
            long timeout = p.permanent ? 0 : p.kind == Kind.VL2 ? s.sessionTimeoutNanos() : s.portIdleTimeoutNanos();
            long idle = now - p.lastSeenNanos;
            if (timeout > 0 && idle > timeout) {
                removePort(p, "silent for " + TimeUnit.NANOSECONDS.toSeconds(idle) + " s", true);
            }
        }
    }

    // ---- SwitchService ---------------------------------------------------------------------------------------

    @Override
    public List<PortInfo> ports() {
        long now = nanoClock.getAsLong();
        Instant wall = Instant.now();
        List<PortInfo> list = new ArrayList<>();
        for (SwitchPort p : ports.values()) {
            list.add(p.info(now, wall));
        }
        list.sort(Comparator.comparing(PortInfo::id));
        return list;
    }

    @Override
    public Optional<PortInfo> port(PortId id) {
        SwitchPort p = ports.get(id);
        return p == null ? Optional.empty() : Optional.of(p.info(nanoClock.getAsLong(), Instant.now()));
    }

    @Override
    public List<NetworkInfo> networks() {
        List<NetworkInfo> list = new ArrayList<>();
        for (Network n : networks.values()) {
            list.add(info(n));
        }
        list.sort((a, b) -> Long.compareUnsigned(a.id(), b.id()));
        return list;
    }

    @Override
    public Optional<NetworkInfo> network(long id) {
        Network n = networks.get(id);
        return n == null ? Optional.empty() : Optional.of(info(n));
    }

    private NetworkInfo info(Network n) {
        NetworkSettings s = n.settings;
        return new NetworkInfo(n.id, s.name(), s.mtu(), s.policy() != null ? s.policy() : settings.policy(),
                s.pool() == null ? null : s.pool().toString(),
                s.ipv6() == null ? null : Endpoints.format(s.ipv6()) + "/64",
                n.dhcp != null, n.ports().length, control.leases(n));
    }

    @Override
    public SwitchStatistics statistics() {
        return new SwitchStatistics(ports.size(), rxFrames.sum(), rxBytes.sum(), txFrames.sum(), txBytes.sum(),
                unicast.sum(), flooded.sum(), filtered.sum(), dropRunt.sum(), dropOversize.sum(),
                dropSourceMulticast.sum(), dropNoPolicy.sum(), dropPolicy.sum(), dropPortLimit.sum(), txErrors.sum(),
                dropUnknownNetwork.sum(), malformed.sum(), badSession.sum(), dropStorm.sum());
    }

    @Override
    public String policy() {
        return settings.policy();
    }

    @Override
    public boolean policyActive() {
        return policy != null;
    }

    @Override
    public Set<String> policies() {
        return new TreeSet<>(policies.keySet());
    }

    @Override
    public void setPolicy(String name) {
        String wanted = name == null ? "" : name.trim();
        if (!policies.containsKey(wanted)) {
            throw new IllegalArgumentException("unknown forwarding policy '" + name + "' (available: "
                    + String.join(", ", policies()) + ")");
        }
        settings = settings.withPolicy(wanted);
        selectPolicy();
        synchronized (policyEchoes) {
            policyEchoes.addLast(wanted);
        }
        try {
            if (!persistPolicy(wanted)) {
                synchronized (policyEchoes) {
                    policyEchoes.removeLastOccurrence(wanted); // nothing written, nothing will come back
                }
            }
        } catch (IllegalStateException e) {
            synchronized (policyEchoes) {
                policyEchoes.removeLastOccurrence(wanted);
            }
            throw e;
        }
    }

    /** Writes the policy to the switch's configuration so that it survives a restart; false if nothing was written. */
    private boolean persistPolicy(String name) {
        if (configAdmin == null) {
            return false;
        }
        try {
            Configuration c = configAdmin.getConfiguration(PID, "?");
            Dictionary<String, Object> props = c.getProperties();
            if (props == null) {
                props = new Hashtable<>();
            }
            if (name.equals(props.get("policy"))) {
                return false;
            }
            props.put("policy", name);
            c.update(props);
            return true;
        } catch (IOException e) {
            throw new IllegalStateException("policy " + name + " is active but could not be saved in " + PID + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public String publicKey() {
        return control.identity.fingerprint();
    }

    @Override
    public List<MemberInfo> members(long network) {
        Network n = networks.get(network);
        if (n == null) {
            throw new IllegalArgumentException("no network " + Networks.format(network) + " on this switch");
        }
        java.util.Map<String, MemberInfo> byId = new java.util.TreeMap<>();
        for (String m : n.settings.members()) {
            boolean isId = m.length() == 16;
            String id = isId ? m : Identity.formatMemberId(Identity.memberId(Identity.parsePublicKey(m)));
            byId.put(id, new MemberInfo(network, id, isId ? null : m, true, null, null, null, false));
        }
        for (SwitchPort p : n.ports()) {
            if (p.kind != Kind.VL2) {
                continue;
            }
            String id = Vl2Control.member(p.member);
            MemberInfo known = byId.get(id);
            String key = p.publicKey == null ? known == null ? null : known.publicKey()
                    : Identity.fingerprint(p.publicKey);
            java.net.Inet4Address a = p.address;
            byId.put(id, new MemberInfo(network, id, key, known != null, p.id, a == null ? null : a.getHostAddress(),
                    p.name, p.sealed));
        }
        return List.copyOf(byId.values());
    }

    @Override
    public void authorize(long network, String member) {
        if (editMembers(network, member, true)) {
            LOG.info("Member {} authorized on network {}", member.trim(), Networks.format(network));
        }
    }

    @Override
    public boolean deauthorize(long network, String member) {
        boolean was = editMembers(network, member, false);
        if (was) {
            LOG.info("Member {} deauthorized on network {}", member.trim(), Networks.format(network));
        }
        // cut off now, by the same rule as a configuration change, not when the update comes back through ConfigAdmin
        Network n = networks.get(network);
        if (was && n != null) {
            java.util.Set<String> left = new java.util.HashSet<>(n.settings.members());
            left.remove(NetworkSettings.member(NetworkDefinition.FACTORY_PID, member.trim()));
            cutOffUnauthorized(n, n.settings.withMembers(left));
        }
        return was;
    }

    /** Adds or removes a member in the network's configuration; whether the list changed. */
    private boolean editMembers(long network, String member, boolean add) {
        String normalised = NetworkSettings.member(NetworkDefinition.FACTORY_PID, member == null ? "" : member.trim());
        NetworkDefinition definition = null;
        for (Map.Entry<NetworkDefinition, Long> e : definitions.entrySet()) {
            if (e.getValue() == network) {
                definition = e.getKey();
            }
        }
        if (definition == null || definition.servicePid() == null || configAdmin == null) {
            throw new IllegalArgumentException("network " + Networks.format(network) + " has no configuration to "
                    + "keep members in: create one (" + NetworkDefinition.FACTORY_PID + ", e.g. etc/"
                    + NetworkDefinition.FACTORY_PID + "-NAME.cfg with id and private = true)");
        }
        try {
            Configuration c = configAdmin.getConfiguration(definition.servicePid(), "?");
            Dictionary<String, Object> props = c.getProperties();
            java.util.List<String> list = new java.util.ArrayList<>();
            Object current = props == null ? null : props.get("members");
            if (current instanceof String[] a) {
                list.addAll(java.util.Arrays.asList(a));
            } else if (current instanceof java.util.Collection<?> col) {
                col.forEach(o -> list.add(String.valueOf(o)));
            } else if (current != null) {
                list.addAll(java.util.Arrays.asList(String.valueOf(current).split("[,\\s]+")));
            }
            list.removeIf(String::isBlank);
            boolean present = list.stream().anyMatch(m -> normalised.equals(
                    NetworkSettings.member(NetworkDefinition.FACTORY_PID, m.trim())));
            if (add == present) {
                return false;
            }
            if (add) {
                list.add(normalised);
            } else {
                list.removeIf(m -> normalised.equals(NetworkSettings.member(NetworkDefinition.FACTORY_PID, m.trim())));
            }
            props.put("members", list.toArray(new String[0]));
            c.update(props);
            return true;
        } catch (IOException e) {
            throw new IllegalStateException("cannot update the members of network " + Networks.format(network) + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public boolean removePort(PortId id) {
        SwitchPort p = ports.get(id);
        if (p == null) {
            return false;
        }
        removePort(p, "removed by the operator", true);
        return true;
    }
}

package org.vl2.switching.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
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
import org.vl2.crypto.Identity;
import org.vl2.crypto.Session;
import org.vl2.switching.internal.SwitchPort.Kind;
import org.vl2.switching.internal.vl2.HandshakeWorker;
import org.vl2.switching.internal.vl2.Pairs;
import org.vl2.switching.internal.vl2.Vl2Ingress;

/**
 * The switch as a component: it builds the datapath ({@link Ingress}, {@link Forwarder}, {@link Vl2Ingress}), the
 * {@link PortRegistry}, the {@link NetworkDirectory} and the {@link Addressing} station, feeds them the
 * configuration and the dynamic references (transports, policies, networks), and answers {@link SwitchService}
 * (read only). It only reacts to configuration: changes an operator makes go through {@link SwitchAdmin}, which
 * writes the configuration that comes back here.
 */
@Component(service = {SwitchService.class, SwitchCore.class}, configurationPid = SwitchCore.PID, immediate = true)
@Designate(ocd = SwitchConfig.class)
public final class SwitchCore implements SwitchService {

    static final String PID = "org.vl2.switching";
    /** Contract with the launchers: the one ERROR line that explains why the switch (or a network) does not start. */
    static final Logger FATAL = LoggerFactory.getLogger("org.vl2.fatal");
    private static final Logger LOG = LoggerFactory.getLogger(SwitchCore.class);
    private static final long HOUSEKEEPING_MILLIS = 500;

    private final LongSupplier nanoClock;
    private final Identity identity;
    private volatile Settings settings;
    private final HandshakeWorker handshakes;

    private final SwitchCounters counters = new SwitchCounters();
    private final PolicyRegistry policies;
    private final Addressing addressing;
    final PortRegistry registry;
    final NetworkDirectory networks;
    private final Revocations revocations;
    private final Ingress ingress;
    private final Vl2Ingress vl2;
    private final Transports transports;

    private final ScheduledExecutorService housekeeping;
    private final org.vl2.switching.internal.vl2.RoutePush routePush = new org.vl2.switching.internal.vl2.RoutePush();
    private final Pairs pairs;
    private final AtomicInteger ticks = new AtomicInteger();
    private final AtomicLong testServiceIds = new AtomicLong();

    /**
     * DS constructor. The switch's clock is the MAC table's ({@link MacTableAdminService#nowNanos}): a port's last
     * frame, storm credit and the rate limits are stamped per frame, and a {@code System.nanoTime()} per frame was
     * about 4 % of a receive thread's CPU here (a vDSO clock read under a hypervisor; perf, bench/RESULTS.md).
     * Sessions keep {@code System.nanoTime()}: the handshakes that derive them read it too.
     */
    @Activate
    public SwitchCore(@Reference MacTableAdminService fdb, SwitchConfig config, BundleContext context) {
        this(fdb, config, fdb::nowNanos, true, stateDirectory(context), null);
    }

    /** For tests: a controllable clock, no housekeeping thread when {@code housekeep} is false. */
    SwitchCore(MacTableAdminService fdb, SwitchConfig config, LongSupplier nanoClock, boolean housekeep) {
        this(fdb, config, nanoClock, housekeep, null, Identity.generate());
    }

    /** For tests: state (leases) in {@code stateDir}, a fresh key pair. */
    SwitchCore(MacTableAdminService fdb, SwitchConfig config, LongSupplier nanoClock, boolean housekeep,
               Path stateDir) {
        this(fdb, config, nanoClock, housekeep, stateDir, Identity.generate());
    }

    /**
     * @param stateDir where leases ({@code leases/}) and the switch's key pair ({@code switch-identity}) are kept;
     *                 null = in memory only
     * @param identity the switch's key pair, or null to load (or create) it in {@code stateDir}
     */
    SwitchCore(MacTableAdminService fdb, SwitchConfig config, LongSupplier nanoClock, boolean housekeep,
               Path stateDir, Identity identity) {
        this(fdb, config, nanoClock, housekeep, stateDir, identity, null);
    }

    /**
     * @param housekeep  background threads: housekeeping and the handshake thread (without: handshakes on the
     *                   receiving thread)
     * @param handshakes where handshakes run, null for what {@code housekeep} says (tests hold a MANUAL one)
     */
    SwitchCore(MacTableAdminService fdb, SwitchConfig config, LongSupplier nanoClock, boolean housekeep,
               Path stateDir, Identity identity, HandshakeWorker handshakes) {
        this.nanoClock = nanoClock;
        try {
            this.settings = Settings.from(config);
        } catch (IllegalArgumentException e) {
            FATAL.error("{}; the switch does not start until this is fixed", e.getMessage());
            throw e;
        }
        if (identity == null) {
            Path file = stateDir.resolve("switch-identity");
            try {
                identity = Identity.loadOrCreate(file);
            } catch (IOException | RuntimeException e) {
                FATAL.error("Cannot read or create the switch's key pair {}: {}; the switch does not start until this "
                        + "is fixed", file, e.getMessage());
                throw new IllegalStateException(e.getMessage(), e);
            }
        }
        this.identity = identity;
        this.policies = new PolicyRegistry(settings.policy());
        PortHygiene hygiene = new PortHygiene(fdb, counters, nanoClock);
        this.addressing = new Addressing(stateDir == null ? null : stateDir.resolve("leases"), this::settings,
                counters, hygiene);
        this.registry = new PortRegistry(fdb, addressing, this::settings, nanoClock, counters);
        this.revocations = new Revocations(stateDir == null ? null : stateDir.resolve(Revocations.FILE_NAME));
        this.networks = new NetworkDirectory(registry, addressing, policies, revocations);
        Forwarder forwarder = new Forwarder(fdb, registry, policies, addressing, hygiene, counters, this::settings,
                nanoClock);
        // the unit tests' switch (no background threads) shakes hands on the caller's thread, deterministically
        this.handshakes = handshakes != null ? handshakes
                : new HandshakeWorker(housekeep ? HandshakeWorker.Mode.THREAD : HandshakeWorker.Mode.INLINE);
        this.handshakes.nice(settings.handshakeNice());
        this.pairs = new Pairs(registry, fdb, counters, this::settings, nanoClock);
        forwarder.pairing(pairs);
        registry.onRemoved(pairs::removed);
        registry.onMoved(pairs::moved); // a receiver's endpoint that a PAIR SEND carried is stale now
        Vl2Ingress vl2 = new Vl2Ingress(registry, networks::get, forwarder, addressing, counters, this::settings,
                nanoClock, identity, networks::lists, this.handshakes, pairs);
        this.vl2 = vl2;
        registry.onCutOff(vl2::cutOff);
        this.ingress = new Ingress(registry, networks, forwarder, vl2, counters);
        this.transports = new Transports(registry, ingress, networks::get);
        networks.onChange(() -> {
            transports.checkRawNetworks();
            pairs.settingsChanged(); // a network's policy or ip.guard may rule its pairs out now
        });
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
        LOG.info("Started vl2 switch ({}; AES-GCM: {})", settings, Session.aesGcmImplementation());
        warnDeprecated(settings);
        LOG.info("Switch public key {} (agents pin it: switch.key, bin/vl2-agent --switch-key)", identity.fingerprint());
        LOG.info("Handshakes: X25519 by {}, handshake thread at nice {} (docs/crypto.md)", Identity.x25519Engine(),
                settings.handshakeNice());
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

    Settings settings() {
        return settings;
    }

    /** Where transports deliver (tests drive the switch through it). */
    FrameReceiver ingress() {
        return ingress;
    }

    @Modified
    void modified(SwitchConfig config) {
        Settings next;
        try {
            next = Settings.from(config);
        } catch (IllegalArgumentException e) {
            FATAL.error("{}; keeping the previous configuration ({})", e.getMessage(), settings);
            return;
        }
        if (!next.policy().equals(settings.policy()) && !policies.has(next.policy())) {
            FATAL.error("Invalid configuration {}: policy={} is not a registered forwarding policy (available: {}); "
                    + "keeping the previous configuration ({})", PID, next.policy(), policies.names(), settings);
            return;
        }
        policies.select(next.policy());
        networks.policiesChanged();
        handshakes.nice(next.handshakeNice());
        settings = next; // published once its policy is in place: a reader of policy() sees it in use
        pairs.settingsChanged(); // pairs off, or a policy that decides per frame: the pairs end
        LOG.info("vl2 switch reconfigured ({})", next);
        warnDeprecated(next);
    }

    /** allow.plaintext opened every public network to plaintext joins; networks say so themselves now. */
    private static void warnDeprecated(Settings s) {
        if (s.allowPlaintext()) {
            LOG.warn("allow.plaintext in {} is deprecated and opens nothing: a network admits plaintext joins (and raw "
                    + "and VXLAN ports) only with plaintext=true in its {} configuration (bin/vl2-switch --network "
                    + "id=ID,plaintext=true); every other network is sealed", PID, NetworkDefinition.FACTORY_PID);
        }
    }

    @Deactivate
    void deactivate() {
        if (housekeeping != null) {
            housekeeping.shutdownNow();
        }
        transports.stopAll();
        vl2.stop();
        for (SwitchPort p : List.copyOf(registry.all())) {
            // their port numbers mean nothing to the next switch instance; leases stay for the members' re-join
            registry.remove(p, "the switch stops", false);
        }
        addressing.close();
        LOG.info("Stopped vl2 switch");
    }

    // ---- dynamic references: transports, policies, networks -----------------------------------------------

    /** Every transport is a candidate for its name; see {@link Transports}. */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindTransport", updated = "updatedTransport")
    void bindTransport(Transport transport, Map<String, Object> properties) {
        Object r = properties.get(Constants.SERVICE_RANKING);
        Object id = properties.get(Constants.SERVICE_ID);
        transports.add(transport, r instanceof Integer i ? i : 0, id instanceof Long l ? l : Long.MAX_VALUE,
                rawNetwork(transport, properties, Networks.RAW));
    }

    void updatedTransport(Transport transport, Map<String, Object> properties) {
        Object r = properties.get(Constants.SERVICE_RANKING);
        Object id = properties.get(Constants.SERVICE_ID);
        transports.update(transport, r instanceof Integer i ? i : 0, id instanceof Long l ? l : Long.MAX_VALUE,
                rawNetwork(transport, properties, transports.networkOf(transport, Networks.RAW)));
    }

    /** The {@value Transport#NETWORK} property: the raw network; {@code fallback} if absent or invalid (said once). */
    private static long rawNetwork(Transport transport, Map<String, Object> properties, long fallback) {
        Object v = properties.get(Transport.NETWORK);
        if (v == null || v.toString().isBlank()) {
            return Networks.RAW;
        }
        try {
            return Networks.parse(v.toString());
        } catch (IllegalArgumentException e) {
            FATAL.error("Transport {}: invalid network={} ({}); its raw ports land in network {}", transport.name(), v,
                    e.getMessage(), Networks.format(fallback));
            return fallback;
        }
    }

    /**
     * For tests, without service properties: ranking 0, in bind order. Not named bindTransport: DS would prefer
     * a one-argument method of the bind name over the one with the properties.
     */
    void attach(Transport transport) {
        bindTransport(transport, Map.of(Constants.SERVICE_ID, testServiceIds.incrementAndGet()));
    }

    /** For tests: a raw transport whose ports land in {@code network}. */
    void attach(Transport transport, long network) {
        bindTransport(transport, Map.of(Constants.SERVICE_ID, testServiceIds.incrementAndGet(), Transport.NETWORK,
                Networks.format(network)));
    }

    void unbindTransport(Transport transport) {
        transports.remove(transport);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindPolicy")
    void bindPolicy(ForwardingPolicy p) {
        policies.bind(p);
        networks.policiesChanged();
        pairs.settingsChanged();
    }

    void unbindPolicy(ForwardingPolicy p) {
        policies.unbind(p);
        networks.policiesChanged();
        pairs.settingsChanged();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindNetwork", updated = "updatedNetwork")
    void bindNetwork(NetworkDefinition definition) {
        networks.bind(definition);
    }

    void updatedNetwork(NetworkDefinition definition) {
        networks.updated(definition);
    }

    void unbindNetwork(NetworkDefinition definition) {
        networks.unbind(definition);
    }

    // ---- housekeeping -------------------------------------------------------------------------------------

    private void housekeepSafely() {
        try {
            expireIdlePorts();
            pushRoutes();
            tickPairs();
            if (ticks.incrementAndGet() % 20 == 0) {
                expireLeases();
            }
        } catch (RuntimeException e) {
            LOG.error("Housekeeping failed; will retry", e);
        }
    }

    /** Removes ports silent for longer than their timeout. Package-private for tests. */
    void expireIdlePorts() {
        registry.expireIdle();
    }

    /** Managed routes to the members that do not have the version in force (docs/protocol.md, ROUTES). */
    int pushRoutes() {
        return routePush.tick(networks.all(), nanoClock.getAsLong());
    }

    /** Pair keys: offers and REVOKEs again, renewals, refusals forgotten (docs/protocol.md, Pair keys). */
    void tickPairs() {
        pairs.tick();
    }

    void expireLeases() {
        addressing.expireLeases(networks.all());
    }

    // ---- for SwitchAdmin ------------------------------------------------------------------------------------

    /** Deauthorized in the shell: kept in the instance, it wins over the network's configuration. */
    void revoke(long network, String member) {
        revocations.revoke(network, member);
    }

    /** Authorized in the shell: a revocation of the member goes, and the network's configuration applies again. */
    boolean liftRevocation(long network, String member) {
        if (!revocations.revoked(network, member)) {
            return false;
        }
        revocations.lift(network, member);
        networks.refresh(network);
        return true;
    }

    /** The configuration PID that defines network {@code id}, or null. */
    String configurationOf(long network) {
        return networks.configurationOf(network);
    }

    /** The settings network {@code id}'s configuration holds and the switch applied, or null without one. */
    NetworkSettings configuredSettings(long network) {
        return networks.configured(network);
    }

    /** The members network {@code id}'s settings in use authorize, or null without such a network. */
    Set<String> authorizedMembers(long network) {
        Network n = networks.get(network);
        return n == null ? null : n.settings().members();
    }

    /** Removes a port now (the operator's choice); false if there is no such port. */
    boolean removePort(PortId id) {
        SwitchPort p = registry.get(id);
        if (p == null) {
            return false;
        }
        registry.remove(p, "removed by the operator", true);
        return true;
    }

    // ---- SwitchService ---------------------------------------------------------------------------------------

    @Override
    public List<PortInfo> ports() {
        long now = nanoClock.getAsLong();
        Instant wall = Instant.now();
        List<PortInfo> list = new ArrayList<>();
        for (SwitchPort p : registry.all()) {
            list.add(p.info(now, wall));
        }
        list.sort(Comparator.comparing(PortInfo::id));
        return list;
    }

    @Override
    public Optional<PortInfo> port(PortId id) {
        SwitchPort p = registry.get(id);
        return p == null ? Optional.empty() : Optional.of(p.info(nanoClock.getAsLong(), Instant.now()));
    }

    @Override
    public List<NetworkInfo> networks() {
        List<NetworkInfo> list = new ArrayList<>();
        for (Network n : networks.all()) {
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

    /** From one state of the network: settings, DHCP and leases always belong together. */
    private NetworkInfo info(Network n) {
        Network.State state = n.state();
        NetworkSettings s = state.settings();
        return new NetworkInfo(n.id, s.name(), s.mtu(), s.policy() != null ? s.policy() : settings.policy(),
                s.pool() == null ? null : s.pool().toString(),
                s.ipv6() == null ? null : Endpoints.format(s.ipv6()) + "/64",
                state.dhcp() != null, n.ports().size(), Addressing.leases(state), s.access(),
                s.pool() == null ? 0 : s.pool().rangeSize(), Addressing.leasesInRange(state));
    }

    @Override
    public SwitchStatistics statistics() {
        return counters.snapshot(registry.size());
    }

    @Override
    public Map<String, Long> transportErrors() {
        Map<String, Long> errors = new TreeMap<>();
        for (TransportSlot slot : registry.slots()) {
            errors.put(slot.name, slot.txErrors.sum());
        }
        return errors;
    }

    /** Only the transports attached now: one that went took its counters with it. */
    @Override
    public Map<String, Map<String, Long>> transportReceiveDrops() {
        Map<String, Map<String, Long>> drops = new TreeMap<>();
        for (TransportSlot slot : registry.slots()) {
            Transport t = slot.transport;
            if (t != null) {
                drops.put(slot.name, new TreeMap<>(t.receiveDrops()));
            }
        }
        return drops;
    }

    @Override
    public String policy() {
        return settings.policy();
    }

    @Override
    public boolean policyActive() {
        return policies.active();
    }

    @Override
    public Set<String> policies() {
        return policies.names();
    }

    @Override
    public String publicKey() {
        return identity.fingerprint();
    }

    @Override
    public List<org.vl2.api.PairInfo> pairs() {
        return pairs.info();
    }

    @Override
    public List<org.vl2.api.NetworkRoute> routes() {
        List<org.vl2.api.NetworkRoute> list = new ArrayList<>();
        List<Network> sorted = new ArrayList<>(networks.all());
        sorted.sort((a, b) -> Long.compareUnsigned(a.id, b.id));
        for (Network n : sorted) {
            Network.RouteSet inForce = n.routes();
            for (org.vl2.protocol.Route r : n.settings().routes()) {
                list.add(new org.vl2.api.NetworkRoute(n.id, r.cidr(), r.gateway().getHostAddress(), r.metric(),
                        inForce.routes().contains(r), inForce.version()));
            }
        }
        return list;
    }

    @Override
    public List<MemberInfo> members(long network) {
        Network n = networks.get(network);
        if (n == null) {
            throw new IllegalArgumentException("no network " + Networks.format(network) + " on this switch");
        }
        Map<String, MemberInfo> byId = new TreeMap<>();
        for (String m : n.settings().members()) {
            boolean isId = m.length() == 16;
            String id = isId ? m : Identity.formatMemberId(Identity.memberId(Identity.parsePublicKey(m)));
            byId.put(id, new MemberInfo(network, id, isId ? null : m, true, null, null, null, false));
        }
        for (SwitchPort p : n.ports()) {
            if (p.kind != Kind.VL2) {
                continue;
            }
            String id = SwitchPort.memberId(p.member);
            MemberInfo known = byId.get(id);
            String key = p.publicKey == null ? known == null ? null : known.publicKey()
                    : Identity.fingerprint(p.publicKey);
            java.net.Inet4Address a = p.address;
            org.vl2.crypto.Session s = p.session;
            byId.put(id, new MemberInfo(network, id, key, known != null, p.id, a == null ? null : a.getHostAddress(),
                    p.name, p.sealed, s == null ? null : s.cipher().displayName()));
        }
        for (WaitingMembers.Waiting w : n.waiting().all()) {
            // refused and not authorized since (an authorized or online member shows as such)
            byId.putIfAbsent(SwitchPort.memberId(w.member()), new MemberInfo(network, SwitchPort.memberId(w.member()),
                    Identity.fingerprint(w.key()), false, null, null, w.name().isEmpty() ? null : w.name(), false,
                    null, w.at()));
        }
        return List.copyOf(byId.values());
    }
}

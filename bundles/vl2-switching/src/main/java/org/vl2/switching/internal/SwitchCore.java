package org.vl2.switching.internal;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
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
import org.vl2.api.Networks;
import org.vl2.api.PortId;
import org.vl2.api.PortInfo;
import org.vl2.api.SwitchService;
import org.vl2.api.SwitchStatistics;
import org.vl2.api.spi.ForwardingPolicy;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;

/**
 * The switch core. Every bound {@link Transport} delivers its frames here; each frame is validated, its
 * source learned, and the active {@link ForwardingPolicy} decides where it goes. Transports and policies
 * are dynamic references, so both can be added, replaced or removed while frames flow.
 *
 * <p>Hot path ({@link #receive}): no locks, no logging, no allocation once a port exists.
 */
@Component(service = SwitchService.class, configurationPid = SwitchCore.PID, immediate = true)
@Designate(ocd = SwitchConfig.class)
public final class SwitchCore implements SwitchService, FrameReceiver {

    static final String PID = "org.vl2.switching";
    private static final Logger LOG = LoggerFactory.getLogger(SwitchCore.class);
    private static final long HOUSEKEEPING_MILLIS = 500;

    private final MacTableAdminService fdb;
    private final ConfigurationAdmin configAdmin;
    private final LongSupplier nanoClock;

    private volatile Settings settings;
    private final Map<String, ForwardingPolicy> policies = new ConcurrentHashMap<>();
    /** The policy in use: the one the settings name, or null while it is not registered. */
    private volatile ForwardingPolicy policy;
    private final AtomicBoolean noPolicyWarned = new AtomicBoolean();
    private final AtomicBoolean portLimitWarned = new AtomicBoolean();

    /** By transport name: the slots (and their ports) outlive the transport services. */
    private final Map<String, TransportSlot> slots = new ConcurrentHashMap<>();
    private final Map<PortId, SwitchPort> ports = new ConcurrentHashMap<>();
    private final FloodDomain defaultDomain = new FloodDomain(Networks.DEFAULT);
    private final AtomicInteger nextPortNumber = new AtomicInteger(1);
    private final Object portLock = new Object();

    private final ThreadLocal<EthernetFrame> views = ThreadLocal.withInitial(EthernetFrame::new);
    private final ScheduledExecutorService housekeeping;

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
    private final LongAdder txErrors = new LongAdder();

    @Activate
    public SwitchCore(@Reference MacTableAdminService fdb, @Reference ConfigurationAdmin configAdmin,
                      SwitchConfig config) {
        this(fdb, configAdmin, config, System::nanoTime, true);
    }

    /** For tests: a controllable clock, and no housekeeping thread when {@code housekeep} is false. */
    SwitchCore(MacTableAdminService fdb, ConfigurationAdmin configAdmin, SwitchConfig config, LongSupplier nanoClock,
               boolean housekeep) {
        this.fdb = fdb;
        this.configAdmin = configAdmin;
        this.nanoClock = nanoClock;
        try {
            this.settings = Settings.from(config);
        } catch (IllegalArgumentException e) {
            LOG.error("{}; the switch does not start until this is fixed", e.getMessage());
            throw e;
        }
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
            removePort(p, "the switch stops"); // their port numbers mean nothing to the next switch instance
        }
        LOG.info("Stopped vl2 switch");
    }

    // ---- dynamic references: transports and policies -------------------------------------------------

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindTransport")
    void bindTransport(Transport transport) {
        TransportSlot slot;
        Transport previous;
        synchronized (portLock) {
            slot = slots.computeIfAbsent(transport.name(), TransportSlot::new);
            previous = slot.transport;
            slot.mode = transport.mode();
            slot.transport = transport; // from now on frames of the previous one (if any) are ignored
        }
        if (previous != null && previous != transport) {
            previous.stop();
        }
        transport.start(this);
        LOG.info("Transport {} ({} mode) on {} attached{}", transport.name(), transport.mode(),
                transport.localAddress(), slot.ports.isEmpty() ? "" : "; it takes over " + slot.ports.size()
                        + " ports");
    }

    void unbindTransport(Transport transport) {
        TransportSlot slot = slots.get(transport.name());
        if (slot == null || slot.transport != transport) {
            return; // replaced already by another transport of that name
        }
        transport.stop();
        slot.transport = null;
        LOG.info("Transport {} detached; its {} ports are kept for a transport of that name (or until they"
                + " expire)", transport.name(), slot.ports.size());
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
    }

    // ---- hot path ---------------------------------------------------------------------------------------

    @Override
    public void receive(Transport transport, SocketAddress source, ByteBuffer frame) {
        final int length = frame.remaining();
        rxFrames.increment();
        rxBytes.add(length);
        TransportSlot slot = slots.get(transport.name());
        if (slot == null || slot.transport != transport) {
            return; // a transport we are not (or no longer) attached to
        }
        SwitchPort in = slot.ports.get(source);
        Settings s = settings;
        EthernetFrame view = views.get().wrap(frame);

        if (view.isRunt()) {
            drop(dropRunt, in);
            return;
        }
        if (length > s.maxFrameSize()) {
            drop(dropOversize, in);
            return;
        }
        long src = view.sourceBits();
        if (MacAddress.isMulticast(src)) {
            drop(dropSourceMulticast, in);
            return;
        }
        if (in == null) {
            in = openPort(slot, source);
            if (in == null) {
                dropPortLimit.increment();
                return;
            }
        }
        in.lastSeenNanos = nanoClock.getAsLong();
        in.rxFrames.increment();
        in.rxBytes.add(length);

        final long network = in.domain.network;
        fdb.learn(network, view.vlanId(), src, in.id);
        if (in.removed) {
            fdb.flushPort(in.id); // lost a race with port removal: do not leave entries behind
            return;
        }

        ForwardingPolicy p = policy;
        if (p == null) {
            dropNoPolicy.increment();
            if (noPolicyWarned.compareAndSet(false, true)) {
                LOG.warn("Forwarding policy '{}' (policy in {}) is not registered; frames are dropped until it is "
                        + "(available: {})", s.policy(), PID, policies());
            }
            return;
        }
        PortId out = p.egress(network, in.id, view, fdb);
        if (out == null) {
            dropPolicy.increment();
        } else if (out.isFlood()) {
            flooded.increment();
            for (SwitchPort o : in.domain.ports()) {
                if (o != in) {
                    send(o, frame, length);
                }
            }
        } else if (out.equals(in.id)) {
            filtered.increment(); // the destination sits behind the ingress port: it has the frame already
        } else {
            SwitchPort o = ports.get(out);
            if (o == null || o.domain != in.domain) {
                dropPolicy.increment();
            } else {
                unicast.increment();
                send(o, frame, length);
            }
        }
    }

    private void send(SwitchPort out, ByteBuffer frame, int length) {
        Transport t = out.slot.transport;
        if (t != null && t.send(out.remote, frame)) {
            out.txFrames.increment();
            out.txBytes.add(length);
            txFrames.increment();
            txBytes.add(length);
        } else {
            out.txDrops.increment();
            txErrors.increment();
        }
    }

    private static void drop(LongAdder reason, SwitchPort in) {
        reason.increment();
        if (in != null) {
            in.rxDrops.increment();
        }
    }

    // ---- port registry ------------------------------------------------------------------------------------

    private SwitchPort openPort(TransportSlot slot, SocketAddress source) {
        SwitchPort port;
        synchronized (portLock) {
            port = slot.ports.get(source);
            if (port != null) {
                return port;
            }
            if (ports.size() >= settings.maxPorts()) {
                if (portLimitWarned.compareAndSet(false, true)) {
                    LOG.warn("Port limit reached ({} ports, max.ports in {}): datagrams from new endpoints such as {} "
                            + "are dropped", ports.size(), PID, Endpoints.format(source));
                }
                return null;
            }
            port = new SwitchPort(PortId.of(nextPortNumber.getAndIncrement()), defaultDomain, slot, source,
                    nanoClock.getAsLong(), Instant.now());
            ports.put(port.id, port);
            slot.ports.put(source, port);
            port.domain.add(port);
        }
        LOG.info("Port {} up: {} {} {}", port.id, slot.name, slot.mode, Endpoints.format(source));
        return port;
    }

    private void removePort(SwitchPort port, String why) {
        synchronized (portLock) {
            if (port.removed) {
                return;
            }
            port.removed = true;
            ports.remove(port.id, port);
            port.slot.ports.remove(port.remote, port);
            port.domain.remove(port);
            portLimitWarned.set(false);
        }
        int flushed = fdb.flushPort(port.id);
        LOG.info("Port {} down ({} {}): {}; {} MAC entries flushed", port.id, port.slot.name,
                Endpoints.format(port.remote), why, flushed);
    }

    private void housekeepSafely() {
        try {
            expireIdlePorts();
        } catch (RuntimeException e) {
            LOG.error("Housekeeping failed; will retry", e);
        }
    }

    /** Removes ports idle for longer than the configured timeout. Package-private for tests. */
    void expireIdlePorts() {
        long timeout = settings.portIdleTimeoutNanos();
        if (timeout <= 0) {
            return;
        }
        long now = nanoClock.getAsLong();
        for (SwitchPort p : ports.values()) {
            long idle = now - p.lastSeenNanos;
            if (idle > timeout) {
                removePort(p, "idle for " + TimeUnit.NANOSECONDS.toSeconds(idle) + " s");
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
    public SwitchStatistics statistics() {
        return new SwitchStatistics(ports.size(), rxFrames.sum(), rxBytes.sum(), txFrames.sum(), txBytes.sum(),
                unicast.sum(), flooded.sum(), filtered.sum(), dropRunt.sum(), dropOversize.sum(),
                dropSourceMulticast.sum(), dropNoPolicy.sum(), dropPolicy.sum(), dropPortLimit.sum(), txErrors.sum());
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
        persistPolicy(wanted);
    }

    /** Writes the policy to the switch's configuration so that it survives a restart. */
    private void persistPolicy(String name) {
        if (configAdmin == null) {
            return;
        }
        try {
            Configuration c = configAdmin.getConfiguration(PID, "?");
            Dictionary<String, Object> props = c.getProperties();
            if (props == null) {
                props = new Hashtable<>();
            }
            if (name.equals(props.get("policy"))) {
                return;
            }
            props.put("policy", name);
            c.update(props);
        } catch (IOException e) {
            throw new IllegalStateException("policy " + name + " is active but could not be saved in " + PID + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public boolean removePort(PortId id) {
        SwitchPort p = ports.get(id);
        if (p == null) {
            return false;
        }
        removePort(p, "removed by the operator");
        return true;
    }
}

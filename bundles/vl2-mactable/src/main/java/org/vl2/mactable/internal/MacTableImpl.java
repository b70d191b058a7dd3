package org.vl2.mactable.internal;

import java.util.function.LongSupplier;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.MacEventListener;
import org.vl2.api.MacTableAdminService;
import org.vl2.api.MacTableService;

/**
 * The MAC table (forwarding database) of the switch as a DS component: its configuration, its lifecycle (the
 * shared clock, the ageing thread) and its listeners. Learning with move detection, exact ageing, a capacity
 * with fair eviction, an optional per-port limit and static entries, keyed by (network, VLAN, MAC).
 *
 * <h2>How a frame flows through the table</h2>
 * <ul>
 *   <li><b>Lookup</b> (destination, per frame; no lock, no allocation): {@link ForwardingDatabase#lookup} finds the
 *       network's {@link NetworkTable} in the {@link NetworkIndex}, probes its inline key words from the key's
 *       hash (acquire loads), reads the matching slot's port and, for a dynamic entry, compares its last-seen
 *       time with the clock: older than the ageing time is a miss.</li>
 *   <li><b>Learn</b> (source, per frame): {@link ForwardingDatabase#learn} finds the slot the same way; a known
 *       station on its port is refreshed without the lock (a volatile write of its time at most once a
 *       millisecond, re-checked against a racing removal or rebuild). Anything else (a new station, a move, a
 *       refresh that lost a race) takes the writer lock: {@link Eviction} refuses it at the per-port limit or
 *       makes room at the capacity, then the entry is inserted (release store of its key) and the event goes
 *       to {@link MacEvents} after the lock is released.</li>
 *   <li><b>Ageing</b>: {@link Ageing} sweeps on its own thread and removes what lookups already ignore.</li>
 * </ul>
 * The memory model (publication, no slot reuse, the refresh vs. removal handshake) is in {@link NetworkTable};
 * the consistency check for tests and diagnostics in {@link ConsistencyCheck}.
 */
@Component(name = MacTableImpl.PID, configurationPid = MacTableImpl.PID,
        service = {MacTableService.class, MacTableAdminService.class})
@Designate(ocd = MacTableImpl.Config.class)
public final class MacTableImpl extends ForwardingDatabase {

    static final String PID = "org.vl2.mactable";

    @ObjectClassDefinition(id = PID, name = "vl2 MAC table",
            description = "Forwarding database of the vl2 switch: learned and static MAC entries per network and VLAN.")
    public @interface Config {

        @AttributeDefinition(name = "Ageing time (seconds)", min = "0", max = "1000000",
                description = "Dynamic entries not seen for this long are removed; 0 = never age. Default 300, "
                        + "as Linux bridges and Open vSwitch.")
        long ageing_seconds() default Settings.DEFAULT_AGEING_SECONDS;

        @AttributeDefinition(name = "Capacity", min = "16", max = "16777216",
                description = "Maximum entries (dynamic and static). When full, learning a new station evicts an "
                        + "entry of the port that holds the most. Default 8192, as Open vSwitch.")
        int capacity() default Settings.DEFAULT_CAPACITY;

        @AttributeDefinition(name = "Per-port limit", min = "0",
                description = "Maximum dynamic entries a single port may hold; 0 = no limit. Stations beyond it "
                        + "are not learned, and the switch drops their frames (counted in vl2:stats 'MAC limit', one "
                        + "WARN a minute per port). Default 256: a bridge with a few dozen hosts behind one port fits, "
                        + "and no port can fill the table.")
        int per_port_limit() default Settings.DEFAULT_PER_PORT_LIMIT;
    }

    private static final Logger LOG = LoggerFactory.getLogger(MacTableImpl.class);
    /** Contract with the launchers: the one ERROR saying why this component does not start (docs/operating.md). */
    private static final Logger FATAL = LoggerFactory.getLogger("org.vl2.fatal");

    // Lifecycle (DS calls activate, modified and deactivate one at a time).
    private boolean clockAcquired;

    /**
     * DS constructor: validates the configuration and starts the ageing thread.
     *
     * @throws IllegalArgumentException naming the bad property, so the component does not start
     */
    @Activate
    public MacTableImpl(Config config) {
        this(validated(config), clock());
        clockAcquired = true;
        ageing.start(settings);
        LOG.info("MAC table started ({})", settings);
    }

    /**
     * For tests and embedding: no ageing thread (call {@code ageing.sweep(long)}), time from {@code nanoClock}
     * (nanoseconds, monotonic; read on every learn and every lookup of a dynamic entry, so it should be cheap).
     */
    MacTableImpl(Settings settings, LongSupplier nanoClock) {
        super(settings, nanoClock);
    }

    /**
     * The clock the table learns and ages with: the shared coarse clock, or the one a test gave. Read as a peek
     * ({@link CoarseClock.Reading#peek}): a caller's reads do not keep the ticker awake (a switch's keepalives alone
     * would tick it every millisecond); while it sleeps they read {@code System.nanoTime()}.
     */
    @Override
    public long nowNanos() {
        LongSupplier c = clock;
        return c == CoarseClock.READING ? CoarseClock.READING.peek() : c.getAsLong();
    }

    /** The shared coarse clock, acquired for a DS-activated table (released by {@link #deactivate()}). */
    private static LongSupplier clock() {
        CoarseClock.acquire();
        return CoarseClock.READING;
    }

    private static Settings validated(Config config) {
        try {
            return Settings.of(config);
        } catch (IllegalArgumentException e) {
            FATAL.error("{}; the MAC table does not start", e.getMessage());
            throw e;
        }
    }

    @Modified
    void modified(Config config) {
        Settings next;
        try {
            next = Settings.of(config);
        } catch (IllegalArgumentException e) {
            LOG.error("{}; keeping {}", e.getMessage(), settings);
            return;
        }
        reconfigure(next);
        ageing.schedule(next);
        LOG.info("MAC table reconfigured ({})", next);
    }

    @Deactivate
    void deactivate() {
        ageing.stop();
        if (clockAcquired) {
            clockAcquired = false;
            CoarseClock.release();
        }
        LOG.info("MAC table stopped ({} entries dropped)", size);
    }

    @Reference(name = "listener", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            unbind = "removeListener")
    void addListener(MacEventListener listener) {
        events.addListener(listener);
    }

    void removeListener(MacEventListener listener) {
        events.removeListener(listener);
    }
}

package org.vl2.switching.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.vl2.api.spi.Transport;

/**
 * The ports reached through the transport of one name, e.g. {@code udp}. The slot outlives the transport
 * service: when the transport goes (bundle restart, update, reconfiguration) its ports stay, detached, and a
 * transport of the same name that comes back takes them over — so a transport swap loses neither the ports nor
 * the MAC table. Detached ports that stay silent expire like any other.
 */
public final class TransportSlot {

    public final String name;
    /** The transport serving the slot now; null while detached. */
    public volatile Transport transport;
    /** Service ranking of that transport: a registered transport of the same name and higher rank takes over. */
    volatile int ranking;
    /** Its mode when last attached, for display while detached and to choose how datagrams are read. */
    volatile String mode;
    /** Whether datagrams are vl2-protocol messages (mode {@code vl2}); else raw frames. */
    volatile boolean vl2;
    /**
     * The network raw frames of this slot land in: the transport's {@value org.vl2.api.spi.Transport#NETWORK} service
     * property, {@link org.vl2.api.Networks#RAW} without one.
     */
    volatile long network = org.vl2.api.Networks.RAW;
    /** What was last said about the raw network (missing, sealed), so it is said once per change, not per frame. */
    volatile String networkProblem;
    /** Whether a drop for a sealed network was logged (once, then only counted; reset when networks change). */
    volatile boolean sealedDropSaid;
    /** RAW and ENCAP ports by (remote, network); vl2 ports are found by session instead. */
    final Map<PortKey, SwitchPort> ports = new ConcurrentHashMap<>();
    /** Sends this transport refused or reported failed (the switch-wide TX errors, by transport). */
    final java.util.concurrent.atomic.LongAdder txErrors = new java.util.concurrent.atomic.LongAdder();

    TransportSlot(String name) {
        this.name = name;
    }
}

package org.vl2.switching.internal;

import java.net.SocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.vl2.api.spi.Transport;

/**
 * The ports reached through the transport of one name, e.g. {@code udp}. The slot outlives the transport
 * service: when the transport goes (bundle restart, update, reconfiguration) its ports stay, detached, and a
 * transport of the same name that comes back takes them over — so a transport swap loses neither the ports nor
 * the MAC table. Detached ports that stay silent expire like any other (port idle timeout).
 */
final class TransportSlot {

    final String name;
    /** The transport serving the slot now; null while detached. */
    volatile Transport transport;
    /** Its mode and local address when last attached, for display while detached. */
    volatile String mode;
    final Map<SocketAddress, SwitchPort> ports = new ConcurrentHashMap<>();

    TransportSlot(String name) {
        this.name = name;
    }
}

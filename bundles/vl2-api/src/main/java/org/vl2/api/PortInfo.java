package org.vl2.api;

import java.time.Instant;

/**
 * A snapshot of a switch port.
 *
 * @param id        the port
 * @param network   the network (flood domain) the port belongs to
 * @param transport name of the transport carrying it, e.g. {@code udp}
 * @param mode      how frames are carried on that transport, e.g. {@code raw}
 * @param remote    the remote endpoint as text, e.g. {@code 192.0.2.7:40001}
 * @param counters  frame and byte counters
 * @param created   when the port appeared
 * @param lastSeen  when a frame last arrived from it
 * @param member    the member id of a vl2-protocol port (16 hex digits), null for raw and VXLAN ports
 * @param name      the name the member gave in its JOIN (its host name), null if none
 * @param address   the IPv4 address the switch assigned to the member, null if none
 */
public record PortInfo(PortId id, long network, String transport, String mode, String remote,
                       PortCounters counters, Instant created, Instant lastSeen, String member, String name,
                       String address) {

    /** A port without a member identity (raw, VXLAN). */
    public PortInfo(PortId id, long network, String transport, String mode, String remote, PortCounters counters,
                    Instant created, Instant lastSeen) {
        this(id, network, transport, mode, remote, counters, created, lastSeen, null, null, null);
    }
}

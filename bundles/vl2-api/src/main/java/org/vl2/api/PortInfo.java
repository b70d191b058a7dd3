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
 */
public record PortInfo(PortId id, long network, String transport, String mode, String remote,
                       PortCounters counters, Instant created, Instant lastSeen) {
}

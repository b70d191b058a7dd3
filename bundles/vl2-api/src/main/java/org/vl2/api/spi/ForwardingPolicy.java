package org.vl2.api.spi;

import org.osgi.annotation.versioning.ConsumerType;
import org.vl2.api.EthernetFrame;
import org.vl2.api.MacTableService;
import org.vl2.api.PortId;

/**
 * Decides where a frame goes. Registered as an OSGi service with the property {@value #PROPERTY} (its
 * name); the switch uses the one its configuration names and can change it at runtime.
 *
 * <p>The switch has already validated the frame and learned its source. Whatever the policy says, the
 * switch never sends a frame back to its ingress port (split horizon) nor to another network.
 */
@ConsumerType
public interface ForwardingPolicy {

    /** Service property naming the policy. */
    String PROPERTY = "vl2.policy";

    /** Short name, e.g. {@code learning}. */
    String name();

    /**
     * The egress for a frame: a port, {@link PortId#FLOOD} (every other port of the network), or
     * {@code null} to drop it. Hot path: must not block or allocate.
     *
     * @param network the network the ingress port belongs to
     * @param ingress the port the frame came in on
     * @param frame   a view of the frame, valid only during the call
     * @param fdb     the MAC table, for lookups
     */
    PortId egress(long network, PortId ingress, EthernetFrame frame, MacTableService fdb);
}

package org.vl2.switching.internal;

import org.osgi.service.component.annotations.Component;
import org.vl2.api.EthernetFrame;
import org.vl2.api.MacAddress;
import org.vl2.api.MacTableService;
import org.vl2.api.PortId;
import org.vl2.api.spi.ForwardingPolicy;

/**
 * The behaviour of an 802.1D learning bridge: known unicast goes to the port its destination was learned
 * on; broadcast, multicast and unknown unicast are flooded. (The switch never sends back to the ingress
 * port, so a destination learned on the ingress port ends up filtered.)
 */
@Component(property = ForwardingPolicy.PROPERTY + "=" + LearningPolicy.NAME)
public final class LearningPolicy implements ForwardingPolicy {

    static final String NAME = "learning";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public PortId egress(long network, PortId ingress, EthernetFrame frame, MacTableService fdb) {
        long dst = frame.destinationBits();
        if (MacAddress.isMulticast(dst)) {
            return PortId.FLOOD;
        }
        PortId known = fdb.lookup(network, frame.vlanId(), dst);
        return known != null ? known : PortId.FLOOD;
    }
}

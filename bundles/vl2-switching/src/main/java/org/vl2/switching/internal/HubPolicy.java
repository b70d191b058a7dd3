package org.vl2.switching.internal;

import org.osgi.service.component.annotations.Component;
import org.vl2.api.EthernetFrame;
import org.vl2.api.MacTableService;
import org.vl2.api.PortId;
import org.vl2.api.spi.ForwardingPolicy;

/**
 * A repeater: every frame goes to every other port of the network. Useful to debug (every port sees all
 * traffic, like a mirror) and as the simplest reference for throughput measurements.
 */
@Component(property = ForwardingPolicy.PROPERTY + "=" + HubPolicy.NAME)
public final class HubPolicy implements ForwardingPolicy {

    static final String NAME = "hub";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public PortId egress(long network, PortId ingress, EthernetFrame frame, MacTableService fdb) {
        return PortId.FLOOD;
    }
}

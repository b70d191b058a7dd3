package org.vl2.switching.internal;

import org.vl2.api.EthernetFrame;

/**
 * What the forwarding path tells the pair keys (docs/protocol.md, "Pair keys"; implemented by the vl2 protocol's
 * {@code Pairs}): a known unicast frame went from one pair-capable member to another, and a station moved. Called on
 * the receiving threads: cheap when there is nothing to do (a scan of the ingress port's few pairs).
 */
public interface Pairing {

    /** Pairs off: nothing is ever keyed. */
    Pairing NONE = new Pairing() {
        @Override
        public void unicast(SwitchPort in, SwitchPort out, EthernetFrame frame, Egress e) {
        }

        @Override
        public void moved(Network network, int vlan, long mac, SwitchPort to) {
        }
    };

    /** {@code frame} went from {@code in} to {@code out} as known unicast (both members take pair keys). */
    void unicast(SwitchPort in, SwitchPort out, EthernetFrame frame, Egress e);

    /** Station {@code mac} on {@code vlan} (the MAC table's VLAN: 0 untagged) now sits behind {@code to}. */
    void moved(Network network, int vlan, long mac, SwitchPort to);
}

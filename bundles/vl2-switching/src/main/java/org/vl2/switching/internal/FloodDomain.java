package org.vl2.switching.internal;

import java.util.Arrays;

/**
 * The ports of one network. Flooding iterates a copy-on-write array: no lock and no iterator per frame;
 * ports come and go rarely compared to frames.
 */
final class FloodDomain {

    private static final SwitchPort[] NONE = new SwitchPort[0];

    final long network;
    private volatile SwitchPort[] ports = NONE;

    FloodDomain(long network) {
        this.network = network;
    }

    SwitchPort[] ports() {
        return ports;
    }

    synchronized void add(SwitchPort port) {
        SwitchPort[] p = Arrays.copyOf(ports, ports.length + 1);
        p[p.length - 1] = port;
        ports = p;
    }

    synchronized void remove(SwitchPort port) {
        SwitchPort[] p = ports;
        for (int i = 0; i < p.length; i++) {
            if (p[i] == port) {
                SwitchPort[] q = new SwitchPort[p.length - 1];
                System.arraycopy(p, 0, q, 0, i);
                System.arraycopy(p, i + 1, q, i, p.length - i - 1);
                ports = q;
                return;
            }
        }
    }
}

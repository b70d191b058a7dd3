package org.vl2.switching.internal;

import java.util.Arrays;

/**
 * vl2-protocol ports by port number: the FRAME and KEEPALIVE path finds its port with one array read, without
 * a lock and without boxing. Writers (join, removal) copy the array; they are rare and serialised by the core.
 */
final class SessionTable {

    private volatile SwitchPort[] byNumber = new SwitchPort[64];

    SwitchPort get(int number) {
        SwitchPort[] t = byNumber;
        return number > 0 && number < t.length ? t[number] : null;
    }

    synchronized void put(SwitchPort port) {
        int n = port.id.number();
        SwitchPort[] t = byNumber;
        if (n >= t.length) {
            t = Arrays.copyOf(t, Math.max(n + 1, t.length * 2));
        } else {
            t = t.clone();
        }
        t[n] = port;
        byNumber = t;
    }

    synchronized void remove(SwitchPort port) {
        int n = port.id.number();
        SwitchPort[] t = byNumber;
        if (n < t.length && t[n] == port) {
            t = t.clone();
            t[n] = null;
            byNumber = t;
        }
    }
}

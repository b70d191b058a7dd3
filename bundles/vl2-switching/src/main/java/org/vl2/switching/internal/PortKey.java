package org.vl2.switching.internal;

import java.net.SocketAddress;

/**
 * Identifies a port a transport reaches by address: the remote endpoint and, for transports that carry
 * several networks to one endpoint (VXLAN: one VTEP, many VNIs), the network. Keys stored in maps are never
 * changed; each receive thread has one mutable probe for lookups, so a lookup allocates nothing.
 */
final class PortKey {

    private SocketAddress remote;
    private long network;
    private int hash;

    PortKey(SocketAddress remote, long network) {
        set(remote, network);
    }

    /** Only on a thread's own probe. */
    PortKey set(SocketAddress remote, long network) {
        this.remote = remote;
        this.network = network;
        this.hash = remote.hashCode() * 31 + Long.hashCode(network);
        return this;
    }

    PortKey copy() {
        return new PortKey(remote, network);
    }

    SocketAddress remote() {
        return remote;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PortKey k && k.network == network && k.remote.equals(remote);
    }

    @Override
    public int hashCode() {
        return hash;
    }
}

package org.vl2.transport.udp.internal;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Networks;
import org.vl2.api.spi.Transport;
import org.vl2.netio.DatagramEndpoints;

/**
 * UDP transport in raw mode: every datagram carries exactly one Ethernet frame and nothing else, the wire
 * format of the seed VSwitch/VPort, so their clients are ports of a vl2 switch unchanged. Raw frames carry no
 * identity: the switch puts them into the network named by {@code network} (a service property, see
 * {@link Transport#NETWORK}), the built-in plaintext network {@code raw} by default, and only if that network is open
 * to plaintext. The listener is on loopback unless configured otherwise, and says at start what it exposes.
 */
@Component(service = Transport.class, configurationPid = UdpTransport.PID, immediate = true,
        property = Transport.PROPERTY + "=" + UdpTransport.NAME)
@Designate(ocd = UdpTransportConfig.class)
public final class UdpTransport extends UdpEndpoint {

    static final String PID = "org.vl2.transport.udp";
    static final String NAME = "udp";
    static final String MODE_RAW = "raw";
    static final int DEFAULT_PORT = 9990;
    private static final Logger LOG = LoggerFactory.getLogger(UdpTransport.class);

    private volatile long network;

    @Activate
    public UdpTransport(UdpTransportConfig config) {
        super(PID, NAME, MODE_RAW, DatagramEndpoints.KERNEL_HASH, startParams(config)); // a raw port is a source address
        network = network(config);
        exposure();
    }

    private static Params startParams(UdpTransportConfig config) {
        try {
            network(config);
            return params(config);
        } catch (IllegalArgumentException e) {
            FATAL.error("{}; the UDP transport does not start until this is fixed", e.getMessage());
            throw e;
        }
    }

    /** The network of {@code network}: empty is the built-in raw network. */
    static long network(UdpTransportConfig config) {
        String text = config.network() == null ? "" : config.network().trim();
        if (text.isEmpty()) {
            return Networks.RAW;
        }
        try {
            return Networks.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Invalid configuration " + PID + ": network=" + config.network()
                    + " (1 to 16 hex digits, e.g. 2a; empty: the built-in network 'raw', " + Networks.format(Networks.RAW)
                    + ")");
        }
    }

    /**
     * The line that says what this listener exposes: plaintext and unauthenticated, which network it feeds. A WARN
     * when it is reachable from other hosts (bin/vl2-switch --listen), else INFO.
     */
    private void exposure() {
        long n = network;
        String what = "raw-mode UDP " + localAddress() + " is PLAINTEXT and UNAUTHENTICATED: every sender is a port of "
                + "network " + Networks.format(n) + (n == Networks.RAW ? " ('raw', the built-in network of raw ports)"
                : n == Networks.DEFAULT ? " (the default network: it must have plaintext=true)" : "")
                + "; raw ports are no longer in the default network with the vl2 agents: to mix them, set 'network' in "
                + PID + " (bin/vl2-switch --raw-network 0) and plaintext=true on that network (--network "
                + "id=0,plaintext=true)";
        if (loopbackOnly()) {
            LOG.info("{} (this host only)", what);
        } else {
            LOG.warn("{} (reachable from other hosts: bind.address=127.0.0.1 in {} keeps it on this host)", what, PID);
        }
    }

    @Modified
    void modified(UdpTransportConfig config) {
        Params p;
        long n;
        try {
            p = params(config);
            n = network(config);
        } catch (IllegalArgumentException e) {
            LOG.error("{}; keeping the previous configuration (listening on {})", e.getMessage(), localAddress());
            return;
        }
        String before = localAddress();
        long was = network;
        reconfigure(p);
        network = n;
        if (n != was || !before.equals(localAddress())) {
            exposure();
        }
    }

    @Deactivate
    void deactivate() {
        close();
    }

    private static Params params(UdpTransportConfig config) {
        String mode = config.mode() == null ? "" : config.mode().trim();
        if (!MODE_RAW.equals(mode)) {
            throw new IllegalArgumentException("Invalid configuration " + PID + ": mode=" + config.mode()
                    + " (supported: raw; the vl2 protocol has its own transport, " + Vl2Transport.PID + ", on port "
                    + Vl2Transport.DEFAULT_PORT + ")");
        }
        return new Params(config.bind_address(), config.port(), config.receive_buffer_bytes(),
                config.send_buffer_bytes(), config.io_batch(), config.io_offload(), config.io_threads());
    }
}

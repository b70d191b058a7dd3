package org.vl2.transport.udp.internal;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.spi.Transport;

/**
 * UDP transport in raw mode: every datagram carries exactly one Ethernet frame and nothing else, the wire
 * format of the seed VSwitch/VPort, so their clients are ports of a vl2 switch unchanged.
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

    @Activate
    public UdpTransport(UdpTransportConfig config) {
        super(PID, NAME, MODE_RAW, startParams(config));
    }

    private static Params startParams(UdpTransportConfig config) {
        try {
            return params(config);
        } catch (IllegalArgumentException e) {
            FATAL.error("{}; the UDP transport does not start until this is fixed", e.getMessage());
            throw e;
        }
    }

    @Modified
    void modified(UdpTransportConfig config) {
        Params p;
        try {
            p = params(config);
        } catch (IllegalArgumentException e) {
            LOG.error("{}; keeping the previous configuration (listening on {})", e.getMessage(), localAddress());
            return;
        }
        reconfigure(p);
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
                config.send_buffer_bytes(), config.io_batch(), config.io_offload());
    }
}

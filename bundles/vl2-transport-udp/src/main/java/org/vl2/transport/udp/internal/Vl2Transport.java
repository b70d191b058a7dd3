package org.vl2.transport.udp.internal;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;
import org.vl2.api.spi.Transport;

/**
 * UDP transport for the vl2 protocol (docs/protocol.md): every datagram is one vl2 message, which the switch
 * core reads. It listens on its own port (9991), apart from the raw port (9990), so a raw frame and a vl2
 * message are never confused.
 */
@Component(service = Transport.class, configurationPid = Vl2Transport.PID, immediate = true,
        property = Transport.PROPERTY + "=" + Vl2Transport.NAME)
@Designate(ocd = Vl2TransportConfig.class)
public final class Vl2Transport extends UdpEndpoint {

    static final String PID = "org.vl2.transport.vl2";
    static final String NAME = "vl2";
    static final String MODE = "vl2";
    static final int DEFAULT_PORT = 9991;
    /**
     * The byte that picks a datagram's receive thread: the last of the 32-bit big-endian field at offset 4, the
     * receiver's session index in a sealed message and the port id in a plain FRAME or KEEPALIVE, so a member stays
     * on one thread whatever address it sends from, and one session's replay window is never opened on two threads
     * (a new handshake keeps that byte, so a rekey does not move it either).
     */
    static final int STEER_BYTE = 7;

    @Activate
    public Vl2Transport(Vl2TransportConfig config) {
        super(PID, NAME, MODE, STEER_BYTE, params(config));
    }

    @Modified
    void modified(Vl2TransportConfig config) {
        reconfigure(params(config));
    }

    @Deactivate
    void deactivate() {
        close();
    }

    private static Params params(Vl2TransportConfig config) {
        return new Params(config.bind_address(), config.port(), config.receive_buffer_bytes(),
                config.send_buffer_bytes(), config.io_batch(), config.io_offload(), config.io_threads());
    }
}

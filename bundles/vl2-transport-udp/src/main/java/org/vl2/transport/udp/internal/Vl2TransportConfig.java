package org.vl2.transport.udp.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the vl2-protocol transport, PID {@value Vl2Transport#PID}. */
@ObjectClassDefinition(name = "vl2 protocol transport",
        description = "Carries vl2 protocol messages (join, frames, keepalives) between the switch and vl2 agents "
                + "over UDP")
public @interface Vl2TransportConfig {

    @AttributeDefinition(name = "Bind address",
            description = "Local address to listen on: 0.0.0.0 (all IPv4), :: (all IPv4 and IPv6), or one address")
    String bind_address() default "0.0.0.0";

    @AttributeDefinition(name = "UDP port", description = "Local UDP port of the switch for vl2 agents", min = "1",
            max = "65535")
    int port() default Vl2Transport.DEFAULT_PORT;

    @AttributeDefinition(name = "Socket receive buffer (bytes)",
            description = "SO_RCVBUF; the kernel caps it at net.core.rmem_max", min = "65536")
    int receive_buffer_bytes() default 4 * 1024 * 1024;

    @AttributeDefinition(name = "Socket send buffer (bytes)",
            description = "SO_SNDBUF; the kernel caps it at net.core.wmem_max", min = "65536")
    int send_buffer_bytes() default 4 * 1024 * 1024;

    @AttributeDefinition(name = "Datagrams per system call",
            description = "Up to this many datagrams are received with one recvmmsg and sent with one sendmmsg "
                    + "(Linux, through JNA); 0: one datagram per system call (Java NIO)", min = "0", max = "1024")
    int io_batch() default UdpEndpoint.DEFAULT_BATCH;

    @AttributeDefinition(name = "UDP offload",
            description = "With io.batch: consecutive datagrams to one port leave as one UDP GSO message and bursts "
                    + "from one peer arrive as one GRO message (Linux 5.0+; the datagrams on the wire are the same)")
    boolean io_offload() default true;

    @AttributeDefinition(name = "Receive threads",
            description = "Sockets on the one address and port (SO_REUSEPORT), each with a receive thread that "
                    + "forwards what it receives, so forwarding uses every core; the kernel hands a member's datagrams "
                    + "always to the same thread (by its session index, whatever its source address), so a flow is never "
                    + "reordered. 0: one per core (at most 16)",
            min = "0", max = "64")
    int io_threads() default 0;
}

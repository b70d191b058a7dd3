package org.vl2.transport.udp.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the UDP transport, PID {@value UdpTransport#PID}. */
@ObjectClassDefinition(name = "vl2 UDP transport",
        description = "Carries Ethernet frames between the switch and its ports in UDP datagrams")
public @interface UdpTransportConfig {

    @AttributeDefinition(name = "Bind address",
            description = "Local address to listen on: 127.0.0.1 (this host only, the default), 0.0.0.0 (all IPv4), "
                    + ":: (all IPv4 and IPv6), or one address. Raw mode is plaintext and unauthenticated: whoever can "
                    + "send to it is a port of 'network'")
    String bind_address() default "127.0.0.1";

    @AttributeDefinition(name = "UDP port", description = "Local UDP port of the switch", min = "1", max = "65535")
    int port() default UdpTransport.DEFAULT_PORT;

    @AttributeDefinition(name = "Network",
            description = "The network raw-mode ports land in (1 to 16 hex digits); empty: the built-in network 'raw' "
                    + "(ffffffffffffffff), apart from every other network. The network must be open to plaintext "
                    + "(plaintext = true in its org.vl2.network configuration; 'raw' is by default), else the frames "
                    + "are dropped and counted. Never the default network 0 unless set here and opened there",
            required = false)
    String network() default "";

    @AttributeDefinition(name = "Mode",
            description = "raw: one Ethernet frame per datagram, no header (compatible with the seed VSwitch/VPort)")
    String mode() default "raw";

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
                    + "forwards what it receives, so forwarding uses every core; the kernel hands the datagrams of one "
                    + "source address always to the same thread (a hash of source and destination), so a flow is never "
                    + "reordered. 0: one per core (at most 16)",
            min = "0", max = "64")
    int io_threads() default 0;
}

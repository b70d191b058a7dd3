package org.vl2.transport.vxlan.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the VXLAN transport, PID {@value VxlanTransport#PID}. Every property is optional. */
@ObjectClassDefinition(name = "vl2 VXLAN transport",
        description = "Connects VXLAN tunnel endpoints (RFC 7348), e.g. Linux vxlan devices, to the switch as ports")
public @interface VxlanTransportConfig {

    @AttributeDefinition(name = "Bind address",
            description = "Local address to listen and send on: 0.0.0.0 (all IPv4), :: (all IPv4 and IPv6), "
                    + "or one address")
    String bind_address() default "0.0.0.0";

    @AttributeDefinition(name = "UDP port",
            description = "VXLAN UDP port: where the switch listens and where remote VTEPs listen (Linux: dstport)",
            min = "1", max = "65535")
    int port() default VxlanTransport.DEFAULT_PORT;

    @AttributeDefinition(name = "VNI mapping",
            description = "VNI=NETWORK entries (VNI 1..16777215 decimal, NETWORK 1 to 16 hex digits), one-to-one; "
                    + "entries may also be separated by commas. Only the listed VNIs are accepted (empty: none, every "
                    + "VXLAN frame is dropped); a VNI is never a network implicitly. The switch admits VTEPs only into "
                    + "networks open to plaintext (plaintext = true in org.vl2.network, never a private one)")
    String[] vni() default {};

    @AttributeDefinition(name = "Static remote VTEPs",
            description = "VNI=host[:port] entries (IPv6 in brackets when a port follows): VTEPs that receive floods "
                    + "of the VNI's network before they have sent anything; the port defaults to 'port'; "
                    + "entries may also be separated by commas")
    String[] remotes() default {};

    @AttributeDefinition(name = "Allowed VTEPs",
            description = "Source addresses VXLAN datagrams are accepted from (IPv4 or IPv6 addresses, entries may "
                    + "also be separated by commas); the static remotes are always allowed. Empty: any source. Others "
                    + "are dropped and counted", required = false)
    String[] allowed_vteps() default {};

    @AttributeDefinition(name = "Source port range",
            description = "MIN-MAX: the outer UDP source ports, chosen per inner flow (RFC 7348); at most 64 ports, "
                    + "each bound on the bind address")
    String source_port_range() default "49152-49167";

    @AttributeDefinition(name = "Socket receive buffer (bytes)",
            description = "SO_RCVBUF; the kernel caps it at net.core.rmem_max", min = "65536")
    int receive_buffer_bytes() default 4 * 1024 * 1024;

    @AttributeDefinition(name = "Socket send buffer (bytes)",
            description = "SO_SNDBUF of each send socket; the kernel caps it at net.core.wmem_max", min = "65536")
    int send_buffer_bytes() default 4 * 1024 * 1024;

    @AttributeDefinition(name = "Datagrams per system call",
            description = "Up to this many datagrams are received with one recvmmsg and sent with one sendmmsg per "
                    + "socket (Linux, through JNA); 0: one datagram per system call (Java NIO)", min = "0",
            max = "1024")
    int io_batch() default VxlanTransport.DEFAULT_BATCH;

    @AttributeDefinition(name = "UDP offload",
            description = "With io.batch: consecutive frames of one flow to one VTEP leave as one UDP GSO message and "
                    + "bursts from one VTEP arrive as one GRO message (Linux 5.0+; the VXLAN datagrams on the wire are "
                    + "the same, so any VTEP interoperates)")
    boolean io_offload() default true;
}

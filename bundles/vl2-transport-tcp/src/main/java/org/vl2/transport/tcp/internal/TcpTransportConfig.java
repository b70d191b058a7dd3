package org.vl2.transport.tcp.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the TCP transport, PID {@value TcpTransport#PID}. */
@ObjectClassDefinition(name = "vl2 TCP transport",
        description = "Carries vl2 protocol messages between the switch and vl2 agents over TCP, in TLS 1.3 unless "
                + "tls=false, for agents whose network blocks UDP (docs/tcp.md)")
public @interface TcpTransportConfig {

    @AttributeDefinition(name = "Bind address",
            description = "Local address to listen on: 0.0.0.0 (all IPv4), :: (all IPv4 and IPv6), or one address")
    String bind_address() default "0.0.0.0";

    @AttributeDefinition(name = "TCP port", description = "Local TCP port of the switch for vl2 agents (443 where "
            + "the host has it free and Java may bind it; the agents' --tcp-port)", min = "1", max = "65535")
    int port() default TcpTransport.DEFAULT_PORT;

    @AttributeDefinition(name = "TLS", description = "Wrap the stream in TLS 1.3 (true, the default). false: the "
            + "vl2 messages travel as they are (still sealed by the vl2 session, but recognisable as vl2 by any "
            + "middlebox); the agents must then use --tcp-plaintext")
    boolean tls() default true;

    @AttributeDefinition(name = "TLS certificate", required = false,
            description = "PEM file with the switch's certificate (chain). Empty: a self-signed one that the "
                    + "switch generates at first start and keeps in ${karaf.data}/vl2/tcp-tls-certificate.pem "
                    + "(agents do not check it: the vl2 handshake authenticates the switch)")
    String tls_certificate() default "";

    @AttributeDefinition(name = "TLS private key", required = false,
            description = "PEM file with the certificate's private key (PKCS#8, 'BEGIN PRIVATE KEY'; EC or RSA). "
                    + "Set with tls.certificate, or neither")
    String tls_key() default "";

    @AttributeDefinition(name = "Connections", description = "Open connections at most; more are closed at once "
            + "(counted, logged at most once a minute)", min = "1", max = "65536")
    int max_connections() default 512;

    @AttributeDefinition(name = "Connections per source address",
            description = "Open connections from one IP address at most (several agents behind one NAT share it)",
            min = "1", max = "65536")
    int max_connections_per_source() default 32;

    @AttributeDefinition(name = "Write queue per connection (bytes)",
            description = "Messages waiting for a slow reader beyond its socket buffer; a message that does not fit "
                    + "is dropped and counted as a transmit error, so a slow agent never stalls the switch",
            min = "65509")
    int write_queue_bytes() default 128 * 1024;

    @AttributeDefinition(name = "Idle timeout (seconds)",
            description = "A connection that brought nothing for this long is closed (a dead agent, a half-open "
                    + "connection); longer than the switch's keepalive interval", min = "5")
    int idle_timeout_seconds() default 120;

    @AttributeDefinition(name = "Handshake timeout (seconds)",
            description = "A connection whose TLS handshake is not done after this long is closed", min = "1")
    int handshake_timeout_seconds() default 10;
}

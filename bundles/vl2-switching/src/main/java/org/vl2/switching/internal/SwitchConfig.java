package org.vl2.switching.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the switch core, PID {@value SwitchCore#PID}. */
@ObjectClassDefinition(name = "vl2 switch core",
        description = "Frame validation, forwarding policy and port registry of the vl2 switch")
public @interface SwitchConfig {

    @AttributeDefinition(name = "Forwarding policy",
            description = "Name of the forwarding policy: 'learning' (802.1D bridge) or 'hub' (flood everything). "
                    + "Can be changed at runtime; the MAC table and the ports are kept.")
    String policy() default "learning";

    @AttributeDefinition(name = "Maximum frame size",
            description = "Largest Ethernet frame accepted, in bytes, without FCS: 1518 + one 802.1Q tag by default; "
                    + "up to 9216 for jumbo frames. Larger frames are dropped and counted.", min = "64", max = "9216")
    int max_frame_size() default 1522;

    @AttributeDefinition(name = "Port idle timeout (s)",
            description = "A raw-mode (or learned VXLAN) port that sends nothing for this long is removed and its MAC entries flushed. "
                    + "0 = never.", min = "0")
    long port_idle_timeout_seconds() default 300;

    @AttributeDefinition(name = "Maximum ports",
            description = "Ports the switch accepts; datagrams from further new endpoints are dropped and counted.",
            min = "1", max = "65535")
    int max_ports() default 1024;

    @AttributeDefinition(name = "Keepalive interval (s)",
            description = "Interval vl2-protocol agents keep to (sent in WELCOME): they send a keepalive whenever "
                    + "they have been idle this long, which holds NAT mappings open; a port silent for 3 intervals "
                    + "is removed and its MAC entries flushed.", min = "1", max = "3600")
    int keepalive_seconds() default 10;

    @AttributeDefinition(name = "Storm control (frames/s per port)",
            description = "Most broadcast, multicast and unknown-unicast frames a port may have flooded per second "
                    + "(token bucket, bursts up to one second's worth); the excess is dropped and counted. "
                    + "0 = no limit.", min = "0", max = "10000000")
    int storm_control_pps() default 1000;

    @AttributeDefinition(name = "Allow plaintext joins",
            description = "Accept vl2 agents that join without the encrypted handshake (encryption = false on the "
                    + "agent) on public networks. Off by default: vl2-protocol traffic is encrypted. Private networks "
                    + "never accept plaintext joins.")
    boolean allow_plaintext() default false;
}

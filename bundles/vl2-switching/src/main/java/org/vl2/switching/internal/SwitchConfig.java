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

    @AttributeDefinition(name = "Unauthenticated ports per address",
            description = "Unauthenticated ports (raw, learned VXLAN, plaintext vl2) one source address may hold: "
                    + "an IPv4 address, or an IPv6 /64, over all transports and networks. A source address is only "
                    + "claimed, so this also bounds the copies one flooded frame can send toward one address (the "
                    + "amplification forged sources can get). An encrypted member counts only until its first message "
                    + "opens (which proves that it receives at its address); configured VTEPs never count. Datagrams "
                    + "from further endpoints of the address are dropped and counted. "
                    + "0 = no limit.", min = "0", max = "65535")
    int ports_per_address() default 8;

    @AttributeDefinition(name = "Unauthenticated ports per transport",
            description = "Unauthenticated ports (raw, learned VXLAN, plaintext vl2) one transport may hold, so that "
                    + "a flood of forged sources on one listener leaves room for the others. 0 = no limit.",
            min = "0", max = "65535")
    int ports_per_transport() default 512;

    @AttributeDefinition(name = "Ports reserved for encrypted members (%)",
            description = "Share of max.ports that only encrypted (authenticated) vl2 members may take: "
                    + "unauthenticated ports are refused once max.ports minus this share is in use, so a flood of "
                    + "them never stops a member from joining.", min = "0", max = "100")
    int ports_reserved_percent() default 25;

    @AttributeDefinition(name = "Probation timeout (s)",
            description = "A raw or learned VXLAN port on probation (no unicast frame was ever forwarded to it, so "
                    + "nothing shows that its source address is real and receives) is removed after this long "
                    + "silent, instead of port.idle.timeout.seconds, while the quotas are under pressure: its "
                    + "address holds its full ports.per.address, or unauthenticated ports hold more than half of "
                    + "ports.per.transport or of the room beside the reserve. Once a station has sent it unicast it "
                    + "keeps the idle timeout. Applies also when port.idle.timeout.seconds is 0. 0 = no probation.",
            min = "0")
    long port_probation_seconds() default 30;

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

    @AttributeDefinition(name = "Cipher",
            description = "The AEAD of encrypted vl2 sessions, negotiated in each handshake (docs/crypto.md): 'auto' "
                    + "(the default) accepts AES-256-GCM and ChaCha20-Poly1305 and chooses AES-256-GCM when the agent "
                    + "ranks it first and this host has AES instructions, else ChaCha20-Poly1305; 'aes-256-gcm' or "
                    + "'chacha20-poly1305' accept that one only: an agent that offers only the other is refused with "
                    + "an ERROR cipher-mismatch naming both (agents from before negotiation offer ChaCha20-Poly1305 "
                    + "only). Applies to new handshakes; sessions keep theirs until their next rekey.")
    String cipher() default "auto";

    @AttributeDefinition(name = "Handshake thread nice value",
            description = "CPU priority of the thread that does the encrypted handshakes (Linux nice, per thread): "
                    + "above 0 a storm of joins takes the CPU that forwarding leaves instead of a share of it (at 10 "
                    + "it gets about a tenth of what a forwarding thread gets of a busy core; an idle core it gets "
                    + "whole). The handshake budget and the cookies follow what the thread gets. Raising it applies "
                    + "at once; lowering it again needs CAP_SYS_NICE (a switch not running as root keeps the higher "
                    + "value until restarted; a WARN says so). Counted from the process's nice value, as nice(1) counts, up to 19. 0 = the process's priority.", min = "0", max = "19")
    int handshake_nice() default 10;

    @AttributeDefinition(name = "Pair keys",
            description = "Unicast between two encrypted members goes sealed end to end under a key the switch makes "
                    + "for the flow and sends both over their sessions, so the switch forwards it without decrypting "
                    + "and re-encrypting each frame (docs/protocol.md, Pair keys). Only on networks with the learning "
                    + "policy and without ip.guard, and between agents that take pair keys; the receiving agent checks "
                    + "each frame's VLAN and addresses as the switch would. false = every frame is opened and sealed "
                    + "again by the switch; turning it off ends the pairs in use.")
    boolean pairs() default true;

    @AttributeDefinition(name = "Direct paths",
            description = "With pair keys on: a PAIR SEND to a member that takes direct paths carries the receiving "
                    + "member's UDP endpoint as the switch sees it, so that the sending agent may send the flow's "
                    + "frames straight to the receiving agent once a probe gets through, the switch staying the relay "
                    + "when it does not (docs/protocol.md, Direct paths). Only between agents that both take direct "
                    + "paths, and only to a receiver reached over UDP (one on the TCP transport has no endpoint a peer could reach). false = no endpoint in any PAIR SEND: "
                    + "every pair's frames go through the switch; turning it off ends the pairs that carried one.")
    boolean direct() default true;

    @AttributeDefinition(name = "Allow plaintext joins (deprecated)",
            description = "Deprecated, no effect (a WARN says so when set): plaintext joins, raw-mode ports and VXLAN "
                    + "VTEPs are admitted only by networks configured with plaintext = true (org.vl2.network); every "
                    + "other network is sealed.")
    boolean allow_plaintext() default false;
}

package org.vl2.switching.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * One network of the switch, factory PID {@value NetworkDefinition#FACTORY_PID}: one configuration (one
 * {@code etc/org.vl2.network-NAME.cfg} file) per network, created and removed at runtime.
 */
@ObjectClassDefinition(name = "vl2 network",
        description = "A virtual network (flood domain) of the vl2 switch: its id, MTU, forwarding policy and "
                + "address pool. Frames never cross networks.")
public @interface NetworkConfig {

    @AttributeDefinition(name = "Network id",
            description = "64-bit network id, 1 to 16 hex digits (like ZeroTier). 0 configures the default network "
                    + "(where agents join that name none); ffffffffffffffff the built-in network of raw-mode ports.")
    String id();

    @AttributeDefinition(name = "Name", description = "A name for people; defaults to the id.", required = false)
    String name() default "";

    @AttributeDefinition(name = "MTU",
            description = "IP MTU of the network, given to vl2 agents in WELCOME and to DHCP clients (option 26). "
                    + "1400 leaves room for the vl2 header, encryption, a VLAN tag and an IPv6 underlay in 1500.",
            min = "576", max = "9000")
    int mtu() default 1400;

    @AttributeDefinition(name = "Forwarding policy",
            description = "Forwarding policy of this network ('learning', 'hub'); empty = the switch's policy.",
            required = false)
    String policy() default "";

    @AttributeDefinition(name = "IPv4 pool",
            description = "Subnet the switch assigns member addresses from, e.g. 10.147.17.0/24; empty = no "
                    + "assignment. Its last usable address is the switch's (DHCP server).", required = false)
    String ipv4_pool() default "";

    @AttributeDefinition(name = "IPv4 range",
            description = "Narrows the addresses handed out, e.g. 10.147.17.10-10.147.17.200; empty = the whole "
                    + "pool.", required = false)
    String ipv4_range() default "";

    @AttributeDefinition(name = "IPv6 prefix",
            description = "A /64 (e.g. fd00:147::/64); a member's IPv6 address is the prefix + its 64-bit member "
                    + "id. Empty = none.", required = false)
    String ipv6_prefix() default "";

    @AttributeDefinition(name = "DHCP",
            description = "Answer DHCPv4 on the network from the IPv4 pool (for hosts behind bridged ports and "
                    + "raw-mode ports). Needs ipv4.pool.")
    boolean dhcp() default true;

    @AttributeDefinition(name = "DHCP lease time (s)", min = "60", max = "31536000")
    long dhcp_lease_seconds() default 3600;

    @AttributeDefinition(name = "IPv4 gateway",
            description = "Router address given to DHCP clients (option 3); empty = none.", required = false)
    String ipv4_gateway() default "";

    @AttributeDefinition(name = "Private",
            description = "Admit only the members listed in 'members', through the encrypted handshake. A public "
                    + "network admits any encrypted agent (and plaintext ones if it is open to plaintext).")
    boolean private$() default false; // "$" is dropped from the property name: "private"

    @AttributeDefinition(name = "Open to plaintext",
            description = "Also admit ports that carry no identity: raw-mode ports (org.vl2.transport.udp), VXLAN "
                    + "VTEPs (org.vl2.transport.vxlan) and vl2 agents that join without encryption. Off: the network "
                    + "is sealed, only encrypted vl2 members. A private network is never open to plaintext.")
    boolean plaintext() default false;

    @AttributeDefinition(name = "Authorized members",
            description = "Members of a private network: public keys (44-character base64, as agents and vl2:members "
                    + "show them) or 16-hex-digit member ids (a key is stronger: ids are short hashes of keys). "
                    + "vl2:members --authorize / --deauthorize edit this list; removing a member cuts it off at once.",
            required = false)
    String[] members() default {};

    @AttributeDefinition(name = "DNS servers",
            description = "Addresses given to DHCP clients (option 6), comma separated; empty = none.",
            required = false)
    String[] dns() default {};

    @AttributeDefinition(name = "DHCP messages per port (per second)",
            description = "Most DHCP messages one port may send to the switch's DHCP server per second (token "
                    + "bucket, bursts up to one second's worth); the excess is dropped and counted (vl2:stats "
                    + "'DHCP rate'). 20 lets a bridge with 40 hosts booting at once get all their leases within "
                    + "about 10 s (clients retransmit). 0 = no limit.", min = "0", max = "100000")
    int dhcp_rate_per_port() default HygieneSettings.DEFAULT_DHCP_RATE;

    @AttributeDefinition(name = "IPv4 source guard",
            description = "A port may only send IPv4 from, and ARP for, addresses the switch assigned: its member's "
                    + "address (from the pool, or the agent's --address) and the addresses the switch's DHCP server "
                    + "leased to the frame's source MAC; 0.0.0.0 (DHCP, ARP probes) is allowed. Other IPv4 and ARP "
                    + "frames, and frames with a second VLAN tag, are dropped and counted (vl2:stats 'IP guard'). "
                    + "Needs ipv4.pool. Off by default: hosts with static addresses behind a bridged port would be "
                    + "cut off (see docs/security.md).")
    boolean ip_guard() default false;

    @AttributeDefinition(name = "Managed routes",
            description = "Routes pushed to the network's encrypted members (docs/routes.md), comma separated, each "
                    + "'CIDR via ADDRESS [metric N]', IPv4 or IPv6, e.g. '10.9.0.0/16 via 10.147.17.5, 0.0.0.0/0 via "
                    + "10.147.17.5 metric 100'. The gateway must be inside ipv4.pool (IPv4) or ipv6.prefix (IPv6), and a "
                    + "route is in force only while an encrypted member holds the gateway's address (gateways ordered by "
                    + "metric, the next one takes over when a gateway's port goes). Agents install them only with "
                    + "accept.routes (and 0.0.0.0/0, ::/0 with accept.default.route). At most 32.", required = false)
    String[] routes() default {};
}

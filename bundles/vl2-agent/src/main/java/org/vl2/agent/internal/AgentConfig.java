package org.vl2.agent.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;
import org.vl2.api.EthernetFrame;
import org.vl2.api.Networks;
import org.vl2.crypto.CipherPolicy;
import org.vl2.crypto.Identity;
import org.vl2.crypto.Session;
import org.vl2.protocol.FrameHeader;
import org.vl2.protocol.VxlanHeader;
import org.vl2.protocol.Wire;
import org.vl2.tap.TapDevice;
import org.vl2.tap.TapSettings;

/**
 * The port agent's configuration: the schema (PID {@value #PID}, its metatype) and its validation into
 * {@link Settings}, which touches nothing (no DNS, no devices, no files). The sizes every mode's framing and MTU
 * limits derive from live here too, so the schema's texts, the checks and the codecs agree.
 */
final class AgentConfig {

    private AgentConfig() {
    }

    static final String PID = "org.vl2.agent";
    static final String MODE_RAW = "raw";
    static final String MODE_VL2 = "vl2";
    static final String MODE_VXLAN = "vxlan";
    static final String TRANSPORT_UDP = "udp";
    static final String TRANSPORT_TCP = "tcp";
    static final String TRANSPORT_AUTO = "auto";
    /** The switch's TCP transport port when tcp.port is not set. */
    static final int TCP_PORT = 8443;
    /** The switch's UDP port when switch.address has none. */
    static final int RAW_PORT = 9990;
    static final int VL2_PORT = Wire.DEFAULT_PORT;
    static final int VXLAN_PORT = VxlanHeader.DEFAULT_PORT;

    /** The underlay path MTU the default is computed for (Ethernet, most of the Internet). */
    static final int UNDERLAY_MTU = 1500;
    static final int IPV4_HEADER = 20;
    static final int UDP_HEADER = 8;
    static final int ETHERNET_HEADER = EthernetFrame.HEADER_LENGTH;
    static final int VLAN_TAG = 4;
    /** 1500 - 20 - 8 - 14 - 4 = 1454: a frame with one 802.1Q tag fits one 1500-byte IPv4 datagram. */
    static final int DEFAULT_MTU = UNDERLAY_MTU - IPV4_HEADER - UDP_HEADER - ETHERNET_HEADER - VLAN_TAG;
    /** Largest UDP payload over IPv4. */
    static final int MAX_UDP_PAYLOAD = 65_507;
    /** The largest MTU whose longest frame (MTU + 22) still fits one UDP datagram. */
    static final int MAX_MTU = MAX_UDP_PAYLOAD - TapDevice.FRAME_OVERHEAD;
    /** vl2 mode: the FRAME header in front of each frame. */
    static final int HEADER = FrameHeader.LENGTH;
    /** vl2 mode: the longest frame one datagram can carry behind its header. */
    static final int MAX_VL2_FRAME = MAX_UDP_PAYLOAD - HEADER;
    /** vl2 mode: the largest MTU whose longest frame still fits one datagram with its header. */
    static final int MAX_VL2_MTU = MAX_VL2_FRAME - TapDevice.FRAME_OVERHEAD;
    /** Encrypted vl2 mode: the tag after each sealed body. */
    static final int TAG = Session.TAG_LENGTH;
    /** Encrypted vl2 mode: the longest frame one datagram can carry behind its header and before the tag. */
    static final int MAX_SEALED_FRAME = MAX_VL2_FRAME - TAG;
    /** Encrypted vl2 mode: the largest MTU whose longest frame still fits one datagram with header and tag. */
    static final int MAX_SEALED_MTU = MAX_SEALED_FRAME - TapDevice.FRAME_OVERHEAD;
    /** How the status and the log name the encryption of sealed messages. */
    static final String ENCRYPTED = "encrypted";
    static final String PLAINTEXT = "plaintext";
    /** What an agent without switch.key logs on the org.vl2.fatal logger (the launcher watches it), encrypted. */
    static final String NO_SWITCH_KEY = "Port agent not started: set switch.key to the switch's public key (the switch"
            + " logs it at start: 'Switch public key ...', and vl2:members shows it), or set trust.on.first.use to pin"
            + " the key the switch presents on first contact";
    /**
     * vxlan mode: 1500 - 20 IPv4 - 8 UDP - 8 VXLAN - 14 Ethernet = 1450, the MTU of a Linux vxlan device over a
     * 1500-byte underlay (a frame with an 802.1Q tag then exceeds 1500 by 4 and is fragmented, as the kernel's).
     */
    static final int VXLAN_DEFAULT_MTU = UNDERLAY_MTU - IPV4_HEADER - UDP_HEADER - VxlanHeader.LENGTH - ETHERNET_HEADER;
    /** vxlan mode: the largest MTU whose longest frame still fits one datagram behind the VXLAN header. */
    static final int MAX_VXLAN_MTU = MAX_UDP_PAYLOAD - VxlanHeader.LENGTH - TapDevice.FRAME_OVERHEAD;
    static final String DEFAULT_TAP_NAME = "vl2tap0";
    /** The JOIN carries the name in this many UTF-8 bytes at most. */
    static final int MAX_NAME_BYTES = 27;

    /** Configuration of the port agent, PID {@value AgentConfig#PID}. */
    @ObjectClassDefinition(name = "vl2 port agent",
            description = "Connects this host's kernel, through a TAP device, to a vl2 switch over UDP (vl2"
                    + " protocol; raw mode: one Ethernet frame per datagram; or VXLAN). Runs only when configured:"
                    + " one instance per factory configuration org.vl2.agent-NAME (one TAP device and one session"
                    + " each: one process in several networks), or one for a plain org.vl2.agent configuration"
                    + " (not both kinds at once).")
    public @interface Config {

        @AttributeDefinition(name = "Switch address",
                description = "The switch's UDP endpoint as host or host:port: an IPv4 address (203.0.113.7:9991),"
                        + " a DNS name (switch.example.org; resolved again when the switch is silent or sending"
                        + " fails) or an IPv6 address in brackets ([2001:db8::7]:9991). Without a port: 9991 in vl2"
                        + " mode, 9990 in raw mode, 4789 in vxlan mode (where the agent also receives on that port)."
                        + " Required.")
        String switch_address();

        @AttributeDefinition(name = "Mode", required = false,
                description = "How frames are carried. vl2: the vl2 protocol (join a network, a header on each"
                        + " frame, keepalives; the switch's vl2 transport, UDP 9991). raw: one Ethernet frame per"
                        + " UDP datagram, no header (the seed VPort's format; the switch's udp transport, 9990)."
                        + " vxlan: RFC 7348, an 8-byte header with the VNI on each frame (the switch's vxlan"
                        + " transport, 4789); plaintext, no identity, no address assignment.",
                options = {@Option(label = "vl2: the vl2 protocol", value = MODE_VL2),
                        @Option(label = "raw: one Ethernet frame per datagram", value = MODE_RAW),
                        @Option(label = "vxlan: RFC 7348 VXLAN", value = MODE_VXLAN)})
        String mode() default MODE_VL2;

        @AttributeDefinition(name = "Network", required = false,
                description = "vl2 mode: the network to join, 1 to 16 hex digits (0 = the default network). Raw"
                        + " ports land where the switch's raw transport says (its network key; by default the"
                        + " built-in network 'raw'). vxlan mode: the VNI is this id when vni is 0; the switch must"
                        + " map that VNI to a network open to plaintext (its vni list).")
        String network() default "0";

        @AttributeDefinition(name = "VNI", required = false, min = "0", max = "" + VxlanHeader.MAX_VNI,
                description = "vxlan mode: the VXLAN network identifier, 1 to 16777215, that the agent sends and"
                        + " accepts. 0 = the network id (network), which must then be 1 to ffffff.")
        int vni() default 0;

        @AttributeDefinition(name = "TAP name", required = false,
                description = "Name of the TAP interface to create (1 to 15 characters; one %d lets the kernel"
                        + " number it). It must not exist yet; it is deleted when the agent stops. Not set in a"
                        + " factory configuration: vl2tap%d. Two instances of one process cannot share a name.")
        String tap_name() default DEFAULT_TAP_NAME;

        @AttributeDefinition(name = "MTU", required = false, min = "0", max = "" + MAX_MTU,
                description = "MTU of the TAP interface; 0 = automatic: the network's MTU (from the switch) in vl2"
                        + " mode, 1454 in raw mode (1500 - 20 IPv4 - 8 UDP - 18 Ethernet header with one 802.1Q"
                        + " tag, so a full-size frame travels in one unfragmented 1500-byte datagram; 1434 over an"
                        + " IPv6 underlay), 1450 in vxlan mode (1500 - 20 IPv4 - 8 UDP - 8 VXLAN - 14 Ethernet, as"
                        + " a Linux vxlan device; 1430 over IPv6). Else 68 to 65485 (raw), 65469 (vl2) or 65477"
                        + " (vxlan). IPv6 needs at least 1280.")
        int mtu() default 0;

        @AttributeDefinition(name = "MAC address", required = false,
                description = "MAC address of the TAP interface, e.g. 02:00:5e:10:00:01 (unicast; locally"
                        + " administered recommended). Empty: a random one from the kernel.")
        String mac() default "";

        @AttributeDefinition(name = "IPv4 address", required = false,
                description = "IPv4 address of the TAP interface in CIDR form, e.g. 10.1.1.101/24. vl2 mode: the"
                        + " static address to ask the switch for (empty: the address the switch assigns from the"
                        + " network's pool, if it has one). Raw and vxlan modes: empty = none.")
        String address() default "";

        @AttributeDefinition(name = "IPv6 address", required = false,
                description = "IPv6 address of the TAP interface in CIDR form, e.g. fd00:1::101/64. vl2 mode:"
                        + " empty = the address the switch derives if the network has an IPv6 prefix. Empty"
                        + " otherwise: none (the kernel still adds a link-local address).")
        String address6() default "";

        @AttributeDefinition(name = "Bridge", required = false,
                description = "An existing Linux bridge to enslave the TAP interface to (the host then bridges"
                        + " its LAN into the vl2 network). Empty: none.")
        String bridge() default "";

        @AttributeDefinition(name = "TAP offload", required = false,
                description = "true (the default): the TAP device hands the agent TCP superframes of up to 64 KiB"
                        + " (IFF_VNET_HDR, TSO), which the agent cuts into MTU-sized frames, and the agent writes"
                        + " consecutive TCP segments from the switch as one superframe (GRO): the wire is the same,"
                        + " the kernels on both ends do far less work per byte. false: one frame per read and write."
                        + " A kernel that refuses offload gets plain frames (with a WARN).")
        boolean tap_offload() default true;

        @AttributeDefinition(name = "UDP offload", required = false,
                description = "true (the default), with TAP offload on Linux: the socket to the switch sends a"
                        + " superframe's datagrams with one system call as one UDP GSO message (the kernel cuts it"
                        + " into the same datagrams only where it must) and takes the switch's bursts as GRO"
                        + " messages; false: one datagram per system call (Java NIO).")
        boolean udp_offload() default true;

        @AttributeDefinition(name = "Keepalive interval (s)", required = false, min = "0", max = "3600",
                description = "Raw and vxlan modes: when the TAP has sent nothing for this long, send the switch a"
                        + " frame addressed to this port's own MAC (the switch refreshes the port and, by split"
                        + " horizon, forwards it nowhere), so that an idle port is not expired and NAT mappings stay"
                        + " open; 0 = never. vl2 mode uses the interval the switch gives in its WELCOME instead.")
        int keepalive_seconds() default DEFAULT_KEEPALIVE_SECONDS;

        @AttributeDefinition(name = "Name", required = false,
                description = "vl2 mode: this host's name as the switch shows it (vl2:ports), up to 27 bytes of"
                        + " UTF-8. Empty: the host name.")
        String name() default "";

        @AttributeDefinition(name = "Identity file", required = false,
                description = "vl2 mode: the file holding this agent's X25519 key pair (docs/crypto.md), created"
                        + " owner-only (0600) on first start and reused afterwards, so the switch recognises this"
                        + " host (same port, same address, and on private networks its authorized public key); the"
                        + " member id derives from the public key. Delete it to become a new member. A file of an"
                        + " older agent (a member id of 16 hex digits only) is refused, not replaced. The instances of"
                        + " one process share the default file: one member identity per host, in every network.")
        String identity_file() default MemberIdentity.DEFAULT_FILE;

        @AttributeDefinition(name = "Encryption", required = false,
                description = "vl2 mode: true (the default) joins with an authenticated handshake (X25519, pinned"
                        + " switch.key) and seals every frame, keepalive and leave with the negotiated"
                        + " cipher (see cipher; docs/crypto.md); false joins in plaintext, which a switch refuses"
                        + " unless it allows plaintext agents. Raw and vxlan modes are always plaintext.")
        boolean encryption() default true;

        @AttributeDefinition(name = "Switch public key", required = false,
                description = "vl2 mode with encryption: the switch's public key, 44 characters of base64 (or 64"
                        + " hex digits), as the switch logs it at start ('Switch public key ...') and vl2:members"
                        + " shows it. Required when encryption is on: the agent talks only to the switch holding"
                        + " the matching private key.")
        String switch_key() default "";

        @AttributeDefinition(name = "Trust on first use", required = false,
                description = "vl2 mode with encryption and no switch.key: ask the switch for its public key on the"
                        + " first start and pin it in the file known-switches beside the identity file (a WARN says"
                        + " so: an attacker on the path at that moment could answer with its own key; compare the"
                        + " pinned key with the switch's log). Later starts use the pinned key and refuse a switch"
                        + " presenting another one. Off by default: pin switch.key instead.")
        boolean trust_on_first_use() default false;

        @AttributeDefinition(name = "Cipher", required = false,
                description = "vl2 mode with encryption: the AEAD of the session, negotiated in each handshake"
                        + " (docs/crypto.md). 'auto' (the default) offers AES-256-GCM first when this host has AES"
                        + " instructions, else ChaCha20-Poly1305 first, and takes what the switch chooses; 'aes-256-gcm'"
                        + " or 'chacha20-poly1305' offer that one only: a switch pinned to the other refuses the"
                        + " agent (its status and log name both sides' ciphers).")
        String cipher() default CipherPolicy.AUTO;

        @AttributeDefinition(name = "Pair keys", required = false,
                description = "vl2 mode with encryption: true (the default) tells the switch in the JOIN that this"
                        + " agent takes pair keys: for a flow between two members the switch hands both a key of"
                        + " their own, this agent seals that flow's frames with it and the switch forwards them"
                        + " without opening and sealing each one again (docs/protocol.md, \"Pair keys\"). false:"
                        + " every frame goes through the switch's session path.")
        boolean pairs() default true;

        @AttributeDefinition(name = "Direct paths", required = false,
                description = "vl2 mode with encryption and pair keys: true (the default) tells the switch in the"
                        + " JOIN that this agent takes direct paths: it sends a pair's frames straight to the other"
                        + " member's UDP endpoint once a probe sealed with the pair key got through, and takes such"
                        + " frames from other members on a second socket of its port (only what opens under a pair"
                        + " it holds); the switch stays the relay when probes fail (NAT, firewall) and the fallback"
                        + " when they stop (docs/protocol.md, \"Direct paths\"). false: a pair's frames always go"
                        + " through the switch.")
        boolean direct() default true;

        @AttributeDefinition(name = "Transport", required = false,
                description = "vl2 mode: how the agent reaches the switch. auto (the default): UDP first; TCP/TLS"
                        + " to the switch's TCP transport (tcp.port) when the switch does not answer over UDP within a"
                        + " few seconds, probing UDP in the background and going back to it once it answers; the TAP"
                        + " device and the session stay across both moves (docs/tcp.md). udp: UDP only. tcp: only the"
                        + " vl2 messages in a TCP connection, in TLS 1.3, for networks that block UDP; the same"
                        + " session, sealing and switch key as over UDP. raw and vxlan modes are UDP only (auto is UDP"
                        + " there).",
                options = {@Option(label = "auto: UDP, TCP/TLS when UDP gets no answer", value = TRANSPORT_AUTO),
                        @Option(label = "udp", value = TRANSPORT_UDP),
                        @Option(label = "tcp: TCP/TLS to the switch's TCP transport", value = TRANSPORT_TCP)})
        String transport() default TRANSPORT_AUTO;

        @AttributeDefinition(name = "TCP port", required = false, min = "1", max = "65535",
                description = "transport tcp or auto: the switch's TCP port (its org.vl2.transport.tcp port; the"
                        + " host is switch.address's)")
        int tcp_port() default TCP_PORT;

        @AttributeDefinition(name = "TCP TLS", required = false,
                description = "transport tcp or auto: true (the default) wraps the connection in TLS 1.3. The agent accepts"
                        + " any certificate: it authenticates the switch by the vl2 handshake inside (switch.key),"
                        + " as over UDP. false only for a switch whose TCP transport has tls=false.")
        boolean tcp_tls() default true;

        @AttributeDefinition(name = "HTTP proxy", required = false,
                description = "transport tcp or auto: connect through this HTTP proxy with CONNECT, as http://HOST:PORT or"
                        + " HOST:PORT (corporate networks). Empty: connect directly.")
        String proxy() default "";

        @AttributeDefinition(name = "Accept routes", required = false,
                description = "Encrypted vl2 mode: install the network's managed routes the switch pushes (docs/routes.md),"
                        + " other than default routes, through the TAP device; removed when they are withdrawn and when"
                        + " the agent stops. Off: routes are acknowledged and shown, not installed.")
        boolean accept_routes() default false;

        @AttributeDefinition(name = "Accept default route", required = false,
                description = "Encrypted vl2 mode: also install a pushed 0.0.0.0/0 or ::/0 (all traffic through the"
                        + " network's gateway), as the halves 0.0.0.0/1 and 128.0.0.0/1 (::/1, 8000::/1), after pinning"
                        + " a host route to the switch's address through the original path (docs/routes.md).")
        boolean accept_default_route() default false;

        @AttributeDefinition(name = "Gateway", required = false,
                description = "Forward between the network and this host's other networks: IPv4 forwarding on the TAP"
                        + " device, the masquerade uplink and the interfaces of the networks this agent is the gateway"
                        + " of, reverse-path filtering off on the TAP device; restored when the agent stops"
                        + " (docs/routes.md).")
        boolean gateway() default false;

        @AttributeDefinition(name = "Masquerade uplink", required = false,
                description = "With gateway: masquerade (source NAT) what the network sends out of this interface, in"
                        + " an nftables table of its own (vl2_NAME), removed when the agent stops. Empty: no NAT.")
        String masquerade() default "";
    }

    /**
     * How the agent reaches the switch: UDP; {@code tcp}: only TCP; {@code auto}: UDP, and TCP when UDP gets no
     * answer. For TCP: the switch's TCP port, TLS or not, and the HTTP proxy to CONNECT through (null: none).
     */
    record LinkPath(boolean tcp, boolean auto, int tcpPort, boolean tls, SwitchAddress proxy) {
        static final LinkPath UDP = new LinkPath(false, false, TCP_PORT, true, null);

        /** What the status and the log say about it: "UDP", "TCP/TLS port 8443 via HTTP proxy ...", "auto ...". */
        String describe() {
            return tcp ? tcpText() : auto ? "UDP, else " + tcpText() : "UDP";
        }

        /** The TCP link: "TCP/TLS port 8443 via HTTP proxy ...". */
        String tcpText() {
            return (tls ? "TCP/TLS" : "TCP (no TLS)") + " port " + tcpPort
                    + (proxy == null ? "" : " via HTTP proxy " + proxy);
        }
    }

    /** Well below the switch's default port idle timeout (300 s) and common NAT UDP timeouts (30 s and up). */
    static final int DEFAULT_KEEPALIVE_SECONDS = 25;
    /** IEEE 802 local experimental EtherType 1: what the raw keepalive frame carries. */
    static final int KEEPALIVE_ETHERTYPE = 0x88B5;

    /**
     * The validated configuration. {@code tap} holds what the device is created with: in vl2 mode its MTU is
     * provisional ({@link #DEFAULT_MTU}) unless {@code mtuConfigured}, and its addresses are the configured ones.
     * {@code vni} is the VXLAN network identifier in vxlan mode (configured, or the network id), else 0.
     * {@code switchKey} is the pinned public key of the switch (encrypted vl2 mode), null if none is configured;
     * {@code trustOnFirstUse}: without one, learn it from the switch on first use and pin it (known-switches).
     * {@code pairs}: encrypted vl2 mode with the pairs setting on: the JOIN offers to take pair keys. {@code direct}:
     * pairs, and the direct setting on: the JOIN offers direct paths, and UDP links get a peer socket.
     */
    record Settings(SwitchAddress switchAddress, TapSettings tap, String mode, long keepaliveMillis, long network,
                    boolean mtuConfigured, String name, String identityFile, int vni, boolean encryption,
                    byte[] switchKey, boolean trustOnFirstUse, boolean udpOffload, CipherPolicy cipher,
                    LinkPath path, boolean pairs, boolean direct) {

        boolean vl2() {
            return MODE_VL2.equals(mode);
        }

        /** vl2 mode with encryption: JOIN inside the handshake, sealed messages. */
        boolean encrypted() {
            return vl2() && encryption;
        }

        boolean vxlan() {
            return MODE_VXLAN.equals(mode);
        }

        /** The same settings with another TAP device name (a factory instance's default). */
        Settings withTapName(String name) {
            return new Settings(switchAddress, tap.toBuilder().name(name).build(), mode, keepaliveMillis, network,
                    mtuConfigured, this.name, identityFile, vni, encryption, switchKey, trustOnFirstUse, udpOffload,
                    cipher, path, pairs, direct);
        }
    }
    /**
     * Checks the configuration without touching the system: no DNS, no devices, no files.
     *
     * @throws IllegalArgumentException {@code Invalid configuration org.vl2.agent: <property>=<value> (<why>)}
     */
    static Settings validate(Config config) {
        String mode = config.mode() == null ? "" : config.mode().trim();
        if (!MODE_RAW.equals(mode) && !MODE_VL2.equals(mode) && !MODE_VXLAN.equals(mode)) {
            throw invalid("mode", config.mode(), "supported: vl2, the vl2 protocol (the default), raw, one"
                    + " Ethernet frame per UDP datagram, or vxlan, RFC 7348 VXLAN");
        }
        boolean vl2 = MODE_VL2.equals(mode);
        boolean vxlan = MODE_VXLAN.equals(mode);
        int defaultPort = vl2 ? VL2_PORT : vxlan ? VXLAN_PORT : RAW_PORT;
        String form = SwitchAddress.form(defaultPort) + (vl2 ? "" : " (" + mode + " mode)");
        if (config.switch_address() == null || config.switch_address().trim().isEmpty()) {
            throw new IllegalArgumentException("Invalid configuration " + PID + ": switch.address is missing ("
                    + form + ")");
        }
        SwitchAddress address;
        try {
            address = SwitchAddress.parse(config.switch_address(), defaultPort);
        } catch (IllegalArgumentException e) {
            throw invalid("switch.address", config.switch_address(), e.getMessage() + "; " + form);
        }
        long network;
        String networkText = config.network() == null ? "" : config.network().trim();
        try {
            network = networkText.isEmpty() ? Networks.DEFAULT : Networks.parse(networkText);
        } catch (IllegalArgumentException e) {
            throw invalid("network", config.network(), "1 to 16 hex digits, e.g. 0 (the default network) or"
                    + " 8056c2e21c000001");
        }
        int vni = vni(config.vni(), vxlan, network);
        TapSettings.Builder b = TapSettings.builder();
        try {
            b.name(config.tap_name());
        } catch (IllegalArgumentException e) {
            throw invalid("tap.name", config.tap_name(), e);
        }
        boolean encryption = vl2 && config.encryption();
        byte[] switchKey = null;
        String keyText = config.switch_key() == null ? "" : config.switch_key().strip();
        if (encryption && !keyText.isEmpty()) {
            try {
                switchKey = Identity.parsePublicKey(keyText);
            } catch (IllegalArgumentException e) {
                throw invalid("switch.key", config.switch_key(), "not a public key: expected the switch's public"
                        + " key, 44 characters of base64 or 64 hex digits, as the switch logs it at start ('Switch"
                        + " public key ...') and vl2:members shows it");
            }
        }
        CipherPolicy cipher;
        try {
            cipher = CipherPolicy.parse(config.cipher());
        } catch (IllegalArgumentException e) {
            throw invalid("cipher", config.cipher(), "allowed: " + CipherPolicy.VALUES);
        }
        int maxMtu = vl2 ? (encryption ? MAX_SEALED_MTU : MAX_VL2_MTU) : vxlan ? MAX_VXLAN_MTU : MAX_MTU;
        int automaticMtu = vxlan ? VXLAN_DEFAULT_MTU : DEFAULT_MTU;
        if (config.mtu() != 0 && (config.mtu() < TapSettings.MIN_MTU || config.mtu() > maxMtu)) {
            throw invalid("mtu", config.mtu(), "allowed: 0 (automatic" + (vl2 ? ": the network's MTU" : ": "
                    + automaticMtu) + ") or " + TapSettings.MIN_MTU + ".." + maxMtu + ", so that the longest frame,"
                    + " MTU + " + TapDevice.FRAME_OVERHEAD + (vl2 ? " + the " + HEADER + "-byte header"
                    + (encryption ? " + the " + TAG + "-byte tag" : "")
                    : vxlan ? " + the " + VxlanHeader.LENGTH + "-byte VXLAN header" : "")
                    + ", fits one UDP datagram");
        }
        boolean mtuConfigured = config.mtu() != 0;
        b.mtu(mtuConfigured ? config.mtu() : automaticMtu);
        try {
            b.mac(config.mac());
        } catch (IllegalArgumentException e) {
            throw invalid("mac", config.mac(), e);
        }
        try {
            b.ipv4(config.address());
        } catch (IllegalArgumentException e) {
            String why = reason(e);
            throw invalid("address", config.address(), String.valueOf(config.address()).indexOf(':') >= 0
                    ? why + "; an IPv6 address goes in address6" : why);
        }
        try {
            b.ipv6(config.address6());
        } catch (IllegalArgumentException e) {
            throw invalid("address6", config.address6(), e);
        }
        try {
            b.bridge(config.bridge());
            b.offload(config.tap_offload());
        } catch (IllegalArgumentException e) {
            throw invalid("bridge", config.bridge(), e);
        }
        if (config.keepalive_seconds() < 0 || config.keepalive_seconds() > 3600) {
            throw invalid("keepalive.seconds", config.keepalive_seconds(), "allowed: 0 (never) .. 3600");
        }
        String name = config.name() == null ? "" : config.name().trim();
        int nameBytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (nameBytes > MAX_NAME_BYTES) {
            throw invalid("name", config.name(), nameBytes + " bytes of UTF-8; the JOIN carries at most "
                    + MAX_NAME_BYTES);
        }
        String identityFile = config.identity_file() == null || config.identity_file().isBlank()
                ? MemberIdentity.DEFAULT_FILE : config.identity_file().trim();
        try {
            Path.of(identityFile);
        } catch (InvalidPathException e) {
            throw invalid("identity.file", config.identity_file(), "not a file path: " + e.getReason());
        }
        TapSettings tap;
        try {
            tap = b.build();
        } catch (IllegalArgumentException e) {
            // the only cross-field rule: IPv6 needs an MTU of at least 1280
            throw invalid("address6", config.address6(), reason(e) + "; raise mtu or drop address6");
        }
        return new Settings(address, tap, mode, config.keepalive_seconds() * 1000L, network, mtuConfigured,
                name.isEmpty() ? null : name, identityFile, vni, encryption, switchKey,
                encryption && switchKey == null && config.trust_on_first_use(), config.udp_offload(), cipher,
                path(config, mode), encryption && config.pairs(), encryption && config.pairs() && config.direct());
    }

    /** transport, tcp.port, tcp.tls and proxy. */
    private static LinkPath path(Config config, String mode) {
        String transport = config.transport() == null ? "" : config.transport().trim();
        if (TRANSPORT_UDP.equals(transport)) {
            return LinkPath.UDP;
        }
        boolean auto = transport.isEmpty() || TRANSPORT_AUTO.equals(transport);
        if (!TRANSPORT_TCP.equals(transport) && !auto) {
            throw invalid("transport", config.transport(), "supported: auto (the default), UDP and TCP when UDP gets"
                    + " no answer; udp; or tcp, the switch's TCP transport (TLS)");
        }
        if (!MODE_VL2.equals(mode)) {
            if (auto) {
                return LinkPath.UDP; // raw and vxlan have no TCP transport: auto is UDP there
            }
            throw invalid("transport", config.transport(), transport + " needs mode vl2; " + mode
                    + " mode is UDP only");
        }
        if (config.tcp_port() < 1 || config.tcp_port() > 65535) {
            throw invalid("tcp.port", config.tcp_port(), "allowed: 1..65535");
        }
        String proxyText = config.proxy() == null ? "" : config.proxy().trim();
        SwitchAddress proxy = null;
        if (!proxyText.isEmpty()) {
            String hostPort = proxyText.startsWith("http://") ? proxyText.substring(7) : proxyText;
            if (hostPort.endsWith("/")) {
                hostPort = hostPort.substring(0, hostPort.length() - 1);
            }
            try {
                if (hostPort.contains("/") || hostPort.contains("@") || proxyText.contains("://")
                        && !proxyText.startsWith("http://")) {
                    throw new IllegalArgumentException("only http://HOST:PORT (no path, no credentials)");
                }
                proxy = SwitchAddress.parse(hostPort, 3128);
            } catch (IllegalArgumentException e) {
                throw invalid("proxy", config.proxy(), e.getMessage() + "; e.g. http://proxy.example.org:3128");
            }
        }
        return new LinkPath(!auto, auto, config.tcp_port(), config.tcp_tls(), proxy);
    }

    /**
     * The VNI of vxlan mode: the configured one, else the network id if it is one (the switch must list the VNI
     * in its vni key); 0 in the other modes. The range is checked in every mode.
     */
    private static int vni(int configured, boolean vxlan, long network) {
        if (configured < 0 || configured > VxlanHeader.MAX_VNI) {
            throw invalid("vni", configured, "allowed: " + VxlanHeader.MIN_VNI + ".." + VxlanHeader.MAX_VNI
                    + ", the 24-bit VXLAN network identifier, or 0: the network id");
        }
        if (!vxlan) {
            return 0;
        }
        if (configured != 0) {
            return configured;
        }
        if (network == Networks.DEFAULT) {
            throw new IllegalArgumentException("Invalid configuration " + PID + ": vni is missing (vxlan mode needs"
                    + " a VNI, " + VxlanHeader.MIN_VNI + ".." + VxlanHeader.MAX_VNI + ": set vni, or set network to"
                    + " a network id of at most 6 hex digits (1 to ffffff), which is its VNI by the switch's default"
                    + " mapping)");
        }
        if (network < VxlanHeader.MIN_VNI || network > VxlanHeader.MAX_VNI) {
            throw new IllegalArgumentException("Invalid configuration " + PID + ": vni is missing (network "
                    + Networks.format(network) + " does not fit a 24-bit VNI: set vni to the VNI that the switch's"
                    + " vxlan transport maps to this network, " + VxlanHeader.MIN_VNI + ".." + VxlanHeader.MAX_VNI
                    + ")");
        }
        return (int) network;
    }

    private static IllegalArgumentException invalid(String property, Object value, IllegalArgumentException e) {
        return invalid(property, value, reason(e));
    }

    private static IllegalArgumentException invalid(String property, Object value, String why) {
        return new IllegalArgumentException("Invalid configuration " + PID + ": " + property + "=" + value + " ("
                + why + ")");
    }

    /** A {@link TapSettings.Builder} message without its {@code field: } prefix (the caller names the property). */
    private static String reason(IllegalArgumentException e) {
        String m = String.valueOf(e.getMessage());
        int colon = m.indexOf(": ");
        return colon > 0 && m.substring(0, colon).matches("name|mtu|mac|ipv4|ipv6|bridge") ? m.substring(colon + 2)
                : m;
    }

    /** This host's name for the JOIN: the kernel's (no DNS), else Java's idea of it, else none. */
    static String hostName() {
        try {
            String h = Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.UTF_8).trim();
            if (!h.isEmpty()) {
                return h;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: ask Java
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "";
        }
    }
}

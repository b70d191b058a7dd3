package org.vl2.api;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A snapshot of a port agent. "RX" and "TX" are the agent's view of its TAP device: {@code tapRx} is what
 * the agent read from the kernel and sent to the switch (the host's outgoing traffic, which {@code ip -s link}
 * counts as the interface's TX), {@code tapTx} what it received from the switch and wrote to the kernel (the
 * host's incoming traffic, the interface's RX).
 *
 * @param tapName        the TAP interface name, e.g. {@code vl2tap0}
 * @param tapMac         the TAP interface's MAC address as the kernel reports it
 * @param mtu            the TAP interface's MTU
 * @param addresses      the addresses the agent assigned to the interface, in CIDR form (IPv4 first): the
 *                       configured ones, or in vl2 mode those the switch assigned; not the ones the kernel or an
 *                       operator added (e.g. the IPv6 link-local address)
 * @param bridge         the Linux bridge the interface is enslaved to, or {@code null}
 * @param switchAddress  the switch endpoint as configured, {@code host:port} (a DNS name or an address;
 *                       IPv6 as {@code [addr]:port})
 * @param switchResolved the address the agent sends to, {@code ip:port}; {@code null} while the name does
 *                       not resolve
 * @param localAddress   the agent's own UDP endpoint, {@code ip:port}: the switch sees the agent as this
 *                       (before any NAT); {@code null} while there is no socket
 * @param mode           how frames are carried: {@code vl2} (the vl2 protocol), {@code raw} (one Ethernet
 *                       frame per UDP datagram, no header) or {@code vxlan} (RFC 7348: plaintext, no identity)
 * @param state          the agent's state; see {@link AgentState} for what each one can and cannot promise
 * @param problem        what is wrong, in words, when the state is {@link AgentState#SWITCH_UNREACHABLE} or
 *                       {@link AgentState#FAILED}; {@code null} otherwise
 * @param tapRxFrames    frames read from the kernel and sent to the switch
 * @param tapRxBytes     bytes of those frames (Ethernet header included, no FCS)
 * @param tapTxFrames    frames received from the switch and written to the kernel
 * @param tapTxBytes     bytes of those frames
 * @param drops          frames not passed on, in either direction: sends that failed (switch unreachable,
 *                       no socket, not joined yet, network error), frames too long for the TAP MTU, runts, TAP
 *                       write errors; in vl2 mode also datagrams from the switch with another port id or
 *                       session token, stale answers and anything that is not a valid vl2 message (encrypted:
 *                       also sealed messages that do not open, and any plaintext FRAME); in vxlan
 *                       mode also datagrams from another address than the switch's, of another VNI or without
 *                       the VXLAN I flag
 * @param since          when the agent started
 * @param lastFromSwitch when the last datagram from the switch arrived, {@code null} if none yet
 * @param network        vl2 mode: the network joined (or being joined), 16 hex digits; vxlan mode: the network
 *                       configured (its id is the VNI unless one is configured), {@code null} if none;
 *                       {@code null} in raw mode
 * @param memberId       vl2 mode: the agent's member id, 16 hex digits; {@code null} in raw mode
 * @param portId         vl2 mode: the agent's port on the switch (as {@code vl2:ports} shows it), from the last
 *                       WELCOME; 0 before the first one and in raw mode
 * @param assignedAddresses vl2 mode: the addresses the switch assigned in the last WELCOME, in CIDR form (IPv4
 *                       first); empty if none, and in raw mode
 * @param switchRtt      vl2 mode: the round trip time of the last acknowledged keepalive; {@code null} if none
 *                       yet, and in raw mode
 * @param vni            vxlan mode: the VXLAN network identifier the agent sends and accepts, 1..16777215; 0 in
 *                       the other modes
 * @param publicKey      vl2 mode: the agent's public key (its fingerprint, 44 characters of base64), which a
 *                       private network authorizes and from which the member id derives; {@code null} in raw and
 *                       vxlan mode
 * @param encrypted      whether the agent's frames, keepalives and LEAVE travel sealed (vl2 mode with
 *                       encryption, the negotiated AEAD after an authenticated handshake); false for plaintext vl2,
 *                       raw and vxlan mode
 * @param switchKey      encrypted vl2 mode: the switch's public key the agent pinned (its fingerprint);
 *                       {@code null} otherwise
 * @param cipher         encrypted vl2 mode: the AEAD the current session seals with, as the handshake negotiated
 *                       it ({@code AES-256-GCM}, {@code ChaCha20-Poly1305}); {@code null} before the first
 *                       handshake completes and in the other modes
 */
public record AgentStatus(String tapName, MacAddress tapMac, int mtu, List<String> addresses, String bridge,
                          String switchAddress, String switchResolved, String localAddress, String mode,
                          AgentState state, String problem, long tapRxFrames, long tapRxBytes, long tapTxFrames,
                          long tapTxBytes, long drops, Instant since, Instant lastFromSwitch, String network,
                          String memberId, long portId, List<String> assignedAddresses, Duration switchRtt,
                          int vni, String publicKey, boolean encrypted, String switchKey, String cipher) {

    public AgentStatus {
        addresses = addresses == null ? List.of() : List.copyOf(addresses);
        assignedAddresses = assignedAddresses == null ? List.of() : List.copyOf(assignedAddresses);
    }

    /** A status without the cipher: the fields before cipher negotiation. */
    public AgentStatus(String tapName, MacAddress tapMac, int mtu, List<String> addresses, String bridge,
                       String switchAddress, String switchResolved, String localAddress, String mode,
                       AgentState state, String problem, long tapRxFrames, long tapRxBytes, long tapTxFrames,
                       long tapTxBytes, long drops, Instant since, Instant lastFromSwitch, String network,
                       String memberId, long portId, List<String> assignedAddresses, Duration switchRtt,
                       int vni, String publicKey, boolean encrypted, String switchKey) {
        this(tapName, tapMac, mtu, addresses, bridge, switchAddress, switchResolved, localAddress, mode, state,
                problem, tapRxFrames, tapRxBytes, tapTxFrames, tapTxBytes, drops, since, lastFromSwitch, network,
                memberId, portId, assignedAddresses, switchRtt, vni, publicKey, encrypted, switchKey, null);
    }

    /** A status without keys (plaintext): the fields before encrypted vl2 sessions. */
    public AgentStatus(String tapName, MacAddress tapMac, int mtu, List<String> addresses, String bridge,
                       String switchAddress, String switchResolved, String localAddress, String mode,
                       AgentState state, String problem, long tapRxFrames, long tapRxBytes, long tapTxFrames,
                       long tapTxBytes, long drops, Instant since, Instant lastFromSwitch, String network,
                       String memberId, long portId, List<String> assignedAddresses, Duration switchRtt, int vni) {
        this(tapName, tapMac, mtu, addresses, bridge, switchAddress, switchResolved, localAddress, mode, state,
                problem, tapRxFrames, tapRxBytes, tapTxFrames, tapTxBytes, drops, since, lastFromSwitch, network,
                memberId, portId, assignedAddresses, switchRtt, vni, null, false, null);
    }

    /** A raw- or vl2-mode status (no VNI): the fields before vxlan mode. */
    public AgentStatus(String tapName, MacAddress tapMac, int mtu, List<String> addresses, String bridge,
                       String switchAddress, String switchResolved, String localAddress, String mode,
                       AgentState state, String problem, long tapRxFrames, long tapRxBytes, long tapTxFrames,
                       long tapTxBytes, long drops, Instant since, Instant lastFromSwitch, String network,
                       String memberId, long portId, List<String> assignedAddresses, Duration switchRtt) {
        this(tapName, tapMac, mtu, addresses, bridge, switchAddress, switchResolved, localAddress, mode, state,
                problem, tapRxFrames, tapRxBytes, tapTxFrames, tapTxBytes, drops, since, lastFromSwitch, network,
                memberId, portId, assignedAddresses, switchRtt, 0, null, false, null);
    }

    /** A raw-mode status (no network, member, port, assigned addresses or RTT): the fields before vl2 mode. */
    public AgentStatus(String tapName, MacAddress tapMac, int mtu, List<String> addresses, String bridge,
                       String switchAddress, String switchResolved, String localAddress, String mode,
                       AgentState state, String problem, long tapRxFrames, long tapRxBytes, long tapTxFrames,
                       long tapTxBytes, long drops, Instant since, Instant lastFromSwitch) {
        this(tapName, tapMac, mtu, addresses, bridge, switchAddress, switchResolved, localAddress, mode, state,
                problem, tapRxFrames, tapRxBytes, tapTxFrames, tapTxBytes, drops, since, lastFromSwitch, null, null,
                0, List.of(), null, 0, null, false, null);
    }
}

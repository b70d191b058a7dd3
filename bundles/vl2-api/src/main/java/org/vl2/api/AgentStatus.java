package org.vl2.api;

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
 * @param addresses      the addresses the agent assigned to the interface, in CIDR form (IPv4 first); not
 *                       the ones the kernel or an operator added (e.g. the IPv6 link-local address)
 * @param bridge         the Linux bridge the interface is enslaved to, or {@code null}
 * @param switchAddress  the switch endpoint as configured, {@code host:port} (a DNS name or an address;
 *                       IPv6 as {@code [addr]:port})
 * @param switchResolved the address the agent sends to, {@code ip:port}; {@code null} while the name does
 *                       not resolve
 * @param localAddress   the agent's own UDP endpoint, {@code ip:port}: the switch sees the agent as this
 *                       (before any NAT); {@code null} while there is no socket
 * @param mode           how frames are carried: {@code raw} (one Ethernet frame per UDP datagram, no header)
 * @param state          the agent's state; see {@link AgentState} for what each one can and cannot promise
 * @param problem        what is wrong, in words, when the state is {@link AgentState#SWITCH_UNREACHABLE} or
 *                       {@link AgentState#FAILED}; {@code null} otherwise
 * @param tapRxFrames    frames read from the kernel and sent to the switch
 * @param tapRxBytes     bytes of those frames (Ethernet header included, no FCS)
 * @param tapTxFrames    frames received from the switch and written to the kernel
 * @param tapTxBytes     bytes of those frames
 * @param drops          frames not passed on, in either direction: sends that failed (switch unreachable,
 *                       no socket, network error), frames too long for the TAP MTU, runts, TAP write errors
 * @param since          when the agent started
 * @param lastFromSwitch when the last datagram from the switch arrived, {@code null} if none yet
 */
public record AgentStatus(String tapName, MacAddress tapMac, int mtu, List<String> addresses, String bridge,
                          String switchAddress, String switchResolved, String localAddress, String mode,
                          AgentState state, String problem, long tapRxFrames, long tapRxBytes, long tapTxFrames,
                          long tapTxBytes, long drops, Instant since, Instant lastFromSwitch) {

    public AgentStatus {
        addresses = addresses == null ? List.of() : List.copyOf(addresses);
    }
}

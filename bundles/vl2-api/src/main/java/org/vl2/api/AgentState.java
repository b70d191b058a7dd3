package org.vl2.api;

/**
 * What a port agent can tell about its link to the switch. In raw mode there is no handshake and no
 * keepalive, so the agent never knows that the switch <em>has</em> its frames; it only knows when the
 * network said otherwise.
 */
public enum AgentState {

    /** Creating the TAP device and the socket. */
    STARTING,

    /**
     * The TAP device is up and the socket is open and connected to the switch's address; no error has been
     * reported recently. It does not mean the switch is there: a switch that drops every frame, or a
     * firewall that swallows them without an ICMP error, looks the same.
     */
    RUNNING,

    /**
     * Frames cannot reach the switch: its name does not resolve, no socket could be opened to it, or an ICMP
     * port unreachable (connection refused) came back within the last 30 seconds with no frame from the
     * switch since. The agent keeps trying (and re-resolves a DNS name); the status's {@code problem} says
     * what happened.
     */
    SWITCH_UNREACHABLE,

    /**
     * The TAP device failed, e.g. it was deleted with {@code ip link del}: no frames flow any more. The
     * status's {@code problem} says why; reconfigure or restart the agent to recreate the device.
     */
    FAILED,

    /** The agent was stopped; its TAP device is gone. */
    STOPPED
}

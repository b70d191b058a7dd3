package org.vl2.agent.internal;

/** {@link PortAgentVxlanTest} with {@code udp.offload = false}: the link is a Java NIO channel, one datagram per system call. */
class NioPortAgentVxlanTest extends PortAgentVxlanTest {

    @Override
    boolean udpOffload() {
        return false;
    }
}

package org.vl2.agent.internal;

/** {@link PortAgentTest} with {@code udp.offload = false}: the link is a Java NIO channel, one datagram per system call. */
class NioPortAgentTest extends PortAgentTest {

    @Override
    boolean udpOffload() {
        return false;
    }
}

package org.vl2.agent.internal;

/** {@link PortAgentVl2Test} with {@code udp.offload = false}: the link is a Java NIO channel, one datagram per system call. */
class NioPortAgentVl2Test extends PortAgentVl2Test {

    @Override
    boolean udpOffload() {
        return false;
    }
}

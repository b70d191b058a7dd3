package org.vl2.agent.internal;

/** {@link PortAgentEncryptedTest} with {@code udp.offload = false}: the link is a Java NIO channel, one datagram per system call. */
class NioPortAgentEncryptedTest extends PortAgentEncryptedTest {

    @Override
    boolean udpOffload() {
        return false;
    }
}

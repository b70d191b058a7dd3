package org.vl2.transport.udp.internal;

/** The same tests with {@code io.batch = 0}: one datagram per system call through Java NIO. */
class NioUdpTransportTest extends UdpTransportTest {

    @Override
    int ioBatch() {
        return 0;
    }
}

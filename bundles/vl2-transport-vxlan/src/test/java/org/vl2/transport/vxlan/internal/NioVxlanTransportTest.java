package org.vl2.transport.vxlan.internal;

/** The same tests with {@code io.batch = 0}: one datagram per system call through Java NIO. */
class NioVxlanTransportTest extends VxlanTransportTest {

    @Override
    int ioBatch() {
        return 0;
    }
}

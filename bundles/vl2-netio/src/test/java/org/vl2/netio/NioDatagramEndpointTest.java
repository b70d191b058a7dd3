package org.vl2.netio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.io.IOException;
import java.net.InetSocketAddress;

import org.junit.jupiter.api.Test;
import org.vl2.netio.internal.NioDatagramEndpoint;

/** The endpoint on Java NIO (io.batch = 0, or no JNA): the same contract, one datagram per system call. */
class NioDatagramEndpointTest extends DatagramEndpointTest {

    @Override
    DatagramEndpoint open(InetSocketAddress bind, int receiveBufferBytes, int sendBufferBytes, int batch)
            throws IOException {
        return DatagramEndpoints.openNio(bind, receiveBufferBytes, sendBufferBytes);
    }

    @Test
    void batchZeroOpensOneOnNioWithoutOffload() throws IOException {
        try (DatagramEndpoint e = DatagramEndpoints.open(LOOPBACK, 1 << 16, 1 << 16, 0, true)) {
            assertInstanceOf(NioDatagramEndpoint.class, e);
            assertEquals(1, e.batchSize());
            assertEquals("none", e.offload());
        }
    }
}

package org.vl2.netio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** Reuseport groups: one address and port for several receive threads, and how datagrams are spread over them. */
class EndpointGroupTest {

    private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    /** A datagram whose byte 7 is {@code key} and byte 8 {@code n} (which one of a sender's it was). */
    private static ByteBuffer keyed(int key, int n) {
        ByteBuffer b = ByteBuffer.allocate(32);
        b.put(7, (byte) key).put(8, (byte) n);
        return b;
    }

    /** Receives from every socket of the group until {@code count} arrived; by socket, the datagrams it got. */
    private static List<List<ByteBuffer>> receive(DatagramEndpoints.Group g, int count) throws IOException {
        List<List<ByteBuffer>> by = new ArrayList<>();
        g.endpoints().forEach(e -> by.add(new ArrayList<>()));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        int got = 0;
        while (got < count && System.nanoTime() < deadline) {
            for (int s = 0; s < g.endpoints().size(); s++) {
                DatagramEndpoint e = g.endpoints().get(s);
                int n = e.receive(0);
                for (int i = 0; i < n; i++) {
                    ByteBuffer d = e.datagram(i);
                    ByteBuffer copy = ByteBuffer.allocate(d.remaining());
                    copy.put(d).flip();
                    by.get(s).add(copy);
                    got++;
                }
            }
            if (got < count) {
                Thread.onSpinWait();
            }
        }
        assertEquals(count, got, "datagrams received by the group");
        return by;
    }

    @Test
    void steeredByAPayloadByteEachKeyReachesOneSocketWhateverItsSourceAndInOrder() throws IOException {
        DatagramEndpoints.Group g = DatagramEndpoints.openGroup(LOOPBACK, 1 << 20, 1 << 20, 16, false, 2, 7);
        List<DatagramEndpoint> senders = new ArrayList<>();
        try {
            assertEquals(2, g.endpoints().size());
            assertEquals(7, g.steerByte());
            InetSocketAddress to = g.first().localAddress();
            assertEquals(to, g.endpoints().get(1).localAddress(), "one address and port");
            // keys 0..3 from four senders each (a member whose NAT mapping changes sends from another port)
            for (int s = 0; s < 4; s++) {
                senders.add(DatagramEndpoints.openNio(LOOPBACK, 1 << 16, 1 << 16));
            }
            int sent = 0;
            for (int n = 0; n < 8; n++) {
                for (int key = 0; key < 4; key++) {
                    assertTrue(senders.get((key + n) % 4).send(to, keyed(key, n)));
                    sent++;
                }
            }
            List<List<ByteBuffer>> by = receive(g, sent);
            for (int s = 0; s < 2; s++) {
                int[] next = new int[4];
                for (ByteBuffer d : by.get(s)) {
                    int key = d.get(7);
                    assertEquals(s, key % 2, "key " + key + " on socket " + s);
                    assertEquals(next[key]++, d.get(8), "in order within a key");
                }
            }
            assertEquals(16, by.get(0).size());
            assertEquals(16, by.get(1).size());
            // too short to carry the byte: the first socket
            assertTrue(senders.get(0).send(to, ByteBuffer.allocate(3)));
            assertEquals(1, receive(g, 1).get(0).size());
        } finally {
            senders.forEach(DatagramEndpoint::close);
            g.close();
        }
    }

    @Test
    void aGroupOnAPortInUseFailsAsOneSocketDoesAndAPortOfAGroupIsInUse() throws IOException {
        try (DatagramEndpoint taken = DatagramEndpoints.openNio(LOOPBACK, 1 << 16, 1 << 16)) {
            InetSocketAddress at = taken.localAddress();
            assertThrows(BindException.class,
                    () -> DatagramEndpoints.openGroup(at, 1 << 16, 1 << 16, 8, false, 2, 7));
        }
        DatagramEndpoints.Group g = DatagramEndpoints.openGroup(LOOPBACK, 1 << 16, 1 << 16, 8, false, 3,
                DatagramEndpoints.KERNEL_HASH);
        try {
            assertEquals(DatagramEndpoints.KERNEL_HASH, g.steerByte());
            InetSocketAddress at = g.first().localAddress();
            // a second switch on the same port, with or without a group of its own, is refused
            assertThrows(BindException.class, () -> DatagramEndpoints.open(at, 1 << 16, 1 << 16, 8, false));
            assertThrows(BindException.class, () -> DatagramEndpoints.openGroup(at, 1 << 16, 1 << 16, 8, false, 2, 7));
        } finally {
            g.close();
        }
    }

    /** A kernel that refuses the steering program: the group still works, spread by the hash, and says why. */
    @Test
    void aRefusedSteeringProgramLeavesAWorkingGroupSpreadByTheHash() throws IOException {
        DatagramEndpoints.Group g = DatagramEndpoints.openGroup(LOOPBACK, 1 << 20, 1 << 20, 16, false, 2, 7,
                (first, steerByte, sockets) -> {
                    throw new java.net.SocketException("setsockopt SO_ATTACH_REUSEPORT_CBPF: Operation not permitted");
                });
        try (DatagramEndpoint a = DatagramEndpoints.openNio(LOOPBACK, 1 << 16, 1 << 16)) {
            assertEquals(2, g.endpoints().size());
            assertEquals(DatagramEndpoints.KERNEL_HASH, g.steerByte());
            assertEquals("setsockopt SO_ATTACH_REUSEPORT_CBPF: Operation not permitted", g.steeringRefused());
            for (int n = 0; n < 10; n++) {
                assertTrue(a.send(g.first().localAddress(), keyed(n, n)));
            }
            receive(g, 10);
        } finally {
            g.close();
        }
        DatagramEndpoints.Group steered = DatagramEndpoints.openGroup(LOOPBACK, 1 << 16, 1 << 16, 8, false, 2, 7);
        try {
            assertEquals(null, steered.steeringRefused(), "this kernel attaches it");
        } finally {
            steered.close();
        }
    }

    @Test
    void theKernelsHashKeepsOneSourceOnOneSocket() throws IOException {
        DatagramEndpoints.Group g = DatagramEndpoints.openGroup(LOOPBACK, 1 << 20, 1 << 20, 16, true, 2,
                DatagramEndpoints.KERNEL_HASH);
        try (DatagramEndpoint a = DatagramEndpoints.openNio(LOOPBACK, 1 << 16, 1 << 16)) {
            for (int n = 0; n < 20; n++) {
                assertTrue(a.send(g.first().localAddress(), keyed(n, n)));
            }
            Set<Integer> socketsUsed = new HashSet<>();
            List<List<ByteBuffer>> by = receive(g, 20);
            for (int s = 0; s < 2; s++) {
                if (!by.get(s).isEmpty()) {
                    socketsUsed.add(s);
                }
            }
            assertEquals(1, socketsUsed.size(), "one source, one socket");
        } finally {
            g.close();
        }
    }

    @Test
    void oneSocketIsAPlainOneAndSizesAreChecked() throws IOException {
        DatagramEndpoints.Group g = DatagramEndpoints.openGroup(LOOPBACK, 1 << 16, 1 << 16, 8, false, 1, 7);
        try {
            assertEquals(1, g.endpoints().size());
            assertThrows(BindException.class,
                    () -> DatagramEndpoints.openGroup(g.first().localAddress(), 1 << 16, 1 << 16, 8, false, 1, 7));
        } finally {
            g.close();
        }
        assertThrows(IllegalArgumentException.class,
                () -> DatagramEndpoints.openGroup(LOOPBACK, 1 << 16, 1 << 16, 8, false, 0, 7));
        assertThrows(IllegalArgumentException.class, () -> DatagramEndpoints.openGroup(LOOPBACK, 1 << 16, 1 << 16, 8,
                false, DatagramEndpoints.MAX_GROUP + 1, 7));
    }
}

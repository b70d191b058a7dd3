package org.vl2.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;

class PairTest {

    private static byte[] key() {
        byte[] k = new byte[Pair.KEY_LENGTH];
        for (int i = 0; i < k.length; i++) {
            k[i] = (byte) (i * 7 + 1);
        }
        return k;
    }

    @Test
    void roundTripsEveryFieldAtAnOffset() throws Exception {
        Pair p = new Pair(0x1122334455667788L, 0xCAFEF00D, Pair.SEND, 2, Pair.UNTAGGED, 0x02AABBCCDDEEL,
                0xFEDCBA987654L, 120, key());
        ByteBuffer b = ByteBuffer.allocate(7 + Pair.LENGTH);
        p.encode(b, 7);
        assertEquals(0, b.position(), "absolute writes only");
        assertEquals(0x02, b.get(7 + 16) & 0xFF, "MACs in network order");
        assertEquals(0xFE, b.get(7 + 22) & 0xFF);
        Pair q = Pair.decode(b, 7, Pair.LENGTH);
        assertEquals(p, q);
        assertArrayEquals(key(), q.key());
        assertEquals(0xFEDCBA987654L, q.destination());
        Pair tagged = new Pair(1, 5, Pair.RECEIVE, 1, 4095, 1, 2, 60, key());
        tagged.encode(b, 0);
        assertEquals(4095, Pair.decode(b, 0, Pair.LENGTH).vlan());
    }

    @Test
    void aSendCarriesItsReceiversEndpointForADirectPath() throws Exception {
        for (String address : new String[] {"10.1.2.3", "fd00::42"}) {
            InetSocketAddress peer = new InetSocketAddress(InetAddress.getByName(address), 40123);
            Pair p = new Pair(7, 9, Pair.SEND, 2, Pair.UNTAGGED, 1, 2, 120, key(), peer);
            assertEquals(Pair.PEER_LENGTH, p.encodedLength());
            ByteBuffer b = ByteBuffer.allocate(3 + Pair.PEER_LENGTH);
            p.encode(b, 3);
            Pair q = Pair.decode(b, 3, Pair.PEER_LENGTH);
            assertEquals(p, q);
            assertEquals(peer, q.peer());
            assertTrue(q.toString().contains("40123"), q.toString());
        }
        Pair plain = new Pair(7, 9, Pair.SEND, 2, Pair.UNTAGGED, 1, 2, 120, key());
        assertEquals(Pair.LENGTH, plain.encodedLength());
        ByteBuffer b = ByteBuffer.allocate(Pair.PEER_LENGTH);
        plain.encode(b, 0);
        assertEquals(null, Pair.decode(b, 0, Pair.LENGTH).peer());
    }

    @Test
    void onlyASendCarriesAnEndpointAndABadOneIsRefused() throws Exception {
        InetSocketAddress peer = new InetSocketAddress(InetAddress.getByName("10.1.2.3"), 5);
        assertThrows(IllegalArgumentException.class,
                () -> new Pair(7, 9, Pair.RECEIVE, 2, Pair.UNTAGGED, 1, 2, 120, key(), peer));
        assertThrows(IllegalArgumentException.class, () -> new Pair(7, 9, Pair.SEND, 2, Pair.UNTAGGED, 1, 2, 120,
                key(), InetSocketAddress.createUnresolved("switch.example", 5)));
        Pair p = new Pair(7, 9, Pair.SEND, 2, Pair.UNTAGGED, 1, 2, 120, key(), peer);
        ByteBuffer b = ByteBuffer.allocate(Pair.PEER_LENGTH);
        p.encode(b, 0);
        b.put(66, (byte) 5); // an address of 5 bytes
        assertThrows(ProtocolException.class, () -> Pair.decode(b, 0, Pair.PEER_LENGTH));
        p.encode(b, 0);
        b.putShort(64, (short) 0); // port 0
        assertThrows(ProtocolException.class, () -> Pair.decode(b, 0, Pair.PEER_LENGTH));
        p.encode(b, 0);
        b.putInt(68, 0); // 0.0.0.0
        assertThrows(ProtocolException.class, () -> Pair.decode(b, 0, Pair.PEER_LENGTH));
        assertThrows(ProtocolException.class, () -> Pair.decode(b, 0, Pair.LENGTH + 4));
    }

    @Test
    void aProbeCarriesItsId() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(20);
        Probe.encode(b, 4, 0x0102030405060708L);
        assertEquals(0x0102030405060708L, Probe.decode(b, 4, Probe.LENGTH));
        assertThrows(ProtocolException.class, () -> Probe.decode(b, 4, Probe.LENGTH + 1));
        assertEquals("probe", Wire.typeName(Wire.PROBE));
        assertEquals("probe-ack", Wire.typeName(Wire.PROBE_ACK));
    }

    @Test
    void aRevokeCarriesNoKey() throws Exception {
        Pair r = Pair.revoke(9, 77, 3, 0x0A, 0x0B);
        assertEquals(Pair.REVOKE, r.role());
        assertArrayEquals(new byte[Pair.KEY_LENGTH], r.key());
        ByteBuffer b = ByteBuffer.allocate(Pair.LENGTH);
        r.encode(b, 0);
        assertEquals(r, Pair.decode(b, 0, Pair.LENGTH));
        assertFalse(r.toString().contains("key"), "toString leaves the key out: " + r);
    }

    @Test
    void theKeyIsCopiedInAndOut() {
        byte[] k = key();
        Pair p = new Pair(1, 5, Pair.SEND, 2, 0, 1, 2, 60, k);
        k[0] ^= 1;
        p.key()[1] ^= 1;
        assertArrayEquals(key(), p.key());
    }

    @Test
    void refusesWhatNoSwitchSends() {
        ByteBuffer b = ByteBuffer.allocate(Pair.LENGTH);
        new Pair(1, 5, Pair.SEND, 2, 0, 1, 2, 60, key()).encode(b, 0);
        assertTrue(assertThrows(ProtocolException.class, () -> Pair.decode(b, 0, Pair.LENGTH - 1)).getMessage()
                .contains("63 bytes"));
        b.put(12, (byte) 4);
        assertTrue(assertThrows(ProtocolException.class, () -> Pair.decode(b, 0, Pair.LENGTH)).getMessage()
                .contains("role"));
        b.put(12, (byte) Pair.SEND);
        b.putInt(8, 0);
        assertTrue(assertThrows(ProtocolException.class, () -> Pair.decode(b, 0, Pair.LENGTH)).getMessage()
                .contains("index 0"));
        b.putInt(8, 5);
        b.put(13, (byte) 0);
        assertTrue(assertThrows(ProtocolException.class, () -> Pair.decode(b, 0, Pair.LENGTH)).getMessage()
                .contains("suite"));
        b.put(13, (byte) 2);
        b.putShort(14, (short) 4096);
        assertTrue(assertThrows(ProtocolException.class, () -> Pair.decode(b, 0, Pair.LENGTH)).getMessage()
                .contains("VLAN"));
        b.putShort(14, (short) 0);
        b.putInt(28, -1);
        assertTrue(assertThrows(ProtocolException.class, () -> Pair.decode(b, 0, Pair.LENGTH)).getMessage()
                .contains("lifetime"));
    }

    @Test
    void ackRoundTrips() {
        ByteBuffer b = ByteBuffer.allocate(3 + Pair.ACK_LENGTH);
        Pair.encodeAck(b, 3, 0x55L, 0x80000001, Pair.RECEIVE, Pair.REFUSED);
        assertEquals(0x55L, Pair.ackNetwork(b, 3));
        assertEquals(0x80000001, Pair.ackIndex(b, 3));
        assertEquals(Pair.RECEIVE, Pair.ackRole(b, 3));
        assertEquals(Pair.REFUSED, Pair.ackStatus(b, 3));
    }

    @Test
    void wireKnowsTheTypes() {
        ByteBuffer b = ByteBuffer.allocate(Wire.HEADER_LENGTH);
        Wire.putHeader(b, Wire.PAIR, Wire.FLAG_SEALED);
        b.flip();
        assertEquals(Wire.PAIR, Wire.type(b));
        assertEquals("pair", Wire.typeName(Wire.PAIR));
        assertEquals("pair-ack", Wire.typeName(Wire.PAIR_ACK));
        b.put(2, (byte) 15);
        assertEquals(-1, Wire.type(b), "15 stays reserved");
    }
}

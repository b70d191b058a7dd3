package org.vl2.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.junit.jupiter.api.Test;

class EthernetFrameTest {

    private static final byte[] DST = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};
    private static final byte[] SRC = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

    private static ByteBuffer untagged(int etherType, int payload) {
        ByteBuffer b = ByteBuffer.allocate(14 + payload);
        b.put(DST).put(SRC).putShort((short) etherType);
        return b.position(0);
    }

    private static ByteBuffer tagged(int tpid, int pcp, int vid, int etherType, int payload) {
        ByteBuffer b = ByteBuffer.allocateDirect(18 + payload);
        b.put(DST).put(SRC).putShort((short) tpid).putShort((short) ((pcp << 13) | vid)).putShort((short) etherType);
        return b.position(0);
    }

    @Test
    void readsAnUntaggedFrame() {
        EthernetFrame f = EthernetFrame.of(untagged(0x0806, 28));
        assertEquals(42, f.length());
        assertFalse(f.isRunt());
        assertEquals(MacAddress.BROADCAST, f.destination());
        assertEquals(MacAddress.valueOf("02:00:00:00:00:01"), f.source());
        assertEquals(0x0806, f.etherType());
        assertFalse(f.hasVlanTag());
        assertEquals(EthernetFrame.UNTAGGED, f.vlanId());
        assertEquals(14, f.payloadOffset());
    }

    @Test
    void readsAn8021qTag() {
        EthernetFrame f = EthernetFrame.of(tagged(0x8100, 5, 100, 0x86dd, 40));
        assertTrue(f.hasVlanTag());
        assertEquals(100, f.vlanId());
        assertEquals(5, f.priority());
        assertEquals(0x86dd, f.etherType());
        assertEquals(18, f.payloadOffset());
        assertEquals(4095, EthernetFrame.of(tagged(0x88a8, 0, 4095, 0x0800, 0)).vlanId());
    }

    @Test
    void isAViewFromThePositionThatNeverMovesTheBuffer() {
        ByteBuffer b = ByteBuffer.allocate(100);
        b.position(10);
        b.put(DST).put(SRC).putShort((short) 0x0800);
        b.position(10).limit(60);
        EthernetFrame f = new EthernetFrame().wrap(b);
        assertEquals(50, f.length());
        assertEquals(0x0800, f.etherType());
        assertEquals(MacAddress.BROADCAST.toLong(), f.destinationBits());
        assertEquals(10, b.position());
        assertEquals(60, b.limit());
        assertSame(b, f.buffer());
        // re-pointing the same view at another frame
        f.wrap(tagged(0x8100, 0, 7, 0x0800, 10));
        assertEquals(7, f.vlanId());
    }

    @Test
    void detectsRunts() {
        assertTrue(EthernetFrame.of(ByteBuffer.allocate(13)).isRunt());
        assertTrue(EthernetFrame.of(ByteBuffer.allocate(0)).isRunt());
        ByteBuffer shortTagged = tagged(0x8100, 0, 7, 0x0800, 0).limit(16);
        assertTrue(EthernetFrame.of(shortTagged).isRunt());
        assertEquals(-1, EthernetFrame.of(shortTagged).etherType());
        assertFalse(EthernetFrame.of(untagged(0x0800, 0)).isRunt());
        assertThrows(IndexOutOfBoundsException.class, () -> EthernetFrame.of(ByteBuffer.allocate(8)).sourceBits());
    }

    @Test
    void refusesLittleEndianBuffers() {
        ByteBuffer b = untagged(0x0800, 0).order(ByteOrder.LITTLE_ENDIAN);
        assertThrows(IllegalArgumentException.class, () -> EthernetFrame.of(b));
    }

    @Test
    void describesItself() {
        assertEquals("EthernetFrame[02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, vlan 9, type 0x800, 18 bytes]",
                EthernetFrame.of(tagged(0x8100, 0, 9, 0x0800, 0)).toString());
    }
}

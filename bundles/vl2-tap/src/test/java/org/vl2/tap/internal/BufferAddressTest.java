package org.vl2.tap.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;

import com.sun.jna.Memory;
import org.junit.jupiter.api.Test;

/** The raw address TAP reads and writes hand the kernel must be the one JNA would have computed. */
class BufferAddressTest {

    @Test
    void availableOnThisJvm() {
        assertTrue(BufferAddress.available(), "JDK 17's Buffer.address is readable: the frame path relies on it");
    }

    @Test
    void directBufferSliceAndDuplicateAgreeWithJna() {
        ByteBuffer b = ByteBuffer.allocateDirect(4096);
        assertEquals(BufferAddress.jna(b), BufferAddress.of(b));
        ByteBuffer slice = b.slice(100, 200);
        assertEquals(BufferAddress.jna(b) + 100, BufferAddress.of(slice));
        ByteBuffer dup = b.duplicate().position(7);
        assertEquals(BufferAddress.of(b), BufferAddress.of(dup), "index 0, not the position");
    }

    @Test
    void jnaMemoryViewsAgreeWithTheirMemory() {
        try (Memory m = new Memory(1 << 16)) {
            ByteBuffer whole = m.getByteBuffer(0, 1 << 16);
            assertEquals(com.sun.jna.Pointer.nativeValue(m), BufferAddress.of(whole));
            ByteBuffer part = m.getByteBuffer(4096, 1024);
            assertEquals(com.sun.jna.Pointer.nativeValue(m) + 4096, BufferAddress.of(part));
            assertEquals(BufferAddress.jna(part), BufferAddress.of(part.duplicate()));
        }
    }

    @Test
    void bytesWrittenThroughTheAddressAreTheBuffers() {
        ByteBuffer b = ByteBuffer.allocateDirect(64);
        com.sun.jna.Pointer p = new com.sun.jna.Pointer(BufferAddress.of(b) + 10);
        p.setInt(0, 0x01020304);
        assertEquals(0x01020304, b.order(java.nio.ByteOrder.nativeOrder()).getInt(10));
    }
}

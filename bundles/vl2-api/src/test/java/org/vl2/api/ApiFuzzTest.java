package org.vl2.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The API's parsers on arbitrary input. {@link EthernetFrame} over any datagram (a runt, a cut tag, garbage): every
 * accessor answers without throwing and reads only between position and limit, except that the MACs of a frame too
 * short to hold them throw {@link IndexOutOfBoundsException}; a frame that is not a runt has a consistent header.
 * {@link MacAddress#valueOf}, {@link Networks#parse} and {@link PortId#valueOf} on the input as text: a value that
 * formats back to itself, or {@link IllegalArgumentException}, nothing else.
 *
 * <p>Fuzzed for {@code vl2.fuzz.duration} by {@code mvn verify} (see bundles/pom.xml); seeds in
 * {@code ApiFuzzTestInputs/bytes}.
 */
class ApiFuzzTest {

    private ByteBuffer direct = ByteBuffer.allocateDirect(0);
    private ByteBuffer heap = ByteBuffer.allocate(0);
    private final EthernetFrame view = new EthernetFrame();

    @FuzzTest
    void bytes(byte[] input) {
        frame(input);
        text(new String(input, StandardCharsets.ISO_8859_1));
        text(new String(input, StandardCharsets.UTF_8));
        if (input.length >= 6) {
            byte[] six = Arrays.copyOf(input, 6);
            assertArrayEquals(six, MacAddress.of(six).toBytes());
        }
    }

    private void frame(byte[] input) {
        List<Object> reference = null;
        for (ByteBuffer b : layouts(input)) {
            int position = b.position();
            int limit = b.limit();
            List<Object> answers = accessors(view.wrap(b));
            assertEquals(position, b.position(), "position moved");
            assertEquals(limit, b.limit(), "limit moved");
            if (reference == null) {
                reference = answers;
            } else {
                assertEquals(reference, answers, "the buffer layout changed an answer: " + b);
            }
        }
        assertThrows(IllegalArgumentException.class,
                () -> view.wrap(ByteBuffer.wrap(input).order(ByteOrder.LITTLE_ENDIAN)));
    }

    private static List<Object> accessors(EthernetFrame f) {
        int length = f.length();
        List<Object> a = new ArrayList<>(List.of(length, f.isRunt(), f.hasVlanTag(), f.vlanId(), f.priority(),
                f.etherType(), f.payloadOffset(), f.toString()));
        if (length >= 6) {
            a.add(f.destinationBits());
            assertEquals(f.destinationBits(), f.destination().toLong());
        } else {
            assertThrows(IndexOutOfBoundsException.class, f::destinationBits);
        }
        if (length >= 12) {
            a.add(f.sourceBits());
            assertEquals(f.sourceBits(), f.source().toLong());
        } else {
            assertThrows(IndexOutOfBoundsException.class, f::sourceBits);
        }
        assertTrue(f.vlanId() >= 0 && f.vlanId() <= 0xFFF, "vlan " + f.vlanId());
        assertTrue(f.priority() >= 0 && f.priority() <= 7, "priority " + f.priority());
        if (!f.isRunt()) {
            assertTrue(length >= EthernetFrame.HEADER_LENGTH && f.etherType() >= 0
                    && f.payloadOffset() <= length, f.toString());
            assertEquals(f.hasVlanTag() ? EthernetFrame.HEADER_LENGTH + 4 : EthernetFrame.HEADER_LENGTH,
                    f.payloadOffset());
        }
        return a;
    }

    private static void text(String s) {
        try {
            MacAddress m = MacAddress.valueOf(s);
            assertEquals(m, MacAddress.valueOf(m.toString()));
        } catch (IllegalArgumentException expected) {
            // not a MAC address
        }
        try {
            long id = Networks.parse(s);
            assertEquals(id, Networks.parse(Networks.format(id)));
        } catch (IllegalArgumentException expected) {
            // not a network id
        }
        try {
            PortId p = PortId.valueOf(s);
            assertTrue(p.number() >= 1, "port " + p);
            assertEquals(p, PortId.valueOf(p.toString()));
        } catch (IllegalArgumentException expected) {
            // not a port
        }
    }

    /**
     * The bytes at position 0 of an exact-size array (a read past the limit throws), and behind and before the
     * complement of their own bytes in a direct buffer, a slice and a read-only buffer (a read outside
     * position..limit gives another answer). All big-endian: a frame view refuses the other order.
     */
    private List<ByteBuffer> layouts(byte[] bytes) {
        if (direct.capacity() < 2 * bytes.length + 40) {
            direct = ByteBuffer.allocateDirect(2 * bytes.length + 1024);
            heap = ByteBuffer.allocate(2 * bytes.length + 1024);
        }
        int half = heap.capacity() / 2;
        return List.of(ByteBuffer.wrap(bytes.clone()),
                place(direct.duplicate(), 11, bytes),
                place(heap.slice(7, bytes.length + 13), 5, bytes),
                place(heap.slice(half, half), 16, bytes).asReadOnlyBuffer());
    }

    private static ByteBuffer place(ByteBuffer b, int at, byte[] bytes) {
        int end = Math.min(b.capacity(), at + bytes.length + 8);
        for (int i = 0; i < end; i++) {
            b.put(i, (byte) ~(bytes.length == 0 ? 0x5A : bytes[Math.floorMod(i - at, bytes.length)]));
        }
        b.put(at, bytes);
        return b.clear().position(at).limit(at + bytes.length);
    }
}

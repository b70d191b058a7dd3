package org.vl2.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/** Test helpers: hex, and the buffer layouts (heap/direct, offset, byte order) a codec must not care about. */
final class Buffers {

    /** Fill of the bytes around a message, so reads or writes outside it show. */
    static final byte GARBAGE = (byte) 0xA5;

    @FunctionalInterface
    interface Decoder<T> {
        T decode(ByteBuffer datagram) throws ProtocolException;
    }

    private Buffers() {
    }

    /** {@code "56 01 0a"} (whitespace ignored) to bytes. */
    static byte[] hex(String text) {
        String s = text.replaceAll("\\s+", "");
        if (s.length() % 2 != 0) {
            throw new IllegalArgumentException("odd hex: " + text);
        }
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }

    static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder();
        for (byte x : bytes) {
            sb.append(String.format("%02x", x & 0xFF));
        }
        return sb.toString();
    }

    /**
     * The whole of {@code message} in buffers of each kind, at a non-zero position (garbage before) with the
     * limit {@code visible} bytes after it; the rest of the message stays in the buffer beyond the limit, so a
     * decoder that read past the limit would succeed where it must not.
     */
    static List<ByteBuffer> layouts(byte[] message, int visible) {
        List<ByteBuffer> out = new ArrayList<>();
        out.add(ByteBuffer.wrap(Arrays.copyOf(message, visible)));   // exact array, position 0
        out.add(place(ByteBuffer.allocate(message.length + 16), 5, message, visible));
        out.add(place(ByteBuffer.allocate(message.length + 16).order(ByteOrder.LITTLE_ENDIAN), 3, message, visible));
        out.add(place(ByteBuffer.allocateDirect(message.length + 16), 7, message, visible));
        out.add(place(ByteBuffer.allocateDirect(message.length + 16).order(ByteOrder.LITTLE_ENDIAN), 1, message,
                visible));
        // A slice has a non-zero array offset: indices are relative to it.
        ByteBuffer big = ByteBuffer.allocate(message.length + 32);
        out.add(place(big.slice(9, message.length + 20), 2, message, visible));
        out.add(place(ByteBuffer.allocate(message.length + 16), 4, message, visible).asReadOnlyBuffer());
        return out;
    }

    static List<ByteBuffer> layouts(byte[] message) {
        return layouts(message, message.length);
    }

    private static ByteBuffer place(ByteBuffer b, int at, byte[] message, int visible) {
        for (int i = 0; i < b.capacity(); i++) {
            b.put(i, GARBAGE);
        }
        b.put(at, message);
        b.position(at).limit(at + visible);
        return b;
    }

    /**
     * Decodes {@code message} from every layout, checks that position, limit and order are untouched and that
     * every layout gives the same result, and returns it.
     */
    static <T> T decode(byte[] message, Decoder<T> decoder) throws ProtocolException {
        T first = null;
        for (ByteBuffer b : layouts(message)) {
            T t = decodeKeeping(b, decoder);
            if (first == null) {
                first = t;
            }
            assertEquals(first, t, "layout " + b);
        }
        return first;
    }

    /** Decodes and checks that the decoder left position, limit and order alone. */
    static <T> T decodeKeeping(ByteBuffer b, Decoder<T> decoder) throws ProtocolException {
        int position = b.position();
        int limit = b.limit();
        ByteOrder order = b.order();
        try {
            return decoder.decode(b);
        } finally {
            assertEquals(position, b.position(), "position moved");
            assertEquals(limit, b.limit(), "limit moved");
            assertSame(order, b.order(), "order changed");
        }
    }

    /** Asserts that every layout of {@code visible} bytes of {@code message} is rejected; returns a message. */
    static String rejected(byte[] message, int visible, Decoder<?> decoder) {
        String text = null;
        for (ByteBuffer b : layouts(message, visible)) {
            text = assertThrows(ProtocolException.class, () -> decodeKeeping(b, decoder),
                    "accepted " + visible + " of " + hex(message)).getMessage();
        }
        return text;
    }

    /**
     * Encodes into buffers of each kind at a non-zero position, checks that exactly the expected bytes are
     * written there (reserved bytes zeroed over the garbage, nothing else touched) and that the position
     * advanced by their length; returns the bytes.
     */
    static byte[] encode(Consumer<ByteBuffer> encoder) {
        byte[] first = null;
        List<ByteBuffer> targets = List.of(ByteBuffer.allocate(400), ByteBuffer.allocate(400).order(
                ByteOrder.LITTLE_ENDIAN), ByteBuffer.allocateDirect(400), ByteBuffer.allocateDirect(400).order(
                ByteOrder.LITTLE_ENDIAN));
        int start = 0;
        for (ByteBuffer b : targets) {
            for (int i = 0; i < b.capacity(); i++) {
                b.put(i, GARBAGE);
            }
            b.position(start);
            encoder.accept(b);
            byte[] written = new byte[b.position() - start];
            b.get(start, written);
            if (first == null) {
                first = written;
            }
            assertArrayEquals(first, written, "encoding depends on the buffer: " + b);
            for (int i = 0; i < b.capacity(); i++) {
                if (i < start || i >= b.position()) {
                    assertEquals(GARBAGE, b.get(i), "byte " + i + " outside the message was written");
                }
            }
            assertEquals(400, b.limit());
            start += 13;
        }
        return first;
    }

    /** Asserts that {@code encoder} writes exactly the bytes of {@code expectedHex} and returns them. */
    static byte[] assertEncodes(String expectedHex, Consumer<ByteBuffer> encoder) {
        byte[] written = encode(encoder);
        assertEquals(hex(hex(expectedHex)), hex(written));
        return written;
    }
}

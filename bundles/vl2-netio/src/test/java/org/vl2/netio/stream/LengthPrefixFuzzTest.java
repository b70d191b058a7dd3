package org.vl2.netio.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The stream decoder ({@link LengthPrefix#next}) on any byte stream, read in any cut: it never throws, never hands
 * out a message beyond what arrived, hands out the same messages (and stops at the same bad prefix) however the
 * stream is cut into reads, and every message it hands out re-encodes ({@link LengthPrefix#put}) to the bytes it
 * came from.
 *
 * <p>Input: byte 0 is the read size (1..256), the rest the stream. Fuzzed for {@code vl2.fuzz.duration} by
 * {@code mvn verify}; seeds in {@code LengthPrefixFuzzTestInputs/streams}.
 */
class LengthPrefixFuzzTest {

    @FuzzTest
    void streams(byte[] input) {
        if (input.length == 0) {
            return;
        }
        int chunk = (input[0] & 0xff) + 1;
        byte[] stream = Arrays.copyOfRange(input, 1, input.length);
        String whole = decode(stream, stream.length);
        String cut = decode(stream, chunk);
        assertEquals(whole, cut, "the messages depend on how the stream was cut");
    }

    /** The messages (lengths and the end state) of {@code stream} fed {@code chunk} bytes at a time. */
    static String decode(byte[] stream, int chunk) {
        ByteBuffer in = ByteBuffer.allocate(stream.length + 2);
        StringBuilder out = new StringBuilder();
        int consumed = 0;
        int fed = 0;
        while (fed < stream.length) {
            int n = Math.max(1, Math.min(chunk, stream.length - fed));
            in.put(stream, fed, n);
            fed += n;
            while (true) {
                int length = LengthPrefix.next(in, consumed, in.position());
                if (length == LengthPrefix.NEED_MORE) {
                    break;
                }
                if (length == LengthPrefix.BAD_LENGTH) {
                    return out.append("bad@").append(consumed).toString();
                }
                assertTrue(length >= 1 && length <= LengthPrefix.MAX_MESSAGE);
                assertTrue(consumed + LengthPrefix.HEADER + length <= in.position(), "beyond what arrived");
                ByteBuffer message = ByteBuffer.wrap(stream, consumed + LengthPrefix.HEADER, length);
                ByteBuffer again = ByteBuffer.allocate(LengthPrefix.HEADER + length);
                assertTrue(LengthPrefix.put(again, message));
                assertArrayEquals(Arrays.copyOfRange(stream, consumed, consumed + LengthPrefix.HEADER + length),
                        again.array());
                out.append(length).append(',');
                consumed += LengthPrefix.HEADER + length;
            }
        }
        return out.append("end@").append(consumed).toString();
    }
}

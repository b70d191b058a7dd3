package org.vl2.netio.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

class LengthPrefixTest {

    @Test
    void badPrefixesAreRejectedAsSoonAsTheyArrive() {
        ByteBuffer fourGigabytes = ByteBuffer.wrap(new byte[]{(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
        assertEquals(LengthPrefix.BAD_LENGTH, LengthPrefix.next(fourGigabytes, 0, 4));
        ByteBuffer zero = ByteBuffer.wrap(new byte[]{0, 0, 1});
        assertEquals(LengthPrefix.BAD_LENGTH, LengthPrefix.next(zero, 0, 3));
        ByteBuffer http = ByteBuffer.wrap("GET / HTTP/1.1\r\n".getBytes());
        // "GE" reads as 18245, a valid length: a plaintext stream waits for it (the idle timeout ends it); in TLS the
        // handshake refuses such a stream first
        assertEquals(LengthPrefix.NEED_MORE, LengthPrefix.next(http, 0, http.limit()));
    }

    @Test
    void largestMessageRoundTrips() {
        ByteBuffer message = ByteBuffer.allocate(LengthPrefix.MAX_MESSAGE);
        ByteBuffer out = ByteBuffer.allocate(LengthPrefix.HEADER + LengthPrefix.MAX_MESSAGE);
        assertTrue(LengthPrefix.put(out, message));
        assertEquals(0, message.position(), "position unchanged");
        assertEquals(LengthPrefix.MAX_MESSAGE, LengthPrefix.next(out, 0, out.position()));
        assertEquals(LengthPrefix.NEED_MORE, LengthPrefix.next(out, 0, out.position() - 1));
        assertFalse(LengthPrefix.put(ByteBuffer.allocate(10), ByteBuffer.allocate(9)), "does not fit");
        assertFalse(LengthPrefix.put(ByteBuffer.allocate(10), ByteBuffer.allocate(0)), "empty");
    }

    /** Property: random messages, encoded and cut at random, decode to the same lengths; random garbage never throws. */
    @Test
    void randomStreamsDecodeAlikeInAnyCut() {
        Random random = new Random(16);
        for (int round = 0; round < 300; round++) {
            List<Integer> lengths = new ArrayList<>();
            ByteBuffer stream = ByteBuffer.allocate(1 << 20);
            while (stream.remaining() > 70_000 && lengths.size() < 20) {
                int n = 1 + (random.nextInt(4) == 0 ? random.nextInt(LengthPrefix.MAX_MESSAGE) : random.nextInt(1600));
                byte[] m = new byte[n];
                random.nextBytes(m);
                assertTrue(LengthPrefix.put(stream, ByteBuffer.wrap(m)));
                lengths.add(n);
            }
            byte[] bytes = java.util.Arrays.copyOf(stream.array(), stream.position());
            StringBuilder expected = new StringBuilder();
            lengths.forEach(n -> expected.append(n).append(','));
            expected.append("end@").append(bytes.length);
            assertEquals(expected.toString(), LengthPrefixFuzzTest.decode(bytes, 1 + random.nextInt(3000)));
            byte[] garbage = new byte[random.nextInt(5000)];
            random.nextBytes(garbage);
            assertEquals(LengthPrefixFuzzTest.decode(garbage, garbage.length),
                    LengthPrefixFuzzTest.decode(garbage, 1 + random.nextInt(64)));
        }
    }
}

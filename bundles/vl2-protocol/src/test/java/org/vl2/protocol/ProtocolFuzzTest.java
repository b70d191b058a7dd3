package org.vl2.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Every decoder of the protocol on whatever a UDP socket can hand the switch or an agent: each one returns a
 * message or throws {@link ProtocolException}, nothing else (Jazzer reports any other exception as a finding), and
 * reads only between position and limit. The input is decoded from several buffer layouts (heap and direct, both
 * byte orders, at position 0 of an exact-size array and behind bytes that differ from the datagram's); all must
 * give the same answer and leave position, limit and content as they were. A decoded message also survives
 * re-encoding: encode then decode gives it back.
 *
 * <p>Fuzzed for {@code vl2.fuzz.duration} by {@code mvn verify} (see bundles/pom.xml); seeds in
 * {@code ProtocolFuzzTestInputs/datagrams}.
 */
class ProtocolFuzzTest {

    /** One decoder's outcome: the message, or the exception type. */
    private record Outcome(Object message, Class<?> failure) {
    }

    @FunctionalInterface
    private interface Decode {
        Object apply(ByteBuffer b) throws ProtocolException;
    }

    private static final List<Decode> DECODERS = List.of(
            b -> Wire.type(b), b -> Wire.version(b), b -> Wire.flags(b),
            b -> FrameHeader.port(b), b -> FrameHeader.token(b),
            Join::decode, Welcome::decode, Keepalive::decode, Leave::decode, ProtocolError::decode,
            KeyRequest::decode, KeyReply::decode);

    @FuzzTest
    void datagrams(byte[] datagram) throws ProtocolException {
        List<ByteBuffer> layouts = layouts(datagram);
        List<Outcome> reference = null;
        for (ByteBuffer b : layouts) {
            int position = b.position();
            int limit = b.limit();
            List<Outcome> outcomes = new ArrayList<>(DECODERS.size());
            for (Decode d : DECODERS) {
                outcomes.add(outcome(d, b));
                assertEquals(position, b.position(), "a decoder moved the position");
                assertEquals(limit, b.limit(), "a decoder moved the limit");
            }
            for (int i = 0; i < datagram.length; i++) {
                assertEquals(datagram[i], b.get(position + i), "a decoder changed the datagram");
            }
            if (reference == null) {
                reference = outcomes;
            } else {
                assertEquals(reference, outcomes, "the buffer layout changed a decoder's answer: " + b);
            }
        }
        for (Outcome o : reference) {
            reencodes(o.message());
        }
    }

    private static Outcome outcome(Decode d, ByteBuffer b) {
        try {
            return new Outcome(Objects.requireNonNull(d.apply(b), "decoded null"), null);
        } catch (ProtocolException e) {
            return new Outcome(null, e.getClass());
        }
    }

    /** Encode then decode gives the message back (what a decoder accepts, an encoder can write). */
    private static void reencodes(Object m) throws ProtocolException {
        ByteBuffer out = ByteBuffer.allocate(Wire.ERROR_HEADER_LENGTH + ProtocolError.MAX_MESSAGE);
        if (m instanceof Join j) {
            j.encode(out);
            assertEquals(j, Join.decode(out.flip()));
        } else if (m instanceof Welcome w) {
            w.encode(out);
            assertEquals(w, Welcome.decode(out.flip()));
        } else if (m instanceof Keepalive k) {
            k.encode(out);
            assertEquals(k, Keepalive.decode(out.flip()));
        } else if (m instanceof Leave l) {
            l.encode(out);
            assertEquals(l, Leave.decode(out.flip()));
        } else if (m instanceof KeyReply k) {
            k.encode(out);
            assertEquals(k, KeyReply.decode(out.flip()));
        } else if (m instanceof ProtocolError e) {
            e.encode(out, out.capacity());
            ProtocolError back = ProtocolError.decode(out.flip());
            // Malformed UTF-8 decodes to U+FFFD (3 bytes each), which may not fit in 255 bytes again: then a prefix.
            assertEquals(new ProtocolError(e.code(), e.port(), e.nonce(), ""),
                    new ProtocolError(back.code(), back.port(), back.nonce(), ""));
            assertTrue(e.message().startsWith(back.message()), "message " + back.message() + " of " + e.message());
        }
    }

    /** Reused between inputs (a fuzzer runs thousands a second): grown when an input does not fit. */
    private ByteBuffer direct = ByteBuffer.allocateDirect(0);
    private ByteBuffer heap = ByteBuffer.allocate(0);
    private ByteBuffer heap2 = ByteBuffer.allocate(0);

    /**
     * The datagram at position 0 of an exact-size heap array (a read past the limit throws), and behind and before
     * the bitwise complement of its own bytes in a direct little-endian buffer, a big-endian slice and a read-only
     * buffer (a read outside position..limit gives another answer).
     */
    private List<ByteBuffer> layouts(byte[] datagram) {
        if (direct.capacity() < datagram.length + 24) {
            direct = ByteBuffer.allocateDirect(datagram.length + 1024);
            heap = ByteBuffer.allocate(datagram.length + 1024);
            heap2 = ByteBuffer.allocate(datagram.length + 1024);
        }
        List<ByteBuffer> out = new ArrayList<>(4);
        out.add(ByteBuffer.wrap(datagram.clone()));
        out.add(place(direct.duplicate().order(ByteOrder.LITTLE_ENDIAN), 11, datagram));
        out.add(place(heap.slice(7, datagram.length + 13), 5, datagram));
        out.add(place(heap2.duplicate(), 16, datagram).asReadOnlyBuffer());
        return out;
    }

    private static ByteBuffer place(ByteBuffer b, int at, byte[] datagram) {
        int end = Math.min(b.capacity(), at + datagram.length + 8);
        for (int i = 0; i < end; i++) {
            int mirror = datagram.length == 0 ? 0 : Math.floorMod(i - at, datagram.length);
            b.put(i, (byte) ~(datagram.length == 0 ? 0x5A : datagram[mirror]));
        }
        b.put(at, datagram);
        return b.clear().position(at).limit(at + datagram.length);
    }
}

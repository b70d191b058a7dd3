package org.vl2.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.vl2.protocol.Buffers.assertEncodes;
import static org.vl2.protocol.Buffers.decode;
import static org.vl2.protocol.Buffers.encode;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class KeepaliveTest {

    @Test
    void encodesTheLayoutOfTheSpec() throws Exception {
        Keepalive ping = new Keepalive(false, 7, 0xa1b2c3d4e5f60718L, 42);
        byte[] bytes = assertEncodes("56 01 04 00  00 00 00 07  a1 b2 c3 d4 e5 f6 07 18  00 00 00 00 00 00 00 2a",
                ping::encode);
        assertEquals(ping, decode(bytes, Keepalive::decode));

        Keepalive ack = new Keepalive(true, 7, 0xa1b2c3d4e5f60718L, 42);
        bytes = assertEncodes("56 01 05 00  00 00 00 07  a1 b2 c3 d4 e5 f6 07 18  00 00 00 00 00 00 00 2a",
                ack::encode);
        assertEquals(ack, decode(bytes, Keepalive::decode));
    }

    @Test
    void roundTripsEdgeValuesAndIgnoresTrailingBytes() throws Exception {
        for (Keepalive k : new Keepalive[] {new Keepalive(false, -1, -1L, -1L), new Keepalive(true, 0, 0, 0),
                new Keepalive(true, Integer.MIN_VALUE, Long.MIN_VALUE, Long.MAX_VALUE)}) {
            byte[] bytes = encode(k::encode);
            assertEquals(Wire.KEEPALIVE_LENGTH, bytes.length);
            assertEquals(k, decode(bytes, Keepalive::decode));
            assertEquals(k, decode(Arrays.copyOf(bytes, 40), Keepalive::decode));
        }
    }
}

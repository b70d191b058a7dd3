package org.vl2.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.vl2.protocol.Buffers.assertEncodes;
import static org.vl2.protocol.Buffers.decode;
import static org.vl2.protocol.Buffers.encode;

import org.junit.jupiter.api.Test;

class LeaveTest {

    @Test
    void encodesTheLayoutOfTheSpec() throws Exception {
        Leave leave = new Leave(7, 0xa1b2c3d4e5f60718L);
        byte[] bytes = assertEncodes("56 01 06 00  00 00 00 07  a1 b2 c3 d4 e5 f6 07 18", leave::encode);
        assertEquals(leave, decode(bytes, Leave::decode));
    }

    @Test
    void roundTripsEdgeValues() throws Exception {
        for (Leave l : new Leave[] {new Leave(-1, -1L), new Leave(0, 0), new Leave(0x80000000, 0x8000000000000000L)}) {
            byte[] bytes = encode(l::encode);
            assertEquals(Wire.LEAVE_LENGTH, bytes.length);
            assertEquals(l, decode(bytes, Leave::decode));
        }
    }
}

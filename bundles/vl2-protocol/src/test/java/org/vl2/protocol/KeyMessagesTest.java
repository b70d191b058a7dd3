package org.vl2.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.protocol.Buffers.assertEncodes;
import static org.vl2.protocol.Buffers.decode;

import org.junit.jupiter.api.Test;

class KeyMessagesTest {

    @Test
    void keyRequestIsAHeaderAndZeroPadding() throws Exception {
        byte[] bytes = assertEncodes("56 01 0b 00" + " 00".repeat(60), new KeyRequest()::encode);
        assertEquals(new KeyRequest(), decode(bytes, KeyRequest::decode));
    }

    @Test
    void keyReplyCarriesTheKeyAfterFourReservedBytes() throws Exception {
        byte[] key = new byte[32];
        StringBuilder hex = new StringBuilder("56 01 0c 00  00 00 00 00 ");
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) (255 - i);
            hex.append(String.format(" %02x", 255 - i));
        }
        KeyReply reply = new KeyReply(key);
        byte[] bytes = assertEncodes(hex.toString(), reply::encode);
        KeyReply back = decode(bytes, KeyReply::decode);
        assertEquals(reply, back);
        assertArrayEquals(key, back.publicKey());
    }

    @Test
    void aReplyIsNeverLongerThanTheRequestItAnswers() {
        assertTrue(Wire.KEY_REPLY_LENGTH <= Wire.KEY_REQUEST_LENGTH);
    }

    @Test
    void keysAreCopiedAndMustBe32Bytes() {
        byte[] key = new byte[32];
        KeyReply reply = new KeyReply(key);
        key[0] = 1;
        assertEquals(0, reply.publicKey()[0]);
        reply.publicKey()[1] = 1;
        assertEquals(0, reply.publicKey()[1]);
        assertThrows(IllegalArgumentException.class, () -> new KeyReply(new byte[31]));
        assertThrows(IllegalArgumentException.class, () -> new KeyReply(new byte[33]));
    }
}

package org.vl2.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;
import org.vl2.protocol.FrameHeader;
import org.vl2.protocol.Wire;

/** The handshake and sealed messages fit protocol v1 (docs/protocol.md) as docs/crypto.md says. */
class ProtocolFitTest {

    @Test
    void handshakeUsesTheCommonHeaderAndTheReservedTypes() throws CryptoException {
        assertEquals(Wire.MAGIC, Handshake.MAGIC);
        assertEquals(Wire.VERSION, Handshake.VERSION);
        assertTrue(Handshake.INITIATION >= 8 && Handshake.INITIATION <= 15);
        assertTrue(Handshake.RESPONSE >= 8 && Handshake.RESPONSE <= 15);
        assertTrue(Handshake.COOKIE_REPLY >= 8 && Handshake.COOKIE_REPLY <= 15);
        Fixtures.Pair p = Fixtures.handshake();
        byte[] cookieReply = new CookieChecker(Fixtures.SWITCH).cookieReply(ByteBuffer.wrap(p.initiation()),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 9999));
        for (byte[] msg : new byte[][] {p.initiation(), p.response(), cookieReply}) {
            ByteBuffer b = ByteBuffer.wrap(msg);
            assertEquals(-1, Wire.type(b), "version 1 plaintext peers drop it as an unknown type");
            assertEquals(Wire.VERSION, Wire.version(b));
            assertEquals(0, Wire.flags(b));
        }
    }

    @Test
    void noAnswerToAnInitiationIsLargerThanIt() {
        // a response with WELCOME's 60 bytes of fields, or an ERROR with a message: both within the smallest
        assertTrue(Handshake.RESPONSE_OVERHEAD + Wire.WELCOME_LENGTH - Wire.HEADER_LENGTH
                <= Handshake.MIN_INITIATION_LENGTH);
        assertTrue(Wire.ERROR_HEADER_LENGTH + 200 <= Handshake.MIN_INITIATION_LENGTH);
        assertTrue(Handshake.COOKIE_REPLY_LENGTH <= Handshake.MIN_INITIATION_LENGTH);
        // JOIN's fields fit an initiation of the smallest size
        assertEquals(Handshake.MIN_INITIATION_LENGTH, Handshake.initiationLength(Wire.JOIN_LENGTH - Wire.HEADER_LENGTH));
        assertEquals(Handshake.MIN_INITIATION_LENGTH, Handshake.initiationLength(Wire.JOIN_LENGTH), "the whole JOIN");
    }

    @Test
    void lengthsAreTheDocumentedOnes() {
        // docs/crypto.md: L = max(256, 150 + payload rounded up to 16), 256..1184; RESPONSE 62 + payload; COOKIE
        // REPLY 52
        assertEquals(150, Handshake.INITIATION_OVERHEAD);
        assertEquals(256, Handshake.MIN_INITIATION_LENGTH);
        assertEquals(1184, Handshake.MAX_INITIATION_LENGTH);
        assertEquals(1184, Handshake.initiationLength(Handshake.MAX_PAYLOAD));
        assertEquals(256, Handshake.initiationLength(106));
        assertEquals(272, Handshake.initiationLength(107));
        assertEquals(62, Handshake.RESPONSE_OVERHEAD);
        assertEquals(4 + 4 + 12 + Cookies.COOKIE_LENGTH + 16, Handshake.COOKIE_REPLY_LENGTH);
        assertEquals(110, Cookies.COOKIE_USE_SECONDS);
    }

    @Test
    void sealedFrameKeepsTheFrameHeaderLayout() throws CryptoException {
        Fixtures.Pair p = Fixtures.handshake();
        assertEquals(FrameHeader.LENGTH, Session.MIN_HEADER_LENGTH);
        assertEquals(Wire.FRAME_HEADER_LENGTH, Session.MIN_HEADER_LENGTH);
        ByteBuffer buf = ByteBuffer.allocateDirect(1600);
        byte[] eth = new byte[1400];
        eth[12] = 0x08; // IPv4 ethertype
        for (int n = 0; n < 3; n++) {
            FrameHeader.write(buf, 0, p.agent().remoteIndex(), 0);
            buf.put(3, (byte) Wire.FLAG_SEALED);
            buf.put(FrameHeader.LENGTH, eth);
            int len = p.agent().seal(buf, 0, FrameHeader.LENGTH, eth.length, System.nanoTime());
            assertEquals(FrameHeader.LENGTH + eth.length + Session.TAG_LENGTH, len);
            ByteBuffer datagram = buf.duplicate().position(0).limit(len);
            assertEquals(Wire.FRAME, Wire.type(datagram));
            assertEquals(Wire.FLAG_SEALED, Wire.flags(datagram));
            assertEquals(p.sw().localIndex(), FrameHeader.port(datagram), "offset 4: the receiver's index");
            assertEquals(n, FrameHeader.token(datagram), "offset 8: the counter, where v1 has the token");
            assertEquals(eth.length, p.sw().open(buf, 0, FrameHeader.LENGTH, len - FrameHeader.LENGTH,
                    System.nanoTime()));
            assertEquals(0x08, buf.get(FrameHeader.LENGTH + 12));
        }
    }

    @Test
    void sealedKeepaliveIsHeaderPlusSealedSequence() throws CryptoException {
        Fixtures.Pair p = Fixtures.handshake();
        ByteBuffer buf = ByteBuffer.allocate(64);
        FrameHeader.write(buf, 0, p.agent().remoteIndex(), 0);
        buf.put(2, (byte) Wire.KEEPALIVE).put(3, (byte) Wire.FLAG_SEALED).putLong(16, 12345L);
        int len = p.agent().seal(buf, 0, 16, Wire.KEEPALIVE_LENGTH - 16, System.nanoTime());
        assertEquals(Wire.KEEPALIVE_LENGTH + Session.TAG_LENGTH, len);
        assertEquals(8, p.sw().open(buf, 0, 16, len - 16, System.nanoTime()));
        assertEquals(12345L, buf.getLong(16));
    }
}

package org.vl2.crypto;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;

/** Shared test helpers: hex, identities, a completed handshake. */
final class Fixtures {

    static final Identity SWITCH = Identity.generate();
    static final Identity AGENT = Identity.generate();

    private Fixtures() {
    }

    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replaceAll("\\s", ""));
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    /** Both ends of one handshake between AGENT (initiator) and SWITCH (responder). */
    record Pair(Session agent, Session sw, byte[] initiation, byte[] response) {
    }

    /** ChaCha20-Poly1305 sessions, as before negotiation. */
    static Pair handshake() throws CryptoException {
        return handshake(Session.Limits.DEFAULT);
    }

    static Pair handshake(Session.Limits limits) throws CryptoException {
        return handshake(limits, CipherSuite.CHACHA20_POLY1305);
    }

    /** A handshake whose sessions use {@code suite} (the only one offered). */
    static Pair handshake(Session.Limits limits, CipherSuite suite) throws CryptoException {
        return handshake(limits, suite, 0x1111, 0x2222);
    }

    /** A handshake whose sessions use {@code suite}, with these local indices (a fresh timestamp guard each). */
    static Pair handshake(Session.Limits limits, CipherSuite suite, int agentIndex, int switchIndex)
            throws CryptoException {
        Initiator i = Initiator.create(AGENT, SWITCH.publicKey(), agentIndex, new byte[] {1, 2, 3}, null,
                List.of(suite));
        byte[] initiation = i.initiation();
        Responder r = Responder.consume(SWITCH, ByteBuffer.wrap(initiation), new TimestampGuard());
        Responder.Reply reply = r.respond(switchIndex, new byte[] {4, 5}, limits);
        Initiator.Completion done = i.consume(ByteBuffer.wrap(reply.response()), limits);
        return new Pair(done.session(), reply.session(), initiation, reply.response());
    }

    /** A 16-byte header (type 3, flags SEALED, index) followed by {@code payload}, with room for the tag. */
    static ByteBuffer frame(ByteBuffer buf, int index, byte[] payload) {
        // bytes one by one: big-endian whatever the buffer's order
        buf.clear();
        buf.put(new byte[] {0x56, 1, 3, 1, (byte) (index >>> 24), (byte) (index >>> 16), (byte) (index >>> 8),
                (byte) index, 0, 0, 0, 0, 0, 0, 0, 0}).put(payload);
        buf.clear();
        return buf;
    }
}

package org.vl2.itests;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.vl2.protocol.FrameHeader;
import org.vl2.protocol.Join;
import org.vl2.protocol.ProtocolError;
import org.vl2.protocol.ProtocolException;
import org.vl2.protocol.Welcome;
import org.vl2.protocol.Wire;

/**
 * A vl2-protocol member as an agent is one, without a TAP: a UDP socket on loopback that joins a network and
 * sends and receives FRAME messages. Every receive is bounded by a timeout.
 */
final class Vl2Member extends UdpPeer {

    final String mac;
    final long member;
    Welcome welcome;
    ProtocolError error;
    private final InetSocketAddress switchAddress;

    Vl2Member(long member, String mac, int switchPort) throws IOException {
        super(new InetSocketAddress("127.0.0.1", 0));
        this.member = member;
        this.mac = mac;
        this.switchAddress = new InetSocketAddress("127.0.0.1", switchPort);
    }

    /** This member's address as the switch's ports show it ({@code 127.0.0.1:port}). */
    String address() throws IOException {
        return "127.0.0.1:" + localPort();
    }

    /** The encrypted session after {@link #joinEncrypted}, else null (plaintext). */
    org.vl2.crypto.Session session;

    /**
     * The encrypted handshake (docs/crypto.md): an INITIATION carrying the JOIN, until a RESPONSE (true) or an
     * ERROR (false) comes back (bounded). Frames are sealed from then on.
     */
    boolean joinEncrypted(org.vl2.crypto.Identity self, byte[] switchKey, long network, long millis) throws Exception {
        long deadline = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < deadline) {
            ByteBuffer join = ByteBuffer.allocate(Wire.JOIN_LENGTH);
            long nonce = System.nanoTime();
            new Join(network, self.memberId(), nonce, 1518, 0, null, "it-" + Long.toHexString(self.memberId()))
                    .encode(join);
            org.vl2.crypto.Initiator initiator = org.vl2.crypto.Initiator.create(self, switchKey,
                    (int) (nonce & 0x7fffffff) | 1, join.array());
            channel.send(ByteBuffer.wrap(initiator.initiation()), switchAddress);
            byte[] d = receiveDatagram(500);
            if (d == null) {
                continue;
            }
            ByteBuffer answer = ByteBuffer.wrap(d);
            if (d.length > 2 && d[2] == 9) {
                org.vl2.crypto.Initiator.Completion c = initiator.consume(answer);
                session = c.session();
                welcome = Welcome.decode(ByteBuffer.wrap(c.payload()));
                return true;
            }
            if (Wire.type(answer) == Wire.ERROR) {
                ProtocolError e = ProtocolError.decode(answer);
                if (e.nonce() != nonce) {
                    continue; // an answer to something else (e.g. a frame sent before): not this join's
                }
                error = e;
                return false;
            }
        }
        throw new AssertionError("member: no answer to the INITIATION within " + millis + " ms");
    }

    /** Sends JOIN until a WELCOME or ERROR comes back (bounded); true for a WELCOME. */
    boolean join(long network, Inet4Address requested, long millis) throws IOException, ProtocolException {
        ByteBuffer b = ByteBuffer.allocate(Wire.JOIN_LENGTH);
        new Join(network, member, System.nanoTime(), 1518, Join.CAP_IPV6, requested, "it-" + Long.toHexString(member))
                .encode(b);
        long deadline = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < deadline) {
            channel.send(b.flip(), switchAddress);
            byte[] d = receiveDatagram(500);
            if (d == null) {
                continue;
            }
            ByteBuffer answer = ByteBuffer.wrap(d);
            if (Wire.type(answer) == Wire.WELCOME) {
                welcome = Welcome.decode(answer);
                return true;
            }
            if (Wire.type(answer) == Wire.ERROR) {
                error = ProtocolError.decode(answer);
                return false;
            }
        }
        throw new AssertionError("member " + Long.toHexString(member) + ": no answer to JOIN within " + millis + " ms");
    }

    void send(String dst, String tag) throws Exception {
        byte[] frame = Frames.ethernet(dst, mac, -1, tag);
        if (session != null) {
            ByteBuffer b = ByteBuffer.allocate(16 + frame.length + 16);
            b.put(0, (byte) Wire.MAGIC).put(1, (byte) Wire.VERSION).put(2, (byte) Wire.FRAME)
                    .put(3, (byte) Wire.FLAG_SEALED).putInt(4, session.remoteIndex()).put(16, frame);
            session.seal(b, 0, 16, frame.length, System.nanoTime());
            channel.send(b, switchAddress);
            return;
        }
        ByteBuffer d = ByteBuffer.allocate(FrameHeader.LENGTH + frame.length);
        FrameHeader.write(d, 0, welcome.port(), welcome.token());
        d.position(FrameHeader.LENGTH);
        d.put(frame).flip();
        channel.send(d, switchAddress);
    }

    /** The Ethernet frame of the next FRAME for this member's session tagged {@code tag}, or null. */
    byte[] receiveTagged(String tag, long millis) throws IOException {
        long deadline = System.currentTimeMillis() + millis;
        while (true) {
            byte[] frame = receiveFrame(deadline - System.currentTimeMillis());
            if (frame == null || tag.equals(Frames.tag(frame))) {
                return frame;
            }
        }
    }

    /**
     * The frames this member gets before the one tagged {@code marker} (exclusive), waiting at most {@code millis}
     * for it: a negative check without sleeping, as {@link RawPort#receiveUntil} is.
     */
    List<byte[]> receiveUntil(String marker, long millis) throws IOException {
        List<byte[]> before = new ArrayList<>();
        long deadline = System.currentTimeMillis() + millis;
        while (true) {
            byte[] frame = receiveFrame(deadline - System.currentTimeMillis());
            if (frame == null) {
                throw new AssertionError("member " + Long.toHexString(member) + ": marker '" + marker
                        + "' not received within " + millis + " ms; got " + before.size() + " frames before");
            }
            if (marker.equals(Frames.tag(frame))) {
                return before;
            }
            before.add(frame);
        }
    }

    /** The Ethernet frame of the next FRAME for this member's session within {@code millis}, or null. */
    private byte[] receiveFrame(long millis) throws IOException {
        long deadline = System.currentTimeMillis() + millis;
        while (true) {
            long left = deadline - System.currentTimeMillis();
            byte[] d = left > 0 ? receiveDatagram(left) : null;
            if (d == null) {
                return null;
            }
            ByteBuffer b = ByteBuffer.wrap(d);
            if (session != null && Wire.type(b) == Wire.FRAME && (Wire.flags(b) & Wire.FLAG_SEALED) != 0) {
                try {
                    int n = session.open(b, 0, 16, d.length - 16, System.nanoTime());
                    return Arrays.copyOfRange(d, 16, 16 + n);
                } catch (org.vl2.crypto.CryptoException ignored) {
                    // not for this session: skip it
                }
                continue;
            }
            if (Wire.type(b) == Wire.FRAME && FrameHeader.port(b) == welcome.port()
                    && FrameHeader.token(b) == welcome.token()) {
                return Arrays.copyOfRange(d, FrameHeader.LENGTH, d.length);
            }
        }
    }
}

package org.vl2.protocol;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.nio.ByteBuffer;

/**
 * WELCOME (switch to agent), exactly 64 bytes: the agent's port, session and addresses.
 *
 * @param network          network id joined
 * @param nonce            copied from the JOIN
 * @param port             the agent's port id (unsigned 32-bit)
 * @param token            session token for FRAME, KEEPALIVE and LEAVE
 * @param mtu              IP MTU for the agent's TAP, 0..65535
 * @param keepaliveSeconds keepalive interval, 0..65535
 * @param ipv4             assigned address, {@code null} (or 0.0.0.0) = none; then {@code ipv4Prefix} is 0
 * @param ipv4Prefix       0..32
 * @param ipv6             assigned address, {@code null} = none, exactly when {@code ipv6Prefix} is 0 (the
 *                         wire marks "no IPv6" by the prefix alone)
 * @param ipv6Prefix       0..128
 */
public record Welcome(long network, long nonce, int port, long token, int mtu, int keepaliveSeconds,
        Inet4Address ipv4, int ipv4Prefix, Inet6Address ipv6, int ipv6Prefix) {

    public Welcome {
        Codec.unsigned16("mtu", mtu);
        Codec.unsigned16("keepalive seconds", keepaliveSeconds);
        if (ipv4 != null && ipv4.isAnyLocalAddress()) {
            ipv4 = null;   // 0.0.0.0 is "none" on the wire; one representation only
        }
        if (ipv4Prefix < 0 || ipv4Prefix > 32 || ipv4 == null && ipv4Prefix != 0) {
            throw new IllegalArgumentException("IPv4 prefix must be 0..32, and 0 without an address, got "
                    + ipv4Prefix);
        }
        // Each way round would not survive the wire: prefix 0 is how "no IPv6 address" is sent.
        if (ipv6Prefix < 0 || ipv6Prefix > 128 || (ipv6 == null) != (ipv6Prefix == 0)) {
            throw new IllegalArgumentException("IPv6 prefix must be 1..128 with an address, 0 without, got "
                    + ipv6Prefix);
        }
    }

    /** Writes exactly 64 bytes at the position and advances it. */
    public void encode(ByteBuffer out) {
        int at = Codec.reserve(out, Wire.WELCOME_LENGTH);
        Codec.putHeader(out, at, Wire.WELCOME, 0);
        Codec.put64(out, at + 4, network);
        Codec.put64(out, at + 12, nonce);
        Codec.put32(out, at + 20, port);
        Codec.put64(out, at + 24, token);
        Codec.put16(out, at + 32, mtu);
        Codec.put16(out, at + 34, keepaliveSeconds);
        Codec.putIpv4(out, at + 36, ipv4);
        Codec.put8(out, at + 40, ipv4Prefix);
        Codec.put8(out, at + 41, ipv6Prefix);
        Codec.put16(out, at + 42, 0);
        Codec.putIpv6(out, at + 44, ipv6);
        Codec.put32(out, at + 60, 0);
        out.position(at + Wire.WELCOME_LENGTH);
    }

    /** Reads a WELCOME from [position, limit) without moving either; bytes after the 64th are ignored. */
    public static Welcome decode(ByteBuffer datagram) throws ProtocolException {
        int p = Codec.check(datagram, Wire.WELCOME, Wire.WELCOME, Wire.WELCOME_LENGTH);
        Inet4Address ipv4 = Codec.ipv4(datagram, p + 36);
        int ipv4Prefix = Codec.u8(datagram, p + 40);
        int ipv6Prefix = Codec.u8(datagram, p + 41);
        if (ipv4 == null) {
            ipv4Prefix = 0;   // no address: its prefix means nothing
        } else if (ipv4Prefix > 32) {
            throw new ProtocolException("welcome IPv4 prefix " + ipv4Prefix + " > 32");
        }
        if (ipv6Prefix > 128) {
            throw new ProtocolException("welcome IPv6 prefix " + ipv6Prefix + " > 128");
        }
        Inet6Address ipv6 = ipv6Prefix == 0 ? null : Codec.ipv6(datagram, p + 44);
        return new Welcome(Codec.i64(datagram, p + 4), Codec.i64(datagram, p + 12), Codec.i32(datagram, p + 20),
                Codec.i64(datagram, p + 24), Codec.u16(datagram, p + 32), Codec.u16(datagram, p + 34),
                ipv4, ipv4Prefix, ipv6, ipv6Prefix);
    }
}

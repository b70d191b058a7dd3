package org.vl2.protocol;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * ROUTES (switch to agent, type {@value Wire#ROUTES}): the managed routes of the agent's network that are in force,
 * and their version. Only ever sealed (docs/protocol.md): routes change a host's routing table, so an agent takes them
 * only from its authenticated session. This class codes the body, which follows the 16-byte sealed header:
 *
 * <pre>
 * offset size field
 *  0      8   network id
 *  8      8   version        switch epoch (high 32 bits) and counter; see {@link #newer}
 * 16      2   count          0..{@value #MAX_ROUTES}
 * 18      2   reserved
 * 20   40*n   routes: family (4 or 6), prefix length, 2 reserved, metric (32), destination (16), gateway (16);
 *             IPv4 addresses in the first 4 bytes of their 16, the rest zero
 * </pre>
 *
 * The agent answers with a ROUTES-ACK ({@link #encodeAck}): network id and version, 16 bytes, sealed.
 */
public record Routes(long network, long version, List<Route> routes) {

    /** At most this many routes per network: a ROUTES then still fits a 1400-byte datagram, sealed. */
    public static final int MAX_ROUTES = 32;
    public static final int FIXED_LENGTH = 20;
    public static final int ENTRY_LENGTH = 40;
    public static final int ACK_LENGTH = 16;

    public Routes {
        routes = List.copyOf(routes);
        if (routes.size() > MAX_ROUTES) {
            throw new IllegalArgumentException("at most " + MAX_ROUTES + " routes, got " + routes.size());
        }
    }

    /** Bytes of the body. */
    public int length() {
        return FIXED_LENGTH + ENTRY_LENGTH * routes.size();
    }

    /** Writes the body at absolute index {@code at}; does not move the position. */
    public void encode(ByteBuffer out, int at) {
        if (at < 0 || at + length() > out.limit()) {
            throw new IndexOutOfBoundsException("routes of " + length() + " bytes at " + at + " exceed limit "
                    + out.limit());
        }
        Codec.put64(out, at, network);
        Codec.put64(out, at + 8, version);
        Codec.put16(out, at + 16, routes.size());
        Codec.put16(out, at + 18, 0);
        int p = at + FIXED_LENGTH;
        for (Route r : routes) {
            Codec.zero(out, p, ENTRY_LENGTH);
            Codec.put8(out, p, r.ipv4() ? 4 : 6);
            Codec.put8(out, p + 1, r.prefixLength());
            Codec.put32(out, p + 4, r.metric());
            out.put(p + 8, r.destination().getAddress());
            out.put(p + 24, r.gateway().getAddress());
            p += ENTRY_LENGTH;
        }
    }

    /** Reads a body of {@code length} bytes at absolute index {@code at}. */
    public static Routes decode(ByteBuffer in, int at, int length) throws ProtocolException {
        if (length < FIXED_LENGTH) {
            throw new ProtocolException("routes too short: " + length + " bytes");
        }
        int count = Codec.u16(in, at + 16);
        if (count > MAX_ROUTES || length != FIXED_LENGTH + ENTRY_LENGTH * count) {
            throw new ProtocolException("routes: " + count + " entries in " + length + " bytes");
        }
        List<Route> routes = new ArrayList<>(count);
        int p = at + FIXED_LENGTH;
        for (int i = 0; i < count; i++, p += ENTRY_LENGTH) {
            int family = Codec.u8(in, p);
            if (family != 4 && family != 6) {
                throw new ProtocolException("route " + i + ": family " + family);
            }
            int size = family == 4 ? 4 : 16;
            byte[] d = new byte[size];
            byte[] g = new byte[size];
            in.get(p + 8, d);
            in.get(p + 24, g);
            InetAddress dst = Route.address(d);
            InetAddress gw = Route.address(g);
            try {
                routes.add(new Route(dst, Codec.u8(in, p + 1), gw, Codec.i32(in, p + 4)));
            } catch (IllegalArgumentException e) {
                throw new ProtocolException("route " + i + ": " + e.getMessage());
            }
        }
        return new Routes(Codec.i64(in, at), Codec.i64(in, at + 8), routes);
    }

    /** Writes a ROUTES-ACK body (network id, version) at absolute index {@code at}. */
    public static void encodeAck(ByteBuffer out, int at, long network, long version) {
        Codec.put64(out, at, network);
        Codec.put64(out, at + 8, version);
    }

    /** The network id of a ROUTES-ACK body at {@code at}. */
    public static long ackNetwork(ByteBuffer in, int at) {
        return Codec.i64(in, at);
    }

    /** The version of a ROUTES-ACK body at {@code at}. */
    public static long ackVersion(ByteBuffer in, int at) {
        return Codec.i64(in, at + 8);
    }

    /**
     * Whether {@code version} replaces {@code held}: another switch epoch (the switch restarted: its counter began
     * again), or a higher counter in the same epoch (sealed messages may arrive out of order).
     */
    public static boolean newer(long version, long held) {
        if (version >>> 32 != held >>> 32) {
            return true;
        }
        return Integer.compareUnsigned((int) version, (int) held) > 0;
    }
}

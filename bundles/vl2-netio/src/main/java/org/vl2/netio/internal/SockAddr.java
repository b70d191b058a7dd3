package org.vl2.netio.internal;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * {@code struct sockaddr_in}/{@code sockaddr_in6} to and from {@link InetSocketAddress}, without allocating in
 * the steady state: decoded sources come from a direct-mapped cache (a switch sees the same few thousand peers
 * again and again), and IPv4 destinations are encoded from {@link Inet4Address#hashCode()}, which is the
 * address (checked once at class load; where it is not, {@code getAddress()} is used).
 *
 * <p>Not thread-safe: one instance per thread that decodes. IPv4-mapped IPv6 sources ({@code ::ffff:a.b.c.d}, what
 * a dual-stack socket reports for IPv4 peers) come out as IPv4 addresses, as Java's own sockets report them, so a
 * peer has one identity whichever socket family it reached.
 */
public final class SockAddr {

    /** Room for the largest address handled, {@code sockaddr_in6} (28 bytes), rounded up. */
    public static final int SIZE = 32;
    public static final int IN_SIZE = 16;
    public static final int IN6_SIZE = 28;

    private static final boolean HASH_IS_ADDRESS = hashIsAddress();
    /** The control buffers are in native order; network-order fields are read whole and swapped where needed. */
    private static final boolean SWAP = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    private static final int CACHE = 4096;
    private final long[] k0 = new long[CACHE];
    private final long[] k1 = new long[CACHE];
    private final long[] k2 = new long[CACHE];
    private final InetSocketAddress[] cached = new InetSocketAddress[CACHE];

    private static boolean hashIsAddress() {
        try {
            return InetAddress.getByAddress(new byte[] {10, (byte) 200, 3, 4}).hashCode() == 0x0AC80304;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /**
     * Writes {@code to} at {@code at} in {@code b} (native order buffer) for a socket of {@code family}; returns the
     * length to pass to the kernel, or -1 if the address cannot be reached from such a socket (unresolved, or IPv6
     * from an IPv4 socket).
     */
    public static int encode(ByteBuffer b, int at, InetSocketAddress to, int family) {
        InetAddress a = to.getAddress();
        int port = to.getPort();
        if (a instanceof Inet4Address) {
            int v4 = HASH_IS_ADDRESS ? a.hashCode() : toInt(a.getAddress(), 0);
            if (family == Sys.AF_INET) {
                b.putShort(at, (short) Sys.AF_INET);
                putPort(b, at + 2, port);
                putInt32BigEndian(b, at + 4, v4);
                b.putLong(at + 8, 0L);
                return IN_SIZE;
            }
            b.putShort(at, (short) Sys.AF_INET6);
            putPort(b, at + 2, port);
            b.putInt(at + 4, 0);                      // flowinfo
            b.putLong(at + 8, 0L);                    // ::ffff:a.b.c.d
            b.putShort(at + 16, (short) 0);
            b.put(at + 18, (byte) 0xff);
            b.put(at + 19, (byte) 0xff);
            putInt32BigEndian(b, at + 20, v4);
            b.putInt(at + 24, 0);                     // scope
            return IN6_SIZE;
        }
        if (a instanceof Inet6Address v6 && family == Sys.AF_INET6) {
            byte[] bytes = v6.getAddress();
            b.putShort(at, (short) Sys.AF_INET6);
            putPort(b, at + 2, port);
            b.putInt(at + 4, 0);
            for (int i = 0; i < 16; i++) {
                b.put(at + 8 + i, bytes[i]);
            }
            b.putInt(at + 24, v6.getScopeId());
            return IN6_SIZE;
        }
        return -1;
    }

    /** The address at {@code at} in {@code b}, from the cache when it was seen before; null for other families. */
    public InetSocketAddress decode(ByteBuffer b, int at) {
        int family = b.getShort(at) & 0xffff;
        int port = getPort(b, at + 2);
        long a0;
        long a1;
        long scope;
        if (family == Sys.AF_INET) {
            a0 = getInt32BigEndian(b, at + 4) & 0xffff_ffffL;
            a1 = 0;
            scope = 0;
        } else if (family == Sys.AF_INET6) {
            a0 = b.getLong(at + 8);
            a1 = b.getLong(at + 16);
            scope = b.getInt(at + 24) & 0xffff_ffffL;
            if (a0 == 0 && isMapped(b, at + 8)) {
                family = Sys.AF_INET;
                a0 = getInt32BigEndian(b, at + 20) & 0xffff_ffffL;
                a1 = 0;
                scope = 0;
            }
        } else {
            return null;
        }
        long a2 = scope << 32 | (long) family << 16 | port;
        int slot = (int) (mix(a0 * 31 + a1, a2) & (CACHE - 1));
        InetSocketAddress hit = cached[slot];
        if (hit != null && k0[slot] == a0 && k1[slot] == a1 && k2[slot] == a2) {
            return hit;
        }
        InetSocketAddress made = create(b, at, family, port, a0, (int) scope);
        k0[slot] = a0;
        k1[slot] = a1;
        k2[slot] = a2;
        cached[slot] = made;
        return made;
    }

    /** Decodes without the cache (for one-off reads such as getsockname). */
    public static InetSocketAddress decodeOnce(ByteBuffer b, int at) {
        return new SockAddr().decode(b, at);
    }

    private static InetSocketAddress create(ByteBuffer b, int at, int family, int port, long v4, int scope) {
        try {
            if (family == Sys.AF_INET) {
                byte[] bytes = {(byte) (v4 >>> 24), (byte) (v4 >>> 16), (byte) (v4 >>> 8), (byte) v4};
                return new InetSocketAddress(InetAddress.getByAddress(bytes), port);
            }
            byte[] bytes = new byte[16];
            for (int i = 0; i < 16; i++) {
                bytes[i] = b.get(at + 8 + i);
            }
            return new InetSocketAddress(scope != 0 ? Inet6Address.getByAddress(null, bytes, scope)
                    : InetAddress.getByAddress(bytes), port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("kernel returned a malformed address", e); // lengths are fixed: cannot happen
        }
    }

    private static boolean isMapped(ByteBuffer b, int addr) {
        return getInt32BigEndian(b, addr + 8) == 0x0000_ffff;
    }

    private static long mix(long x, long y) {
        long h = (x ^ Long.rotateLeft(y, 29)) * 0x9E37_79B9_7F4A_7C15L;
        return h ^ (h >>> 32);
    }

    private static void putPort(ByteBuffer b, int at, int port) {
        short p = (short) port;
        b.putShort(at, SWAP ? Short.reverseBytes(p) : p);
    }

    private static int getPort(ByteBuffer b, int at) {
        short p = b.getShort(at);
        return (SWAP ? Short.reverseBytes(p) : p) & 0xffff;
    }

    private static void putInt32BigEndian(ByteBuffer b, int at, int v) {
        b.putInt(at, SWAP ? Integer.reverseBytes(v) : v);
    }

    private static int getInt32BigEndian(ByteBuffer b, int at) {
        int v = b.getInt(at);
        return SWAP ? Integer.reverseBytes(v) : v;
    }

    private static int toInt(byte[] a, int at) {
        return (a[at] & 0xff) << 24 | (a[at + 1] & 0xff) << 16 | (a[at + 2] & 0xff) << 8 | (a[at + 3] & 0xff);
    }

    /** For the test that pins the assumption: true if IPv4 destinations are encoded without allocating. */
    public static boolean encodesIpv4WithoutAllocation() {
        return HASH_IS_ADDRESS;
    }
}

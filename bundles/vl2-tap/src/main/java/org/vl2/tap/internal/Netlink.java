package org.vl2.tap.internal;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import com.sun.jna.Native;

import org.vl2.tap.KernelRoute;
import org.vl2.tap.TapException;

/**
 * One rtnetlink conversation (rtnetlink(7)): a NETLINK_ROUTE socket, requests built in a direct buffer (nlmsghdr,
 * rtmsg, rtattrs, host byte order; addresses in network order), answers read until the kernel's ACK (an
 * NLMSG_ERROR with error 0) or, for a dump, NLMSG_DONE. The kernel answers a route request while the request is
 * being sent, so a blocking recv never waits on anyone but the kernel.
 */
final class Netlink implements AutoCloseable {

    static final int AF_NETLINK = 16;
    static final int SOCK_RAW = 3;
    static final int NETLINK_ROUTE = 0;

    static final int NLMSG_ERROR = 2;
    static final int NLMSG_DONE = 3;
    static final int RTM_NEWROUTE = 24;
    static final int RTM_DELROUTE = 25;
    static final int RTM_GETROUTE = 26;

    static final int NLM_F_REQUEST = 0x1;
    static final int NLM_F_MULTI = 0x2;
    static final int NLM_F_ACK = 0x4;
    static final int NLM_F_DUMP = 0x300;
    static final int NLM_F_EXCL = 0x200;
    static final int NLM_F_CREATE = 0x400;

    static final int RTA_DST = 1;
    static final int RTA_OIF = 4;
    static final int RTA_GATEWAY = 5;
    static final int RTA_PRIORITY = 6;
    static final int RTA_TABLE = 15;

    static final int RTN_UNICAST = 1;
    static final int RT_SCOPE_NOWHERE = 255;

    private static final int HEADER = 16;
    private static final int RTMSG = 12;

    private final int fd;
    private final ByteBuffer out = ByteBuffer.allocateDirect(512).order(ByteOrder.nativeOrder());
    private final ByteBuffer in = ByteBuffer.allocateDirect(64 * 1024).order(ByteOrder.nativeOrder());
    private int seq = (int) System.nanoTime();

    Netlink() throws TapException {
        fd = LibC.socket(AF_NETLINK, SOCK_RAW | LibC.SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0) {
            throw new TapException("cannot open a netlink socket: " + Errno.describe(Native.getLastError()),
                    Native.getLastError());
        }
    }

    @Override
    public void close() {
        LibC.close(fd);
    }

    /** RTM_NEWROUTE (create, exclusive) or RTM_DELROUTE of {@code r}; errors as the kernel's errno. */
    void modify(boolean add, KernelRoute r) throws TapException {
        start(add ? RTM_NEWROUTE : RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0));
        rtmsg(r.ipv4(), r.prefixLength(), r.table(), r.protocol(), add ? r.scope() : RT_SCOPE_NOWHERE,
                add ? RTN_UNICAST : 0);
        attr(RTA_DST, r.destination().getAddress());
        if (r.gateway() != null) {
            attr(RTA_GATEWAY, r.gateway().getAddress());
        }
        if (r.ifindex() != 0) {
            attr(RTA_OIF, r.ifindex());
        }
        attr(RTA_PRIORITY, r.metric());
        exchange(null, false);
    }

    /** RTM_GETROUTE for one destination: the route the kernel would take. */
    KernelRoute lookup(InetAddress destination) throws TapException {
        boolean v4 = destination instanceof Inet4Address;
        start(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_ACK);
        rtmsg(v4, v4 ? 32 : 128, 0, 0, 0, 0);
        attr(RTA_DST, destination.getAddress());
        List<KernelRoute> found = new ArrayList<>(1);
        exchange(found, false);
        return found.isEmpty() ? null : found.get(0);
    }

    /** RTM_GETROUTE dump of one family: the unicast routes of every table (the caller picks the table). */
    List<KernelRoute> dump(boolean ipv4) throws TapException {
        start(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP);
        rtmsg(ipv4, 0, 0, 0, 0, 0);
        List<KernelRoute> found = new ArrayList<>();
        exchange(found, true);
        return found;
    }

    // ---- building ------------------------------------------------------------------------------------------

    private void start(int type, int flags) {
        out.clear();
        out.putInt(0).putShort((short) type).putShort((short) flags).putInt(++seq).putInt(0);
    }

    private void rtmsg(boolean ipv4, int dstLength, int table, int protocol, int scope, int type) {
        out.put((byte) (ipv4 ? LibC.AF_INET : LibC.AF_INET6)).put((byte) dstLength).put((byte) 0).put((byte) 0)
                .put((byte) table).put((byte) protocol).put((byte) scope).put((byte) type).putInt(0);
    }

    private void attr(int type, byte[] value) {
        out.putShort((short) (4 + value.length)).putShort((short) type).put(value);
        align(out);
    }

    private void attr(int type, int value) {
        out.putShort((short) 8).putShort((short) type).putInt(value);
    }

    private static void align(ByteBuffer b) {
        while ((b.position() & 3) != 0) {
            b.put((byte) 0);
        }
    }

    // ---- exchanging ----------------------------------------------------------------------------------------

    /** Sends the request; collects the RTM_NEWROUTE answers into {@code routes} until the ACK (or DONE). */
    private void exchange(List<KernelRoute> routes, boolean dump) throws TapException {
        int length = out.position();
        out.putInt(0, length);
        out.position(0);
        if (LibC.send(fd, out, length, 0) != length) {
            int errno = Native.getLastError();
            throw new TapException("netlink send failed: " + Errno.describe(errno), errno);
        }
        while (true) {
            in.clear();
            long n = LibC.recv(fd, in, in.capacity(), 0);
            if (n < 0) {
                int errno = Native.getLastError();
                if (errno == LibC.EINTR) {
                    continue;
                }
                throw new TapException("netlink receive failed: " + Errno.describe(errno), errno);
            }
            for (int at = 0; at + HEADER <= n; ) {
                int len = in.getInt(at);
                int type = in.getShort(at + 4) & 0xffff;
                if (len < HEADER || at + len > n) {
                    throw new TapException("netlink: a malformed answer from the kernel");
                }
                if (in.getInt(at + 8) == seq) {
                    if (type == NLMSG_ERROR) {
                        int error = -in.getInt(at + HEADER);
                        if (error != 0) {
                            throw new TapException(Errno.describe(error), error);
                        }
                        if (!dump) {
                            return; // the ACK
                        }
                    } else if (type == NLMSG_DONE) {
                        return;
                    } else if (type == RTM_NEWROUTE && routes != null) {
                        KernelRoute r = parse(in, at + HEADER, at + len, dump);
                        if (r != null) {
                            routes.add(r);
                        }
                    }
                }
                at += (len + 3) & ~3;
            }
        }
    }

    /** An RTM_NEWROUTE body; null for what a dump should skip (local, broadcast, multicast ... routes). */
    static KernelRoute parse(ByteBuffer b, int at, int end, boolean unicastOnly) {
        boolean v4 = (b.get(at) & 0xff) == LibC.AF_INET;
        int dstLength = b.get(at + 1) & 0xff;
        int table = b.get(at + 4) & 0xff;
        int protocol = b.get(at + 5) & 0xff;
        int scope = b.get(at + 6) & 0xff;
        int type = b.get(at + 7) & 0xff;
        if (unicastOnly && type != RTN_UNICAST) {
            return null;
        }
        InetAddress dst = null;
        InetAddress gateway = null;
        int oif = 0;
        int metric = 0;
        for (int p = at + RTMSG; p + 4 <= end; ) {
            int len = b.getShort(p) & 0xffff;
            int t = b.getShort(p + 2) & 0x3fff;
            if (len < 4 || p + len > end) {
                break;
            }
            switch (t) {
                case RTA_DST -> dst = address(b, p + 4, len - 4);
                case RTA_GATEWAY -> gateway = address(b, p + 4, len - 4);
                case RTA_OIF -> oif = b.getInt(p + 4);
                case RTA_PRIORITY -> metric = b.getInt(p + 4);
                case RTA_TABLE -> table = b.getInt(p + 4);
                default -> { }
            }
            p += (len + 3) & ~3;
        }
        if (dst == null) {
            dst = address(new byte[v4 ? 4 : 16]);
        }
        return new KernelRoute(dst, dstLength, gateway, oif, metric, table, protocol, scope);
    }

    private static InetAddress address(ByteBuffer b, int at, int length) {
        if (length != 4 && length != 16) {
            return null;
        }
        byte[] a = new byte[length];
        b.get(at, a);
        return address(a);
    }

    private static InetAddress address(byte[] a) {
        try {
            return a.length == 16 ? Inet6Address.getByAddress(null, a, -1) : InetAddress.getByAddress(a);
        } catch (UnknownHostException e) {
            throw new AssertionError("4 or 16 bytes are always an address", e);
        }
    }
}

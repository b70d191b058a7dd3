package org.vl2.ipam;

import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The options field of a BOOTP/DHCP message (RFC 2132): finding an option in a request, also where option 52
 * overloads file and sname, without allocating; and writing the constant options of the replies. {@link DhcpServer}
 * owns the messages, this class only their option encoding.
 */
final class DhcpOptions {

    /** Bytes of a BOOTP message before the magic cookie (op .. file). */
    static final int BOOTP_FIXED = 236;
    static final int OPT_PAD = 0;
    static final int OPT_END = 255;
    /** No such option (before the end option or the field's end). */
    static final int NOT_FOUND = -1;
    /** An option runs past its field, or has the wrong length. */
    static final int MALFORMED = -2;

    private DhcpOptions() {
    }

    /**
     * The value offset of option {@code code} (of length {@code len}) in the options field, then (when option 52
     * overloads them) in file and sname; {@link #NOT_FOUND}, or {@link #MALFORMED} if its length is wrong.
     */
    static int option(ByteBuffer f, int bp, int end, int overloaded, int code, int len) {
        int at = scan(f, bp + BOOTP_FIXED + 4, end, code);
        if (at == NOT_FOUND && (overloaded & 1) != 0) {
            at = scan(f, bp + 108, bp + BOOTP_FIXED, code);
        }
        if (at == NOT_FOUND && (overloaded & 2) != 0) {
            at = scan(f, bp + 44, bp + 108, code);
        }
        if (at < 0) {
            return at;
        }
        return (f.get(at) & 0xFF) == len ? at + 1 : MALFORMED;
    }

    /**
     * Walks the options in [from, to): the offset of the length byte of the first option {@code code},
     * {@link #NOT_FOUND} at the end option or {@code to}, {@link #MALFORMED} if an option runs past {@code to}.
     */
    static int scan(ByteBuffer f, int from, int to, int code) {
        int i = from;
        while (i < to) {
            int c = f.get(i) & 0xFF;
            if (c == OPT_END) {
                return NOT_FOUND;
            }
            if (c == OPT_PAD) {
                i++;
                continue;
            }
            if (i + 1 >= to) {
                return MALFORMED;
            }
            int next = i + 2 + (f.get(i + 1) & 0xFF);
            if (next > to) {
                return MALFORMED;
            }
            if (c == code) {
                return i + 1;
            }
            i = next;
        }
        return NOT_FOUND;
    }

    /** Builds the constant part of a server's reply options once (its constructor), as code, length, value. */
    static final class Writer {
        private final ByteArrayOutputStream b = new ByteArrayOutputStream();

        Writer u32(int code, int v) {
            b.write(code);
            b.write(4);
            b.write(v >>> 24);
            b.write(v >>> 16);
            b.write(v >>> 8);
            b.write(v);
            return this;
        }

        Writer u16(int code, int v) {
            b.write(code);
            b.write(2);
            b.write(v >>> 8);
            b.write(v);
            return this;
        }

        Writer addresses(int code, List<Inet4Address> list) {
            b.write(code);
            b.write(4 * list.size());
            for (Inet4Address a : list) {
                b.writeBytes(a.getAddress());
            }
            return this;
        }

        Writer raw(byte[] bytes) {
            b.writeBytes(bytes);
            return this;
        }

        byte[] bytes() {
            return b.toByteArray();
        }
    }
}

package org.vl2.protocol;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Absolute big-endian access and the checks every decoder shares. The multi-byte accessors use the
 * buffer's own wide gets/puts and swap when it is little-endian, so callers never have to set
 * {@code order()} (which would change the caller's buffer) and the hot path stays allocation-free.
 */
final class Codec {

    private Codec() {
    }

    static int u8(ByteBuffer b, int i) {
        return b.get(i) & 0xFF;
    }

    static int u16(ByteBuffer b, int i) {
        short v = b.getShort(i);
        return (b.order() == ByteOrder.BIG_ENDIAN ? v : Short.reverseBytes(v)) & 0xFFFF;
    }

    static int i32(ByteBuffer b, int i) {
        int v = b.getInt(i);
        return b.order() == ByteOrder.BIG_ENDIAN ? v : Integer.reverseBytes(v);
    }

    static long i64(ByteBuffer b, int i) {
        long v = b.getLong(i);
        return b.order() == ByteOrder.BIG_ENDIAN ? v : Long.reverseBytes(v);
    }

    static void put8(ByteBuffer b, int i, int v) {
        b.put(i, (byte) v);
    }

    static void put16(ByteBuffer b, int i, int v) {
        short s = (short) v;
        b.putShort(i, b.order() == ByteOrder.BIG_ENDIAN ? s : Short.reverseBytes(s));
    }

    static void put32(ByteBuffer b, int i, int v) {
        b.putInt(i, b.order() == ByteOrder.BIG_ENDIAN ? v : Integer.reverseBytes(v));
    }

    static void put64(ByteBuffer b, int i, long v) {
        b.putLong(i, b.order() == ByteOrder.BIG_ENDIAN ? v : Long.reverseBytes(v));
    }

    static void zero(ByteBuffer b, int from, int length) {
        for (int i = from; i < from + length; i++) {
            b.put(i, (byte) 0);
        }
    }

    static void putHeader(ByteBuffer out, int at, int type, int flags) {
        out.put(at, (byte) Wire.MAGIC);
        out.put(at + 1, (byte) Wire.VERSION);
        out.put(at + 2, (byte) type);
        out.put(at + 3, (byte) flags);
    }

    /** Position at which an encoder writes {@code length} bytes; checked up front so nothing is half-written. */
    static int reserve(ByteBuffer out, int length) {
        if (out.remaining() < length) {
            throw new BufferOverflowException();
        }
        return out.position();
    }

    /**
     * Checks the header and length of a datagram that should be a {@code type} (or {@code altType}) message of
     * at least {@code length} bytes, and returns its start index.
     */
    static int check(ByteBuffer d, int type, int altType, int length) throws ProtocolException {
        int p = d.position();
        int size = d.limit() - p;
        if (size < Wire.HEADER_LENGTH) {
            throw new ProtocolException("datagram too short for a header: " + size + " bytes");
        }
        int magic = u8(d, p);
        if (magic != Wire.MAGIC) {
            throw new ProtocolException(String.format("bad magic 0x%02x", magic));
        }
        int version = u8(d, p + 1);
        if (version != Wire.VERSION) {
            throw new ProtocolException("unsupported version " + version);
        }
        int actual = u8(d, p + 2);
        if (actual != type && actual != altType) {
            throw new ProtocolException("expected " + Wire.typeName(type) + ", got " + Wire.typeName(actual));
        }
        // A plaintext codec cannot read a sealed body; version 1 peers drop such messages.
        if ((u8(d, p + 3) & Wire.FLAG_SEALED) != 0) {
            throw new ProtocolException("sealed " + Wire.typeName(actual) + " not supported");
        }
        if (size < length) {
            throw new ProtocolException(Wire.typeName(actual) + " too short: " + size + " of " + length + " bytes");
        }
        return p;
    }

    static String utf8(ByteBuffer b, int at, int length) {
        byte[] bytes = new byte[length];
        b.get(at, bytes, 0, length);
        return printable(new String(bytes, StandardCharsets.UTF_8)); // replaces malformed input, never throws
    }

    /**
     * A peer's text as it may be logged or printed: control characters (C0, DEL, C1: line breaks, escape sequences
     * that would forge log lines or drive a terminal), format characters (bidirectional overrides, zero-width
     * characters that make one name look like another) and line or paragraph separators become {@code '?'}.
     */
    static String printable(String s) {
        boolean clean = true;
        for (int i = 0; i < s.length() && clean; i++) {
            clean = !unprintable(s.charAt(i));
        }
        if (clean) {
            return s;
        }
        StringBuilder sb = new StringBuilder(s.length());
        s.codePoints().forEach(c -> sb.appendCodePoint(unprintable(c) ? '?' : c));
        return sb.toString();
    }

    private static boolean unprintable(int c) {
        int type = Character.getType(c);
        return Character.isISOControl(c) || type == Character.FORMAT || type == Character.LINE_SEPARATOR
                || type == Character.PARAGRAPH_SEPARATOR;
    }

    /**
     * UTF-8 bytes of {@code s}, cut to at most {@code max} bytes at a character boundary. Lone surrogates
     * become {@code '?'} (what {@link String#getBytes} does), so the result is always valid UTF-8.
     */
    static byte[] utf8Prefix(String s, int max) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= max) {
            return bytes;
        }
        int cut = max;
        while (cut > 0 && (bytes[cut] & 0xC0) == 0x80) {   // never keep a lead byte without its continuations
            cut--;
        }
        byte[] prefix = new byte[cut];
        System.arraycopy(bytes, 0, prefix, 0, cut);
        return prefix;
    }

    /** {@code s} cut to at most {@code max} UTF-8 bytes at a character boundary (same string if it fits). */
    static String truncate(String s, int max) {
        if (s.length() * 3L <= max) {   // cheap path: no char needs more than 3 bytes per UTF-16 unit
            return s;
        }
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= max) {
            return s;
        }
        return new String(utf8Prefix(s, max), StandardCharsets.UTF_8);
    }

    static Inet4Address ipv4(ByteBuffer b, int at) {
        int bits = i32(b, at);
        if (bits == 0) {
            return null;
        }
        byte[] a = {(byte) (bits >>> 24), (byte) (bits >>> 16), (byte) (bits >>> 8), (byte) bits};
        try {
            return (Inet4Address) InetAddress.getByAddress(a);
        } catch (UnknownHostException e) {
            throw new AssertionError("4 bytes are always an IPv4 address", e);
        }
    }

    static void putIpv4(ByteBuffer b, int at, Inet4Address a) {
        if (a == null) {
            put32(b, at, 0);
        } else {
            b.put(at, a.getAddress());
        }
    }

    static Inet6Address ipv6(ByteBuffer b, int at) {
        byte[] a = new byte[16];
        b.get(at, a);
        try {
            // Not InetAddress.getByAddress: that turns ::ffff:a.b.c.d into an Inet4Address.
            return Inet6Address.getByAddress(null, a, -1);
        } catch (UnknownHostException e) {
            throw new AssertionError("16 bytes are always an IPv6 address", e);
        }
    }

    static void putIpv6(ByteBuffer b, int at, Inet6Address a) {
        if (a == null) {
            zero(b, at, 16);
        } else {
            b.put(at, a.getAddress());
        }
    }

    static int unsigned16(String field, int value) {
        if ((value & ~0xFFFF) != 0) {
            throw new IllegalArgumentException(field + " must be 0..65535, got " + value);
        }
        return value;
    }
}

package org.vl2.api;

/**
 * An IEEE 802 MAC-48 address. Immutable; the 48 bits are kept in the low bits of a {@code long}, which is
 * also the form the switch uses on its hot path (no objects per frame).
 */
public final class MacAddress implements Comparable<MacAddress> {

    /** Mask of the 48 address bits. */
    public static final long MASK = 0xFFFF_FFFF_FFFFL;
    public static final MacAddress BROADCAST = new MacAddress(MASK);
    public static final MacAddress ZERO = new MacAddress(0L);

    private static final long GROUP_BIT = 0x0100_0000_0000L;   // I/G bit: first octet, lowest bit
    private static final long LOCAL_BIT = 0x0200_0000_0000L;   // U/L bit: first octet, second bit
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final long bits;

    private MacAddress(long bits) {
        this.bits = bits;
    }

    /** From the low 48 bits of {@code bits}; higher bits must be zero. */
    public static MacAddress of(long bits) {
        if ((bits & ~MASK) != 0) {
            throw new IllegalArgumentException("not a 48-bit MAC address: 0x" + Long.toHexString(bits));
        }
        return new MacAddress(bits);
    }

    /** From 6 bytes in network order. */
    public static MacAddress of(byte[] octets) {
        if (octets == null || octets.length != 6) {
            throw new IllegalArgumentException("a MAC address has 6 octets");
        }
        long v = 0;
        for (byte b : octets) {
            v = (v << 8) | (b & 0xFF);
        }
        return new MacAddress(v);
    }

    /**
     * Parses {@code aa:bb:cc:dd:ee:ff}, {@code aa-bb-cc-dd-ee-ff} or Cisco-style {@code aabb.ccdd.eeff}
     * (case-insensitive).
     *
     * @throws IllegalArgumentException naming the input when it is not a MAC address
     */
    public static MacAddress valueOf(String text) {
        if (text == null) {
            throw new IllegalArgumentException("MAC address is missing");
        }
        String s = text.trim();
        long v = 0;
        int digits = 0;
        if (s.length() == 17) {
            char sep = s.charAt(2);
            if (sep != ':' && sep != '-') {
                throw bad(text);
            }
            for (int i = 0; i < 17; i++) {
                char c = s.charAt(i);
                if (i % 3 == 2) {
                    if (c != sep) {
                        throw bad(text);
                    }
                    continue;
                }
                v = (v << 4) | hex(c, text);
                digits++;
            }
        } else if (s.length() == 14 && s.charAt(4) == '.' && s.charAt(9) == '.') {
            for (int i = 0; i < 14; i++) {
                if (i == 4 || i == 9) {
                    continue;
                }
                v = (v << 4) | hex(s.charAt(i), text);
                digits++;
            }
        } else {
            throw bad(text);
        }
        if (digits != 12) {
            throw bad(text);
        }
        return new MacAddress(v);
    }

    private static int hex(char c, String text) {
        int d = Character.digit(c, 16);
        if (d < 0) {
            throw bad(text);
        }
        return d;
    }

    private static IllegalArgumentException bad(String text) {
        return new IllegalArgumentException("not a MAC address: '" + text
                + "' (expected six hex octets such as 02:00:5e:10:00:01)");
    }

    public long toLong() {
        return bits;
    }

    public byte[] toBytes() {
        byte[] b = new byte[6];
        for (int i = 5; i >= 0; i--) {
            b[i] = (byte) (bits >>> (8 * (5 - i)));
        }
        return b;
    }

    public boolean isBroadcast() {
        return bits == MASK;
    }

    /** Group address (I/G bit set); broadcast is a multicast address too. */
    public boolean isMulticast() {
        return isMulticast(bits);
    }

    public boolean isLocallyAdministered() {
        return (bits & LOCAL_BIT) != 0;
    }

    public boolean isZero() {
        return bits == 0;
    }

    /** Group bit test on the primitive form, for the hot path. */
    public static boolean isMulticast(long mac) {
        return (mac & GROUP_BIT) != 0;
    }

    /** Formats the primitive form as {@code aa:bb:cc:dd:ee:ff}. */
    public static String toString(long mac) {
        char[] c = new char[17];
        for (int i = 0; i < 6; i++) {
            int octet = (int) (mac >>> (8 * (5 - i))) & 0xFF;
            c[i * 3] = HEX[octet >>> 4];
            c[i * 3 + 1] = HEX[octet & 0xF];
            if (i < 5) {
                c[i * 3 + 2] = ':';
            }
        }
        return new String(c);
    }

    @Override
    public int compareTo(MacAddress o) {
        return Long.compare(bits, o.bits);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MacAddress && ((MacAddress) o).bits == bits;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(bits);
    }

    @Override
    public String toString() {
        return toString(bits);
    }
}

package org.vl2.api;

/** Network ids. A network is a flood domain with its own MAC table space; frames never cross networks. */
public final class Networks {

    /**
     * The default network: where vl2 agents join when they name none. Sealed (encrypted members only) unless a
     * configuration opens it to plaintext.
     */
    public static final long DEFAULT = 0L;

    /**
     * The built-in network raw-mode ports land in unless the raw transport names another ({@code network} in
     * {@code org.vl2.transport.udp}): open to plaintext, apart from the encrypted members of every other network.
     * A network configuration with this id replaces its built-in settings.
     */
    public static final long RAW = 0xffffffffffffffffL;

    private Networks() {
    }

    /** Formats a 64-bit network id the way users see it: 16 hex digits, like ZeroTier. */
    public static String format(long network) {
        return String.format("%016x", network);
    }

    /**
     * Parses a network id: 1 to 16 hex digits (optionally prefixed 0x).
     *
     * @throws IllegalArgumentException naming the input
     */
    public static long parse(String text) {
        String s = text == null ? "" : text.trim();
        if (s.startsWith("0x") || s.startsWith("0X")) {
            s = s.substring(2);
        }
        if (s.isEmpty() || s.length() > 16) {
            throw new IllegalArgumentException("not a network id: '" + text + "' (expected up to 16 hex digits)");
        }
        try {
            return Long.parseUnsignedLong(s, 16);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a network id: '" + text + "' (expected up to 16 hex digits)");
        }
    }
}

package org.vl2.tap;

import java.util.Objects;

import org.vl2.api.MacAddress;

/**
 * What a TAP device should look like: name, MTU, MAC, addresses, bridge, link state. Immutable; built with
 * {@link #builder()}, whose setters validate at once and throw {@link IllegalArgumentException} naming the
 * field and the allowed form, so a bad value is reported where it was given (a command-line option, a
 * configuration property) rather than as a kernel error later.
 *
 * <pre>{@code
 * TapSettings s = TapSettings.builder().name("vl2p1").mtu(1400).ipv4("10.1.1.101/24").build();
 * }</pre>
 */
public final class TapSettings {

    /** Linux IFNAMSIZ minus the terminating NUL. */
    public static final int MAX_NAME_LENGTH = 15;
    public static final int DEFAULT_MTU = 1500;
    /** The smallest MTU of an Ethernet device (Linux ETH_MIN_MTU). */
    public static final int MIN_MTU = 68;
    /** The largest MTU of a TAP device: the tun driver's 65535 minus the 14-byte Ethernet header. */
    public static final int MAX_MTU = 65_521;
    /** Linux turns IPv6 off on devices with a smaller MTU (IPV6_MIN_MTU). */
    public static final int IPV6_MIN_MTU = 1280;
    /** The name template the kernel uses when none is given. */
    public static final String KERNEL_TEMPLATE = "tap%d";

    private static final String NAME_FORM = "1 to " + MAX_NAME_LENGTH + " printable ASCII characters without"
            + " '/', ':' or whitespace, not '.' or '..'";

    private final String name;
    private final int mtu;
    private final MacAddress mac;
    private final Cidr ipv4;
    private final Cidr ipv6;
    private final String bridge;
    private final boolean up;
    private final boolean offload;

    private TapSettings(Builder b) {
        this.name = b.name;
        this.mtu = b.mtu;
        this.mac = b.mac;
        this.ipv4 = b.ipv4;
        this.ipv6 = b.ipv6;
        this.bridge = b.bridge;
        this.up = b.up;
        this.offload = b.offload;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Defaults: kernel-chosen name, MTU 1500, random MAC, no addresses, no bridge, up, no offload. */
    public static TapSettings defaults() {
        return new Builder().build();
    }

    /** A builder holding these settings, to derive variants. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.name = name;
        b.mtu = mtu;
        b.mac = mac;
        b.ipv4 = ipv4;
        b.ipv6 = ipv6;
        b.bridge = bridge;
        b.up = up;
        b.offload = offload;
        return b;
    }

    /**
     * The requested interface name, or null to let the kernel choose ({@value #KERNEL_TEMPLATE}). A name
     * containing {@code %d} is a template too: the kernel replaces it with the first free number.
     */
    public String name() {
        return name;
    }

    public int mtu() {
        return mtu;
    }

    /** The MAC address to set, or null to keep the random one the kernel assigns. */
    public MacAddress mac() {
        return mac;
    }

    /** IPv4 address and prefix to assign, or null. */
    public Cidr ipv4() {
        return ipv4;
    }

    /** IPv6 address and prefix to assign, or null. */
    public Cidr ipv6() {
        return ipv6;
    }

    /** Name of an existing Linux bridge to enslave the device to, or null. */
    public String bridge() {
        return bridge;
    }

    /** Whether to bring the link up after configuring it. */
    public boolean up() {
        return up;
    }

    /**
     * Whether to ask for TAP offload: every read and write then carries a {@link VirtioNetHeader} in front of the
     * frame, reads may be TCP superframes of up to 64 KiB and writes may be coalesced superframes. What the device
     * actually does is {@link TapDevice#offload()} (false if the kernel refused).
     */
    public boolean offload() {
        return offload;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof TapSettings)) {
            return false;
        }
        TapSettings t = (TapSettings) o;
        return Objects.equals(name, t.name) && mtu == t.mtu && Objects.equals(mac, t.mac)
                && Objects.equals(ipv4, t.ipv4) && Objects.equals(ipv6, t.ipv6)
                && Objects.equals(bridge, t.bridge) && up == t.up && offload == t.offload;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, mtu, mac, ipv4, ipv6, bridge, up, offload);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("TapSettings[name=").append(name == null ? KERNEL_TEMPLATE : name)
                .append(", mtu=").append(mtu);
        if (mac != null) {
            sb.append(", mac=").append(mac);
        }
        if (ipv4 != null) {
            sb.append(", ipv4=").append(ipv4);
        }
        if (ipv6 != null) {
            sb.append(", ipv6=").append(ipv6);
        }
        if (bridge != null) {
            sb.append(", bridge=").append(bridge);
        }
        sb.append(", up=").append(up);
        if (offload) {
            sb.append(", offload");
        }
        return sb.append(']').toString();
    }

    /**
     * Checks an interface name the way the kernel does (plus: printable ASCII only), so that a bad name is
     * refused before any system call.
     *
     * @param field           the setting being checked, for the message
     * @param allowTemplate   whether one {@code %d} (kernel-numbered template) is allowed
     * @throws IllegalArgumentException naming the field and the allowed form
     */
    static void checkInterfaceName(String field, String name, boolean allowTemplate) {
        String form = NAME_FORM + (allowTemplate ? "; may contain one %d for a kernel-chosen number" : "");
        if (name.length() > MAX_NAME_LENGTH) {
            throw new IllegalArgumentException(field + ": '" + name + "' is too long (" + name.length()
                    + " characters, Linux allows " + MAX_NAME_LENGTH + "); allowed: " + form);
        }
        if (name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException(field + ": '" + name + "' is not a valid interface name; allowed: "
                    + form);
        }
        int percent = name.indexOf('%');
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean bad = c <= ' ' || c >= 0x7F || c == '/' || c == ':';
            if (c == '%') {
                bad = !allowTemplate || i != percent || i + 1 >= name.length() || name.charAt(i + 1) != 'd';
            }
            if (bad) {
                throw new IllegalArgumentException(field + ": '" + name + "' contains '" + printable(c)
                        + "', which is not allowed in an interface name; allowed: " + form);
            }
        }
    }

    private static String printable(char c) {
        return c < ' ' || c >= 0x7F || Character.isWhitespace(c) ? String.format("\\u%04x", (int) c) : String.valueOf(c);
    }

    /** Builds {@link TapSettings}; every setter validates its value at once. Not thread-safe. */
    public static final class Builder {

        private String name;
        private int mtu = DEFAULT_MTU;
        private MacAddress mac;
        private Cidr ipv4;
        private Cidr ipv6;
        private String bridge;
        private boolean up = true;
        private boolean offload;

        private Builder() {
        }

        /**
         * Interface name: null or empty (after trimming) lets the kernel choose {@value #KERNEL_TEMPLATE};
         * otherwise 1 to 15 printable ASCII characters, no {@code /}, {@code :} or whitespace, not
         * {@code .} or {@code ..}; one {@code %d} makes it a template the kernel numbers (e.g.
         * {@code vl2p%d}).
         *
         * @throws IllegalArgumentException naming the field {@code name} and the allowed form
         */
        public Builder name(String name) {
            String n = name == null ? "" : name.trim();
            if (!n.isEmpty()) {
                checkInterfaceName("name", n, true);
            }
            this.name = n.isEmpty() ? null : n;
            return this;
        }

        /**
         * MTU, {@value TapSettings#MIN_MTU}..{@value TapSettings#MAX_MTU} (default
         * {@value TapSettings#DEFAULT_MTU}).
         *
         * @throws IllegalArgumentException naming the field {@code mtu} and the allowed range
         */
        public Builder mtu(int mtu) {
            if (mtu < MIN_MTU || mtu > MAX_MTU) {
                throw new IllegalArgumentException("mtu: " + mtu + " is out of range (allowed: " + MIN_MTU + ".."
                        + MAX_MTU + ", the limits of a Linux TAP device)");
            }
            this.mtu = mtu;
            return this;
        }

        /**
         * MAC address, or null for the kernel's random one. Must be a unicast, non-zero address; a locally
         * administered one (second-lowest bit of the first octet set, e.g. {@code 02:...}) is recommended.
         *
         * @throws IllegalArgumentException naming the field {@code mac}
         */
        public Builder mac(MacAddress mac) {
            if (mac != null && (mac.isMulticast() || mac.isZero())) {
                throw new IllegalArgumentException("mac: " + mac + " cannot be an interface address (allowed: a"
                        + " unicast, non-zero MAC such as 02:00:5e:10:00:01; the lowest bit of the first octet"
                        + " must be 0)");
            }
            this.mac = mac;
            return this;
        }

        /**
         * MAC address as text ({@code aa:bb:cc:dd:ee:ff}, {@code aa-bb-..} or {@code aabb.ccdd.eeff}); null or
         * empty for the kernel's random one.
         *
         * @throws IllegalArgumentException naming the field {@code mac}
         */
        public Builder mac(String mac) {
            if (mac == null || mac.trim().isEmpty()) {
                return mac((MacAddress) null);
            }
            MacAddress m;
            try {
                m = MacAddress.valueOf(mac);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("mac: " + e.getMessage(), e);
            }
            return mac(m);
        }

        /**
         * IPv4 address in CIDR form, e.g. {@code 10.1.1.101/24}; null or empty for none.
         *
         * @throws IllegalArgumentException naming the field {@code ipv4} and the allowed form
         */
        public Builder ipv4(String cidr) {
            if (cidr == null || cidr.trim().isEmpty()) {
                this.ipv4 = null;
                return this;
            }
            try {
                this.ipv4 = Cidr.parseIpv4(cidr);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("ipv4: " + e.getMessage(), e);
            }
            return this;
        }

        /**
         * IPv4 address; null for none.
         *
         * @throws IllegalArgumentException naming the field {@code ipv4} if it is an IPv6 address
         */
        public Builder ipv4(Cidr cidr) {
            if (cidr != null && cidr.isIpv6()) {
                throw new IllegalArgumentException("ipv4: " + cidr + " is an IPv6 address (expected e.g."
                        + " 10.1.1.101/24)");
            }
            this.ipv4 = cidr;
            return this;
        }

        /**
         * IPv6 address in CIDR form, e.g. {@code fd00::1/64}; null or empty for none. Needs an MTU of at
         * least {@value TapSettings#IPV6_MIN_MTU} (checked by {@link #build()}).
         *
         * @throws IllegalArgumentException naming the field {@code ipv6} and the allowed form
         */
        public Builder ipv6(String cidr) {
            if (cidr == null || cidr.trim().isEmpty()) {
                this.ipv6 = null;
                return this;
            }
            try {
                this.ipv6 = Cidr.parseIpv6(cidr);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("ipv6: " + e.getMessage(), e);
            }
            return this;
        }

        /**
         * IPv6 address; null for none.
         *
         * @throws IllegalArgumentException naming the field {@code ipv6} if it is an IPv4 address
         */
        public Builder ipv6(Cidr cidr) {
            if (cidr != null && !cidr.isIpv6()) {
                throw new IllegalArgumentException("ipv6: " + cidr + " is an IPv4 address (expected e.g."
                        + " fd00::1/64)");
            }
            this.ipv6 = cidr;
            return this;
        }

        /**
         * An existing Linux bridge to enslave the device to; null or empty for none. Same name rules as
         * {@link #name(String)}, without templates.
         *
         * @throws IllegalArgumentException naming the field {@code bridge} and the allowed form
         */
        public Builder bridge(String bridge) {
            String b = bridge == null ? "" : bridge.trim();
            if (!b.isEmpty()) {
                checkInterfaceName("bridge", b, false);
            }
            this.bridge = b.isEmpty() ? null : b;
            return this;
        }

        /** Whether to bring the link up (default true). */
        public Builder up(boolean up) {
            this.up = up;
            return this;
        }

        /**
         * Whether to turn on TAP offload (default false): IFF_VNET_HDR plus TUNSETOFFLOAD with checksum and
         * TSO for IPv4 and IPv6, so the kernel hands out TCP superframes of up to 64 KiB and accepts coalesced
         * ones. Only for callers that handle the {@link VirtioNetHeader} in front of every frame (see
         * {@link TapDevice#offload()}, {@link TsoSegmenter}, {@link TcpCoalescer}).
         */
        public Builder offload(boolean offload) {
            this.offload = offload;
            return this;
        }

        /**
         * @throws IllegalArgumentException if the settings contradict each other (an IPv6 address with an
         *                                  MTU below {@value TapSettings#IPV6_MIN_MTU})
         */
        public TapSettings build() {
            if (ipv6 != null && mtu < IPV6_MIN_MTU) {
                throw new IllegalArgumentException("ipv6: an IPv6 address needs mtu >= " + IPV6_MIN_MTU
                        + " (Linux disables IPv6 below that), but mtu is " + mtu);
            }
            return new TapSettings(this);
        }
    }
}

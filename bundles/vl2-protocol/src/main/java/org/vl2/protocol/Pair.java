package org.vl2.protocol;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * PAIR (switch to agent, type {@value Wire#PAIR}): a key for the frames of one flow between two members, so that the
 * switch forwards them without opening and sealing each one again (docs/protocol.md, "Pair keys"). A pair is one
 * direction: the frames with exactly this VLAN, source MAC and destination MAC, from the member that gets it as
 * {@link #SEND} to the member that gets it as {@link #RECEIVE}. The sender seals them with the pair's key behind a
 * sealed header whose receiver index is the pair's {@link #index()}; the switch forwards such a datagram unchanged
 * to the receiver; the receiver opens it with the same key and takes the frame only if its VLAN and addresses are
 * the pair's. {@link #REVOKE} ends a pair. Only ever sealed, inside the member's session with the switch. Body,
 * after the 16-byte sealed header:
 *
 * <pre>
 * offset size field
 *  0      8   network id
 *  8      4   pair index      the switch's; the sender writes it as the sealed header's receiver index
 * 12      1   role            1 SEND, 2 RECEIVE, 3 REVOKE
 * 13      1   suite           the AEAD's wire id (1 ChaCha20-Poly1305, 2 AES-256-GCM); 0 in REVOKE
 * 14      2   VLAN            the frames' VLAN id, or 0xFFFF for untagged frames
 * 16      6   source MAC      the frames' source
 * 22      6   destination MAC the frames' destination
 * 28      4   lifetime        seconds the pair may be used from now on (0 in REVOKE)
 * 32     32   key             zero in REVOKE
 * 64          end, unless the PAIR SEND carries the receiver's endpoint (direct paths, to a JOIN with CAP_DIRECT):
 * 64      2   port            the receiver's UDP port, as the switch sees it
 * 66      1   address length  4 (IPv4) or 16 (IPv6)
 * 67      1   reserved        0
 * 68     16   address         the receiver's address, IPv4 in the first 4 bytes, the rest zero
 * 84          end
 * </pre>
 *
 * The agent answers each PAIR with a PAIR-ACK ({@link #encodeAck}, 16 bytes, sealed): network id, pair index, role and
 * whether it took the pair. A sender with a direct path also says with a PAIR-ACK of role SEND when it starts and
 * stops sending the pair's frames straight to the receiver ({@link #DIRECT}, {@link #RELAYED}), and repeats
 * {@link #DIRECT} now and then while it does, so that the switch keeps the sender's station in its MAC table.
 *
 * @param network  the member's network
 * @param index    the pair's index, never 0 (the switch draws it from the space of its session indices)
 * @param role     {@link #SEND}, {@link #RECEIVE} or {@link #REVOKE}
 * @param suite    the AEAD's wire id, 1..255 (0 in a REVOKE)
 * @param vlan     0..4095, or {@link #UNTAGGED}
 * @param source   source MAC, 48 bits
 * @param destination destination MAC, 48 bits
 * @param lifetimeSeconds how long the agent may use the pair, 0 in a REVOKE
 * @param key      32 bytes (all zero in a REVOKE)
 * @param peer     a SEND's receiver endpoint for a direct path, or null (always in RECEIVE and REVOKE)
 */
public record Pair(long network, int index, int role, int suite, int vlan, long source, long destination,
                   int lifetimeSeconds, byte[] key, InetSocketAddress peer) {

    public static final int SEND = 1;
    public static final int RECEIVE = 2;
    public static final int REVOKE = 3;
    /** The VLAN field of untagged frames. */
    public static final int UNTAGGED = 0xFFFF;
    public static final int LENGTH = 64;
    /** Length of a PAIR SEND with the receiver's endpoint. */
    public static final int PEER_LENGTH = 84;
    public static final int KEY_LENGTH = 32;
    public static final int ACK_LENGTH = 16;
    /** PAIR-ACK status: the agent holds the pair now (or, for a REVOKE, no longer). */
    public static final int TAKEN = 0;
    /** PAIR-ACK status: the agent did not take it (no room, an AEAD it does not have, an address it does not own). */
    public static final int REFUSED = 1;
    /** PAIR-ACK status of a SEND pair: its frames go straight to the receiver now (a probe got through). */
    public static final int DIRECT = 2;
    /** PAIR-ACK status of a SEND pair: its frames go through the switch again (the probes stopped getting through). */
    public static final int RELAYED = 3;

    private static final long MAC_MASK = (1L << 48) - 1;

    public Pair {
        if (index == 0) {
            throw new IllegalArgumentException("pair index 0 is never used");
        }
        if (role != SEND && role != RECEIVE && role != REVOKE) {
            throw new IllegalArgumentException("pair role must be 1 (send), 2 (receive) or 3 (revoke), got " + role);
        }
        if (suite < 0 || suite > 255 || (role != REVOKE && suite == 0)) {
            throw new IllegalArgumentException("pair suite must be a wire id 1..255, got " + suite);
        }
        if (vlan != UNTAGGED && (vlan < 0 || vlan > 4095)) {
            throw new IllegalArgumentException("pair VLAN must be 0..4095 or untagged, got " + vlan);
        }
        if ((source & ~MAC_MASK) != 0 || (destination & ~MAC_MASK) != 0) {
            throw new IllegalArgumentException("MAC addresses are 48 bits");
        }
        if (lifetimeSeconds < 0) {
            throw new IllegalArgumentException("pair lifetime must be >= 0, got " + lifetimeSeconds);
        }
        if (key == null || key.length != KEY_LENGTH) {
            throw new IllegalArgumentException("a pair key is " + KEY_LENGTH + " bytes");
        }
        if (peer != null && (role != SEND || peer.isUnresolved() || peer.getPort() == 0)) {
            throw new IllegalArgumentException("only a SEND carries its receiver's endpoint, a resolved address and a"
                    + " port: " + peer);
        }
        key = key.clone();
    }

    /** A pair without the receiver's endpoint (RECEIVE, REVOKE, or a SEND without a direct path). */
    public Pair(long network, int index, int role, int suite, int vlan, long source, long destination,
                int lifetimeSeconds, byte[] key) {
        this(network, index, role, suite, vlan, source, destination, lifetimeSeconds, key, null);
    }

    /** {@link #LENGTH}, or {@link #PEER_LENGTH} with the receiver's endpoint. */
    public int encodedLength() {
        return peer == null ? LENGTH : PEER_LENGTH;
    }

    /** A REVOKE of pair {@code index}: no key, no lifetime. */
    public static Pair revoke(long network, int index, int vlan, long source, long destination) {
        return new Pair(network, index, REVOKE, 0, vlan, source, destination, 0, new byte[KEY_LENGTH]);
    }

    /** The key (a copy). */
    @Override
    public byte[] key() {
        return key.clone();
    }

    /** Writes the body ({@link #encodedLength()} bytes) at absolute index {@code at}; does not move the position. */
    public void encode(ByteBuffer out, int at) {
        int length = encodedLength();
        if (at < 0 || at + length > out.limit()) {
            throw new IndexOutOfBoundsException("pair of " + length + " bytes at " + at + " exceeds limit "
                    + out.limit());
        }
        Codec.put64(out, at, network);
        Codec.put32(out, at + 8, index);
        Codec.put8(out, at + 12, role);
        Codec.put8(out, at + 13, suite);
        Codec.put16(out, at + 14, vlan);
        putMac(out, at + 16, source);
        putMac(out, at + 22, destination);
        Codec.put32(out, at + 28, lifetimeSeconds);
        out.put(at + 32, key);
        if (peer != null) {
            byte[] a = peer.getAddress().getAddress();
            Codec.put16(out, at + 64, peer.getPort());
            Codec.put8(out, at + 66, a.length);
            Codec.put8(out, at + 67, 0);
            Codec.zero(out, at + 68, 16);
            out.put(at + 68, a);
        }
    }

    /** Reads a body of {@code length} bytes at absolute index {@code at}. */
    public static Pair decode(ByteBuffer in, int at, int length) throws ProtocolException {
        if (length != LENGTH && length != PEER_LENGTH) {
            throw new ProtocolException("pair: " + length + " bytes, not " + LENGTH + " or " + PEER_LENGTH);
        }
        byte[] key = new byte[KEY_LENGTH];
        in.get(at + 32, key);
        int lifetime = Codec.i32(in, at + 28);
        try {
            InetSocketAddress peer = length == PEER_LENGTH ? peer(in, at + 64) : null;
            return new Pair(Codec.i64(in, at), Codec.i32(in, at + 8), Codec.u8(in, at + 12), Codec.u8(in, at + 13),
                    Codec.u16(in, at + 14), mac(in, at + 16), mac(in, at + 22), lifetime, key, peer);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("pair: " + e.getMessage());
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** Writes a PAIR-ACK body (network id, pair index, role, status) at absolute index {@code at}. */
    public static void encodeAck(ByteBuffer out, int at, long network, int index, int role, int status) {
        Codec.put64(out, at, network);
        Codec.put32(out, at + 8, index);
        Codec.put8(out, at + 12, role);
        Codec.put8(out, at + 13, status);
        Codec.put16(out, at + 14, 0);
    }

    /** The network id of a PAIR-ACK body at {@code at}. */
    public static long ackNetwork(ByteBuffer in, int at) {
        return Codec.i64(in, at);
    }

    /** The pair index of a PAIR-ACK body at {@code at}. */
    public static int ackIndex(ByteBuffer in, int at) {
        return Codec.i32(in, at + 8);
    }

    /** The role of a PAIR-ACK body at {@code at}. */
    public static int ackRole(ByteBuffer in, int at) {
        return Codec.u8(in, at + 12);
    }

    /** The status of a PAIR-ACK body at {@code at}: {@link #TAKEN} or {@link #REFUSED}. */
    public static int ackStatus(ByteBuffer in, int at) {
        return Codec.u8(in, at + 13);
    }

    private static InetSocketAddress peer(ByteBuffer in, int at) throws ProtocolException {
        int port = Codec.u16(in, at);
        int n = Codec.u8(in, at + 2);
        if (n != 4 && n != 16 || port == 0) {
            throw new ProtocolException("pair: a receiver endpoint needs an address of 4 or 16 bytes and a port, got "
                    + n + " bytes, port " + port);
        }
        byte[] a = new byte[n];
        in.get(at + 4, a);
        try {
            InetAddress address = InetAddress.getByAddress(a);
            if (address.isAnyLocalAddress() || address.isMulticastAddress()) {
                throw new ProtocolException("pair: a receiver endpoint of " + address.getHostAddress()
                        + " is no host's");
            }
            return new InetSocketAddress(address, port);
        } catch (UnknownHostException e) {
            throw new ProtocolException("pair: " + e.getMessage()); // never for 4 or 16 bytes
        }
    }

    private static void putMac(ByteBuffer out, int at, long mac) {
        for (int i = 0; i < 6; i++) {
            out.put(at + i, (byte) (mac >>> (40 - 8 * i)));
        }
    }

    private static long mac(ByteBuffer in, int at) {
        long m = 0;
        for (int i = 0; i < 6; i++) {
            m = m << 8 | (in.get(at + i) & 0xFF);
        }
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Pair p && network == p.network && index == p.index && role == p.role && suite == p.suite
                && vlan == p.vlan && source == p.source && destination == p.destination
                && lifetimeSeconds == p.lifetimeSeconds && Arrays.equals(key, p.key)
                && java.util.Objects.equals(peer, p.peer);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(network) * 31 + index;
    }

    /** Without the key. */
    @Override
    public String toString() {
        return "Pair[network=" + Long.toHexString(network) + ", index=" + Integer.toHexString(index) + ", role=" + role
                + ", suite=" + suite + ", vlan=" + vlan + ", source=" + Long.toHexString(source) + ", destination="
                + Long.toHexString(destination) + ", lifetime=" + lifetimeSeconds + "s"
                + (peer == null ? "" : ", peer=" + peer) + "]";
    }
}

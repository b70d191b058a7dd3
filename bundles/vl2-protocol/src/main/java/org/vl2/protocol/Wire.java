package org.vl2.protocol;

import java.nio.ByteBuffer;

/** Protocol constants and helpers for the common 4-byte header (magic, version, type, flags). */
public final class Wire {

    public static final int MAGIC = 0x56;
    public static final int VERSION = 1;
    public static final int HEADER_LENGTH = 4;

    public static final int JOIN = 1;
    public static final int WELCOME = 2;
    public static final int FRAME = 3;
    public static final int KEEPALIVE = 4;
    public static final int KEEPALIVE_ACK = 5;
    public static final int LEAVE = 6;
    public static final int ERROR = 7;
    /** Types 8-10 are the encrypted handshake (org.vl2.crypto.Handshake), not decoded here. */
    public static final int KEY_REQUEST = 11;
    public static final int KEY_REPLY = 12;
    /** Managed routes (switch to agent) and their acknowledgement; sealed only (org.vl2.protocol.Routes). */
    public static final int ROUTES = 13;
    public static final int ROUTES_ACK = 14;
    /** A pair key for frames between two members (switch to agent) and its acknowledgement; sealed only (Pair). */
    public static final int PAIR = 16;
    public static final int PAIR_ACK = 17;
    /**
     * Direct paths (docs/protocol.md, "Direct paths"): a pair's sender asks its receiver, straight to the endpoint the
     * switch gave, whether datagrams get through, and the receiver answers; both sealed with the pair's keys, never
     * through the switch (Probe).
     */
    public static final int PROBE = 18;
    public static final int PROBE_ACK = 19;

    /** Body encrypted and authenticated (issue 7); version 1 plaintext peers never send it. */
    public static final int FLAG_SEALED = 0x01;

    public static final int JOIN_LENGTH = 64;
    public static final int WELCOME_LENGTH = 64;
    public static final int FRAME_HEADER_LENGTH = 16;
    public static final int KEEPALIVE_LENGTH = 24;
    public static final int LEAVE_LENGTH = 16;
    public static final int ERROR_HEADER_LENGTH = 20;
    /** Padded so that the KEY-REPLY (40 bytes) is never longer than what it answers. */
    public static final int KEY_REQUEST_LENGTH = 64;
    public static final int KEY_REPLY_LENGTH = 40;

    public static final int DEFAULT_PORT = 9991;

    private static final String[] NAMES = {null, "join", "welcome", "frame", "keepalive", "keepalive-ack", "leave",
            "error", null, null, null, "key-request", "key-reply", "routes", "routes-ack", null, "pair", "pair-ack", "probe", "probe-ack"};

    private Wire() {
    }

    /**
     * Type of the datagram between position and limit, or -1 if it is shorter than the header, has a wrong
     * magic or an unknown type (types 8-10 are the handshake's, see org.vl2.crypto.Handshake; 15 is
     * reserved). Absolute reads, no
     * allocation. Does not check the version: a switch answers other versions with an ERROR.
     */
    public static int type(ByteBuffer datagram) {
        int p = datagram.position();
        if (datagram.limit() - p < HEADER_LENGTH || (datagram.get(p) & 0xFF) != MAGIC) {
            return -1;
        }
        int type = datagram.get(p + 2) & 0xFF;
        return type >= JOIN && type <= ERROR || type >= KEY_REQUEST && type <= ROUTES_ACK
                || type >= PAIR && type <= PROBE_ACK ? type : -1;
    }

    /** Version byte (offset 1) of the datagram, or -1 if it has fewer than 2 bytes. Absolute read. */
    public static int version(ByteBuffer datagram) {
        int p = datagram.position();
        return datagram.limit() - p < 2 ? -1 : datagram.get(p + 1) & 0xFF;
    }

    /** Flags byte (offset 3) of the datagram, or -1 if it is shorter than the header. Absolute read. */
    public static int flags(ByteBuffer datagram) {
        int p = datagram.position();
        return datagram.limit() - p < HEADER_LENGTH ? -1 : datagram.get(p + 3) & 0xFF;
    }

    /**
     * Writes magic, {@link #VERSION}, type and flags at {@code out.position()} and advances it by 4.
     *
     * @throws IllegalArgumentException if type or flags do not fit in a byte
     * @throws java.nio.BufferOverflowException if fewer than 4 bytes remain
     */
    public static void putHeader(ByteBuffer out, int type, int flags) {
        if ((type & ~0xFF) != 0 || (flags & ~0xFF) != 0) {
            throw new IllegalArgumentException("type and flags are bytes, got type " + type + ", flags " + flags);
        }
        int at = Codec.reserve(out, HEADER_LENGTH);
        Codec.putHeader(out, at, type, flags);
        out.position(at + HEADER_LENGTH);
    }

    /** {@code "join"}, {@code "welcome"}, ... {@code "keepalive-ack"}, ... or {@code "unknown(9)"}. */
    public static String typeName(int type) {
        return type >= JOIN && type < NAMES.length && NAMES[type] != null ? NAMES[type] : "unknown(" + type + ")";
    }
}

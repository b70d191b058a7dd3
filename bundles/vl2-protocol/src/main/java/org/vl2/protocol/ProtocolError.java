package org.vl2.protocol;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * ERROR (switch to agent), 20 bytes + a UTF-8 message of at most 255 bytes.
 *
 * @param code    what went wrong
 * @param port    the port the failed request named, 0 for a JOIN
 * @param nonce   copied from a JOIN, else 0
 * @param message human-readable detail; {@code null} becomes ""
 */
public record ProtocolError(ErrorCode code, int port, long nonce, String message) {

    /** Longest message in UTF-8 bytes (its length is one byte on the wire). */
    static final int MAX_MESSAGE = 255;

    public ProtocolError {
        Objects.requireNonNull(code, "code");
        message = message == null ? "" : message;
    }

    /**
     * Writes the 20-byte fixed part (header included) and the message, cut at a character boundary so that the
     * whole ERROR is at most {@code maxLength} bytes (the request it answers, so it cannot amplify) and at most
     * 20 + 255; advances the position by what was written.
     *
     * @throws IllegalArgumentException if {@code maxLength < 20}
     */
    public void encode(ByteBuffer out, int maxLength) {
        if (maxLength < Wire.ERROR_HEADER_LENGTH) {
            throw new IllegalArgumentException("an ERROR needs at least 20 bytes, got " + maxLength);
        }
        byte[] text = Codec.utf8Prefix(message, Math.min(MAX_MESSAGE, maxLength - Wire.ERROR_HEADER_LENGTH));
        int length = Wire.ERROR_HEADER_LENGTH + text.length;
        int at = Codec.reserve(out, length);
        Codec.putHeader(out, at, Wire.ERROR, 0);
        Codec.put16(out, at + 4, code.code());
        Codec.put8(out, at + 6, text.length);
        Codec.put8(out, at + 7, 0);
        Codec.put32(out, at + 8, port);
        Codec.put64(out, at + 12, nonce);
        out.put(at + Wire.ERROR_HEADER_LENGTH, text);
        out.position(at + length);
    }

    /** Reads an ERROR from [position, limit) without moving either; bytes after the message are ignored. */
    public static ProtocolError decode(ByteBuffer datagram) throws ProtocolException {
        int p = Codec.check(datagram, Wire.ERROR, Wire.ERROR, Wire.ERROR_HEADER_LENGTH);
        int wireCode = Codec.u16(datagram, p + 4);
        ErrorCode code = ErrorCode.of(wireCode);
        if (code == null) {
            throw new ProtocolException("unknown error code " + wireCode);
        }
        int messageLength = Codec.u8(datagram, p + 6);
        int size = datagram.limit() - p;
        if (size < Wire.ERROR_HEADER_LENGTH + messageLength) {
            throw new ProtocolException("error too short: " + size + " bytes for a " + messageLength
                    + "-byte message");
        }
        return new ProtocolError(code, Codec.i32(datagram, p + 8), Codec.i64(datagram, p + 12),
                Codec.utf8(datagram, p + Wire.ERROR_HEADER_LENGTH, messageLength));
    }
}

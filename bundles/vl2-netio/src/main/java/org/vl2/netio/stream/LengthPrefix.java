package org.vl2.netio.stream;

import java.nio.ByteBuffer;

import org.vl2.netio.DatagramEndpoint;

/**
 * The stream framing of vl2 messages: each message is preceded by its length as 2 bytes, big-endian, 1 to
 * {@value #MAX_MESSAGE} (the largest UDP payload, so a message that travels over TCP could travel over UDP too).
 * Anything else, a zero length or one above the maximum (e.g. the first bytes of a 4 GB length or of an HTTP
 * request), is a broken stream: the reader closes the connection, since there is no way to find the next message.
 */
public final class LengthPrefix {

    /** Bytes of the length in front of each message. */
    public static final int HEADER = 2;
    /** Longest message. */
    public static final int MAX_MESSAGE = DatagramEndpoint.MAX_DATAGRAM;
    /** {@link #next}: the message is not complete yet. */
    public static final int NEED_MORE = 0;
    /** {@link #next}: the length is 0 or above {@link #MAX_MESSAGE}. */
    public static final int BAD_LENGTH = -1;

    private LengthPrefix() {
    }

    /**
     * Looks at the bytes between {@code from} and {@code to} of {@code in} (absolute; nothing moves): the length of
     * the message whose prefix starts at {@code from} if the whole message is there, {@link #NEED_MORE} if not yet,
     * {@link #BAD_LENGTH} if its prefix is invalid (known as soon as the 2 bytes are there).
     */
    public static int next(ByteBuffer in, int from, int to) {
        if (to - from < HEADER) {
            return NEED_MORE;
        }
        int length = ((in.get(from) & 0xff) << 8) | (in.get(from + 1) & 0xff);
        if (length == 0 || length > MAX_MESSAGE) {
            return BAD_LENGTH;
        }
        return to - from - HEADER >= length ? length : NEED_MORE;
    }

    /**
     * Appends {@code message} (position to limit, unchanged on return) with its prefix at {@code out}'s position.
     *
     * @return false, writing nothing, if it is empty, longer than {@link #MAX_MESSAGE} or does not fit
     */
    public static boolean put(ByteBuffer out, ByteBuffer message) {
        int length = message.remaining();
        if (length == 0 || length > MAX_MESSAGE || out.remaining() < HEADER + length) {
            return false;
        }
        out.put((byte) (length >>> 8)).put((byte) length);
        int p = message.position();
        out.put(message);
        message.position(p);
        return true;
    }
}

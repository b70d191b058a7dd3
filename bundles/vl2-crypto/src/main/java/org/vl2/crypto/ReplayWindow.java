package org.vl2.crypto;

/**
 * The receive side's anti-replay window over 64-bit frame counters, RFC 6479 style: a ring of 64 words (4096
 * bits) indexed by counter / 64, where moving the top forward clears whole words instead of shifting bits. A
 * counter is accepted once, if it is above the highest seen or less than {@link #WINDOW} below it. 64 bits of
 * the ring are the word being refilled, so the window is 4096 - 64 = 4032 counters (as WireGuard's 8192 - 64).
 *
 * <p>{@link #check} before decrypting (cheap rejection of replays), {@link #accept} only after the frame has
 * authenticated, so forged counters never move the window. Not thread-safe: {@link Session} updates it under its
 * opener flag and reads it without the flag only as a hint it confirms under the flag.
 */
final class ReplayWindow {

    static final int OK = 0;
    static final int SEEN = 1;
    static final int TOO_OLD = 2;
    static final int TOO_LARGE = 3;

    private static final int WORDS = 64;
    private static final int BITS = WORDS * 64;
    static final int WINDOW = BITS - 64;

    private final long[] ring = new long[WORDS];
    /** Highest accepted counter; -1 before the first. */
    private long highest = -1;

    /** {@link #OK}, or why the counter must be rejected. */
    int check(long counter) {
        if (counter < 0 || counter >= Session.REJECT_AFTER_MESSAGES) {
            return TOO_LARGE;
        }
        if (counter > highest) {
            return OK;
        }
        if (highest - counter >= WINDOW) {
            return TOO_OLD;
        }
        return (ring[(int) (counter >>> 6) & (WORDS - 1)] & 1L << (counter & 63)) != 0 ? SEEN : OK;
    }

    /** Marks an authenticated counter (which {@link #check} passed) as seen, moving the top if it is higher. */
    void accept(long counter) {
        if (counter > highest) {
            long top = highest >> 6; // -1 before the first counter
            long words = Math.min((counter >>> 6) - top, WORDS);
            for (long i = 1; i <= words; i++) {
                ring[(int) (top + i) & (WORDS - 1)] = 0;
            }
            highest = counter;
        }
        ring[(int) (counter >>> 6) & (WORDS - 1)] |= 1L << (counter & 63);
    }

    long highest() {
        return highest;
    }
}

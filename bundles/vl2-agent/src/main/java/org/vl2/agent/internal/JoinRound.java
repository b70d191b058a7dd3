package org.vl2.agent.internal;

import java.util.Arrays;

import org.vl2.crypto.Cookies;
import org.vl2.crypto.Initiator;

/**
 * vl2 mode, control thread: the JOINs of the current join round. Each JOIN has a fresh nonce and, encrypted, its own
 * handshake (a random 32-bit sender index, an ephemeral key); an answer to any of the round's last few counts, however
 * slow the switch. After the round, its handshakes stay answerable for a short grace (a slower answer to a later
 * handshake holds the keys the switch uses), then are forgotten with their ephemeral keys. Also keeps the switch's
 * cookie (docs/crypto.md: mac2) while it is fresh.
 */
final class JoinRound {

    /** Encrypted: how many retry intervals a finished round's handshakes may still be answered. */
    static final int GRACE_RETRIES = 3;

    private final AgentClock clock;
    /** The nonces of the round: an answer to any of them counts. */
    private final long[] nonces = new long[8];
    /** Encrypted: the handshakes of the round, by the same slot as their JOIN's nonce. */
    private final Initiator[] initiators = new Initiator[nonces.length];
    /** Encrypted: when each of them was sent, counted within the round (0, 1, ...). */
    private final int[] sequence = new int[nonces.length];
    /** JOINs sent in this round. */
    private int count;
    /** Encrypted: the round's handshake whose keys are in use, by its count; -1 while none. */
    private int used = -1;
    /**
     * Encrypted: the clock's millis after which the finished round's other handshakes are forgotten (their ephemeral
     * keys dropped); 0 when there is nothing to forget.
     */
    private long forgetAt;
    /** Encrypted: the switch's last cookie and when it came. */
    private byte[] cookie;
    private long cookieNanos;

    JoinRound(AgentClock clock) {
        this.clock = clock;
    }

    /** A new round: no JOIN sent yet, the previous round's handshakes forgotten. */
    void start() {
        count = 0;
        forget();
    }

    /** A JOIN with {@code nonce} goes out: its slot, for {@link #handshake}. */
    int add(long nonce) {
        int slot = count % nonces.length;
        nonces[slot] = nonce;
        count++;
        return slot;
    }

    /** Encrypted: the handshake that carries the JOIN in {@code slot}. */
    void handshake(int slot, Initiator initiator) {
        initiators[slot] = initiator;
        sequence[slot] = count - 1;
    }

    /** True if {@code nonce} is one of the round's JOINs. */
    boolean contains(long nonce) {
        for (int i = 0; i < Math.min(count, nonces.length); i++) {
            if (nonces[i] == nonce) {
                return true;
            }
        }
        return false;
    }

    long nonce(int slot) {
        return nonces[slot];
    }

    Initiator initiator(int slot) {
        return initiators[slot];
    }

    /**
     * The slot of the handshake a RESPONSE or COOKIE-REPLY to {@code receiverIndex} answers, -1 if none: stale
     * (an earlier round, or a handshake sent before the one in use).
     */
    int answered(int receiverIndex) {
        int slot = -1;
        for (int i = 0; i < initiators.length; i++) {
            if (initiators[i] != null && initiators[i].senderIndex() == receiverIndex && sequence[i] > used) {
                slot = i;
            }
        }
        return slot;
    }

    /** The handshake in {@code slot} gave the keys in use; the round's others expire after the grace. */
    void use(int slot, long now, long joinRetryMillis) {
        used = sequence[slot];
        forgetAt = now + GRACE_RETRIES * joinRetryMillis;
    }

    /** Forgets a finished round's handshakes once their grace is over (not while joining). */
    void expire(long now, boolean joining) {
        if (forgetAt != 0 && now >= forgetAt && !joining) {
            forget();
        }
    }

    /**
     * The round's handshakes are of no use any more: drop them (and their ephemeral private keys, as far as the JDK
     * lets go of them).
     */
    void forget() {
        Arrays.fill(initiators, null);
        used = -1;
        forgetAt = 0;
    }

    /** True if a handshake of the round uses {@code index}. */
    boolean usesIndex(int index) {
        for (Initiator i : initiators) {
            if (i != null && i.senderIndex() == index) {
                return true;
            }
        }
        return false;
    }

    /** Keeps the switch's cookie; true if it is the first. */
    boolean cookie(byte[] c) {
        boolean first = cookie == null;
        cookie = c;
        cookieNanos = clock.nanos();
        return first;
    }

    /** The switch's cookie while it is fresh enough to use (docs/crypto.md: 110 s), else null. */
    byte[] freshCookie() {
        byte[] c = cookie;
        if (c != null && clock.nanos() - cookieNanos > Cookies.COOKIE_USE_SECONDS * 1_000_000_000L) {
            cookie = null;
            return null;
        }
        return c;
    }
}

package org.vl2.crypto;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The transport keys of one completed handshake: seals and opens messages in place.
 *
 * <pre>
 *  offset            size
 *  0                 headerLength &gt;= 16   header, authenticated (associated data), not encrypted;
 *                                           bytes 8..16 are the counter, written by seal
 *  headerLength      n                     payload, encrypted in place
 *  headerLength + n  16                    tag (Poly1305 or GHASH), appended by seal
 * </pre>
 *
 * <p>The AEAD is the {@link CipherSuite} the handshake negotiated ({@link #cipher()}): ChaCha20-Poly1305 or
 * AES-256-GCM. Both take the same 96-bit nonce and 16-byte tag, so nothing else depends on the choice.
 *
 * <p>The nonce is 4 zero bytes followed by the 8-byte big-endian counter, i.e. exactly the header's bytes 8..16
 * after the zeros. Each direction has its own key, so the counters of the two directions never meet. Counters
 * start at 0 and never repeat within a session; the receiver keeps a {@link #REPLAY_WINDOW}-counter window.
 *
 * <p><b>Threads.</b> {@link #seal} may be called from several threads at once (the counter is an atomic
 * increment; frames may then leave slightly out of order, which the window absorbs). {@link #open} may be
 * called from several threads too: each decrypts without any lock, then takes the session's opener flag (one
 * compare-and-set when uncontended) only to check the replay window again and mark the counter seen, so a counter is
 * never accepted twice and a thread opening a forged or duplicated message never holds up another one's decryption.
 * The switch keeps a session on one receive thread, so the flag is contended only when a member's datagrams reach it by
 * two ways at once (two transports, or sockets spread by the source address while a NAT mapping changes). The rest is
 * thread-safe.
 *
 * <p><b>The AEAD work</b> is a {@link SessionAead}: AES-256-GCM on the JDK's intrinsics ({@link IntrinsicGcm}) where
 * the JVM allows it (bin/setenv's option), with the key schedule and GHASH table kept per key and no allocation per
 * message; otherwise, and for ChaCha20-Poly1305, the JDK Cipher. Both keep their state per thread, in slots a session
 * picks by its local index. Rejecting a message before the AEAD (replay, window, bounds, expiry) allocates nothing.
 *
 * <p>All times are {@link System#nanoTime()} values, or those of one clock of the owner's that it passes to every
 * call and to the handshake that derived the session ({@link Initiator#consume(java.nio.ByteBuffer, Limits, long)}).
 */
public final class Session {

    public static final int TAG_LENGTH = 16;
    /** Where in the header the counter goes: protocol v1's session token field. */
    public static final int COUNTER_OFFSET = 8;
    public static final int MIN_HEADER_LENGTH = 16;
    /** Hard limit on counters: no message is sealed or opened with a counter at or above it. */
    public static final long REJECT_AFTER_MESSAGES = 1L << 60;
    /** Counters this far below the highest opened one are rejected as {@link CryptoException.Reason#OUTSIDE_WINDOW}. */
    public static final int REPLAY_WINDOW = ReplayWindow.WINDOW;

    /**
     * When a session should be replaced and when it must no longer be used.
     *
     * @param rekeyAfterMessages {@link #needsRekey} once this many messages are sealed, 1..2^60
     * @param rekeyAfterTime     {@link #needsRekey} once the session is this old
     * @param rejectAfterTime    seal and open refuse once the session is this old (&gt;= rekeyAfterTime)
     */
    public record Limits(long rekeyAfterMessages, Duration rekeyAfterTime, Duration rejectAfterTime) {

        /**
         * 2^40 messages, 120 s, 180 s. The times are WireGuard's: a key in use at most three minutes bounds what
         * a leaked session key exposes, and the minute between rekey and reject leaves room for handshake retries.
         * 2^40 messages (weeks at a million frames a second) keeps the message limit out of the way of the time
         * limit while staying far below the 2^60 hard limit.
         */
        public static final Limits DEFAULT = new Limits(1L << 40, Duration.ofSeconds(120), Duration.ofSeconds(180));

        /** @throws IllegalArgumentException if a value is out of range */
        public Limits {
            if (rekeyAfterMessages < 1 || rekeyAfterMessages > REJECT_AFTER_MESSAGES) {
                throw new IllegalArgumentException("rekeyAfterMessages must be 1..2^60, got " + rekeyAfterMessages);
            }
            if (rekeyAfterTime.isNegative() || rekeyAfterTime.isZero() || rejectAfterTime.compareTo(rekeyAfterTime) < 0) {
                throw new IllegalArgumentException("need 0 < rekeyAfterTime <= rejectAfterTime, got "
                        + rekeyAfterTime + " and " + rejectAfterTime);
            }
        }
    }

    // shared, stackless: rejecting a frame allocates nothing (see CryptoException)
    private static final CryptoException MALFORMED = new CryptoException(CryptoException.Reason.MALFORMED,
            "sealed message shorter than header and tag, or outside the buffer");
    private static final CryptoException EXPIRED = new CryptoException(CryptoException.Reason.EXPIRED,
            "session older than its reject-after time");
    private static final CryptoException EXHAUSTED = new CryptoException(CryptoException.Reason.EXHAUSTED,
            "counter at or beyond 2^60");
    private static final CryptoException REPLAYED = new CryptoException(CryptoException.Reason.REPLAYED,
            "counter already opened");
    private static final CryptoException OUTSIDE_WINDOW = new CryptoException(CryptoException.Reason.OUTSIDE_WINDOW,
            "counter older than the replay window");
    private static final CryptoException AUTH_FAILED = new CryptoException(CryptoException.Reason.AUTH_FAILED,
            "tag mismatch: another key, or modified");

    /** Per-thread AEAD slots per direction ({@link SessionAead#SLOTS}). */
    static final int CIPHER_SLOTS = SessionAead.SLOTS;
    /** A pair's peer key: none (see {@link #pair}). */
    private static final byte[] NO_PEER = new byte[32];

    private final boolean initiator;
    private final CipherSuite suite;
    private final int localIndex;
    private final int remoteIndex;
    /** The two keys and how they seal and open. */
    private final SessionAead aead;
    private final byte[] remotePublicKey;
    private final Limits limits;
    private final long created;
    private final long rekeyAfterNanos;
    private final long rejectAfterNanos;
    private final AtomicLong sendCounter = new AtomicLong();
    private final ReplayWindow window = new ReplayWindow();
    /** 1 while an {@link #open} checks or updates the window (see Threads above); never held while decrypting. */
    @SuppressWarnings("unused") // through OPENING
    private volatile int opening;
    private static final VarHandle OPENING;

    static {
        try {
            OPENING = MethodHandles.lookup().findVarHandle(Session.class, "opening", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    private volatile boolean confirmed;

    Session(boolean initiator, CipherSuite suite, int localIndex, int remoteIndex, byte[] sendKey, byte[] receiveKey,
            byte[] remotePublicKey, Limits limits) {
        this(initiator, suite, localIndex, remoteIndex, sendKey, receiveKey, remotePublicKey, limits,
                System.nanoTime());
    }

    /** Derived at {@code created}: {@link System#nanoTime()}, or the owner's clock that it passes to every call. */
    Session(boolean initiator, CipherSuite suite, int localIndex, int remoteIndex, byte[] sendKey, byte[] receiveKey,
            byte[] remotePublicKey, Limits limits, long created) {
        this.initiator = initiator;
        this.suite = suite;
        this.localIndex = localIndex;
        this.remoteIndex = remoteIndex;
        // the slot of this session's per-thread AEAD state: from the random local index
        this.aead = SessionAead.of(suite, (localIndex ^ localIndex >>> 16) & (CIPHER_SLOTS - 1), sendKey, receiveKey);
        this.remotePublicKey = remotePublicKey.clone();
        this.limits = limits;
        this.rekeyAfterNanos = limits.rekeyAfterTime().toNanos();
        this.rejectAfterNanos = limits.rejectAfterTime().toNanos();
        // the initiator has seen the responder prove its keys (the response); the responder waits for a frame
        this.confirmed = initiator;
        this.created = created;
    }

    /**
     * The keys of a pair (docs/crypto.md, "Pair keys"): one direction of one flow between two members, keyed by
     * the switch, which sends {@code key} to both over their sessions with it. Seal and open work as for a session
     * from a handshake: counters from 0, the replay window, the same nonce layout; the sender only seals, the
     * receiver only opens, both with {@code key} (zeroed here). {@code index} is both ends' receiver index, the
     * switch's name for the pair; the pair can be used for {@code lifetime} from {@code now}, then seal and open
     * refuse it (EXPIRED). No peer public key: the switch vouches for both ends.
     *
     * @throws IllegalArgumentException if the key is not 32 bytes or the lifetime not positive
     */
    public static Session pair(CipherSuite suite, int index, byte[] key, Duration lifetime, long now) {
        if (key.length != 32) {
            throw new IllegalArgumentException("a pair key is 32 bytes, got " + key.length);
        }
        Limits limits = new Limits(Limits.DEFAULT.rekeyAfterMessages(), lifetime, lifetime);
        byte[] sendKey = key.clone();
        byte[] receiveKey = key.clone();
        Arrays.fill(key, (byte) 0);
        return new Session(true, suite, index, index, sendKey, receiveKey, NO_PEER, limits, now);
    }

    /**
     * The reply keys of a pair (direct paths: the receiver's PROBE-ACK, docs/crypto.md): a key derived from the pair
     * key with HKDF, under which only the pair's receiver seals, so that its counters never meet the sender's under one
     * key. Both ends derive it; {@code key} is zeroed.
     */
    public static Session pairReplies(CipherSuite suite, int index, byte[] key, Duration lifetime, long now) {
        if (key.length != 32) {
            throw new IllegalArgumentException("a pair key is 32 bytes, got " + key.length);
        }
        byte[] prk = Hkdf.extract(null, key);
        Arrays.fill(key, (byte) 0);
        byte[] replies = Hkdf.expand(prk, PAIR_REPLIES, 32);
        Arrays.fill(prk, (byte) 0);
        return pair(suite, index, replies, lifetime, now);
    }

    private static final byte[] PAIR_REPLIES = "vl2 pair probe-ack".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /**
     * Seals a message in place: writes the next counter at {@code offset + 8}, encrypts the payload that follows
     * the header and appends the tag, with the whole header (counter included) as associated data.
     *
     * @param offset        absolute index of the header in {@code packet}
     * @param headerLength  at least {@link #MIN_HEADER_LENGTH}
     * @param payloadLength bytes after the header; the 16 bytes after them, up to the limit, receive the tag
     * @param now           {@link System#nanoTime()}
     * @return the sealed message's length: headerLength + payloadLength + 16
     * @throws CryptoException           EXPIRED past the reject-after time, EXHAUSTED past 2^60 messages
     * @throws IndexOutOfBoundsException if header, payload and tag do not fit below the limit
     */
    public int seal(ByteBuffer packet, int offset, int headerLength, int payloadLength, long now)
            throws CryptoException {
        if (offset < 0 || headerLength < MIN_HEADER_LENGTH || payloadLength < 0
                || (long) offset + headerLength + payloadLength + TAG_LENGTH > packet.limit()) {
            throw new IndexOutOfBoundsException("header " + headerLength + " + payload " + payloadLength + " + tag "
                    + TAG_LENGTH + " at " + offset + " do not fit below limit " + packet.limit());
        }
        if (now - created >= rejectAfterNanos) {
            throw EXPIRED;
        }
        long counter = sendCounter.getAndIncrement();
        if (counter >= REJECT_AFTER_MESSAGES) {
            throw EXHAUSTED;
        }
        for (int i = 0; i < 8; i++) {
            packet.put(offset + COUNTER_OFFSET + i, (byte) (counter >>> (56 - 8 * i)));
        }
        aead.seal(packet, offset, headerLength, payloadLength, counter);
        return headerLength + payloadLength + TAG_LENGTH;
    }

    /**
     * Opens a sealed message in place: checks the counter at {@code offset + 8} against the replay window,
     * verifies the tag over header and ciphertext, decrypts the payload where it is, then marks the counter seen.
     * A message that fails leaves the window as it was (one that authenticated but whose counter another thread
     * accepted meanwhile is decrypted in place and still rejected as REPLAYED).
     *
     * @param offset       absolute index of the header in {@code packet}
     * @param headerLength at least {@link #MIN_HEADER_LENGTH}
     * @param sealedLength bytes after the header: ciphertext and tag
     * @param now          {@link System#nanoTime()}
     * @return the payload's length (sealedLength - 16); the plaintext is at offset + headerLength
     * @throws CryptoException MALFORMED (shorter than header + tag, or outside the buffer), EXPIRED, EXHAUSTED
     *                         (a counter at or beyond 2^60), REPLAYED, OUTSIDE_WINDOW, AUTH_FAILED
     */
    public int open(ByteBuffer packet, int offset, int headerLength, int sealedLength, long now)
            throws CryptoException {
        if (offset < 0 || headerLength < MIN_HEADER_LENGTH || sealedLength < TAG_LENGTH
                || (long) offset + headerLength + sealedLength > packet.limit()) {
            throw MALFORMED;
        }
        if (now - created >= rejectAfterNanos) {
            throw EXPIRED;
        }
        long counter = 0;
        for (int i = 0; i < 8; i++) {
            counter = counter << 8 | packet.get(offset + COUNTER_OFFSET + i) & 0xFF;
        }
        // The window is read without the flag: a hint that turns most replays away before the AEAD runs. What it
        // rejects is confirmed under the flag (a read racing an accept may see a half-moved window); what it lets
        // through is checked again under the flag after the tag verified, so the flag is never held while decrypting.
        int verdict = window.check(counter);
        if (verdict != ReplayWindow.OK) {
            holdOpener();
            try {
                verdict = window.check(counter);
            } finally {
                opening = 0;
            }
            if (verdict != ReplayWindow.OK) {
                throw rejected(verdict);
            }
        }
        decrypt(packet, offset, headerLength, sealedLength, counter);
        holdOpener();
        try {
            // another thread may have accepted this counter while this one decrypted (the same datagram by two ways)
            verdict = window.check(counter);
            if (verdict == ReplayWindow.OK) {
                window.accept(counter);
            }
        } finally {
            opening = 0;
        }
        if (verdict != ReplayWindow.OK) {
            throw rejected(verdict);
        }
        if (!confirmed) {
            confirmed = true;
        }
        return sealedLength - TAG_LENGTH;
    }

    /** Takes the opener flag: one compare-and-set when uncontended, held only for a window check and update. */
    private void holdOpener() {
        while (!OPENING.compareAndSet(this, 0, 1)) {
            Thread.onSpinWait(); // another thread is checking or updating this session's window: nanoseconds
        }
    }

    private static CryptoException rejected(int verdict) {
        switch (verdict) {
            case ReplayWindow.SEEN:
                return REPLAYED;
            case ReplayWindow.TOO_OLD:
                return OUTSIDE_WINDOW;
            default:
                return EXHAUSTED;
        }
    }

    /** Verifies the tag and decrypts in place, without the opener flag: the AEAD work of threads runs side by side. */
    private void decrypt(ByteBuffer packet, int offset, int headerLength, int sealedLength, long counter)
            throws CryptoException {
        if (!aead.open(packet, offset, headerLength, sealedLength, counter)) {
            throw AUTH_FAILED;
        }
    }

    /** Tests: hold the opener flag as a thread accepting a counter would, until {@link #releaseOpenerForTest}. */
    void holdOpenerForTest() {
        holdOpener();
    }

    void releaseOpenerForTest() {
        opening = 0;
    }

    /**
     * Whether to start a new handshake: {@code rekeyAfterMessages} sealed, or {@code rekeyAfterTime} old. The
     * initiator (the agent) acts on it; the responder cannot initiate and lets the session expire instead.
     */
    public boolean needsRekey(long now) {
        return sendCounter.get() >= limits.rekeyAfterMessages() || now - created >= rekeyAfterNanos;
    }

    /** Whether the session is past its reject-after time: seal and open refuse it. */
    public boolean isExpired(long now) {
        return now - created >= rejectAfterNanos;
    }

    /**
     * Whether the peer has proven it holds the keys: always for the initiator (the response proved it), for the
     * responder after the first message opened. A responder keeps sending on its previous session until the new
     * one is confirmed, so a replayed initiation (which makes a session nobody else can use) disturbs nothing.
     */
    public boolean isConfirmed() {
        return confirmed;
    }

    /** The AEAD this session seals and opens with, as the handshake negotiated it. */
    public CipherSuite cipher() {
        return suite;
    }

    public boolean isInitiator() {
        return initiator;
    }

    /** This side's index: the receiver index in front of messages the peer sends on this session. */
    public int localIndex() {
        return localIndex;
    }

    /** The peer's index: the receiver index to put in front of messages sent on this session. */
    public int remoteIndex() {
        return remoteIndex;
    }

    /** The peer's authenticated static public key (a copy). */
    public byte[] remotePublicKey() {
        return remotePublicKey.clone();
    }

    public long remoteMemberId() {
        return Identity.memberId(remotePublicKey);
    }

    /** {@link System#nanoTime()} when the session was derived. */
    public long createdNanos() {
        return created;
    }

    public Limits limits() {
        return limits;
    }

    /** Messages sealed so far (the next counter). */
    public long sent() {
        return Math.min(sendCounter.get(), REJECT_AFTER_MESSAGES);
    }

    @Override
    public String toString() {
        if (remotePublicKey.length == NO_PEER.length && Arrays.equals(remotePublicKey, NO_PEER)) {
            return "Session[pair, " + suite + ", index " + Integer.toUnsignedString(localIndex) + "]";
        }
        return "Session[" + (initiator ? "initiator" : "responder") + ", " + suite + ", local " + Integer.toUnsignedString(localIndex)
                + ", remote " + Integer.toUnsignedString(remoteIndex) + ", peer " + Identity.fingerprint(remotePublicKey)
                + "]";
    }

    /** Tests: continue sealing at {@code counter} (the window and limits at high counters). */
    void skipTo(long counter) {
        sendCounter.set(counter);
    }

    /** Tests: this thread's Cipher or engine of this session for sealing or opening. */
    Object perThread(boolean open) {
        return aead.perThread(open);
    }

    /**
     * How this JVM seals and opens AES-256-GCM, for start lines: {@code JDK intrinsics, one engine per key}, or
     * {@code JDK Cipher: } and why the faster path is off (docs/crypto.md).
     */
    public static String aesGcmImplementation() {
        String off = IntrinsicGcm.unavailable();
        return off == null ? "JDK intrinsics, one engine per key" : "JDK Cipher: " + off;
    }
}

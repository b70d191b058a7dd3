package org.vl2.crypto;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The switch's side of mac2 and the cookie reply (docs/crypto.md, "Under load"), WireGuard's answer to floods of
 * initiations with a valid mac1 (anyone who knows the switch's public key makes those, from any source address):
 * before spending Diffie-Hellman on an initiation, a switch under load asks {@link #check} whether its mac2 proves
 * the source address, and answers one that does not with a {@link #cookieReply}, which only the real source
 * receives. Proven sources can then be rate-limited one by one.
 *
 * <pre>
 * switch (receive thread):
 *   switch (checker.check(datagram, source)) {
 *     case MALFORMED, BAD_MAC1 -&gt; drop
 *     case MAC2_MISSING -&gt; underLoad ? send(checker.cookieReply(datagram, source)) : handshake
 *     case MAC2_VALID -&gt; handshake, rate-limited per source address
 *   }
 * </pre>
 *
 * <p>cookie(source) = the first 16 bytes of HMAC-SHA256(secret, address (4 or 16 bytes) | port (2 bytes)), with a
 * random 32-byte secret replaced every {@link Cookies#COOKIE_LIFETIME_SECONDS}; mac2 matches the current or the
 * previous secret's cookie, so a cookie is good for 120 to 240 s after it was made. A check costs one HMAC over the
 * initiation (mac1) if it fails or carries no cookie (mac2 zeros), one more (and one over the 6 or 18 source bytes)
 * if its cookie is current, two more if not. Nothing grows with the calls: the Macs, the Cipher and the copy of the
 * initiation are the checker's, reused under its lock, and never a per-source table.
 *
 * <p>Thread-safe; meant for one receive thread (the lock is then uncontended), with {@link #count} and
 * {@link #cookieReplies} readable from any thread.
 */
public final class CookieChecker {

    /** What {@link #check} found. */
    public enum Check {
        /** Not an initiation: its length or header is wrong (or the source has no address). */
        MALFORMED,
        /** mac1 does not match this switch's key: addressed to another key, or modified. Drop it. */
        BAD_MAC1,
        /** mac1 matches, mac2 is zeros (no cookie) or not this source's cookie (wrong, stale, another source). */
        MAC2_MISSING,
        /** mac1 matches and mac2 is this source's cookie: the source address received a recent cookie reply. */
        MAC2_VALID
    }

    private static final String HMAC = "HmacSHA256";
    private static final int SECRET_LENGTH = 32;
    private static final long LIFETIME_NANOS = TimeUnit.SECONDS.toNanos(Cookies.COOKIE_LIFETIME_SECONDS);

    private final LongSupplier nanoTime;
    private final Random random;
    /** Keyed once with mac1's key. */
    private final Mac mac1;
    /** Re-keyed with each cookie it checks. */
    private final Mac mac2;
    /** Keyed with the current and the previous secret; swapped on rotation, so rotating allocates no Mac. */
    private Mac current;
    private Mac previous;
    /** False at first and after more than one lifetime without a rotation: the previous secret is then too old. */
    private boolean previousValid;
    /** When the current secret's lifetime began; advanced by whole lifetimes, so a cookie never outlives 240 s. */
    private long born;
    private final Cipher cipher;
    private final SecretKeySpec cookieKey;
    /** The initiation under check (copied: absolute reads, any buffer), and HMAC output. */
    private final byte[] scratch = new byte[Handshake.MAX_INITIATION_LENGTH];
    private final byte[] cookie = new byte[Hkdf.HASH_LENGTH];
    private final byte[] nonce = new byte[Aead.NONCE_LENGTH];

    private final AtomicLongArray counts = new AtomicLongArray(Check.values().length);
    private final AtomicLong cookieReplies = new AtomicLong();

    /** A checker for the switch's identity, with the system's monotonic clock and a {@link SecureRandom}. */
    public CookieChecker(Identity self) {
        this(self, System::nanoTime, new SecureRandom());
    }

    /**
     * @param nanoTime a monotonic clock in nanoseconds (tests move it to rotate the secret)
     * @param random   where secrets and cookie-reply nonces come from: a {@link SecureRandom} outside tests, since
     *                 a predictable secret lets anyone compute cookies for any source
     */
    public CookieChecker(Identity self, LongSupplier nanoTime, Random random) {
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        this.random = Objects.requireNonNull(random, "random");
        byte[] rs = self.publicKey();
        this.mac1 = Hkdf.mac(Handshake.mac1Key(rs));
        this.cookieKey = new SecretKeySpec(Handshake.cookieKey(rs), "ChaCha20");
        try {
            this.mac2 = Mac.getInstance(HMAC);
            this.current = Mac.getInstance(HMAC);
            this.previous = Mac.getInstance(HMAC);
            this.cipher = Cipher.getInstance(Aead.TRANSFORMATION);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no " + HMAC + " or " + Aead.TRANSFORMATION, e);
        }
        newSecret(current);
        this.born = nanoTime.getAsLong();
    }

    /**
     * Checks the initiation between the buffer's position and limit (absolute reads; the buffer is not changed):
     * length and header, mac1 for this switch's key, then mac2 for {@code source}'s cookie. Never throws on any
     * datagram.
     *
     * @param source the datagram's source address and port, as the socket reported it (not null)
     */
    public Check check(ByteBuffer initiation, InetSocketAddress source) {
        Check c = verify(initiation, source);
        counts.incrementAndGet(c.ordinal());
        return c;
    }

    private synchronized Check verify(ByteBuffer initiation, InetSocketAddress source) {
        InetAddress address = source.getAddress();
        if (address == null || !Handshake.isInitiation(initiation)) {
            return Check.MALFORMED;
        }
        int len = initiation.limit() - initiation.position();
        initiation.get(initiation.position(), scratch, 0, len);
        int mac2At = Handshake.mac2Offset(len);
        if (!Handshake.macMatches(mac1, scratch, Handshake.mac1Offset(len))) {
            return Check.BAD_MAC1;
        }
        if (isZero(scratch, mac2At, Handshake.MAC_LENGTH)) {
            return Check.MAC2_MISSING; // no cookie: spend no HMAC on it
        }
        rotateIfDue();
        byte[] ip = address.getAddress();
        if (mac2Matches(current, ip, source.getPort(), mac2At)
                || previousValid && mac2Matches(previous, ip, source.getPort(), mac2At)) {
            return Check.MAC2_VALID;
        }
        return Check.MAC2_MISSING;
    }

    /**
     * The 52-byte COOKIE REPLY to an initiation that passed mac1 ({@link #check} said {@link Check#MAC2_MISSING}):
     * receiver index = the initiation's sender index, a random nonce, and {@code source}'s current cookie sealed
     * with the cookie key and the initiation's mac1 as associated data. Never longer than the initiation.
     *
     * @throws IllegalArgumentException if the datagram is not an initiation of a possible length, or the source
     *                                  has no address: {@link #check} returns MALFORMED for both
     */
    public byte[] cookieReply(ByteBuffer initiation, InetSocketAddress source) {
        InetAddress address = source.getAddress();
        if (address == null || !Handshake.isInitiation(initiation)) {
            throw new IllegalArgumentException("a cookie reply answers an initiation from a resolved address");
        }
        int p = initiation.position();
        int len = initiation.limit() - p;
        byte[] reply = new byte[Handshake.COOKIE_REPLY_LENGTH];
        Handshake.putHeader(reply, Handshake.COOKIE_REPLY);
        Handshake.putInt(reply, Handshake.C_RECEIVER, Handshake.getInt(initiation, p + Handshake.I_SENDER));
        synchronized (this) {
            rotateIfDue();
            cookie(current, address.getAddress(), source.getPort());
            random.nextBytes(nonce);
            System.arraycopy(nonce, 0, reply, Handshake.C_NONCE, Aead.NONCE_LENGTH);
            initiation.get(p + Handshake.mac1Offset(len), scratch, 0, Handshake.MAC_LENGTH);
            try {
                // the JDK refuses a repeated key and nonce here: with 96 random bits, never in practice
                cipher.init(Cipher.ENCRYPT_MODE, cookieKey, new IvParameterSpec(nonce));
                cipher.updateAAD(scratch, 0, Handshake.MAC_LENGTH);
                cipher.doFinal(cookie, 0, Cookies.COOKIE_LENGTH, reply, Handshake.C_COOKIE);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("ChaCha20-Poly1305 failed to seal a cookie", e);
            }
        }
        cookieReplies.incrementAndGet();
        return reply;
    }

    /** How many checks had this outcome since the checker was made. */
    public long count(Check outcome) {
        return counts.get(outcome.ordinal());
    }

    /** How many cookie replies were made. */
    public long cookieReplies() {
        return cookieReplies.get();
    }

    /** Replaces the secret every lifetime: after one, the current becomes the previous; after two, both go. */
    private void rotateIfDue() {
        long lifetimes = (nanoTime.getAsLong() - born) / LIFETIME_NANOS;
        if (lifetimes < 1) {
            return; // includes a clock that went back
        }
        born += lifetimes * LIFETIME_NANOS;
        previousValid = lifetimes == 1;
        Mac old = previous;
        previous = current;
        current = old;
        newSecret(current);
    }

    private void newSecret(Mac mac) {
        byte[] secret = new byte[SECRET_LENGTH];
        random.nextBytes(secret);
        try {
            mac.init(new SecretKeySpec(secret, HMAC));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(HMAC + " refused a 32-byte key", e);
        } finally {
            Arrays.fill(secret, (byte) 0);
        }
    }

    /** cookie[0..16) = the source's cookie under {@code secret}. */
    private void cookie(Mac secret, byte[] ip, int port) {
        secret.update(ip);
        secret.update((byte) (port >>> 8));
        secret.update((byte) port);
        try {
            secret.doFinal(cookie, 0);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(HMAC + " failed", e);
        }
    }

    private boolean mac2Matches(Mac secret, byte[] ip, int port, int mac2At) {
        cookie(secret, ip, port);
        try {
            mac2.init(new SecretKeySpec(cookie, 0, Cookies.COOKIE_LENGTH, HMAC));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(HMAC + " refused a 16-byte key", e);
        }
        return Handshake.macMatches(mac2, scratch, mac2At);
    }

    private static boolean isZero(byte[] b, int off, int len) {
        int or = 0;
        for (int i = off; i < off + len; i++) {
            or |= b[i];
        }
        return or == 0;
    }
}

package org.vl2.crypto;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM (NIST SP 800-38D, 96-bit nonce, 128-bit tag) made of the JDK's own AES block cipher, counter mode and
 * GHASH: the classes behind {@code AES/GCM/NoPadding}, whose hot loops HotSpot replaces with AES-NI/VAES and
 * PCLMULQDQ code. Why not that Cipher: JDK 17 builds a new GCM engine, counter, GHASH state and GHASH power table at
 * every {@code Cipher.init}, which a datagram needs (one nonce each): about 500 ns before the first byte, more than
 * the AES-GCM of a 1,400-byte frame itself (bench/RESULTS.md). Here one <i>engine</i> per key keeps the key
 * schedule, H and the GHASH table, and a message costs a counter reset, the two intrinsic passes and one block for
 * the tag, with no allocation.
 *
 * <p>The classes are package-private in {@code java.base}: the JVM must run with {@link #OPENS}
 * ({@code bin/setenv} of the distribution does). Without it, or on a JDK whose classes differ, {@link #available()}
 * is false, {@link #unavailable()} says why, and {@link Session} uses the Cipher. A self-test at class
 * initialisation compares a seal and an open with the Cipher's; any difference also turns this path off.
 *
 * <p>An engine is an {@code Object[]} of JDK objects only (see {@link Session}'s per-thread storage: a thread that
 * outlives this bundle must not pin its class loader) and is used by one thread at a time.
 */
final class IntrinsicGcm {

    /** The JVM option that makes this path available. */
    static final String OPENS = "--add-opens java.base/com.sun.crypto.provider=ALL-UNNAMED";
    /** System property: {@code cipher} turns this path off (the JDK Cipher seals and opens). */
    static final String PROPERTY = "vl2.crypto.aesgcm";

    // engine layout
    private static final int KEY = 0; // the SecretKeySpec it is keyed for (identity)
    private static final int AES = 1;
    private static final int CTR = 2;
    private static final int GHASH = 3;
    private static final int STATE = 4; // GHASH's state, long[2]
    private static final int IV = 5; // the counter mode's first counter block, byte[16], written per message
    private static final int J0 = 6; // byte[16]: the nonce and counter 1, whose encryption masks the tag
    private static final int BLOCK = 7; // byte[16] scratch: a zero-padded last block, the lengths, E(K, J0)
    private static final int LAST = 8; // long[3]: whether sealed since keyed, the nonce of that seal
    private static final int PARTS = 9;

    private static final VarHandle BE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    private static final MethodHandle AES_NEW;
    private static final MethodHandle AES_ENCRYPT_BLOCK;
    private static final MethodHandle CTR_NEW;
    private static final MethodHandle CTR_INIT;
    private static final MethodHandle CTR_RESET;
    private static final MethodHandle CTR_ENCRYPT;
    private static final MethodHandle GHASH_NEW;
    private static final MethodHandle GHASH_UPDATE;
    private static final VarHandle GHASH_STATE;
    private static final String UNAVAILABLE;

    static {
        MethodHandle aesNew = null, aesEncrypt = null, ctrNew = null, ctrInit = null, ctrReset = null,
                ctrEncrypt = null, ghashNew = null, ghashUpdate = null;
        VarHandle ghashState = null;
        String why = null;
        if ("cipher".equalsIgnoreCase(System.getProperty(PROPERTY, ""))) {
            why = "turned off (-D" + PROPERTY + "=cipher)";
        } else {
            try {
                // from the boot loader itself, whatever the framework's boot delegation says
                Class<?> aes = Class.forName("com.sun.crypto.provider.AESCrypt", false, null);
                Class<?> symmetric = Class.forName("com.sun.crypto.provider.SymmetricCipher", false, null);
                Class<?> ctr = Class.forName("com.sun.crypto.provider.CounterMode", false, null);
                Class<?> ghash = Class.forName("com.sun.crypto.provider.GHASH", false, null);
                MethodHandles.Lookup here = MethodHandles.lookup();
                MethodHandles.Lookup la = MethodHandles.privateLookupIn(aes, here);
                MethodHandles.Lookup lc = MethodHandles.privateLookupIn(ctr, here);
                MethodHandles.Lookup lg = MethodHandles.privateLookupIn(ghash, here);
                aesNew = la.findConstructor(aes, MethodType.methodType(void.class))
                        .asType(MethodType.methodType(Object.class));
                aesEncrypt = la.findVirtual(aes, "encryptBlock",
                                MethodType.methodType(void.class, byte[].class, int.class, byte[].class, int.class))
                        .asType(MethodType.methodType(void.class, Object.class, byte[].class, int.class, byte[].class,
                                int.class));
                ctrNew = lc.findConstructor(ctr, MethodType.methodType(void.class, symmetric))
                        .asType(MethodType.methodType(Object.class, Object.class));
                ctrInit = lc.findVirtual(ctr, "init", MethodType.methodType(void.class, boolean.class, String.class,
                                byte[].class, byte[].class))
                        .asType(MethodType.methodType(void.class, Object.class, boolean.class, String.class,
                                byte[].class, byte[].class));
                ctrReset = lc.findVirtual(ctr, "reset", MethodType.methodType(void.class))
                        .asType(MethodType.methodType(void.class, Object.class));
                ctrEncrypt = lc.findVirtual(ctr, "encrypt", MethodType.methodType(int.class, byte[].class, int.class,
                                int.class, byte[].class, int.class))
                        .asType(MethodType.methodType(int.class, Object.class, byte[].class, int.class, int.class,
                                byte[].class, int.class));
                ghashNew = lg.findConstructor(ghash, MethodType.methodType(void.class, byte[].class))
                        .asType(MethodType.methodType(Object.class, byte[].class));
                ghashUpdate = lg.findVirtual(ghash, "update",
                                MethodType.methodType(int.class, byte[].class, int.class, int.class))
                        .asType(MethodType.methodType(int.class, Object.class, byte[].class, int.class, int.class));
                ghashState = lg.findVarHandle(ghash, "state", long[].class);
            } catch (IllegalAccessException e) {
                why = "java.base does not open com.sun.crypto.provider to vl2 (JVM option " + OPENS + ")";
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                why = "this JDK's AES-GCM classes differ from JDK 17's (" + e + ")";
            }
        }
        AES_NEW = aesNew;
        AES_ENCRYPT_BLOCK = aesEncrypt;
        CTR_NEW = ctrNew;
        CTR_INIT = ctrInit;
        CTR_RESET = ctrReset;
        CTR_ENCRYPT = ctrEncrypt;
        GHASH_NEW = ghashNew;
        GHASH_UPDATE = ghashUpdate;
        GHASH_STATE = ghashState;
        if (why == null) {
            why = selfTest();
        }
        UNAVAILABLE = why;
    }

    private IntrinsicGcm() {
    }

    /** True when {@link Session} seals and opens AES-256-GCM here rather than with the JDK Cipher. */
    static boolean available() {
        return UNAVAILABLE == null;
    }

    /** Why this path is off (for the start line and the docs), or null when it is on. */
    static String unavailable() {
        return UNAVAILABLE;
    }

    /** A new, unkeyed engine. */
    static Object[] engine() {
        return new Object[PARTS];
    }

    /**
     * Keys {@code engine} for {@code key} unless it already is (the same SecretKeySpec object): the key schedule, H
     * and a fresh GHASH table, about 2 us, once per key and thread (or when two sessions share a slot and take turns).
     */
    static Object[] keyed(Object[] engine, SecretKeySpec key) {
        if (engine[KEY] != key) {
            byte[] k = key.getEncoded();
            try {
                engine[KEY] = null; // until keyed whole
                Object aes = engine[AES];
                if (aes == null) {
                    aes = AES_NEW.invokeExact();
                    engine[AES] = aes;
                    engine[CTR] = CTR_NEW.invokeExact(aes);
                    engine[IV] = new byte[16];
                    engine[J0] = new byte[16];
                    engine[BLOCK] = new byte[16];
                    engine[LAST] = new long[3];
                }
                ((long[]) engine[LAST])[0] = 0;
                // keys the AES (the schedule, in plain Java) and points the counter mode at IV: reset() starts it
                // from what each message writes there
                CTR_INIT.invokeExact(engine[CTR], false, "AES", k, (byte[]) engine[IV]);
                byte[] h = new byte[16];
                AES_ENCRYPT_BLOCK.invokeExact(aes, h, 0, h, 0);
                Object ghash = GHASH_NEW.invokeExact(h); // the power table is made at its first use, once per key
                Arrays.fill(h, (byte) 0);
                engine[GHASH] = ghash;
                engine[STATE] = (long[]) GHASH_STATE.get(ghash);
                engine[KEY] = key;
            } catch (RuntimeException | Error e) {
                engine[KEY] = null;
                throw e;
            } catch (Throwable e) {
                engine[KEY] = null;
                throw new IllegalStateException("AES-256-GCM: keying the JDK's AES failed", e);
            } finally {
                Arrays.fill(k, (byte) 0);
            }
        }
        return engine;
    }

    /**
     * Seals in place: encrypts {@code payloadLength} bytes at {@code at + headerLength}, authenticates them with the
     * {@code headerLength} bytes at {@code at} as associated data, writes the tag after the ciphertext. The nonce is
     * {@code nonceHigh} (4 bytes) and {@code nonceLow} (8 bytes), big-endian: unique per key, as GCM requires.
     */
    static void seal(Object[] engine, int nonceHigh, long nonceLow, byte[] a, int at, int headerLength,
            int payloadLength) {
        int payload = at + headerLength;
        // the JDK Cipher's last line, kept: a seal under the nonce of the one before (a counter that repeated)
        long[] last = (long[]) engine[LAST];
        if (last[0] != 0 && last[1] == nonceHigh && last[2] == nonceLow) {
            throw new IllegalStateException("AES-256-GCM: the same key and nonce twice in a row");
        }
        last[0] = 1;
        last[1] = nonceHigh;
        last[2] = nonceLow;
        counter(engine, nonceHigh, nonceLow);
        crypt(engine, a, payload, payloadLength);
        long[] s = hash(engine, a, at, headerLength, payload, payloadLength);
        byte[] mask = mask(engine);
        BE.set(a, payload + payloadLength, (long) BE.get(mask, 0) ^ s[0]);
        BE.set(a, payload + payloadLength + 8, (long) BE.get(mask, 8) ^ s[1]);
    }

    /**
     * Opens in place: verifies the tag of {@code sealedLength - 16} bytes of ciphertext at {@code at + headerLength}
     * and the header before them (in constant time), then decrypts them where they are. False, with nothing
     * decrypted, when the tag does not match.
     */
    static boolean open(Object[] engine, int nonceHigh, long nonceLow, byte[] a, int at, int headerLength,
            int sealedLength) {
        int payload = at + headerLength;
        int length = sealedLength - Session.TAG_LENGTH;
        counter(engine, nonceHigh, nonceLow);
        long[] s = hash(engine, a, at, headerLength, payload, length);
        byte[] mask = mask(engine);
        long d = ((long) BE.get(mask, 0) ^ s[0] ^ (long) BE.get(a, payload + length))
                | ((long) BE.get(mask, 8) ^ s[1] ^ (long) BE.get(a, payload + length + 8));
        if (d != 0) {
            return false;
        }
        crypt(engine, a, payload, length);
        return true;
    }

    /** IV: nonce || 2 (the payload's first counter block); J0: nonce || 1. */
    private static void counter(Object[] engine, int nonceHigh, long nonceLow) {
        byte[] iv = (byte[]) engine[IV];
        byte[] j0 = (byte[]) engine[J0];
        for (int i = 0; i < 4; i++) {
            byte b = (byte) (nonceHigh >>> (24 - 8 * i));
            iv[i] = b;
            j0[i] = b;
        }
        for (int i = 0; i < 8; i++) {
            byte b = (byte) (nonceLow >>> (56 - 8 * i));
            iv[4 + i] = b;
            j0[4 + i] = b;
        }
        iv[12] = 0;
        iv[13] = 0;
        iv[14] = 0;
        iv[15] = 2;
        j0[12] = 0;
        j0[13] = 0;
        j0[14] = 0;
        j0[15] = 1;
    }

    /** The counter mode from IV over {@code length} bytes, in place (a frame is far from the 2^32 blocks GCM allows). */
    private static void crypt(Object[] engine, byte[] a, int from, int length) {
        if (length == 0) {
            return;
        }
        try {
            Object ctr = engine[CTR];
            CTR_RESET.invokeExact(ctr);
            int done = (int) CTR_ENCRYPT.invokeExact(ctr, a, from, length, a, from);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** GHASH of the header and the ciphertext, each zero-padded to whole blocks, and of their lengths in bits. */
    private static long[] hash(Object[] engine, byte[] a, int header, int headerLength, int payload, int length) {
        long[] s = (long[]) engine[STATE];
        s[0] = 0;
        s[1] = 0;
        Object ghash = engine[GHASH];
        byte[] block = (byte[]) engine[BLOCK];
        update(ghash, block, a, header, headerLength);
        update(ghash, block, a, payload, length);
        BE.set(block, 0, (long) headerLength << 3);
        BE.set(block, 8, (long) length << 3);
        update(ghash, block, block, 0, 16);
        return s;
    }

    private static void update(Object ghash, byte[] block, byte[] a, int from, int length) {
        try {
            int whole = length & ~15;
            if (whole > 0) {
                int done = (int) GHASH_UPDATE.invokeExact(ghash, a, from, whole);
            }
            int rest = length - whole;
            if (rest > 0) {
                System.arraycopy(a, from + whole, block, 0, rest);
                Arrays.fill(block, rest, 16, (byte) 0);
                int done = (int) GHASH_UPDATE.invokeExact(ghash, block, 0, 16);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** E(K, J0), in BLOCK: what masks the GHASH into the tag. */
    private static byte[] mask(Object[] engine) {
        byte[] block = (byte[]) engine[BLOCK];
        try {
            AES_ENCRYPT_BLOCK.invokeExact(engine[AES], (byte[]) engine[J0], 0, block, 0);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        return block;
    }

    /**
     * Seals and opens a few messages (every length class: empty, short, block-aligned, a frame) with both this path
     * and the JDK Cipher, also a tampered one: null if all agree, else what differed.
     */
    private static String selfTest() {
        try {
            byte[] k = new byte[32];
            for (int i = 0; i < k.length; i++) {
                k[i] = (byte) (31 * i + 7);
            }
            SecretKeySpec key = new SecretKeySpec(k, "AES");
            Object[] engine = keyed(engine(), key);
            Cipher jdk = Cipher.getInstance("AES/GCM/NoPadding");
            int[] lengths = {0, 1, 15, 16, 17, 100, 1408};
            for (int n = 0; n < lengths.length; n++) {
                int headerLength = 16 + n * 3;
                int length = lengths[n];
                byte[] plain = new byte[headerLength + length + 16];
                for (int i = 0; i < headerLength + length; i++) {
                    plain[i] = (byte) (i * 13 + n);
                }
                byte[] ours = plain.clone();
                seal(engine, n, 0x0123456789abcdefL + n, ours, 0, headerLength, length);
                byte[] nonce = new byte[12];
                BE.set(nonce, 4, 0x0123456789abcdefL + n);
                nonce[3] = (byte) n;
                byte[] theirs = plain.clone();
                jdk.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, nonce));
                jdk.updateAAD(theirs, 0, headerLength);
                jdk.doFinal(theirs, headerLength, length, theirs, headerLength);
                if (!Arrays.equals(ours, theirs)) {
                    return "self-test: a seal differs from the JDK Cipher's (" + length + " bytes)";
                }
                if (!open(engine, n, 0x0123456789abcdefL + n, ours, 0, headerLength, length + 16)
                        || !Arrays.equals(ours, 0, headerLength + length, plain, 0, headerLength + length)) {
                    return "self-test: the JDK Cipher's seal does not open (" + length + " bytes)";
                }
                theirs[headerLength + length + 15] ^= 1;
                if (open(engine, n, 0x0123456789abcdefL + n, theirs, 0, headerLength, length + 16)) {
                    return "self-test: a tampered tag opened";
                }
            }
            return null;
        } catch (Exception | LinkageError e) {
            return "self-test failed: " + e;
        }
    }
}

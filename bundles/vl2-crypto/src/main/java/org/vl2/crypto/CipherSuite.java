package org.vl2.crypto;

import java.security.spec.AlgorithmParameterSpec;
import java.util.Locale;

import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;

/**
 * The AEADs a session can seal with (docs/crypto.md, "Cipher negotiation"). Both take a 32-byte key, a 96-bit
 * nonce and append a 16-byte tag, so the sealed message format does not depend on the choice. The handshake's own
 * fields are always sealed with ChaCha20-Poly1305; the suite is negotiated inside it for the transport keys.
 */
public enum CipherSuite {

    /** RFC 8439; constant time in software on every CPU. Wire id 1; what sessions used before negotiation. */
    CHACHA20_POLY1305(1, "chacha20-poly1305", "ChaCha20-Poly1305", "ChaCha20-Poly1305", "ChaCha20"),
    /** NIST SP 800-38D with a 256-bit key; fast (and constant time) only with AES instructions. Wire id 2. */
    AES_256_GCM(2, "aes-256-gcm", "AES-256-GCM", "AES/GCM/NoPadding", "AES");

    /** Tag length of both suites, in bits (GCM's parameter). */
    static final int TAG_BITS = 128;

    private final int id;
    private final String configName;
    private final String displayName;
    final String transformation;
    final String keyAlgorithm;

    CipherSuite(int id, String configName, String displayName, String transformation, String keyAlgorithm) {
        this.id = id;
        this.configName = configName;
        this.displayName = displayName;
        this.transformation = transformation;
        this.keyAlgorithm = keyAlgorithm;
    }

    /** The byte that names it in the handshake's offer and choice. */
    public int wireId() {
        return id;
    }

    /** Its name in configuration and logs: {@code chacha20-poly1305}, {@code aes-256-gcm}. */
    public String configName() {
        return configName;
    }

    /** Its name for people: {@code ChaCha20-Poly1305}, {@code AES-256-GCM}. */
    public String displayName() {
        return displayName;
    }

    /** The suite with this wire id, or null (an id of a later version: skipped in an offer). */
    public static CipherSuite ofWireId(int id) {
        for (CipherSuite s : values()) {
            if (s.id == id) {
                return s;
            }
        }
        return null;
    }

    /** The suite with this configuration name (case-insensitive, trimmed), or null. */
    public static CipherSuite ofConfigName(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        for (CipherSuite s : values()) {
            if (s.configName.equals(n)) {
                return s;
            }
        }
        return null;
    }

    /** The nonce as the JDK's Cipher takes it (a copy: the JDK keeps its own). */
    AlgorithmParameterSpec nonceSpec(byte[] nonce) {
        return this == AES_256_GCM ? new GCMParameterSpec(TAG_BITS, nonce) : new IvParameterSpec(nonce);
    }

    @Override
    public String toString() {
        return configName;
    }
}

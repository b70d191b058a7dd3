package org.vl2.crypto;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Which transport ciphers one side accepts, from the configuration value {@code auto}, {@code aes-256-gcm} or
 * {@code chacha20-poly1305} (docs/crypto.md, "Cipher negotiation"). The initiator offers {@link #offer()}; the
 * responder {@link #choose}s from the offer.
 *
 * <p>{@code auto} accepts both and ranks AES-256-GCM first only where this machine has AES instructions
 * ({@link HardwareAes}): there the JDK's AES-GCM is intrinsified (about ten times ChaCha20-Poly1305 on JDK 17),
 * elsewhere it is slower and table-based. A pinned value accepts that cipher only.
 */
public final class CipherPolicy {

    /** The configuration value that negotiates. */
    public static final String AUTO = "auto";
    /** What a configuration value may be, for error messages and metatype descriptions. */
    public static final String VALUES = "auto, aes-256-gcm or chacha20-poly1305";

    private final CipherSuite pinned;
    private final boolean hardwareAes;

    private CipherPolicy(CipherSuite pinned, boolean hardwareAes) {
        this.pinned = pinned;
        this.hardwareAes = hardwareAes;
    }

    /**
     * The policy of a configuration value; blank is {@code auto}.
     *
     * @throws IllegalArgumentException naming the value and the allowed ones
     */
    public static CipherPolicy parse(String value) {
        String v = value == null ? "" : value.trim();
        if (v.isEmpty() || v.equalsIgnoreCase(AUTO)) {
            return auto();
        }
        CipherSuite s = CipherSuite.ofConfigName(v);
        if (s == null) {
            throw new IllegalArgumentException("cipher '" + value + "' is not " + VALUES);
        }
        return new CipherPolicy(s, HardwareAes.present());
    }

    /** {@code auto} on this machine. */
    public static CipherPolicy auto() {
        return new CipherPolicy(null, HardwareAes.present());
    }

    /** Tests: a policy as on a machine with or without AES instructions ({@code pinned} null: auto). */
    static CipherPolicy of(CipherSuite pinned, boolean hardwareAes) {
        return new CipherPolicy(pinned, hardwareAes);
    }

    /** The pinned suite, or null for {@code auto}. */
    public CipherSuite pinned() {
        return pinned;
    }

    /** Whether this machine has AES instructions (what {@code auto} ranks by). */
    public boolean hardwareAes() {
        return hardwareAes;
    }

    /** What this side offers, best first: the pin alone, or both with AES-256-GCM first given AES instructions. */
    public List<CipherSuite> offer() {
        if (pinned != null) {
            return List.of(pinned);
        }
        return hardwareAes ? List.of(CipherSuite.AES_256_GCM, CipherSuite.CHACHA20_POLY1305)
                : List.of(CipherSuite.CHACHA20_POLY1305, CipherSuite.AES_256_GCM);
    }

    public boolean accepts(CipherSuite s) {
        return pinned == null || pinned == s;
    }

    /**
     * The responder's choice from an initiator's offer (best first; empty: an initiator from before negotiation,
     * which seals with ChaCha20-Poly1305 only). The initiator's first suite when it is this side's first too (both
     * have AES instructions, or pins agree); otherwise ChaCha20-Poly1305 if both accept it (the one that is fast
     * and constant time in software: one side without AES instructions would be the bottleneck with AES-GCM);
     * otherwise the first common suite in the initiator's order.
     *
     * @return null when the two sides have no suite in common (a mismatch: refused)
     */
    public CipherSuite choose(List<CipherSuite> initiatorOffer) {
        List<CipherSuite> theirs = initiatorOffer.isEmpty() ? List.of(CipherSuite.CHACHA20_POLY1305) : initiatorOffer;
        List<CipherSuite> common = new ArrayList<>();
        for (CipherSuite s : theirs) {
            if (s != null && accepts(s) && !common.contains(s)) {
                common.add(s);
            }
        }
        if (common.isEmpty()) {
            return null;
        }
        if (common.get(0) == theirs.get(0) && common.get(0) == offer().get(0)) {
            return common.get(0);
        }
        return common.contains(CipherSuite.CHACHA20_POLY1305) ? CipherSuite.CHACHA20_POLY1305 : common.get(0);
    }

    /** The configuration value: {@code auto} or the pinned suite's name. */
    public String configValue() {
        return pinned == null ? AUTO : pinned.configName();
    }

    /** For logs: {@code auto (prefers aes-256-gcm: AES instructions)} or {@code aes-256-gcm (pinned)}. */
    public String describe() {
        return pinned != null ? pinned.configName() + " (pinned)"
                : AUTO + " (prefers " + offer().get(0).configName() + (hardwareAes ? ": this CPU has AES instructions)"
                : ": no AES instructions found)");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CipherPolicy p && p.pinned == pinned && p.hardwareAes == hardwareAes;
    }

    @Override
    public int hashCode() {
        return Objects.hash(pinned, hardwareAes);
    }

    @Override
    public String toString() {
        return configValue();
    }
}

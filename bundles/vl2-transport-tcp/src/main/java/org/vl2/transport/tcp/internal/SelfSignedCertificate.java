package org.vl2.transport.tcp.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * A self-signed X.509 v3 certificate for an EC P-256 key, signed with SHA256withECDSA: the JDK parses certificates
 * but has no public API to make one, and the switch needs one for TLS without asking the operator for a PKI (the
 * agents authenticate the switch by its vl2 key, not by this certificate). A minimal DER encoder of RFC 5280's
 * TBSCertificate: version 3, a random serial, the same subject and issuer (CN only), a validity, the key as the JDK
 * encodes it (SubjectPublicKeyInfo) and one extension, basicConstraints cA=false.
 */
final class SelfSignedCertificate {

    private static final String SIGNATURE = "SHA256withECDSA";
    /** ecdsa-with-SHA256 (RFC 5758). */
    private static final String ECDSA_SHA256 = "1.2.840.10045.4.3.2";
    private static final String COMMON_NAME = "2.5.4.3";
    private static final String BASIC_CONSTRAINTS = "2.5.29.19";

    private SelfSignedCertificate() {
    }

    /** A new EC P-256 key pair. */
    static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    /** A certificate for {@code keys} (EC), issued by and to {@code commonName}, valid in [notBefore, notAfter]. */
    static X509Certificate create(KeyPair keys, String commonName, Instant notBefore, Instant notAfter)
            throws GeneralSecurityException {
        byte[] serial = new byte[16];
        new SecureRandom().nextBytes(serial);
        serial[0] &= 0x7f; // positive, as RFC 5280 asks
        serial[0] |= 0x40; // and no leading zero byte to strip
        byte[] algorithm = seq(oid(ECDSA_SHA256));
        byte[] name = seq(set(seq(oid(COMMON_NAME), tlv(0x0c, commonName.getBytes(StandardCharsets.UTF_8)))));
        byte[] tbs = seq(
                tlv(0xa0, integer(BigInteger.valueOf(2))),        // [0] EXPLICIT version v3
                integer(new BigInteger(serial)),
                algorithm,
                name,
                seq(time(notBefore), time(notAfter)),
                name,
                keys.getPublic().getEncoded(),                     // SubjectPublicKeyInfo
                tlv(0xa3, seq(seq(oid(BASIC_CONSTRAINTS), tlv(0x01, new byte[]{(byte) 0xff}),
                        tlv(0x04, seq())))));                      // [3] extensions: basicConstraints, critical
        Signature signer = Signature.getInstance(SIGNATURE);
        signer.initSign(keys.getPrivate());
        signer.update(tbs);
        byte[] der = seq(tbs, algorithm, bitString(signer.sign()));
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(der));
    }

    /** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5), to the second, in UTC. */
    static byte[] time(Instant t) {
        int year = t.atZone(ZoneOffset.UTC).getYear();
        if (year >= 1950 && year < 2050) {
            return tlv(0x17, DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'").withZone(ZoneOffset.UTC).format(t)
                    .getBytes(StandardCharsets.US_ASCII));
        }
        return tlv(0x18, DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'").withZone(ZoneOffset.UTC).format(t)
                .getBytes(StandardCharsets.US_ASCII));
    }

    static byte[] integer(BigInteger value) {
        return tlv(0x02, value.toByteArray());
    }

    static byte[] bitString(byte[] bits) {
        byte[] v = new byte[bits.length + 1]; // leading byte: no unused bits
        System.arraycopy(bits, 0, v, 1, bits.length);
        return tlv(0x03, v);
    }

    /** An OBJECT IDENTIFIER from its dotted form. */
    static byte[] oid(String dotted) {
        String[] arcs = dotted.split("\\.");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(Integer.parseInt(arcs[0]) * 40 + Integer.parseInt(arcs[1]));
        for (int i = 2; i < arcs.length; i++) {
            long arc = Long.parseLong(arcs[i]);
            int groups = Math.max(1, (64 - Long.numberOfLeadingZeros(arc) + 6) / 7);
            for (int g = groups - 1; g >= 0; g--) {
                out.write((int) ((arc >>> (7 * g)) & 0x7f) | (g > 0 ? 0x80 : 0));
            }
        }
        return tlv(0x06, out.toByteArray());
    }

    static byte[] seq(byte[]... parts) {
        return tlv(0x30, concat(parts));
    }

    static byte[] set(byte[]... parts) {
        return tlv(0x31, concat(parts));
    }

    /** Tag, DER length (short form below 128, else long form), value. */
    static byte[] tlv(int tag, byte[] value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(value.length + 6);
        out.write(tag);
        int n = value.length;
        if (n < 0x80) {
            out.write(n);
        } else {
            int bytes = (32 - Integer.numberOfLeadingZeros(n) + 7) / 8;
            out.write(0x80 | bytes);
            for (int i = bytes - 1; i >= 0; i--) {
                out.write(n >>> (8 * i));
            }
        }
        out.writeBytes(value);
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}

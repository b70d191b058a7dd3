package org.vl2.transport.tcp.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;

import org.junit.jupiter.api.Test;

class SelfSignedCertificateTest {

    @Test
    void theJdkParsesAndVerifiesIt() throws Exception {
        KeyPair keys = SelfSignedCertificate.newKeyPair();
        Instant from = Instant.parse("2026-01-02T03:04:05Z");
        Instant to = Instant.parse("2066-01-02T03:04:05Z"); // GeneralizedTime from 2050 on
        X509Certificate c = SelfSignedCertificate.create(keys, "vl2 switch", from, to);
        assertEquals(3, c.getVersion());
        assertEquals("CN=vl2 switch", c.getSubjectX500Principal().getName());
        assertEquals(c.getSubjectX500Principal(), c.getIssuerX500Principal());
        assertEquals(Date.from(from), c.getNotBefore());
        assertEquals(Date.from(to), c.getNotAfter());
        assertEquals("SHA256withECDSA", c.getSigAlgName());
        assertArrayEquals(keys.getPublic().getEncoded(), c.getPublicKey().getEncoded());
        assertEquals(-1, c.getBasicConstraints(), "not a CA");
        assertTrue(c.getCriticalExtensionOIDs().contains("2.5.29.19"));
        assertTrue(c.getSerialNumber().signum() > 0);
        c.verify(keys.getPublic()); // throws if the signature is wrong
    }

    @Test
    void derPieces() {
        // RFC 5280's ecdsa-with-SHA256 and the long length form
        assertArrayEquals(new byte[]{0x06, 0x08, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x04, 0x03, 0x02},
                SelfSignedCertificate.oid("1.2.840.10045.4.3.2"));
        byte[] big = SelfSignedCertificate.tlv(0x04, new byte[300]);
        assertArrayEquals(new byte[]{0x04, (byte) 0x82, 0x01, 0x2c}, java.util.Arrays.copyOf(big, 4));
        assertEquals(0x17, SelfSignedCertificate.time(Instant.parse("2049-12-31T23:59:59Z"))[0]);
        assertEquals(0x18, SelfSignedCertificate.time(Instant.parse("2050-01-01T00:00:00Z"))[0]);
    }
}

package org.vl2.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The second run of the session tests (pom: execution {@code aes-gcm-cipher}, vl2.crypto.aesgcm=cipher): the JDK
 * Cipher seals and opens AES-256-GCM, and {@link Session#aesGcmImplementation()} says so and why.
 */
@EnabledIfSystemProperty(named = IntrinsicGcm.PROPERTY, matches = "cipher")
class IntrinsicGcmOffTest {

    @Test
    void theCipherSealsWhenTurnedOff() {
        assertFalse(IntrinsicGcm.available());
        assertEquals("JDK Cipher: turned off (-Dvl2.crypto.aesgcm=cipher)", Session.aesGcmImplementation());
    }
}

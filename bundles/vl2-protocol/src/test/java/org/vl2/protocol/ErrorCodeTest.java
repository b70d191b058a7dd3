package org.vl2.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ErrorCodeTest {

    @Test
    void mapsTheCodesAndLabelsOfTheSpec() {
        String[] labels = {"unknown-network", "not-authorized", "unsupported-version", "address-conflict",
                "unknown-port", "port-limit", "bad-request", "cipher-mismatch"};
        for (int code = 1; code <= 8; code++) {
            ErrorCode c = ErrorCode.of(code);
            assertEquals(code, c.code());
            assertEquals(labels[code - 1], c.label());
        }
        assertSame(ErrorCode.UNKNOWN_PORT, ErrorCode.of(5));
        assertEquals(8, ErrorCode.values().length);
    }

    @Test
    void hasNoOtherCodes() {
        for (int code : new int[] {0, 9, 15, 255, 65535, -1, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
            assertNull(ErrorCode.of(code), "code " + code);
        }
    }

    @Test
    void onlyVersionAndBadRequestAreFatal() {
        assertTrue(ErrorCode.UNKNOWN_NETWORK.retryable());
        assertTrue(ErrorCode.NOT_AUTHORIZED.retryable());
        assertTrue(ErrorCode.ADDRESS_CONFLICT.retryable());
        assertTrue(ErrorCode.PORT_LIMIT.retryable());
        assertTrue(ErrorCode.UNKNOWN_PORT.retryable());   // re-join at once, never give up
        assertTrue(ErrorCode.CIPHER_MISMATCH.retryable()); // slowly: an operator may change either pin
        assertFalse(ErrorCode.UNSUPPORTED_VERSION.retryable());
        assertFalse(ErrorCode.BAD_REQUEST.retryable());
    }
}

package org.vl2.api;

import java.time.Instant;

/**
 * An API token as the instance keeps it: never the secret itself (only its SHA-256 is stored).
 *
 * @param name     the token's name, unique in the instance (letters, digits, '.', '_', '-')
 * @param admin    whether it may change things (the API's write role); otherwise it only reads (the read role)
 * @param created  when it was created
 * @param lastUsed when a request last authenticated with it since this instance started, {@code null} if none
 */
public record ApiToken(String name, boolean admin, Instant created, Instant lastUsed) {
}

package org.vl2.api;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The HTTP API's tokens ({@code Authorization: Bearer TOKEN}): created, listed and revoked from the shell
 * ({@code vl2:token-*}), stored hashed. The HTTP API bundle provides it.
 */
@ProviderType
public interface ApiTokenService {

    /**
     * Creates a token and stores its hash.
     *
     * @param name  a new name: 1 to 64 letters, digits, '.', '_' or '-'
     * @param admin whether it may change things; otherwise read-only
     * @return the token's secret: shown this once, never stored
     * @throws IllegalArgumentException for an invalid name or one that exists (the message says which)
     * @throws IllegalStateException    when the token file cannot be written (nothing is changed)
     */
    String create(String name, boolean admin);

    /** The tokens, ordered by name. */
    List<ApiToken> tokens();

    /**
     * Revokes a token: requests with it fail from now on.
     *
     * @return false if there is no token of that name
     * @throws IllegalStateException when the token file cannot be written (nothing is changed)
     */
    boolean revoke(String name);
}

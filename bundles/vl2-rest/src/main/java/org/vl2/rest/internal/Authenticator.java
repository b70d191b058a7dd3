package org.vl2.rest.internal;

import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.util.Base64;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.LoginContext;
import javax.security.auth.login.LoginException;

/**
 * HTTP Basic authentication against a Karaf JAAS realm ({@code karaf}: etc/users.properties, where the vl2 launchers
 * keep the instance's generated password, hashed), or an API token ({@code Authorization: Bearer TOKEN},
 * {@link TokenStore}). There is no anonymous access and no default password.
 *
 * <p>A successful login is remembered for {@link #CACHE_NANOS} by the SHA-256 of the header (a console polling
 * every second does not run the realm's hashing each time; the credentials themselves are not kept). Failed
 * attempts are counted per client address: past {@link #MAX_FAILURES} in a minute the address gets 429 until the
 * minute is over, which makes guessing slow. A wrong token counts as a failure too; a token needs no cache (its
 * check is one SHA-256).
 */
final class Authenticator {

    /** Who logged in and with which roles. */
    record Login(String user, Set<String> roles) {
    }

    static final long CACHE_NANOS = 30_000_000_000L;
    static final int MAX_FAILURES = 10;
    private static final long WINDOW_NANOS = 60_000_000_000L;
    /** Bounds both maps: a flood of distinct headers or addresses costs fixed memory. */
    static final int MAX_ENTRIES = 4096;

    /** The realm's check of a user and password: roles on success, null on failure. */
    @FunctionalInterface
    interface Realm {
        Set<String> login(String user, char[] password);
    }

    private record Cached(Login login, long until) {
    }

    private record Failures(long windowStart, int count) {
    }

    /** The login an API token proves: null for an unknown or revoked one. */
    @FunctionalInterface
    interface Tokens {
        Login login(String token);
    }

    private final Realm realm;
    private final Tokens tokens;
    private final LongSupplier nanoClock;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();
    private final Map<String, Failures> failures = new ConcurrentHashMap<>();

    Authenticator(Realm realm, LongSupplier nanoClock) {
        this(realm, token -> null, nanoClock);
    }

    Authenticator(Realm realm, Tokens tokens, LongSupplier nanoClock) {
        this.realm = realm;
        this.tokens = tokens;
        this.nanoClock = nanoClock;
    }

    /**
     * The login an {@code Authorization} header proves.
     *
     * @throws HttpError 401 without valid credentials, 429 for an address that failed too often
     */
    Login authenticate(String header, String clientAddress) {
        long now = nanoClock.getAsLong();
        Failures f = failures.get(clientAddress);
        if (f != null && now - f.windowStart < WINDOW_NANOS && f.count >= MAX_FAILURES) {
            throw new HttpError(429, "too many failed logins from " + clientAddress + "; try again in a minute");
        }
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            Login login = tokens.login(header.substring(7).trim());
            if (login == null) {
                throw failed(clientAddress, now, "unknown or revoked API token");
            }
            return login;
        }
        if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
            throw new HttpError(401, "authentication required (HTTP Basic with a user of the instance's JAAS realm, "
                    + "or Bearer with an API token)");
        }
        String key = TokenStore.sha256(header);
        Cached c = cache.get(key);
        if (c != null && now - c.until < 0) {
            return c.login;
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw failed(clientAddress, now);
        }
        int colon = decoded.indexOf(':');
        if (colon <= 0) {
            throw failed(clientAddress, now);
        }
        String user = decoded.substring(0, colon);
        Set<String> roles = realm.login(user, decoded.substring(colon + 1).toCharArray());
        if (roles == null) {
            throw failed(clientAddress, now);
        }
        Login login = new Login(user, Set.copyOf(roles));
        if (cache.size() >= MAX_ENTRIES) {
            cache.clear();
        }
        cache.put(key, new Cached(login, now + CACHE_NANOS));
        return login;
    }

    private HttpError failed(String address, long now) {
        return failed(address, now, "wrong user or password");
    }

    private HttpError failed(String address, long now, String message) {
        if (failures.size() >= MAX_ENTRIES && !failures.containsKey(address)) {
            evictFailures(now);
        }
        failures.compute(address, (a, f) -> f == null || now - f.windowStart >= WINDOW_NANOS ? new Failures(now, 1)
                : new Failures(f.windowStart, f.count + 1));
        return new HttpError(401, message);
    }

    /**
     * Makes room in the full failure table. Clearing it all (as before) let an attacker with a few thousand source
     * addresses wipe the count of the one it guesses from; instead: the windows that are over go first, then the
     * oldest window of an address that is not blocked, and only when every address is blocked the oldest of all. A
     * scan of the table, only while it is full (a flood of failures, each of which ran the realm anyway).
     */
    private void evictFailures(long now) {
        failures.values().removeIf(f -> now - f.windowStart >= WINDOW_NANOS);
        if (failures.size() < MAX_ENTRIES) {
            return;
        }
        String oldest = null;
        long oldestStart = 0;
        boolean oldestBlocked = true;
        for (Map.Entry<String, Failures> e : failures.entrySet()) {
            Failures f = e.getValue();
            boolean blocked = f.count >= MAX_FAILURES;
            if (oldest == null || (oldestBlocked && !blocked)
                    || (blocked == oldestBlocked && f.windowStart - oldestStart < 0)) {
                oldest = e.getKey();
                oldestStart = f.windowStart;
                oldestBlocked = blocked;
            }
        }
        if (oldest != null) {
            failures.remove(oldest);
        }
    }

    /** Tests: addresses the failure table holds. */
    int failureEntries() {
        return failures.size();
    }

    /**
     * A realm of Karaf's JAAS ({@code karaf} by default). Roles are the names of the subject's role principals
     * (Karaf's {@code RolePrincipal}, groups already expanded into them).
     */
    static Realm jaas(String realmName) {
        return (user, password) -> {
            Thread t = Thread.currentThread();
            ClassLoader before = t.getContextClassLoader();
            // JAAS loads the login module class through the context class loader; Karaf's proxy module is imported
            t.setContextClassLoader(Authenticator.class.getClassLoader());
            try {
                LoginContext lc = new LoginContext(realmName, new Subject(), callbacks -> {
                    for (Callback cb : callbacks) {
                        if (cb instanceof NameCallback n) {
                            n.setName(user);
                        } else if (cb instanceof PasswordCallback p) {
                            p.setPassword(password);
                        } else {
                            throw new UnsupportedCallbackException(cb);
                        }
                    }
                });
                lc.login();
                Set<String> roles = new HashSet<>();
                for (Principal p : lc.getSubject().getPrincipals()) {
                    if (p.getClass().getSimpleName().equals("RolePrincipal")) {
                        roles.add(p.getName());
                    }
                }
                lc.logout();
                return roles;
            } catch (LoginException e) {
                return null;
            } finally {
                t.setContextClassLoader(before);
                java.util.Arrays.fill(password, '\0');
            }
        };
    }
}

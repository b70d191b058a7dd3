package org.vl2.crypto;

/**
 * Cookie constants shared by both sides (docs/crypto.md, "Under load"): the switch's {@link CookieChecker} makes
 * cookies, an agent gets one from a COOKIE REPLY ({@link Initiator#consumeCookieReply}) and puts it in the mac2 of
 * its next initiations ({@link Initiator#create(Identity, byte[], int, byte[], byte[])}).
 */
public final class Cookies {

    /** A cookie: the first 16 bytes of HMAC-SHA256(the switch's secret, source address | source port). */
    public static final int COOKIE_LENGTH = 16;
    /**
     * The switch's cookie secret is replaced every this many seconds and the previous one still accepted, so a
     * cookie stays valid for at least this long after it was made (and at most twice as long).
     */
    public static final int COOKIE_LIFETIME_SECONDS = 120;
    /**
     * How long an agent uses a cookie after receiving it: 10 s short of the lifetime, for the reply's way back and
     * the initiations still on their way when it runs out.
     */
    public static final int COOKIE_USE_SECONDS = COOKIE_LIFETIME_SECONDS - 10;

    private Cookies() {
    }
}

package org.vl2.shell.command;

import java.time.Duration;
import java.time.Instant;

/** Text forms shared by the commands' tables. */
final class Formats {

    /** Shown for values that do not apply, e.g. the age of a static entry. */
    static final String NONE = "-";

    private Formats() {
    }

    /** Whole seconds, e.g. {@code 12s} for 12,900 ms. */
    static String seconds(long millis) {
        return Math.max(0, millis) / 1000 + "s";
    }

    /**
     * How long ago {@code then} was, e.g. {@code 3s ago}, {@code 5m ago}, {@code 2h ago}, {@code 3d ago}
     * (seconds up to two minutes, minutes up to two hours, hours up to two days); {@code never} if
     * {@code then} is null. A time in the future (clock skew) counts as now.
     */
    static String ago(Instant then, Instant now) {
        if (then == null) {
            return "never";
        }
        long s = Math.max(0, Duration.between(then, now).getSeconds());
        if (s < 120) {
            return s + "s ago";
        }
        if (s < 120 * 60) {
            return s / 60 + "m ago";
        }
        if (s < 48 * 3600) {
            return s / 3600 + "h ago";
        }
        return s / 86400 + "d ago";
    }

    /** {@code 1 entry}, {@code 2 entries}. */
    static String count(long n, String singular, String plural) {
        return n + " " + (n == 1 ? singular : plural);
    }

    static String orNone(String s) {
        return s == null || s.isEmpty() ? NONE : s;
    }
}

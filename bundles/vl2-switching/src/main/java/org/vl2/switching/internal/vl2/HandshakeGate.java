package org.vl2.switching.internal.vl2;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.function.IntSupplier;

import org.vl2.crypto.CookieChecker;

/**
 * Decides what an initiation that passed mac1 costs the switch (docs/crypto.md, "Under load"). Normally: a
 * handshake (four X25519 and admission, ~0.5 ms on the {@link HandshakeWorker}), within a budget per second that
 * follows what the worker can do (its measured time per handshake, at least {@link #MIN_HANDSHAKES_PER_SECOND}, at
 * most {@link #MAX_HANDSHAKES_PER_SECOND}), taken again at the start of every second. Under load (more initiations
 * per second than half the budget, in this second or the last): only initiations whose mac2 proves their source address
 * (a cookie the switch gave that address) get a handshake, each source address at most {@link #PER_SOURCE} per
 * second; every other one gets a COOKIE-REPLY (52 bytes, ~1 us, shorter than any initiation). So a flood from
 * spoofed addresses costs HMACs, not DH, and cannot crowd out agents that prove their address. Cookie replies have
 * no budget of their own on purpose: with one, the flood uses it up in the first milliseconds of every second and an
 * honest agent, trying once a second, almost never gets a cookie (measured: no join during a 40 s flood). A reply
 * costs about what receiving the initiation cost, and is a fifth of its size.
 *
 * <p>The same holds, at any rate, while ports that proved no address fill the switch's room beside the reserve for
 * encrypted members: initiations from spoofed addresses, slower than the load threshold, would otherwise fill the
 * reserve too, as each one's handshake proves a key but not the address it came from.
 *
 * <p>Fixed one-second windows; the control path is rare, so a lock and a small map are fine here.
 */
public final class HandshakeGate {

    /** What to do with an initiation. */
    enum Decision {
        HANDSHAKE, COOKIE_REPLY, DROP
    }

    /** Handshakes per second in total at least (the fixed budget before the worker measured itself). */
    static final int MIN_HANDSHAKES_PER_SECOND = 200;
    /**
     * ... and at most: N members rekey N/120 times a second, so 10,000 members need ~83 a second and 100,000 ~830;
     * beyond this a flood of initiations with valid cookies would buy more DH than any honest load needs.
     */
    static final int MAX_HANDSHAKES_PER_SECOND = 4_000;
    /** Initiations per second (that passed mac1) above which cookies are required, with the minimum budget. */
    public static final int LOAD_THRESHOLD = MIN_HANDSHAKES_PER_SECOND / 2;
    /** Handshakes per second per source address under load. */
    public static final int PER_SOURCE = 5;
    /** Source addresses counted per second under load; beyond, new ones wait for the next second. */
    static final int MAX_SOURCES = 4_096;

    private static final long SECOND = 1_000_000_000L;

    /** Handshakes a second the worker can do (measured); read once a second. */
    private final IntSupplier capacity;
    private int budget = MIN_HANDSHAKES_PER_SECOND;
    private long windowStart;
    private boolean started;
    private int initiations;
    private int lastInitiations;
    private int handshakes;
    private final Map<InetAddress, Integer> perSource = new HashMap<>();

    /** A fixed budget of {@link #MIN_HANDSHAKES_PER_SECOND} (tests). */
    HandshakeGate() {
        this(() -> MIN_HANDSHAKES_PER_SECOND);
    }

    /** @param capacity handshakes a second the worker can do now ({@link HandshakeWorker#perSecond}) */
    HandshakeGate(IntSupplier capacity) {
        this.capacity = capacity;
    }

    /** Whether the switch requires cookies now (for the log and tests). */
    synchronized boolean underLoad(long now) {
        roll(now);
        return loaded();
    }

    /** Handshakes allowed in this second. */
    synchronized int budget(long now) {
        roll(now);
        return budget;
    }

    /** Initiations a second above which cookies are required now (for the log). */
    synchronized int loadThreshold() {
        return budget / 2;
    }

    /** Source addresses counted in this second (tests). */
    synchronized int sources() {
        return perSource.size();
    }

    synchronized Decision decide(CookieChecker.Check check, InetAddress source, long now) {
        return decide(check, source, now, false);
    }

    /**
     * @param addressProof whether the switch asks every initiation to prove its source address now, whatever the
     *                     rate (the port table's room for unproven ports is full: {@code PortRegistry})
     */
    synchronized Decision decide(CookieChecker.Check check, InetAddress source, long now, boolean addressProof) {
        roll(now);
        initiations++;
        if (addressProof || loaded()) {
            if (check != CookieChecker.Check.MAC2_VALID) {
                return Decision.COOKIE_REPLY;
            }
            Integer n = perSource.get(source);
            if (n == null && perSource.size() >= MAX_SOURCES || n != null && n >= PER_SOURCE) {
                return Decision.DROP;
            }
            perSource.put(source, n == null ? 1 : n + 1);
        }
        return ++handshakes <= budget ? Decision.HANDSHAKE : Decision.DROP;
    }

    private boolean loaded() {
        int threshold = budget / 2;
        return initiations > threshold || lastInitiations > threshold;
    }

    private void roll(long now) {
        if (!started || now - windowStart >= SECOND) {
            // a gap of more than a window means the last one was quiet
            lastInitiations = started && now - windowStart < 2 * SECOND ? initiations : 0;
            started = true;
            windowStart = now;
            initiations = 0;
            handshakes = 0;
            perSource.clear();
            budget = Math.max(MIN_HANDSHAKES_PER_SECOND, Math.min(MAX_HANDSHAKES_PER_SECOND, capacity.getAsInt()));
        }
    }
}

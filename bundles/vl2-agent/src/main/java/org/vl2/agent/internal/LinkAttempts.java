package org.vl2.agent.internal;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The link keeper's slow steps, one at a time on a thread of their own: a TCP connect with its proxy and TLS
 * handshake (up to {@link LinkKeeper#CONNECT_TIMEOUT_MILLIS}) and auto's UDP probe (a second's wait for the switch's
 * answer). The control thread starts one, goes on with keepalives, rekeys and JOIN retries, and takes the outcome at
 * a later round ({@link #poll}); the attempt wakes it when done. At most one runs at a time, and each gets a short-
 * lived daemon thread: attempts come seconds apart, so a pool would only keep an idle thread's stack resident.
 */
final class LinkAttempts {

    /** What an attempt is for, so the keeper knows what to do with its outcome. */
    enum Kind {
        /** transport tcp, or auto on TCP: a (new) connection. */
        CONNECT,
        /** auto on UDP: the switch does not answer over UDP; TCP instead. */
        FALLBACK,
        /** auto on TCP: does the switch answer over UDP again? */
        PROBE
    }

    /** A slow step that opens a link, or fails with an exception saying why. */
    @FunctionalInterface
    interface Step {
        Link open() throws IOException;
    }

    /**
     * A finished attempt: the link it opened (the keeper owns it now: it puts it in place or closes it) or why it
     * failed; when it started (wall-clock millis) and the switch's resolved UDP address it was for.
     */
    record Outcome(Kind kind, Link link, Exception error, long startedAt, InetSocketAddress target) {
    }

    private final Lifecycle life;
    private final String threadName;
    /** The finished attempt not taken yet; guarded by this. */
    private Outcome done;
    /** Guarded by this: after {@link #stop}, a finishing attempt closes its link itself. */
    private boolean stopped;
    /** Guarded by this: the attempt's thread, for {@link #stop}. */
    private Thread thread;
    /** When an attempt started, on the timers' clock (compared with when the switch was last heard). */
    private final AgentClock clock;
    // control thread only
    /** The kind in flight or finished and not taken yet; null when none. */
    private Kind pending;

    LinkAttempts(Lifecycle life, AgentClock clock) {
        this.life = life;
        this.clock = clock;
        this.threadName = "vl2-agent-" + (life.instance.isEmpty() ? "" : life.instance + "-") + "link";
    }

    /** Control thread: the kind of the attempt under way (or finished, not taken yet); null when none. */
    Kind pending() {
        return pending;
    }

    /**
     * Control thread: runs {@code step} on its own thread unless an attempt is under way (false then, and after
     * {@link #stop}).
     */
    boolean start(Kind kind, InetSocketAddress target, Step step) {
        if (pending != null) {
            return false;
        }
        long startedAt = clock.millis();
        Thread t = new Thread(() -> finish(kind, startedAt, target, step), threadName);
        t.setDaemon(true);
        synchronized (this) {
            if (stopped) {
                return false;
            }
            thread = t;
        }
        pending = kind;
        t.start();
        return true;
    }

    private void finish(Kind kind, long startedAt, InetSocketAddress target, Step step) {
        Outcome o;
        try {
            o = new Outcome(kind, step.open(), null, startedAt, target);
        } catch (IOException | RuntimeException e) {
            o = new Outcome(kind, null, e, startedAt, target);
        }
        synchronized (this) {
            thread = null;
            if (!stopped) {
                done = o;
                o = null;
            }
        }
        if (o != null && o.link() != null) {
            o.link().close(); // the agent stopped meanwhile
        }
        life.signal(); // the control thread takes it now, not at its next tick
    }

    /** Control thread: the finished attempt, once; null while it runs or when none was started. */
    Outcome poll() {
        Outcome o;
        synchronized (this) {
            o = done;
            done = null;
        }
        if (o != null) {
            pending = null;
        }
        return o;
    }

    /**
     * Stopping: no attempt starts any more; the one under way is interrupted (a connect ends at once, a probe within
     * its second) and closes what it opened; a finished one not taken is closed here.
     */
    void stop() {
        Outcome o;
        Thread t;
        synchronized (this) {
            stopped = true;
            o = done;
            done = null;
            t = thread;
        }
        if (o != null && o.link() != null) {
            o.link().close();
        }
        if (t != null) {
            t.interrupt();
        }
    }
}

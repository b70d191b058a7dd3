package org.vl2.agent.internal;

import java.nio.ByteBuffer;

/**
 * The control thread, {@code vl2-agent-control}: everything slow, one round per tick or whenever woken (a control
 * message, a failed send). Each round checks the link when due, runs the vl2 session (its messages and timers) or,
 * in raw and vxlan modes, sends the keepalive frame of an idle port, then logs a change of reachability. With managed
 * routes it has them re-pinned when the link's underlay peers changed.
 */
final class ControlLoop implements Runnable {

    private final Lifecycle life;
    private final Timing timing;
    private final LinkKeeper links;
    /** vl2 mode; null in raw and vxlan modes. */
    private final Vl2Session session;
    private final Counters counters;
    /** Raw and vxlan modes: the keepalive datagram, and how long the TAP must be idle before it goes (0: never). */
    private final ByteBuffer keepalive;
    private final long keepaliveMillis;
    private long keepaliveSeenFrames = -1;
    private long keepaliveIdleSince;

    ControlLoop(Lifecycle life, Timing timing, LinkKeeper links, Vl2Session session, Counters counters,
                ByteBuffer keepalive, long keepaliveMillis) {
        this.life = life;
        this.timing = timing;
        this.links = links;
        this.session = session;
        this.counters = counters;
        this.keepalive = keepalive;
        this.keepaliveMillis = keepaliveMillis;
    }

    @Override
    public void run() {
        // vl2: the first JOIN (handshake) goes out at once, not after the first tick (that cost every start ~1 s)
        long wakeAt = session != null ? timing.clock().millis() : Long.MAX_VALUE;
        while (life.running()) {
            synchronized (life.lock) {
                long wait = Math.min(timing.tickMillis(), wakeAt - timing.clock().millis());
                // a wanted link check waits for its retry interval like any other (checking the flag here spun)
                if (life.running() && (session == null || !session.hasMail()) && wait > 0) {
                    try {
                        life.lock.wait(wait);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
            if (!life.running()) {
                return;
            }
            long now = timing.clock().millis();
            links.checkIfDue(now);
            if (session != null) {
                wakeAt = session.run(now);
                ManagedRoutes routes = session.managedRoutes();
                if (routes != null) {
                    routes.recheck(); // the link moved (another address, a proxy): pin its new peers
                }
            } else {
                keepAlive(now);
                wakeAt = Long.MAX_VALUE; // every tick
            }
            links.logReachability();
        }
    }

    /** Raw and vxlan modes: sends the keepalive frame when nothing went from the TAP to the switch for the interval. */
    private void keepAlive(long now) {
        Link l = links.link();
        if (keepaliveMillis <= 0 || l == null) {
            return;
        }
        long frames = counters.tapRxFrames.get(); // comparing the counter costs the data path nothing
        if (frames != keepaliveSeenFrames) {
            keepaliveSeenFrames = frames;
            keepaliveIdleSince = now;
        } else if (now - keepaliveIdleSince >= keepaliveMillis) {
            keepaliveIdleSince = now;
            if (!l.send(keepalive.clear())) {
                links.wantCheck(); // the link may be broken: let the next round check it
            }
            counters.keepalives.incrementAndGet();
        }
    }
}

package org.vl2.agent.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Component;

/**
 * The agent instances of this process (one per {@code org.vl2.agent} configuration: the plain one, or each factory
 * configuration {@code org.vl2.agent-NAME}) and what two of them must not both take: a TAP name, and in vxlan mode
 * the UDP port VXLAN arrives on. A second instance asking for either is refused with the name of the one holding
 * it, before anything is created. Also the lock for the files the instances share (the identity, known-switches).
 * Only the activation and the stop of an instance come here, never a frame.
 */
@Component(service = AgentInstances.class)
public final class AgentInstances {

    /** Held while an instance creates or reads the identity file or rewrites known-switches. */
    final Object files = new Object();
    /** What is claimed ({@code tap NAME}, {@code vxlan PORT}) -> by which instance ({@code [2a]}). */
    private final Map<String, String> claims = new ConcurrentHashMap<>();

    /** What one instance holds; {@link #release} gives it back. */
    final class Claim {
        private final List<String> keys = new ArrayList<>(2);

        void release() {
            for (String k : keys) {
                claims.remove(k);
            }
            keys.clear();
        }
    }

    /**
     * Claims the TAP name (unless the kernel numbers it: {@code %d}) and, in vxlan mode, the switch's VXLAN port,
     * for {@code instance} ({@link Lifecycle#instance}).
     *
     * @throws IllegalStateException {@code Port agent not started: ...} naming the instance that holds it
     */
    Claim claim(String instance, AgentConfig.Settings settings) {
        Claim c = new Claim();
        String tap = settings.tap().name();
        if (!tap.contains("%d")) {
            String other = take(c, "tap " + tap, instance);
            if (other != null) {
                c.release();
                throw new IllegalStateException("Port agent not started: TAP name " + tap + " is taken by the agent"
                        + " instance " + other + " of this process: give each instance its own tap.name (vl2tap%d"
                        + " lets the kernel number them)");
            }
        }
        if (settings.vxlan()) {
            int port = settings.switchAddress().port();
            String other = take(c, "vxlan " + port, instance);
            if (other != null) {
                c.release();
                throw new IllegalStateException("Port agent not started: vxlan mode: the agent instance " + other
                        + " of this process already receives VXLAN on UDP " + port + ", and one process has one"
                        + " VXLAN endpoint (sharing it among networks by VNI is not done yet): run this network in"
                        + " an agent process of its own (bin/vl2-agent --data DIR), or in vl2 mode");
            }
        }
        return c;
    }

    /** Claims {@code key}; null if it was free, else who holds it. */
    private String take(Claim c, String key, String instance) {
        String who = instance.isEmpty() ? "org.vl2.agent" : "[" + instance + "]";
        String held = claims.putIfAbsent(key, who);
        if (held != null) {
            return held;
        }
        c.keys.add(key);
        return null;
    }
}

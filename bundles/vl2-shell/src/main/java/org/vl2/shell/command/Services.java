package org.vl2.shell.command;

/**
 * The commands' service references are optional. Karaf registers the commands of a bundle only once the
 * mandatory references of all of them are satisfied, and this one bundle serves two kinds of instances: a
 * switch (no {@code AgentService}) and a port agent (no {@code SwitchService}, no MAC table). With mandatory
 * references neither would get any vl2:* command. So every command is always there and says what is missing.
 */
final class Services {

    static final String NO_SWITCH = "no vl2 switch runs in this instance (this command needs the feature"
            + " vl2-switch; a port agent has vl2:agent)";
    static final String NO_AGENT = "no port agent runs in this instance: it needs the feature vl2-agent and the"
            + " configuration org.vl2.agent (etc/org.vl2.agent.cfg, or one etc/org.vl2.agent-NAME.cfg per network, at"
            + " least switch.address = HOST:PORT); if both"
            + " are there, the log says why it did not start";
    static final String NO_API = "the HTTP API does not run in this instance (feature vl2-api-rest; bin/vl2-switch"
            + " runs it unless --api off, bin/vl2-agent with --api)";

    private Services() {
    }

    /** {@code service}, or an exception whose message the shell prints ("Error executing command: ..."). */
    static <T> T require(T service, String missing) {
        if (service == null) {
            throw new IllegalStateException(missing);
        }
        return service;
    }
}

package org.vl2.agent.internal;

/**
 * One agent's run state and the monitor its threads wait on: the control thread for work, the receive pump for
 * a link, the send pump for a re-created TAP device. Whoever replaces the link or the device, or stops the agent,
 * does it under {@link #lock} and wakes them all.
 */
final class Lifecycle {

    /** Stops the data path for good (FAILED): the reason goes into the status and onto {@code log}. */
    @FunctionalInterface
    interface Halt {
        void halt(String message, org.slf4j.Logger log);
    }

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Lifecycle.class);

    /** Guards link and TAP device replacement and shutdown; the threads wait on it. */
    final Object lock = new Object();
    private volatile boolean running;
    private volatile boolean started;
    private volatile boolean stopped;
    /** Why the agent stopped working (TAP device failed, the switch refused for good); null while it works. */
    private volatile String failure;

    private final java.util.List<Thread> threads = new java.util.ArrayList<>(3);
    /**
     * Which agent instance of the process this is: empty for the one of a plain {@code org.vl2.agent} configuration,
     * else the factory configuration's name (the launcher names them after the network).
     */
    final String instance;
    /** What the instance's log lines start with: {@code [2a] } (with the blank), empty for the plain one. */
    final String tag;

    Lifecycle(String instance) {
        this.instance = instance;
        this.tag = instance.isEmpty() ? "" : "[" + instance + "] ";
    }

    /**
     * Starts one of the agent's threads (daemon: they never keep the JVM up), {@code vl2-agent-<role>}, with the
     * instance in the name when there is one: {@code vl2-agent-2a-tap-rx}.
     */
    void start(Runnable loop, String role) {
        Thread t = new Thread(loop, "vl2-agent-" + (instance.isEmpty() ? "" : instance + "-") + role);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    /** True while one of the agent's threads runs. */
    boolean threadsAlive() {
        return threads.stream().anyMatch(Thread::isAlive);
    }

    /** Waits up to {@code millis} in all for the threads to end (after {@link #stopRunning}); WARNs for any left. */
    void joinThreads(long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        for (Thread t : threads) {
            if (t == Thread.currentThread()) {
                continue;
            }
            try {
                t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000L));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            if (t.isAlive()) {
                LOG.warn("{}Port agent: thread {} did not stop within {} ms", tag, t.getName(), millis);
            }
        }
    }

    boolean running() {
        return running;
    }

    boolean started() {
        return started;
    }

    boolean stopped() {
        return stopped;
    }

    String failure() {
        return failure;
    }

    void run() {
        running = true;
    }

    void markStarted() {
        started = true;
    }

    void markStopped() {
        stopped = true;
    }

    /** Stops the threads: call under {@link #lock}, so that nothing is sent after the caller's last word. */
    void stopRunning() {
        running = false;
    }

    void fail(String why) {
        failure = why;
    }

    /** Wakes every thread waiting on the lock (a control message came, the link or the device was replaced). */
    void signal() {
        synchronized (lock) {
            lock.notifyAll();
        }
    }

    /** Sleeps {@code millis}; false if interrupted (the thread should end). */
    static boolean pause(long millis) {
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** {@code 5 s}, {@code 100 ms}. */
    static String duration(long millis) {
        return millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
    }
}

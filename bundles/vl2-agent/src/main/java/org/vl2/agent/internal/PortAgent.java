package org.vl2.agent.internal;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.PortUnreachableException;
import java.net.ProtocolFamily;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.Endpoints;
import org.vl2.api.AgentService;
import org.vl2.api.AgentState;
import org.vl2.api.AgentStatus;
import org.vl2.api.EthernetFrame;
import org.vl2.tap.TapDevice;
import org.vl2.tap.TapException;
import org.vl2.tap.TapFactory;
import org.vl2.tap.TapSettings;

/**
 * The port agent: connects this host's kernel to a vl2 switch, in raw mode.
 *
 * <pre>
 *     Linux kernel &lt;==[TAP vl2tap0]==&gt; PortAgent &lt;==[UDP, one Ethernet frame per datagram]==&gt; switch
 * </pre>
 *
 * <p><b>Wire format.</b> Raw mode is the seed VPort's: every UDP datagram carries exactly one Ethernet frame
 * (no FCS) and nothing else, in both directions. There is no handshake, no keepalive and no header, so a
 * vl2 agent joins a seed VSwitch and a seed VPort joins a vl2 switch. The switch learns the agent's port
 * (its UDP endpoint) from the first datagram it receives; the agent sends nothing artificial to announce
 * itself, because a raw-mode switch would take any datagram as a frame. It does not need to: as soon as the
 * TAP device is up the kernel sends frames of its own (IPv6 router solicitation and neighbour discovery,
 * ARP when something is addressed on the subnet), and the first of them registers the port.
 *
 * <p><b>Threads.</b> {@code vl2-agent-tap-rx} reads frames from the TAP device and sends them to the switch;
 * {@code vl2-agent-udp-rx} receives datagrams from the switch and writes them to the TAP device. Each has
 * its own preallocated direct buffer; neither allocates nor logs per frame. Both block (the TAP in read,
 * the socket in receive or, when its buffer is full, in send, which pushes back on the TAP's queue).
 * {@code vl2-agent-resolver} handles everything slow: DNS, reconnecting, logging state changes.
 *
 * <p><b>Socket.</b> One UDP socket, <em>connected</em> to the switch's address. Connected, the kernel
 * <ul>
 *   <li>accepts datagrams only from the switch's address and port, so nobody else can write frames into
 *   this host's TAP device by sending datagrams to the agent's port;</li>
 *   <li>reports ICMP port unreachable (the switch is not running) as an error on the next receive or send,
 *   which the agent shows as {@link AgentState#SWITCH_UNREACHABLE}. An unconnected UDP socket never sees
 *   these errors.</li>
 * </ul>
 * The cost: the switch must answer from the address the agent sends to. A switch host with several
 * addresses whose transport listens on the wildcard address may answer from another one, whose datagrams
 * the kernel then drops; bind the switch's transport to the address the agents use.
 *
 * <p><b>Reconnecting.</b> The resolver thread checks the link when nothing has come from the switch for
 * 30 s, when a send failed for another reason than ICMP port unreachable (e.g. network unreachable), and
 * every 5 s while there is no socket. A DNS name is resolved again; the socket is replaced only if the
 * address changed, or if the socket's own local address no longer exists on this host (a new DHCP lease,
 * another Wi-Fi): a new socket means a new endpoint, which the switch sees as a new port. The new socket
 * reuses the old local port when it is free, so a reconnect to the same switch keeps the switch's port.
 *
 * <p><b>MTU.</b> The default MTU, {@value #DEFAULT_MTU}, is 1500 (the usual underlay MTU) - 20 (IPv4
 * header) - 8 (UDP header) - 18 (Ethernet header, 14, plus one 802.1Q tag, 4): a full-size frame, tagged or
 * not, travels in one unfragmented 1500-byte IPv4 datagram. Over an IPv6 underlay (40-byte header) use
 * 1434; over a smaller path subtract the difference. Frames longer than the TAP MTU allows (MTU + 22: the
 * Ethernet header and two tags) are dropped and counted, in both directions.
 */
@Component(service = AgentService.class, configurationPid = PortAgent.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = PortAgent.Config.class)
public final class PortAgent implements AgentService {

    static final String PID = "org.vl2.agent";
    static final String MODE_RAW = "raw";

    /** The underlay path MTU the default is computed for (Ethernet, most of the Internet). */
    static final int UNDERLAY_MTU = 1500;
    static final int IPV4_HEADER = 20;
    static final int UDP_HEADER = 8;
    static final int ETHERNET_HEADER = EthernetFrame.HEADER_LENGTH;
    static final int VLAN_TAG = 4;
    /** 1500 - 20 - 8 - 14 - 4 = 1454: a frame with one 802.1Q tag fits one 1500-byte IPv4 datagram. */
    static final int DEFAULT_MTU = UNDERLAY_MTU - IPV4_HEADER - UDP_HEADER - ETHERNET_HEADER - VLAN_TAG;
    /** Largest UDP payload over IPv4. */
    static final int MAX_UDP_PAYLOAD = 65_507;
    /** The largest MTU whose longest frame (MTU + 22) still fits one UDP datagram. */
    static final int MAX_MTU = MAX_UDP_PAYLOAD - TapDevice.FRAME_OVERHEAD;
    static final String DEFAULT_TAP_NAME = "vl2tap0";
    static final int SOCKET_BUFFER_BYTES = 1 << 20;

    private static final Logger LOG = LoggerFactory.getLogger(PortAgent.class);

    /** Configuration of the port agent, PID {@value PortAgent#PID}. */
    @ObjectClassDefinition(name = "vl2 port agent",
            description = "Connects this host's kernel, through a TAP device, to a vl2 switch over UDP (raw mode:"
                    + " one Ethernet frame per datagram). Runs only when configured.")
    public @interface Config {

        @AttributeDefinition(name = "Switch address",
                description = "The switch's UDP endpoint as host:port: an IPv4 address (203.0.113.7:9990), a DNS"
                        + " name (switch.example.org:9990; resolved again when the switch is silent or sending"
                        + " fails) or an IPv6 address in brackets ([2001:db8::7]:9990). Required.")
        String switch_address();

        @AttributeDefinition(name = "TAP name", required = false,
                description = "Name of the TAP interface to create (1 to 15 characters; one %d lets the kernel"
                        + " number it). It must not exist yet; it is deleted when the agent stops.")
        String tap_name() default DEFAULT_TAP_NAME;

        @AttributeDefinition(name = "MTU", required = false, min = "68", max = "" + MAX_MTU,
                description = "MTU of the TAP interface. Default 1454 = 1500 (underlay MTU) - 20 (IPv4 header) - 8"
                        + " (UDP header) - 18 (Ethernet header 14 + one 802.1Q tag 4), so a full-size frame travels"
                        + " in one unfragmented 1500-byte datagram. Over an IPv6 underlay use 1434 (40-byte"
                        + " header). IPv6 on the TAP (address6) needs at least 1280.")
        int mtu() default DEFAULT_MTU;

        @AttributeDefinition(name = "MAC address", required = false,
                description = "MAC address of the TAP interface, e.g. 02:00:5e:10:00:01 (unicast; locally"
                        + " administered recommended). Empty: a random one from the kernel.")
        String mac() default "";

        @AttributeDefinition(name = "IPv4 address", required = false,
                description = "IPv4 address of the TAP interface in CIDR form, e.g. 10.1.1.101/24. Empty: none.")
        String address() default "";

        @AttributeDefinition(name = "IPv6 address", required = false,
                description = "IPv6 address of the TAP interface in CIDR form, e.g. fd00:1::101/64. Empty: none"
                        + " (the kernel still adds a link-local address).")
        String address6() default "";

        @AttributeDefinition(name = "Bridge", required = false,
                description = "An existing Linux bridge to enslave the TAP interface to (the host then bridges"
                        + " its LAN into the vl2 network). Empty: none.")
        String bridge() default "";

        @AttributeDefinition(name = "Mode", required = false,
                description = "How frames are carried. raw: one Ethernet frame per UDP datagram, no header"
                        + " (the seed VPort's format). The only mode for now.",
                options = @Option(label = "raw: one Ethernet frame per datagram", value = MODE_RAW))
        String mode() default MODE_RAW;

        @AttributeDefinition(name = "Keepalive interval (s)", required = false, min = "0", max = "3600",
                description = "When the TAP has sent nothing for this long, send the switch a frame addressed to "
                        + "this port's own MAC (the switch refreshes the port and, by split horizon, forwards it "
                        + "nowhere), so that an idle port is not expired by the switch's idle timeout and NAT "
                        + "mappings stay open. Plain Ethernet: raw mode stays seed-compatible. 0 = never.")
        int keepalive_seconds() default DEFAULT_KEEPALIVE_SECONDS;
    }

    /** Well below the switch's default port idle timeout (300 s) and common NAT UDP timeouts (30 s and up). */
    static final int DEFAULT_KEEPALIVE_SECONDS = 25;
    /** IEEE 802 local experimental EtherType 1: what the keepalive frame carries. */
    static final int KEEPALIVE_ETHERTYPE = 0x88B5;

    /** The validated configuration. */
    record Settings(SwitchAddress switchAddress, TapSettings tap, String mode, long keepaliveMillis) {
    }

    /** How long the agent waits for what; the tests shorten them. */
    record Timing(long retryMillis, long silenceMillis, long unreachableHoldMillis, long tickMillis,
                  long joinMillis) {
        static final Timing DEFAULT = new Timing(5_000, 30_000, 30_000, 1_000, 2_000);
    }

    /** The socket to the switch and its endpoints, replaced as a whole when the agent reconnects. */
    private record Link(DatagramChannel channel, InetSocketAddress remote, InetSocketAddress local) {
    }

    private final Settings settings;
    private final SwitchAddress switchAddress;
    private final SwitchAddress.Resolver resolver;
    private final Timing timing;
    private final TapDevice tap;
    private final Instant since;
    private final ByteBuffer tapRxBuffer;
    private final ByteBuffer udpRxBuffer;

    private final AtomicLong tapRxFrames = new AtomicLong();
    private final AtomicLong tapRxBytes = new AtomicLong();
    private final AtomicLong tapTxFrames = new AtomicLong();
    private final AtomicLong tapTxBytes = new AtomicLong();
    private final AtomicLong drops = new AtomicLong();

    /** Guards {@link #link} replacement and shutdown; the resolver thread waits on it. */
    private final Object lock = new Object();
    /** The socket, or null while the name does not resolve or no socket could be opened. */
    private volatile Link link;
    /** The last resolved address (kept while reconnecting fails), for the status. */
    private volatile InetSocketAddress resolved;
    /** Why there is no link, or why the last check failed; null if it did not. */
    private volatile String linkProblem;
    /** Why the TAP device failed; null while it works. */
    private volatile String failure;
    private volatile boolean running;
    private volatile boolean started;
    private volatile boolean stopped;
    /** Wall-clock millis of the last datagram from the switch, 0 if none. */
    private volatile long lastFromSwitch;
    /** Wall-clock millis of the last ICMP port unreachable, 0 if none. */
    private volatile long lastUnreachable;
    /** A send failed for another reason than port unreachable: the resolver should check the link. */
    private volatile boolean checkWanted;
    /** The local port of the last socket, for the next one when reconnecting failed in between. */
    private int lastLocalPort;
    private final List<Thread> threads = new ArrayList<>(3);
    /** The keepalive frame (built once the TAP's MAC is known); sent by the resolver thread only. */
    private ByteBuffer keepalive;
    /** Keepalive frames sent, for tests and the log. */
    private final AtomicLong keepalives = new AtomicLong();

    @Activate
    public PortAgent(@Reference TapFactory tapFactory, Config config) {
        this(tapFactory, config, InetAddress::getByName, Timing.DEFAULT);
    }

    PortAgent(TapFactory tapFactory, Config config, SwitchAddress.Resolver resolver, Timing timing) {
        try {
            this.settings = validate(config);
        } catch (IllegalArgumentException e) {
            LOG.error("{}; the port agent does not start until this is fixed", e.getMessage());
            throw e;
        }
        this.switchAddress = settings.switchAddress();
        this.resolver = resolver;
        this.timing = timing;
        this.since = Instant.now();
        try {
            this.tap = tapFactory.create(settings.tap());
        } catch (TapException e) {
            // The user-facing message of the standalone agent: the cause and the fix, in one line.
            String message = "Port agent not started: " + e.getMessage();
            LOG.error(message);
            throw new IllegalStateException(message, e);
        }
        try {
            // One more byte than the longest frame: a frame that fills the buffer was truncated.
            this.tapRxBuffer = ByteBuffer.allocateDirect(tap.maxFrameLength() + 1);
            this.udpRxBuffer = ByteBuffer.allocateDirect(tap.maxFrameLength() + 1);
            this.keepalive = keepaliveFrame(tap.mac().toBytes());
            running = true;
            check(true);
            start(this::tapToSwitch, "vl2-agent-tap-rx");
            start(this::switchToTap, "vl2-agent-udp-rx");
            start(this::maintain, "vl2-agent-resolver");
            started = true;
        } catch (RuntimeException | Error e) {
            shutdown();
            throw e;
        }
        if (link != null) {
            LOG.info("Port agent up: TAP {} <-> switch {}", describeTap(), describeSwitch());
        } else {
            LOG.warn("Port agent up: TAP {} <-> switch {}", describeTap(), describeSwitch());
        }
    }

    /**
     * Checks the configuration without touching the system: no DNS, no devices.
     *
     * @throws IllegalArgumentException {@code Invalid configuration org.vl2.agent: <property>=<value> (<why>)}
     */
    static Settings validate(Config config) {
        String mode = config.mode() == null ? "" : config.mode().trim();
        if (!MODE_RAW.equals(mode)) {
            throw invalid("mode", config.mode(), "supported: raw, one Ethernet frame per UDP datagram");
        }
        if (config.switch_address() == null || config.switch_address().trim().isEmpty()) {
            throw new IllegalArgumentException("Invalid configuration " + PID + ": switch.address is missing ("
                    + SwitchAddress.FORM + ")");
        }
        SwitchAddress address;
        try {
            address = SwitchAddress.parse(config.switch_address());
        } catch (IllegalArgumentException e) {
            throw invalid("switch.address", config.switch_address(), e.getMessage() + "; " + SwitchAddress.FORM);
        }
        TapSettings.Builder b = TapSettings.builder();
        try {
            b.name(config.tap_name());
        } catch (IllegalArgumentException e) {
            throw invalid("tap.name", config.tap_name(), e);
        }
        if (config.mtu() < TapSettings.MIN_MTU || config.mtu() > MAX_MTU) {
            throw invalid("mtu", config.mtu(), "allowed: " + TapSettings.MIN_MTU + ".." + MAX_MTU
                    + ", so that the longest frame, MTU + " + TapDevice.FRAME_OVERHEAD + ", fits one UDP datagram;"
                    + " the default " + DEFAULT_MTU + " fits a 1500-byte IPv4 path unfragmented");
        }
        b.mtu(config.mtu());
        try {
            b.mac(config.mac());
        } catch (IllegalArgumentException e) {
            throw invalid("mac", config.mac(), e);
        }
        try {
            b.ipv4(config.address());
        } catch (IllegalArgumentException e) {
            String why = reason(e);
            throw invalid("address", config.address(), String.valueOf(config.address()).indexOf(':') >= 0
                    ? why + "; an IPv6 address goes in address6" : why);
        }
        try {
            b.ipv6(config.address6());
        } catch (IllegalArgumentException e) {
            throw invalid("address6", config.address6(), e);
        }
        try {
            b.bridge(config.bridge());
        } catch (IllegalArgumentException e) {
            throw invalid("bridge", config.bridge(), e);
        }
        if (config.keepalive_seconds() < 0 || config.keepalive_seconds() > 3600) {
            throw invalid("keepalive.seconds", config.keepalive_seconds(), "allowed: 0 (never) .. 3600");
        }
        try {
            return new Settings(address, b.build(), mode, config.keepalive_seconds() * 1000L);
        } catch (IllegalArgumentException e) {
            // the only cross-field rule: IPv6 needs an MTU of at least 1280
            throw invalid("address6", config.address6(), reason(e) + "; raise mtu or drop address6");
        }
    }

    private static IllegalArgumentException invalid(String property, Object value, IllegalArgumentException e) {
        return invalid(property, value, reason(e));
    }

    private static IllegalArgumentException invalid(String property, Object value, String why) {
        return new IllegalArgumentException("Invalid configuration " + PID + ": " + property + "=" + value + " ("
                + why + ")");
    }

    /** A {@link TapSettings.Builder} message without its {@code field: } prefix (the caller names the property). */
    private static String reason(IllegalArgumentException e) {
        String m = String.valueOf(e.getMessage());
        int colon = m.indexOf(": ");
        return colon > 0 && m.substring(0, colon).matches("name|mtu|mac|ipv4|ipv6|bridge") ? m.substring(colon + 2)
                : m;
    }

    private void start(Runnable loop, String name) {
        Thread t = new Thread(loop, name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    @Deactivate
    void deactivate() {
        shutdown();
        LOG.info("Port agent down: TAP {} removed, switch {} (frames to the switch: {}, from it: {}, dropped: {})",
                tap.name(), switchAddress, tapRxFrames.get(), tapTxFrames.get(), drops.get());
    }

    /** Closes the socket and the TAP device (which deletes it), then waits a bounded time for the threads. */
    private void shutdown() {
        Link l;
        synchronized (lock) {
            running = false;
            l = link;
            link = null;
            lock.notifyAll();
        }
        close(l);
        tap.close(); // wakes the TAP reader (read returns -1) and deletes the interface
        long deadline = System.nanoTime() + timing.joinMillis() * 1_000_000L;
        for (Thread t : threads) {
            try {
                t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000L));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            if (t.isAlive()) {
                LOG.warn("Port agent: thread {} did not stop within {} ms", t.getName(), timing.joinMillis());
            }
        }
        stopped = true;
    }

    /** True while one of the agent's threads runs (for tests). */
    boolean threadsAlive() {
        return threads.stream().anyMatch(Thread::isAlive);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Data path: no allocation, no logging per frame.

    /** TAP -> switch. */
    private void tapToSwitch() {
        final ByteBuffer buf = tapRxBuffer;
        final int room = buf.capacity();
        while (running) {
            buf.clear();
            int n;
            try {
                n = tap.read(buf);
            } catch (TapException e) {
                if (running) {
                    tapFailed("Reading from", e);
                }
                return;
            }
            if (n < 0) {
                return; // closed
            }
            if (n == 0) {
                continue;
            }
            if (n >= room) {
                drops.incrementAndGet(); // truncated: longer than the TAP's MTU allows
                continue;
            }
            Link l = link;
            if (l == null) {
                drops.incrementAndGet(); // no socket (name does not resolve yet, or reconnecting)
                continue;
            }
            try {
                l.channel().write(buf);
                tapRxFrames.incrementAndGet();
                tapRxBytes.addAndGet(n);
            } catch (PortUnreachableException e) {
                // An ICMP error for an earlier datagram; the kernel dropped this one.
                lastUnreachable = System.currentTimeMillis();
                drops.incrementAndGet();
            } catch (ClosedChannelException e) {
                drops.incrementAndGet(); // replaced by a reconnect, or stopping
            } catch (IOException e) {
                drops.incrementAndGet(); // e.g. network unreachable: let the resolver thread look
                checkWanted = true;
            }
        }
    }

    /** Switch -> TAP. */
    private void switchToTap() {
        final ByteBuffer buf = udpRxBuffer;
        final int room = buf.capacity();
        while (running) {
            Link l = link;
            if (l == null) {
                awaitLink();
                continue;
            }
            buf.clear();
            int n;
            try {
                n = l.channel().read(buf);
            } catch (PortUnreachableException e) {
                lastUnreachable = System.currentTimeMillis();
                continue;
            } catch (ClosedChannelException e) {
                if (running && link == l) {
                    pause(10); // closed but not yet replaced: the resolver thread is reconnecting
                }
                continue;
            } catch (IOException e) {
                if (running) {
                    pause(100); // an unexpected socket error: do not spin on it
                }
                continue;
            }
            if (n < 0) {
                continue;
            }
            lastFromSwitch = System.currentTimeMillis();
            if (n >= room || n < EthernetFrame.HEADER_LENGTH) {
                drops.incrementAndGet(); // longer than the TAP's MTU allows, or a runt
                continue;
            }
            buf.flip();
            try {
                tap.write(buf);
                tapTxFrames.incrementAndGet();
                tapTxBytes.addAndGet(n);
            } catch (TapException e) {
                drops.incrementAndGet(); // e.g. the link is down (EIO)
            }
        }
    }

    private void tapFailed(String what, TapException e) {
        String message = what + " TAP device " + tap.name() + " failed: " + e.getMessage() + "; no frames flow any"
                + " more: restart the agent (or change its configuration) to recreate the device";
        failure = message;
        Link l;
        synchronized (lock) {
            running = false;
            l = link;
            link = null;
            lock.notifyAll();
        }
        close(l); // stops the other data thread
        LOG.error("Port agent: {}", message);
    }

    private void awaitLink() {
        synchronized (lock) {
            if (running && link == null) {
                try {
                    lock.wait(timing.tickMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    running = false;
                }
            }
        }
    }

    /** {@code 5 s}, {@code 100 ms}. */
    private static String duration(long millis) {
        return millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Resolver thread: DNS, reconnecting, logging state changes.

    /** A minimum-size frame from this port's MAC to itself: the switch learns it and filters it (split horizon). */
    static ByteBuffer keepaliveFrame(byte[] mac) {
        ByteBuffer f = ByteBuffer.allocate(60);
        f.put(mac).put(mac).putShort((short) KEEPALIVE_ETHERTYPE);
        f.put("vl2 keepalive".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        return f.clear();
    }

    private long keepaliveSeenFrames = -1;
    private long keepaliveIdleSince;

    /** Sends a keepalive when nothing went from the TAP to the switch for the keepalive interval. */
    private void keepAlive(long now) {
        long interval = settings.keepaliveMillis();
        Link l = link;
        if (interval <= 0 || l == null) {
            return;
        }
        long frames = tapRxFrames.get(); // comparing the counter costs the data path nothing
        if (frames != keepaliveSeenFrames) {
            keepaliveSeenFrames = frames;
            keepaliveIdleSince = now;
        } else if (now - keepaliveIdleSince >= interval) {
            keepaliveIdleSince = now;
            try {
                l.channel().write(keepalive.clear());
                keepalives.incrementAndGet();
            } catch (IOException e) {
                checkWanted = true; // the link looks broken: let the next round check it
            }
        }
    }

    long keepalivesSent() {
        return keepalives.get();
    }

    private void maintain() {
        long lastCheck = System.currentTimeMillis();
        boolean refused = false; // what was last logged about ICMP port unreachable
        while (running) {
            synchronized (lock) {
                if (running && !checkWanted) {
                    try {
                        lock.wait(timing.tickMillis());
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
            if (!running) {
                return;
            }
            long now = System.currentTimeMillis();
            long sinceCheck = now - lastCheck;
            boolean due;
            if (link == null || checkWanted) {
                due = sinceCheck >= timing.retryMillis();
            } else {
                due = sinceCheck >= timing.silenceMillis()
                        && now - Math.max(lastFromSwitch, since.toEpochMilli()) >= timing.silenceMillis();
            }
            if (due) {
                lastCheck = now;
                checkWanted = false;
                check(false);
            }
            keepAlive(now);
            // Problems with resolving and opening the socket are logged by check(); here only the switch's
            // answers: port unreachable, and the recovery from it.
            boolean unreachable = link != null && unreachableAt(System.currentTimeMillis());
            if (unreachable != refused && running) {
                if (unreachable) {
                    LOG.warn("Port agent: switch {} unreachable: {}", switchAddress,
                            problemAt(AgentState.SWITCH_UNREACHABLE));
                } else {
                    LOG.info("Port agent: switch {} reachable again ({})", switchAddress,
                            lastFromSwitch >= lastUnreachable ? "frames arrive from it"
                                    : "no port unreachable for " + duration(timing.unreachableHoldMillis()));
                }
                refused = unreachable;
            }
        }
    }

    /**
     * Resolves the switch's address and (re)connects if there is no socket, if the address changed, or if
     * the socket's local address is gone from this host. Logs only changes.
     */
    private void check(boolean first) {
        InetSocketAddress target;
        try {
            target = switchAddress.resolve(resolver);
        } catch (UnknownHostException | RuntimeException e) {
            String problem = "cannot resolve " + switchAddress.host() + " (" + e.getMessage()
                    + "): check the name and this host's DNS; retrying every " + duration(timing.retryMillis());
            if (!first && !problem.equals(linkProblem)) {
                LOG.warn("Port agent: {}", problem); // at start, the "Port agent up" line says it
            }
            linkProblem = problem;
            return;
        }
        Link old = link;
        if (old != null && old.remote().equals(target) && localAddressExists(old.local())) {
            linkProblem = null;
            return;
        }
        Link next;
        synchronized (lock) {
            if (!running) {
                return;
            }
            int localPort = old == null ? lastLocalPort : old.local().getPort();
            // Close the old socket first, so the new one can take over its local port (the switch then sees
            // the same endpoint if this host's address did not change).
            link = null;
            close(old);
            try {
                next = open(target, localPort);
            } catch (IOException | RuntimeException e) {
                String problem = "cannot open a UDP socket to " + Endpoints.format(target) + " (" + e
                        + "): is the network up? retrying every " + duration(timing.retryMillis());
                if (!first && !problem.equals(linkProblem)) {
                    LOG.warn("Port agent: {}", problem);
                }
                linkProblem = problem;
                resolved = target;
                lastLocalPort = localPort;
                return;
            }
            resolved = target;
            linkProblem = null;
            link = next;
            lock.notifyAll();
        }
        if (!first) {
            LOG.info("Port agent: switch {} at {}, sending from {}{}", switchAddress, Endpoints.format(target),
                    Endpoints.format(next.local()), old == null ? ""
                            : " (was " + Endpoints.format(old.remote()) + " from "
                            + Endpoints.format(old.local()) + ")");
        }
    }

    /** A blocking UDP socket connected to {@code remote}, on {@code localPort} if that is free (0: any). */
    private static Link open(InetSocketAddress remote, int localPort) throws IOException {
        boolean v6 = remote.getAddress() instanceof Inet6Address;
        ProtocolFamily family = v6 ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
        DatagramChannel ch = DatagramChannel.open(family);
        try {
            ch.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER_BYTES);
            ch.setOption(StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER_BYTES);
            InetAddress any = InetAddress.getByAddress(new byte[v6 ? 16 : 4]);
            if (localPort > 0 && bindWithin(ch, new InetSocketAddress(any, localPort), 100)) {
                // kept the old port
            } else {
                ch.bind(new InetSocketAddress(any, 0));
            }
            ch.connect(remote);
            return new Link(ch, remote, (InetSocketAddress) ch.getLocalAddress());
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /**
     * Binds to {@code address}, retrying for up to {@code millis}: a socket just closed while another thread
     * was blocked receiving on it releases its port only when that receive has returned.
     */
    private static boolean bindWithin(DatagramChannel ch, InetSocketAddress address, long millis) throws IOException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (true) {
            try {
                ch.bind(address);
                return true;
            } catch (BindException e) {
                if (System.nanoTime() > deadline) {
                    return false; // taken by someone else meanwhile
                }
                pause(5);
            }
        }
    }

    /** False when {@code local} is a specific address that no interface of this host has any more. */
    private static boolean localAddressExists(InetSocketAddress local) {
        InetAddress a = local.getAddress();
        if (a.isAnyLocalAddress()) {
            return true;
        }
        try {
            return NetworkInterface.getByInetAddress(a) != null;
        } catch (SocketException e) {
            return true; // cannot tell: keep the socket
        }
    }

    private static void close(Link l) {
        if (l != null) {
            try {
                l.channel().close();
            } catch (IOException ignored) {
                // closing: nothing left to do
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Status

    @Override
    public AgentStatus status() {
        long now = System.currentTimeMillis();
        AgentState state = stateAt(now);
        Link l = link;
        InetSocketAddress r = l != null ? l.remote() : resolved;
        long last = lastFromSwitch;
        return new AgentStatus(tap.name(), tap.mac(), tap.mtu(), addresses(), settings.tap().bridge(),
                switchAddress.toString(), r == null ? null : Endpoints.format(r),
                l == null ? null : Endpoints.format(l.local()), settings.mode(), state, problemAt(state),
                tapRxFrames.get(), tapRxBytes.get(), tapTxFrames.get(), tapTxBytes.get(), drops.get(), since,
                last == 0 ? null : Instant.ofEpochMilli(last));
    }

    private AgentState stateAt(long now) {
        if (stopped) {
            return AgentState.STOPPED;
        }
        if (failure != null) {
            return AgentState.FAILED;
        }
        if (!started) {
            return AgentState.STARTING;
        }
        if (link == null || unreachableAt(now)) {
            return AgentState.SWITCH_UNREACHABLE;
        }
        return AgentState.RUNNING;
    }

    /** An ICMP port unreachable within the hold time, and nothing from the switch since. */
    private boolean unreachableAt(long now) {
        long u = lastUnreachable;
        return u != 0 && u >= lastFromSwitch && now - u < timing.unreachableHoldMillis();
    }

    private String problemAt(AgentState state) {
        if (state == AgentState.FAILED) {
            return failure;
        }
        if (state != AgentState.SWITCH_UNREACHABLE) {
            return null;
        }
        Link l = link;
        if (l == null) {
            String p = linkProblem;
            return p != null ? p : "no socket to the switch yet";
        }
        return "ICMP port unreachable from " + Endpoints.format(l.remote()) + ": is the vl2 switch running"
                + " there and listening on UDP port " + l.remote().getPort() + "?";
    }

    private List<String> addresses() {
        List<String> a = new ArrayList<>(2);
        if (settings.tap().ipv4() != null) {
            a.add(settings.tap().ipv4().toString());
        }
        if (settings.tap().ipv6() != null) {
            a.add(settings.tap().ipv6().toString());
        }
        return a;
    }

    /** {@code vl2tap0 (02:..., mtu 1454, 10.1.1.101/24, bridge br0)}. */
    private String describeTap() {
        StringBuilder sb = new StringBuilder(tap.name()).append(" (").append(tap.mac()).append(", mtu ")
                .append(tap.mtu());
        for (String a : addresses()) {
            sb.append(", ").append(a);
        }
        if (settings.tap().bridge() != null) {
            sb.append(", bridge ").append(settings.tap().bridge());
        }
        return sb.append(')').toString();
    }

    /** {@code 203.0.113.7:9990 (raw)}, with the resolved address for a name, and why it is not connected. */
    private String describeSwitch() {
        StringBuilder sb = new StringBuilder(switchAddress.toString());
        Link l = link;
        sb.append(" (").append(settings.mode());
        if (l != null) {
            if (switchAddress.isName()) {
                sb.append(", at ").append(Endpoints.format(l.remote()));
            }
            sb.append(", from ").append(Endpoints.format(l.local()));
        } else {
            sb.append("; not connected yet: ").append(linkProblem);
        }
        return sb.append(')').toString();
    }
}

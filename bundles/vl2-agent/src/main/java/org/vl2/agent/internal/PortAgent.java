package org.vl2.agent.internal;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.PortUnreachableException;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

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
import static org.vl2.agent.internal.AgentConfig.*;

import org.vl2.api.AgentService;
import org.vl2.api.AgentState;
import org.vl2.api.AgentStatus;
import org.vl2.api.Endpoints;
import org.vl2.api.EthernetFrame;
import org.vl2.api.Networks;
import org.vl2.crypto.Cookies;
import org.vl2.crypto.CryptoException;
import org.vl2.crypto.Handshake;
import org.vl2.crypto.Identity;
import org.vl2.crypto.Initiator;
import org.vl2.crypto.Session;
import org.vl2.netio.UdpBatchSocket;
import org.vl2.protocol.ErrorCode;
import org.vl2.protocol.FrameHeader;
import org.vl2.protocol.Join;
import org.vl2.protocol.KeyReply;
import org.vl2.protocol.KeyRequest;
import org.vl2.protocol.Keepalive;
import org.vl2.protocol.Leave;
import org.vl2.protocol.ProtocolError;
import org.vl2.protocol.ProtocolException;
import org.vl2.protocol.Welcome;
import org.vl2.protocol.Wire;
import org.vl2.tap.Cidr;
import org.vl2.tap.TapDevice;
import org.vl2.tap.TapException;
import org.vl2.tap.TapFactory;
import org.vl2.tap.TapSettings;
import org.vl2.tap.TcpCoalescer;
import org.vl2.tap.TsoSegmenter;
import org.vl2.tap.VirtioNetHeader;

/**
 * The port agent: connects this host's kernel to a vl2 switch.
 *
 * <pre>
 *     Linux kernel &lt;==[TAP vl2tap0]==&gt; PortAgent &lt;==[UDP: vl2 messages, raw or VXLAN frames]==&gt; switch
 * </pre>
 *
 * <p><b>vl2 mode</b> (the default) speaks the vl2 protocol (docs/protocol.md) to the switch's vl2 transport,
 * UDP 9991. The agent JOINs a network as its member (the member id derives from the agent's X25519 key pair,
 * kept in {@code identity.file}), every second with a fresh nonce until the switch answers; the WELCOME gives it
 * a port id, the network's MTU, the keepalive interval and usually its addresses, which the agent puts on the TAP
 * device. A KEEPALIVE goes out whenever nothing was sent or nothing was received for one interval; three silent
 * intervals and the agent re-joins. A switch that restarted answers the next frame or keepalive with
 * {@code unknown-port}, and the agent re-joins at once (it gets its address back from the switch's persisted
 * leases). Stopping sends a LEAVE.
 *
 * <p><b>Encrypted</b> (vl2 mode with {@code encryption}, the default; docs/crypto.md): the JOIN travels inside
 * the handshake's INITIATION (type 8), sealed to the switch's pinned public key ({@code switch.key}) and
 * authenticated with the agent's key; the RESPONSE (type 9) carries the WELCOME and gives the session keys.
 * Every FRAME, KEEPALIVE and LEAVE then goes out SEALED (ChaCha20-Poly1305): 16-byte header with the switch's
 * session index and a counter, the body encrypted in place, a 16-byte tag; from the switch only sealed FRAMEs and
 * KEEPALIVE-ACKs that open under this agent's session index are accepted, anything else is a counted drop. After
 * {@link Session#needsRekey two minutes} the agent makes a new handshake while the old session keeps carrying
 * frames, switches to the new keys when the RESPONSE arrives and still accepts frames under the old ones until
 * they expire (three minutes). Plaintext vl2 ({@code encryption = false}) sends the JOIN in the clear and puts
 * the WELCOME's port id and session token in front of each frame instead; a switch may refuse it.
 *
 * <p><b>raw mode</b> is the seed VPort's wire format: every UDP datagram carries exactly one Ethernet frame
 * (no FCS) and nothing else, in both directions, to UDP 9990. There is no handshake and no header, so a vl2
 * agent joins a seed VSwitch and a seed VPort joins a vl2 switch. The switch learns the agent's port (its UDP
 * endpoint) from the first datagram it receives; the agent sends nothing artificial to announce itself. As
 * soon as the TAP device is up the kernel sends frames of its own (IPv6 router solicitation, ARP), and the
 * first of them registers the port.
 *
 * <p><b>vxlan mode</b> speaks RFC 7348 to the switch's vxlan transport (UDP 4789), as a Linux vxlan device
 * would: each frame travels behind the 8-byte VXLAN header (the I flag and the configured {@code vni}; by the
 * switch's default mapping VNI n is network n). There is no handshake, no address assignment and no identity:
 * the switch learns the agent as a port from its traffic (by its IP address and the switch's VXLAN port) and
 * expires it after its port idle timeout, so the agent sends the raw-mode keepalive frame, encapsulated, when
 * it has sent nothing for {@code keepalive.seconds}. Plaintext, and anyone who can send datagrams with the
 * switch's source address can write frames into the TAP device: use it on networks you trust, as VXLAN itself.
 *
 * <p><b>Threads.</b> {@code vl2-agent-tap-rx} reads frames from the TAP device and sends them to the switch;
 * {@code vl2-agent-udp-rx} receives datagrams from the switch and writes frames to the TAP device. Each has
 * its own preallocated direct buffer; neither allocates nor logs per frame (in vl2 and vxlan modes the TAP
 * reader reads the frame 16 or 8 bytes into its buffer and writes the header in front of it: no copy; encrypted,
 * the frame is sealed and opened in place, and only the JDK's cipher allocates, see {@link Session}).
 * Control messages (rare) are decoded by the UDP reader and handed to {@code vl2-agent-control}, which does
 * everything slow: joining, keepalives, DNS, reconnecting, re-creating the TAP device when the switch assigns
 * other addresses, logging state changes.
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
 * <p>In vxlan mode the socket cannot be connected: like every VTEP, the switch sends to the agent's IP address
 * at the VXLAN port (the switch's, from {@code switch.address}) from source ports it picks per flow. So the
 * socket is bound to that port on the local address the route to the switch uses, and the UDP reader drops
 * datagrams whose source IP is not the switch's (any source port). There are no ICMP errors on an unconnected
 * socket, hence no {@link AgentState#SWITCH_UNREACHABLE} for a switch that is not running. The agent and a
 * Linux vxlan device or a vl2 switch using the same port cannot run on one host (address).
 *
 * <p><b>Reconnecting.</b> The control thread checks the link when nothing has come from the switch for
 * 30 s, when a send failed for another reason than ICMP port unreachable (e.g. network unreachable), and
 * every 5 s while there is no socket. A DNS name is resolved again; the socket is replaced only if the
 * address changed, or if the socket's own local address no longer exists on this host (a new DHCP lease,
 * another Wi-Fi). The new socket reuses the old local port when it is free. In vl2 mode a new local endpoint
 * costs nothing (the switch moves a port whose token arrives, or whose sealed message opens, from a new address);
 * a new switch answers {@code unknown-port} and the agent re-joins.
 *
 * <p><b>MTU.</b> In vl2 mode the TAP device gets the network's MTU from the WELCOME unless {@code mtu} is set.
 * In raw mode the default, {@value AgentConfig#DEFAULT_MTU}, is 1500 (the usual underlay MTU) - 20 (IPv4 header) - 8 (UDP
 * header) - 18 (Ethernet header, 14, plus one 802.1Q tag, 4): a full-size frame, tagged or not, travels in
 * one unfragmented 1500-byte IPv4 datagram. In vxlan mode the default is {@value AgentConfig#VXLAN_DEFAULT_MTU}, what a
 * Linux vxlan device takes, so that the agent and the kernel VTEPs on a VNI agree. Frames longer than the TAP
 * MTU allows (MTU + 22: the Ethernet header and two tags) are dropped and counted, in both directions.
 */
@Component(service = AgentService.class, configurationPid = AgentConfig.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = AgentConfig.Config.class)
public final class PortAgent implements AgentService {

    private static final Logger LOG = LoggerFactory.getLogger(PortAgent.class);
    /**
     * The one ERROR line of an agent that cannot start (or is refused for good) goes here, and nothing else: the
     * launchers route this logger to a file and stop on it (docs/operating.md).
     */
    static final Logger FATAL = LoggerFactory.getLogger("org.vl2.fatal");


    /**
     * How long the agent waits for what; the tests shorten them. {@code secondMillis} is the length of a
     * protocol second (the WELCOME's keepalive interval is in seconds).
     */
    record Timing(long retryMillis, long silenceMillis, long unreachableHoldMillis, long tickMillis,
                  long joinMillis, long joinRetryMillis, long slowRetryMillis, long rejoinMillis,
                  long secondMillis, Session.Limits sessionLimits) {
        static final Timing DEFAULT = new Timing(5_000, 30_000, 30_000, 1_000, 2_000, 1_000, 30_000, 1_000, 1_000);

        /** With the session limits of docs/crypto.md: rekey after 120 s, reject after 180 s. */
        Timing(long retryMillis, long silenceMillis, long unreachableHoldMillis, long tickMillis, long joinMillis,
               long joinRetryMillis, long slowRetryMillis, long rejoinMillis, long secondMillis) {
            this(retryMillis, silenceMillis, unreachableHoldMillis, tickMillis, joinMillis, joinRetryMillis,
                    slowRetryMillis, rejoinMillis, secondMillis, Session.Limits.DEFAULT);
        }

        /** These timings with other session limits (tests: rekey within seconds). */
        Timing withSessionLimits(Session.Limits limits) {
            return new Timing(retryMillis, silenceMillis, unreachableHoldMillis, tickMillis, joinMillis,
                    joinRetryMillis, slowRetryMillis, rejoinMillis, secondMillis, limits);
        }
    }

    /**
     * The socket to the switch and its endpoints, replaced as a whole when the agent reconnects. With TAP offload
     * on Linux the socket is a {@link UdpBatchSocket} ({@code batch}, and {@code channel} is null): a superframe's
     * segments leave with one system call as one UDP GSO message, and the switch's bursts arrive as one GRO
     * message. Otherwise a {@link DatagramChannel}.
     */
    private record Link(DatagramChannel channel, UdpBatchSocket batch, InetSocketAddress remote,
                        InetSocketAddress local) {

        /** Sends one message now (control messages, keepalives): bytes sent, 0 if the send buffer is full. */
        int send(ByteBuffer b) throws IOException {
            if (batch != null) {
                int n = b.remaining();
                if (!batch.isOpen()) {
                    throw new ClosedChannelException();
                }
                if (!batch.send(remote, b)) {
                    return 0;
                }
                b.position(b.limit());
                return n;
            }
            return channel.isConnected() ? channel.write(b) : channel.send(b, remote);
        }

        void close() {
            if (batch != null) {
                batch.close();
                return;
            }
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing: nothing left to do
            }
        }
    }

    /**
     * vl2 mode: what a WELCOME gave; replaced as a whole (the data path reads it once per frame). Encrypted, the
     * token is 0 and {@code keys} the handshake's session, which seals everything sent; plaintext, keys is null.
     */
    private record Joined(int port, long token, long keepaliveMillis, long since, List<String> assigned,
                          Session keys) {
    }

    /** Encrypted vl2 mode: a RESPONSE from the switch, for the control thread (a copy of the datagram). */
    private record Response(byte[] datagram) {
    }

    /** An ERROR in a protocol version this agent cannot decode: the switch does not speak version 1. */
    private record ForeignVersion(int version) {
    }

    private final Settings settings;
    private final boolean vl2;
    /** vxlan mode, and its VNI (0 in the other modes). */
    private final boolean vxlan;
    private final int vni;
    private final SwitchAddress switchAddress;
    private final SwitchAddress.Resolver resolver;
    private final Timing timing;
    private final TapFactory tapFactory;
    private final Instant since;
    private final ByteBuffer tapRxBuffer;
    private final ByteBuffer udpRxBuffer;
    /**
     * Offload: bytes in front of each frame for the protocol header (16 vl2, 8 vxlan, 0 raw); where the TAP->switch
     * thread cuts superframes, and the sink that sends each frame (a field: a lambda per call would allocate).
     */
    private final int txHeadroom;
    private final ByteBuffer segmentBuffer;
    private final TsoSegmenter.SegmentSink<RuntimeException> segmentSink = this::sendFrame;
    private TsoSegmenter segmenter;
    private TapDevice segmenterTap;
    /** Offload, switch->TAP thread: consecutive TCP segments become one superframe; plain frames get a header. */
    private final TcpCoalescer coalescer;
    private final ByteBuffer plainTx;
    /** Offload, switch->TAP thread: waits for datagrams on the non-blocking socket (see switchToTap). */
    private Selector rxSelector;
    private DatagramChannel rxRegistered;
    /** Offload: superframes read from the TAP device and written to it (for the status and tests). */
    private final AtomicLong superframesIn = new AtomicLong();
    private final AtomicLong superframesOut = new AtomicLong();
    /** vl2 mode: the member id and the JOIN's name and largest frame. */
    private final long member;
    private final String joinName;
    private final int maxFrame;
    /** vl2 mode: this agent's key pair (the member id derives from it); null in raw and vxlan modes. */
    private final Identity identity;
    /** vl2 mode with encryption: the handshake, sealed messages; and the switch's pinned public key. */
    private final boolean encrypted;
    /**
     * The switch's public key: configured, or pinned on first use (read from {@link #knownSwitches}, or learned
     * from a KEY-REPLY by the control thread); null only while trust-on-first-use waits for the switch's answer.
     */
    private volatile byte[] switchKey;
    /** Trust on first use: the file of pinned switch keys; null otherwise. */
    private final Path knownSwitches;
    /** A KEY-REQUEST is outstanding: the UDP reader passes KEY-REPLYs to the control thread only then. */
    private volatile boolean keyRequested;
    /** Encrypted: the switch's last cookie (control thread only) and when it came; see {@link #freshCookie}. */
    private byte[] cookie;
    private long cookieNanos;
    /** Encrypted: COOKIE-REPLYs that opened, for tests. */
    private final AtomicLong cookieReplies = new AtomicLong();
    /** The last key a switch presented that differs from the pinned one (said once per key, not per retry). */
    private byte[] mismatchSaid;

    /** The TAP device; replaced (by the control thread) when the switch assigns other addresses or MTU. */
    private volatile TapDevice tap;

    private final AtomicLong tapRxFrames = new AtomicLong();
    private final AtomicLong tapRxBytes = new AtomicLong();
    private final AtomicLong tapTxFrames = new AtomicLong();
    private final AtomicLong tapTxBytes = new AtomicLong();
    private final AtomicLong drops = new AtomicLong();
    /** vl2 mode: frames with another port id or token (part of {@link #drops}). */
    private final AtomicLong foreign = new AtomicLong();
    /** vl2 mode: datagrams that are not valid vl2 messages for this agent (part of {@link #drops}). */
    private final AtomicLong malformed = new AtomicLong();
    /**
     * Encrypted: sealed messages and handshake responses that did not open (forged, modified, replayed, outside
     * the window, expired keys; part of {@link #drops}).
     */
    private final AtomicLong unopened = new AtomicLong();
    /** Encrypted: handshakes completed (the first join, re-joins and rekeys). */
    private final AtomicLong handshakes = new AtomicLong();
    /** vl2 mode: JOIN, KEEPALIVE and LEAVE messages sent. */
    private final AtomicLong controlSent = new AtomicLong();
    private final AtomicLong keepalives = new AtomicLong();
    private final AtomicLong joins = new AtomicLong();
    /** WARN lines about join problems: once per change, not per retry (for tests). */
    private final AtomicLong joinProblemsLogged = new AtomicLong();

    /** Guards {@link #link} and {@link #tap} replacement and shutdown; the control thread waits on it. */
    private final Object lock = new Object();
    /** The socket, or null while the name does not resolve or no socket could be opened. */
    private volatile Link link;
    /** The last resolved address (kept while reconnecting fails), for the status. */
    private volatile InetSocketAddress resolved;
    /** Why there is no link, or why the last check failed; null if it did not. */
    private volatile String linkProblem;
    /** Why the agent stopped working (TAP device failed, the switch refused for good); null while it works. */
    private volatile String failure;
    private volatile boolean running;
    private volatile boolean started;
    private volatile boolean stopped;
    /** Wall-clock millis of the last datagram from the switch (vl2: the last vl2 message), 0 if none. */
    private volatile long lastFromSwitch;
    /**
     * Encrypted: wall-clock millis of the last message that proved to come from the switch (opened, or a
     * RESPONSE that verified), 0 if none: what tells a live switch from a silent one, since anyone on the path
     * can send plaintext datagrams.
     */
    private volatile long lastAuthentic;
    /** Wall-clock millis of the last ICMP port unreachable, 0 if none. */
    private volatile long lastUnreachable;
    /** A send failed for another reason than port unreachable: the control thread should check the link. */
    private volatile boolean checkWanted;
    /** The local port of the last socket, for the next one when reconnecting failed in between. */
    private int lastLocalPort;
    private final List<Thread> threads = new ArrayList<>(3);
    /** The raw keepalive frame (built once the TAP's MAC is known); sent by the control thread only. */
    private final ByteBuffer keepalive;

    // vl2 mode, shared
    /** The current session, null before the first WELCOME. */
    private volatile Joined session;
    /**
     * Encrypted: the keys the current ones replaced (a rekey or re-join), still accepted for receiving until they
     * expire, because the switch sends with them until it has opened a message under the new ones; null if none.
     */
    private volatile Session previous;
    /** Why the agent is not (or no longer) joined, for the status; null when joined or still trying quietly. */
    private volatile String joinProblem;
    /** The last keepalive round trip in nanoseconds, -1 if none yet. */
    private volatile long rttNanos = -1;
    /** Send times of the last keepalives, by sequence number modulo the length: late ACKs still count. */
    private final AtomicLongArray keepaliveSentNanos = new AtomicLongArray(8);
    private volatile long keepaliveSequence;
    /** WELCOME and ERROR messages from the UDP reader to the control thread; bounded against a flood. */
    private final BlockingQueue<Object> inbox = new ArrayBlockingQueue<>(64);

    // vl2 mode, control thread only
    private final SecureRandom random = new SecureRandom();
    private final ByteBuffer controlBuffer = ByteBuffer.allocate(Wire.JOIN_LENGTH);
    private boolean joining;
    /** After a retryable ERROR: JOIN every slowRetryMillis until the switch says otherwise. */
    private boolean backingOff;
    private long nextJoinAt;
    private int joinAttempts;
    /** The nonces of the current join round: an answer to any of them counts, however slow the switch. */
    private final long[] roundNonces = new long[8];
    /** Encrypted: the handshakes of the current round, by the same slot as their JOIN's nonce. */
    private final Initiator[] roundInitiators = new Initiator[roundNonces.length];
    /** Encrypted: when each of them was sent, counted within the round (0, 1, ...). */
    private final int[] roundSequence = new int[roundNonces.length];
    /** Encrypted: the round's handshake whose keys are in use, by that count; -1 while none. */
    private int roundUsed = -1;
    /**
     * Encrypted: wall-clock millis after which the finished round's other handshakes are forgotten (their
     * ephemeral keys dropped); 0 when there is nothing to forget.
     */
    private long roundForgetAt;
    /** Encrypted: the current round replaces keys that still work (a rekey), rather than re-joining. */
    private boolean rekeying;
    private int roundNonceCount;
    private long roundMalformed;
    private long lastUnknownPortRejoin;
    private long sentSeen = -1;
    private long lastSentAt;
    private long lastKeepaliveAt;

    @Activate
    public PortAgent(@Reference TapFactory tapFactory, AgentConfig.Config config) {
        this(tapFactory, config, InetAddress::getByName, Timing.DEFAULT);
    }

    PortAgent(TapFactory tapFactory, AgentConfig.Config config, SwitchAddress.Resolver resolver, Timing timing) {
        try {
            this.settings = validate(config);
        } catch (IllegalArgumentException e) {
            FATAL.error("{}; the port agent does not start until this is fixed", e.getMessage());
            throw e;
        }
        this.vl2 = settings.vl2();
        this.vxlan = settings.vxlan();
        this.vni = settings.vni();
        this.switchAddress = settings.switchAddress();
        this.resolver = resolver;
        this.timing = timing;
        this.tapFactory = tapFactory;
        this.since = Instant.now();
        if (!vxlan && config.vni() != 0) {
            LOG.info("Port agent: vni {} ignored in {} mode (it is for mode vxlan)", config.vni(), settings.mode());
        }
        this.encrypted = settings.encrypted();
        this.switchKey = settings.switchKey();
        if (encrypted && switchKey == null && !settings.trustOnFirstUse()) {
            FATAL.error(NO_SWITCH_KEY);
            throw new IllegalStateException(NO_SWITCH_KEY);
        }
        if (settings.switchKey() != null && config.trust_on_first_use()) {
            LOG.info("Port agent: trust.on.first.use ignored: switch.key pins the switch's key");
        }
        if (!encrypted && config.switch_key() != null && !config.switch_key().isBlank()) {
            LOG.info("Port agent: switch.key ignored ({})", vl2 ? "encryption is off" : settings.mode() + " mode is"
                    + " plaintext");
        }
        if (vl2) {
            Path file = MemberIdentity.resolve(settings.identityFile(), System.getProperty(MemberIdentity.KARAF_DATA));
            try {
                this.identity = MemberIdentity.loadOrCreate(file);
            } catch (IllegalStateException e) {
                String message = "Port agent not started: " + e.getMessage();
                FATAL.error(message);
                throw new IllegalStateException(message, e);
            }
            this.member = identity.memberId();
            if (settings.trustOnFirstUse()) {
                this.knownSwitches = KnownSwitches.beside(file);
                try {
                    this.switchKey = KnownSwitches.lookup(knownSwitches, switchAddress.toString());
                } catch (IllegalStateException e) {
                    String message = "Port agent not started: " + e.getMessage();
                    FATAL.error(message);
                    throw new IllegalStateException(message, e);
                }
                if (switchKey != null) {
                    LOG.info("Port agent: switch {} has key {}, pinned on first use in {}", switchAddress,
                            Identity.fingerprint(switchKey), knownSwitches);
                }
            } else {
                this.knownSwitches = null;
            }
            this.joinName = settings.name() != null ? settings.name() : hostName();
            this.maxFrame = settings.mtuConfigured() ? settings.tap().mtu() + TapDevice.FRAME_OVERHEAD
                    : encrypted ? MAX_SEALED_FRAME : MAX_VL2_FRAME;
        } else {
            this.identity = null;
            this.knownSwitches = null;
            if (!vxlan && settings.network() != Networks.DEFAULT) {
                LOG.info("Port agent: network {} ignored in raw mode (raw ports are in the default network)",
                        Networks.format(settings.network()));
            }
            this.member = 0;
            this.joinName = null;
            this.maxFrame = 0;
        }
        try {
            this.tap = tapFactory.create(settings.tap());
        } catch (TapException e) {
            // The user-facing message of the standalone agent: the cause and the fix, in one line.
            String message = "Port agent not started: " + e.getMessage();
            FATAL.error(message);
            throw new IllegalStateException(message, e);
        }
        try {
            // One more byte than the longest frame: a frame that fills the buffer was truncated. In vl2 mode the
            // TAP device may be re-created with another MTU, up to what the JOIN announced; encrypted, the tag
            // follows the frame.
            int room = vl2 ? HEADER + maxFrame + (encrypted ? TAG : 0) + 1
                    : (vxlan ? VxlanHeader.LENGTH : 0) + tap.maxFrameLength() + 1;
            this.txHeadroom = vl2 ? HEADER : vxlan ? VxlanHeader.LENGTH : 0;
            boolean offload = settings.tap().offload();
            // offload: a 64 KiB superframe after its virtio header, read where the frame lands txHeadroom in
            this.tapRxBuffer = ByteBuffer.allocateDirect(offload ? Math.max(room, Math.max(txHeadroom,
                    VirtioNetHeader.LENGTH) + TapDevice.MAX_OFFLOAD_READ_LENGTH + TAG + 1) : room);
            this.udpRxBuffer = ByteBuffer.allocateDirect(room);
            this.segmentBuffer = offload ? ByteBuffer.allocateDirect(SEGMENT_AT + TapDevice.FRAME_OVERHEAD
                    + TapSettings.MAX_MTU + TAG + 1) : null;
            this.coalescer = offload ? new TcpCoalescer() : null;
            this.plainTx = offload ? ByteBuffer.allocateDirect(VirtioNetHeader.LENGTH + room) : null;
            byte[] mac = tap.mac().toBytes();
            this.keepalive = vxlan ? vxlanKeepaliveFrame(mac, vni) : keepaliveFrame(mac);
            running = true;
            check(true);
            if (vl2) {
                startJoin(System.currentTimeMillis(), null);
            }
            start(this::tapToSwitch, "vl2-agent-tap-rx");
            start(this::switchToTap, "vl2-agent-udp-rx");
            start(this::control, "vl2-agent-control");
            started = true;
        } catch (RuntimeException | Error e) {
            shutdown();
            throw e;
        }
        String up = "Port agent up: TAP " + describeTap() + " <-> switch " + describeSwitch() + (vl2 ? ": joining" : "");
        if (link != null) {
            LOG.info(up);
        } else {
            LOG.warn(up);
        }
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

    /**
     * Says LEAVE (vl2 mode, best effort), closes the socket and the TAP device (which deletes it), then waits a
     * bounded time for the threads.
     */
    private void shutdown() {
        Link l;
        synchronized (lock) {
            running = false; // under the lock: no JOIN or keepalive can follow the LEAVE
            l = link;
            link = null;
            lock.notifyAll();
        }
        sendLeave(l);
        close(l);
        tap.close(); // wakes the TAP reader (read returns -1) and deletes the interface
        long deadline = System.nanoTime() + timing.joinMillis() * 1_000_000L;
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
                LOG.warn("Port agent: thread {} did not stop within {} ms", t.getName(), timing.joinMillis());
            }
        }
        stopped = true;
    }

    /**
     * The switch forgets the port at once rather than after 3 silent intervals. No answer, so no waiting.
     * Encrypted, the LEAVE is sealed (an empty body: header and tag), so nobody else can end the port.
     */
    private void sendLeave(Link l) {
        Joined s = session;
        if (!vl2 || l == null || s == null) {
            return;
        }
        ByteBuffer b;
        try {
            if (s.keys() != null) {
                b = ByteBuffer.allocate(SEALED_LEAVE_LENGTH);
                sealedHeader(b, Wire.LEAVE, s.keys().remoteIndex());
                s.keys().seal(b, 0, HEADER, 0, System.nanoTime());
            } else {
                b = ByteBuffer.allocate(Wire.LEAVE_LENGTH);
                new Leave(s.port(), s.token()).encode(b);
                b.flip();
            }
            l.send(b);
            controlSent.incrementAndGet();
        } catch (CryptoException | IOException | RuntimeException e) {
            LOG.debug("Port agent: LEAVE not sent: {}", e.toString());
        }
    }

    /**
     * Writes the 16-byte header of a sealed message at index 0 (type, flags SEALED, the switch's session index;
     * seal writes the counter) and leaves the buffer's position at 0. Absolute puts: no allocation.
     */
    static void sealedHeader(ByteBuffer b, int type, int receiverIndex) {
        sealedHeader(b, 0, type, receiverIndex);
    }

    /** The header of a sealed message at {@code at}; the position goes there. */
    static void sealedHeader(ByteBuffer b, int at, int type, int receiverIndex) {
        b.put(at, (byte) Wire.MAGIC).put(at + 1, (byte) Wire.VERSION).put(at + 2, (byte) type)
                .put(at + 3, (byte) Wire.FLAG_SEALED).putInt(at + 4, receiverIndex);
        b.position(at);
    }

    /** True while one of the agent's threads runs (for tests). */
    boolean threadsAlive() {
        return threads.stream().anyMatch(Thread::isAlive);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Data path: no allocation, no logging per frame.

    /**
     * TAP -> switch; in vl2 (vxlan) mode the frame is read 16 (8) bytes into the buffer and the header written
     * before it. Encrypted, the frame is then sealed where it is and the tag appended behind it. With offload a
     * read holds a virtio header and possibly a TCP superframe, which the segmenter cuts into MTU-sized frames
     * (or passes on in place), each sent by {@link #sendFrame}.
     */
    private void tapToSwitch() {
        final ByteBuffer buf = tapRxBuffer;
        int pending = 0; // batched link: TAP reads queued since the last flush
        while (running) {
            TapDevice t = tap;
            boolean offload = t.offload();
            int longest = offload ? t.maxReadLength() : t.maxFrameLength();
            // offload: the frame behind the 10-byte virtio header lands txHeadroom (or 10) bytes in
            int readAt = offload ? Math.max(0, txHeadroom - VirtioNetHeader.LENGTH) : txHeadroom;
            buf.clear().limit(readAt + longest + 1).position(readAt);
            int n;
            try {
                // with frames queued for the switch, take only what the TAP already holds, then send them all
                n = pending > 0 ? t.read(buf, 0) : t.read(buf);
            } catch (TapException e) {
                if (running && tap == t) {
                    tapFailed("Reading from", t, e);
                    return;
                }
                continue; // replaced meanwhile, or stopping
            }
            if (n <= 0 && pending > 0) {
                flushFrames();
                pending = 0;
            }
            if (n < 0) {
                if (!awaitOtherTap(t)) {
                    return; // closed: stopping
                }
                continue; // replaced: read the new device
            }
            if (n == 0) {
                continue;
            }
            if (n > longest) {
                drops.incrementAndGet(); // truncated: longer than the TAP's MTU allows
                continue;
            }
            if (!offload) {
                sendFrame(buf, readAt, n);
                pending = flushUnlessDraining(pending);
                continue;
            }
            TsoSegmenter seg = segmenter;
            if (segmenterTap != t) {
                seg = new TsoSegmenter(t.mtu()); // rare: a new device (another MTU)
                segmenter = seg;
                segmenterTap = t;
            }
            TsoSegmenter.Result r = seg.segment(buf, readAt, n, segmentBuffer, SEGMENT_AT, segmentSink);
            if (r == TsoSegmenter.Result.SEGMENTED) {
                superframesIn.incrementAndGet();
            } else if (!r.delivered()) {
                drops.incrementAndGet(); // a superframe the kernel should not have made (counted, never sent)
            }
            pending = flushUnlessDraining(pending);
        }
    }

    /**
     * After a TAP read: on a batched link, keep what was queued and read on while the TAP holds more (up to
     * {@link #TAP_DRAIN} reads, so a burst of small frames leaves with one system call, as one GSO message when the
     * frames are of one size); otherwise send now. Returns the new count of reads waiting for the flush.
     */
    private int flushUnlessDraining(int pending) {
        Link l = link;
        if (l != null && l.batch() != null && pending + 1 < TAP_DRAIN) {
            return pending + 1;
        }
        flushFrames();
        return 0;
    }

    /**
     * Batched link: sends what {@link #sendFrame} queued for this TAP read (a superframe's segments: one system
     * call, one GSO message). Waits up to 2 ms for room in a full send buffer before it drops, as the
     * non-blocking channel's retries do.
     */
    private void flushFrames() {
        Link l = link;
        if (l == null || l.batch() == null || l.batch().queued() == 0) {
            return;
        }
        int dropped = l.batch().flush(SEND_WAIT_MILLIS) + l.batch().takeAutoFlushDropped();
        if (dropped > 0) {
            drops.addAndGet(dropped);
            tapRxFrames.addAndGet(-dropped);
        }
    }

    /**
     * Sends the frame at {@code frameAt} ({@code n} bytes) of {@code buf} to the switch: the protocol header goes
     * in the {@link #txHeadroom} bytes in front of it, the tag (encrypted) behind it.
     */
    private void sendFrame(ByteBuffer buf, int frameAt, int n) {
        Link l = link;
        if (l == null) {
            drops.incrementAndGet(); // no socket (name does not resolve yet, or reconnecting)
            return;
        }
        int base = frameAt - txHeadroom;
        if (vl2) {
            Joined s = session;
            if (s == null) {
                drops.incrementAndGet(); // not joined yet
                return;
            }
            Session keys = s.keys();
            if (keys != null) {
                buf.limit(frameAt + n + TAG);
                sealedHeader(buf, base, Wire.FRAME, keys.remoteIndex());
                try {
                    keys.seal(buf, base, HEADER, n, System.nanoTime());
                } catch (CryptoException e) {
                    drops.incrementAndGet(); // the keys expired and no new handshake succeeded yet
                    return;
                }
            } else {
                FrameHeader.write(buf, base, s.port(), s.token());
                buf.limit(frameAt + n).position(base);
            }
        } else if (vxlan) {
            VxlanHeader.write(buf, base, vni);
            buf.limit(frameAt + n).position(base);
        } else {
            buf.limit(frameAt + n).position(frameAt);
        }
        UdpBatchSocket batch = l.batch();
        if (batch != null) {
            // queued: flushFrames() sends the TAP read's frames together
            if (batch.queue(l.remote(), buf)) {
                tapRxFrames.incrementAndGet();
                tapRxBytes.addAndGet(n);
            } else {
                drops.incrementAndGet();
            }
            return;
        }
        try {
            int sent = 0;
            // a non-blocking socket (offload) returns 0 when its send buffer is full: wait a little, as a
            // blocking one would, rather than drop
            for (int tries = 0; tries < SEND_RETRIES && sent == 0; tries++) {
                if (tries > 0) {
                    LockSupport.parkNanos(SEND_RETRY_NANOS);
                }
                // vxlan: from the one socket that also receives, so the outer UDP source port is always the VXLAN
                // port. RFC 7348's source port from a hash of the inner flow (for ECMP and RSS) is optional for an
                // endpoint with one socket; the switch identifies a VTEP by its IP address anyway.
                sent = vxlan ? l.channel().send(buf, l.remote()) : l.channel().write(buf);
            }
            if (sent == 0) {
                drops.incrementAndGet();
                return;
            }
            tapRxFrames.incrementAndGet();
            tapRxBytes.addAndGet(n);
        } catch (PortUnreachableException e) {
            // An ICMP error for an earlier datagram; the kernel dropped this one.
            lastUnreachable = System.currentTimeMillis();
            drops.incrementAndGet();
        } catch (ClosedChannelException e) {
            drops.incrementAndGet(); // replaced by a reconnect, or stopping
        } catch (IOException e) {
            drops.incrementAndGet(); // e.g. network unreachable: let the control thread look
            checkWanted = true;
        }
    }

    /** Switch -> TAP. */
    private void switchToTap() {
        final ByteBuffer buf = udpRxBuffer;
        while (running) {
            Link l = link;
            if (l == null) {
                awaitLink();
                continue;
            }
            if (l.batch() != null) {
                receiveBatch(l, buf);
                continue;
            }
            buf.clear();
            int n;
            SocketAddress from = null;
            try {
                if (vxlan) {
                    // Unconnected: the JDK hands back the sender's address, a new object only when it differs
                    // from the previous datagram's (the switch sends one flow from one source port).
                    from = l.channel().receive(buf);
                    n = from == null ? -1 : buf.position();
                } else {
                    n = l.channel().read(buf);
                }
                if (n <= 0 && !l.channel().isBlocking()) {
                    // offload: nothing queued. Write what the coalescer holds before waiting: a segment must never
                    // wait for the next one (TCP would wait for its ACK)
                    flushCoalesced();
                    awaitDatagram(l.channel());
                    continue;
                }
            } catch (IOException e) {
                receiveFailed(e, l);
                continue;
            }
            if (n < 0) {
                continue;
            }
            buf.flip();
            fromSwitch(buf, n, from, l);
        }
        Selector sel = rxSelector;
        if (sel != null) {
            try {
                sel.close();
            } catch (IOException ignored) {
                // stopping: nothing left to do
            }
        }
    }

    /** What the receive loops do when a receive from {@code l} fails. */
    private void receiveFailed(IOException e, Link l) {
        if (e instanceof PortUnreachableException) {
            lastUnreachable = System.currentTimeMillis(); // an ICMP error for an earlier datagram
        } else if (e instanceof ClosedChannelException) {
            if (running && link == l) {
                pause(10); // closed but not yet replaced: the control thread is reconnecting
            }
        } else if (running) {
            pause(100); // an unexpected socket error: do not spin on it
        }
    }

    /** One datagram from the switch in {@code buf}, between position 0 and limit {@code n}: whatever the mode. */
    private void fromSwitch(ByteBuffer buf, int n, SocketAddress from, Link l) {
        if (vl2 || vxlan) {
            try {
                if (vl2) {
                    received(buf, n);
                } else {
                    receivedVxlan(buf, n, from, l);
                }
            } catch (RuntimeException e) {
                malformed(); // whatever it was, it must not end the loop
            }
            return;
        }
        lastFromSwitch = System.currentTimeMillis();
        if (n >= buf.capacity() || n < EthernetFrame.HEADER_LENGTH) {
            drops.incrementAndGet(); // longer than the TAP's MTU allows, or a runt
            return;
        }
        writeToTap(buf, n);
    }

    /**
     * Batched link: takes what is queued (up to a batch of messages, a GRO message cut into its datagrams) and
     * handles each datagram as the channel path does, from a copy at position 0 of {@code buf}. With nothing
     * queued it first writes what the coalescer holds (a segment must never wait for the next one), then waits.
     */
    private void receiveBatch(Link l, ByteBuffer buf) {
        UdpBatchSocket b = l.batch();
        int count;
        try {
            count = b.receive(0);
            if (count == 0) {
                flushCoalesced();
                count = b.receive((int) timing.tickMillis());
            }
        } catch (IOException e) {
            receiveFailed(e, l);
            return;
        }
        for (int i = 0; i < count; i++) {
            ByteBuffer d = b.datagram(i);
            int n = d.remaining();
            if (n > buf.capacity()) {
                drops.incrementAndGet(); // longer than anything this agent takes
                continue;
            }
            buf.clear();
            buf.put(d).flip();
            fromSwitch(buf, n, b.source(i), l);
        }
    }

    /** vl2 mode: one datagram from the switch, between position 0 and limit {@code n}. */
    private void received(ByteBuffer buf, int n) {
        int type = Wire.type(buf);
        if (type < 0) {
            int handshakeType = encrypted ? Handshake.type(buf) : -1;
            if (handshakeType == Handshake.RESPONSE || handshakeType == Handshake.COOKIE_REPLY) {
                lastFromSwitch = System.currentTimeMillis();
                byte[] copy = new byte[n]; // rare (one or two per handshake): the control thread verifies it
                buf.get(0, copy);
                if (!inbox.offer(new Response(copy))) {
                    malformed(); // more than the control thread can keep up with: not a switch behaving
                    return;
                }
                signal();
                return;
            }
            malformed(); // not a vl2 message (a raw frame from a raw-mode switch?)
            return;
        }
        lastFromSwitch = System.currentTimeMillis();
        if (Wire.version(buf) != Wire.VERSION) {
            if (type == Wire.ERROR) {
                inbox.offer(new ForeignVersion(Wire.version(buf)));
                signal();
            }
            malformed();
            return;
        }
        if (type == Wire.KEY_REPLY) {
            KeyReply reply = null;
            if (keyRequested) {
                try {
                    reply = KeyReply.decode(buf);
                } catch (ProtocolException e) {
                    // counted below
                }
            }
            if (reply == null || !inbox.offer(reply)) {
                malformed(); // unsolicited, or not a key reply
                return;
            }
            signal();
            return;
        }
        if (encrypted && type != Wire.ERROR) {
            // only sealed FRAMEs and KEEPALIVE-ACKs; plaintext ones (and WELCOMEs: the WELCOME comes inside the
            // RESPONSE) are refused, and so is anything sealed that is not for this agent's keys
            if ((Wire.flags(buf) & Wire.FLAG_SEALED) != 0 && (type == Wire.FRAME || type == Wire.KEEPALIVE_ACK)) {
                receivedSealed(buf, n, type);
            } else {
                malformed();
            }
            return;
        }
        if (type == Wire.FRAME) {
            Joined s = session;
            int length = n - HEADER;
            if (s == null || FrameHeader.port(buf) != s.port() || FrameHeader.token(buf) != s.token()) {
                foreign.incrementAndGet(); // another session's (an old token), or a stranger's
                drops.incrementAndGet();
                return;
            }
            TapDevice t = tap;
            if ((Wire.flags(buf) & Wire.FLAG_SEALED) != 0 || length < EthernetFrame.HEADER_LENGTH
                    || length > t.maxFrameLength() || n >= buf.capacity()) {
                malformed(); // sealed (no such session in version 1), a runt, or longer than the TAP's MTU allows
                return;
            }
            buf.position(HEADER);
            writeToTap(buf, length);
            return;
        }
        if (type == Wire.KEEPALIVE_ACK) {
            acknowledged(buf);
        } else if (type == Wire.WELCOME || type == Wire.ERROR) {
            Object message;
            try {
                message = type == Wire.WELCOME ? Welcome.decode(buf) : ProtocolError.decode(buf);
            } catch (ProtocolException e) {
                malformed();
                return;
            }
            if (!inbox.offer(message)) {
                malformed(); // more than the control thread can keep up with: not a switch behaving
                return;
            }
            signal();
        } else {
            malformed(); // JOIN, KEEPALIVE, LEAVE: only agents send those
        }
    }

    /**
     * Encrypted: a sealed FRAME or KEEPALIVE-ACK, between position 0 and limit {@code n}. Its receiver index says
     * which keys: the current ones or, after a rekey, the previous ones until they expire. Opened in place; what
     * does not open (another session's, forged, modified, replayed, expired) is a counted drop.
     */
    private void receivedSealed(ByteBuffer buf, int n, int type) {
        int body = n - HEADER - TAG;
        if (body < 0 || n >= buf.capacity()) {
            malformed(); // shorter than header and tag, or longer than any frame the TAP device takes
            return;
        }
        int receiver = buf.getInt(4);
        Joined s = session;
        Session keys = s == null ? null : s.keys();
        if (keys == null || keys.localIndex() != receiver) {
            keys = previous;
            if (keys == null || keys.localIndex() != receiver) {
                foreign.incrementAndGet(); // keys this agent no longer (or never) had
                drops.incrementAndGet();
                return;
            }
        }
        int length;
        try {
            length = keys.open(buf, 0, HEADER, n - HEADER, System.nanoTime());
        } catch (CryptoException e) {
            unopened.incrementAndGet();
            drops.incrementAndGet();
            return;
        }
        lastAuthentic = System.currentTimeMillis();
        if (type == Wire.KEEPALIVE_ACK) {
            if (length == 8) {
                acknowledged(buf.getLong(HEADER));
            } else {
                malformed();
            }
            return;
        }
        if (length < EthernetFrame.HEADER_LENGTH || length > tap.maxFrameLength()) {
            malformed(); // a runt, or longer than the TAP's MTU allows
            return;
        }
        buf.position(HEADER).limit(HEADER + length);
        writeToTap(buf, length);
    }

    /**
     * vxlan mode: one datagram between position 0 and limit {@code n} from {@code from}. Only the switch's IP
     * address counts (from any source port: the switch picks one per flow), and only our VNI with the I flag.
     */
    private void receivedVxlan(ByteBuffer buf, int n, SocketAddress from, Link l) {
        if (!(from instanceof InetSocketAddress source) || !source.getAddress().equals(l.remote().getAddress())) {
            foreign.incrementAndGet(); // not the switch: VXLAN has no identity, the source address is all there is
            drops.incrementAndGet();
            return;
        }
        lastFromSwitch = System.currentTimeMillis();
        int length = n - VxlanHeader.LENGTH;
        if (length < EthernetFrame.HEADER_LENGTH || !VxlanHeader.hasVni(buf, 0)) {
            malformed(); // no frame behind the header, or not VXLAN (the I flag must be set)
            return;
        }
        if (VxlanHeader.vni(buf, 0) != vni) {
            foreign.incrementAndGet(); // another VNI: another network's frame
            drops.incrementAndGet();
            return;
        }
        if (length > tap.maxFrameLength() || n >= buf.capacity()) {
            drops.incrementAndGet(); // longer than the TAP's MTU allows
            return;
        }
        buf.position(VxlanHeader.LENGTH);
        writeToTap(buf, length);
    }

    private void malformed() {
        malformed.incrementAndGet();
        drops.incrementAndGet();
    }

    /**
     * Offload: the frame between position and limit of {@code buf} joins the pending superframe if it continues
     * its TCP flow; otherwise the pending one is written first, and a frame that cannot join any goes out alone
     * behind a plain virtio header.
     */
    private void writeCoalesced(TapDevice t, ByteBuffer buf, int length) {
        TcpCoalescer c = coalescer;
        TcpCoalescer.Result r = c.offer(buf);
        if (r == TcpCoalescer.Result.FLUSH_FIRST) {
            flushCoalesced();
            r = c.offer(buf);
        }
        if (r == TcpCoalescer.Result.NOT_ELIGIBLE) {
            flushCoalesced();
            writePlain(t, buf, length);
        } else if (c.isComplete()) {
            flushCoalesced();
        }
    }

    /** Offload: writes the pending superframe (or single segment), if any. */
    private void flushCoalesced() {
        TcpCoalescer c = coalescer;
        if (c == null || !c.hasPending()) {
            return;
        }
        int segments = c.pendingSegments();
        int bytes = c.pending().remaining() - VirtioNetHeader.LENGTH;
        try {
            tap.write(c.pending());
            tapTxFrames.addAndGet(segments);
            tapTxBytes.addAndGet(bytes);
            if (segments > 1) {
                superframesOut.incrementAndGet();
            }
        } catch (TapException e) {
            drops.addAndGet(segments); // e.g. the link is down (EIO), or the device is being re-created
        } finally {
            c.reset();
        }
    }

    /** Offload: one frame behind a zero virtio header (in place when there is room in front, else copied). */
    private void writePlain(TapDevice t, ByteBuffer buf, int length) {
        ByteBuffer out = buf;
        int at = buf.position() - VirtioNetHeader.LENGTH;
        if (at < 0) {
            out = plainTx.clear();
            at = 0;
            out.put(VirtioNetHeader.LENGTH, buf, buf.position(), length);
        }
        VirtioNetHeader.putPlain(out, at);
        out.limit(at + VirtioNetHeader.LENGTH + length).position(at);
        try {
            t.write(out);
            tapTxFrames.incrementAndGet();
            tapTxBytes.addAndGet(length);
        } catch (TapException e) {
            drops.incrementAndGet();
        }
    }

    /**
     * Offload: the socket is non-blocking (so the receive loop sees when nothing is queued); wait up to one tick
     * for a datagram. The selector follows the link's channel across reconnects.
     */
    private void awaitDatagram(DatagramChannel ch) {
        try {
            if (rxSelector == null) {
                rxSelector = Selector.open();
            }
            if (rxRegistered != ch) {
                rxSelector.selectNow(); // flush keys of closed channels
                ch.register(rxSelector, SelectionKey.OP_READ);
                rxRegistered = ch;
            }
            rxSelector.select(timing.tickMillis());
            rxSelector.selectedKeys().clear();
        } catch (ClosedChannelException e) {
            pause(1); // replaced by a reconnect
        } catch (IOException | RuntimeException e) {
            pause(10);
        }
    }

    private void writeToTap(ByteBuffer buf, int length) {
        TapDevice t = tap;
        if (t.offload()) {
            writeCoalesced(t, buf, length);
            return;
        }
        try {
            t.write(buf);
            tapTxFrames.incrementAndGet();
            tapTxBytes.addAndGet(length);
        } catch (TapException e) {
            drops.incrementAndGet(); // e.g. the link is down (EIO), or the device is being re-created
        }
    }

    /** A KEEPALIVE-ACK: the round trip of the keepalive it echoes. */
    private void acknowledged(ByteBuffer buf) {
        Keepalive ack;
        try {
            ack = Keepalive.decode(buf);
        } catch (ProtocolException e) {
            malformed();
            return;
        }
        Joined s = session;
        if (s == null || ack.port() != s.port() || ack.token() != s.token()) {
            foreign.incrementAndGet();
            drops.incrementAndGet();
            return;
        }
        acknowledged(ack.sequence());
    }

    /** The round trip of the keepalive with sequence number {@code seq}, if it is one of the last few sent. */
    private void acknowledged(long seq) {
        long latest = keepaliveSequence;
        if (seq > 0 && seq <= latest && latest - seq < keepaliveSentNanos.length()) {
            long rtt = System.nanoTime() - keepaliveSentNanos.get((int) (seq % keepaliveSentNanos.length()));
            if (rtt >= 0) {
                rttNanos = rtt;
            }
        }
    }

    private void signal() {
        synchronized (lock) {
            lock.notifyAll();
        }
    }

    private void tapFailed(String what, TapDevice t, TapException e) {
        halt(what + " TAP device " + t.name() + " failed: " + e.getMessage() + "; no frames flow any more: restart"
                + " the agent (or change its configuration) to recreate the device");
    }

    /** Stops the data path for good (FAILED): the reason goes into the status and the log. */
    private void halt(String message) {
        halt(message, LOG);
    }

    /** {@link #halt(String)}, logged on {@code log} ({@link #FATAL} when the switch refused the agent for good). */
    private void halt(String message, Logger log) {
        failure = message;
        Link l;
        synchronized (lock) {
            running = false;
            l = link;
            link = null;
            lock.notifyAll();
        }
        sendLeave(l);
        close(l); // stops the UDP reader; the TAP reader stops at its next frame or when the agent stops
        log.error("Port agent: {}", message);
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

    /** After {@code t} was closed: true once another device replaced it, false when the agent stops. */
    private boolean awaitOtherTap(TapDevice t) {
        synchronized (lock) {
            while (running && tap == t) {
                try {
                    lock.wait(timing.tickMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return running;
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
    // Control thread: joining, keepalives, DNS, reconnecting, logging state changes.

    /** A minimum-size frame from this port's MAC to itself: the switch learns it and filters it (split horizon). */
    static ByteBuffer keepaliveFrame(byte[] mac) {
        ByteBuffer f = ByteBuffer.allocate(60);
        f.put(mac).put(mac).putShort((short) KEEPALIVE_ETHERTYPE);
        f.put("vl2 keepalive".getBytes(StandardCharsets.US_ASCII));
        return f.clear();
    }

    /** vxlan mode: the keepalive frame behind a VXLAN header with {@code vni}. */
    static ByteBuffer vxlanKeepaliveFrame(byte[] mac, int vni) {
        ByteBuffer frame = keepaliveFrame(mac);
        ByteBuffer d = ByteBuffer.allocate(VxlanHeader.LENGTH + frame.remaining());
        VxlanHeader.write(d, 0, vni);
        d.position(VxlanHeader.LENGTH).put(frame);
        return d.clear();
    }

    private long keepaliveSeenFrames = -1;
    private long keepaliveIdleSince;

    /** Raw and vxlan modes: sends a keepalive frame when nothing went from the TAP to the switch for the interval. */
    private void rawKeepAlive(long now) {
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
                l.send(keepalive.clear());
                keepalives.incrementAndGet();
            } catch (IOException e) {
                checkWanted = true; // the link looks broken: let the next round check it
            }
        }
    }

    /** Keepalives sent (raw frames or vl2 KEEPALIVE messages), for tests and the log. */
    long keepalivesSent() {
        return keepalives.get();
    }

    /** JOIN messages sent (encrypted: handshakes, each carrying one), for tests. */
    long joinsSent() {
        return joins.get();
    }

    /** WARN lines logged about join problems, for tests. */
    long joinProblemsLogged() {
        return joinProblemsLogged.get();
    }

    /** Datagrams dropped for a wrong port id or token, for tests. */
    long foreignDrops() {
        return foreign.get();
    }

    /** Datagrams that were not valid vl2 messages, for tests. */
    long malformedDrops() {
        return malformed.get();
    }

    /** Encrypted: sealed messages and responses that did not open (forged, modified, replayed), for tests. */
    long unopenedDrops() {
        return unopened.get();
    }

    /** Encrypted: COOKIE-REPLYs taken, for tests. */
    long cookieRepliesTaken() {
        return cookieReplies.get();
    }

    /** Encrypted: handshakes completed, for tests. */
    long handshakesCompleted() {
        return handshakes.get();
    }

    private void control() {
        long lastCheck = System.currentTimeMillis();
        boolean refused = false; // what was last logged about ICMP port unreachable
        String loggedJoinProblem = null;
        // vl2: the first JOIN (handshake) goes out at once, not after the first tick (that cost every start ~1 s)
        long wakeAt = vl2 ? System.currentTimeMillis() : Long.MAX_VALUE;
        while (running) {
            synchronized (lock) {
                long wait = Math.min(timing.tickMillis(), wakeAt - System.currentTimeMillis());
                if (running && !checkWanted && inbox.isEmpty() && wait > 0) {
                    try {
                        lock.wait(wait);
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
            if (vl2) {
                try {
                    for (Object m; (m = inbox.poll()) != null && running; ) {
                        handle(m, System.currentTimeMillis());
                    }
                    wakeAt = running ? vl2Tick(System.currentTimeMillis()) : Long.MAX_VALUE;
                } catch (RuntimeException e) {
                    LOG.warn("Port agent: unexpected error, carrying on", e); // never lose the control thread
                    wakeAt = now + timing.tickMillis();
                }
                String jp = joinProblem;
                if (running && jp != null && !jp.equals(loggedJoinProblem)) {
                    LOG.warn("Port agent: {}", jp); // once per change, not per retry
                    joinProblemsLogged.incrementAndGet();
                }
                loggedJoinProblem = jp;
            } else {
                rawKeepAlive(now);
                wakeAt = Long.MAX_VALUE; // every tick
            }
            // Problems with resolving and opening the socket are logged by check(); here only the switch's
            // answers: port unreachable, and the recovery from it.
            boolean unreachable = link != null && unreachableAt(System.currentTimeMillis());
            if (unreachable != refused && running) {
                if (unreachable) {
                    LOG.warn("Port agent: switch {} unreachable: {}", switchAddress,
                            problemAt(AgentState.SWITCH_UNREACHABLE));
                } else {
                    LOG.info("Port agent: switch {} reachable again ({})", switchAddress,
                            lastFromSwitch >= lastUnreachable ? "it answers"
                                    : "no port unreachable for " + duration(timing.unreachableHoldMillis()));
                }
                refused = unreachable;
            }
        }
    }

    /** vl2 mode: starts a join round now; {@code problem} is what the status says meanwhile (null: nothing). */
    private void startJoin(long now, String problem) {
        joining = true;
        rekeying = false;
        backingOff = false;
        joinAttempts = 0;
        nextJoinAt = now;
        roundNonceCount = 0;
        forgetRound();
        roundMalformed = malformed.get();
        joinProblem = problem;
    }

    /**
     * vl2 mode: sends what is due (JOIN or handshake, KEEPALIVE), re-joins or rekeys; returns when it wants to run
     * next.
     */
    private long vl2Tick(long now) {
        long nanos = System.nanoTime();
        Session old = previous;
        if (old != null && old.isExpired(nanos)) {
            previous = null; // the switch cannot send with them any more either
        }
        if (roundForgetAt != 0 && now >= roundForgetAt && !joining) {
            forgetRound();
        }
        if (joining) {
            if (now >= nextJoinAt) {
                if (encrypted && switchKey == null ? sendKeyRequest() : sendJoin()) {
                    joinAttempts++; // unsent ones (no socket) are the link's problem, which the status shows
                    if (encrypted && switchKey != null && joinAttempts % 3 == 0) {
                        // unanswered handshakes: ask which key the switch holds, to say so if it is another one
                        sendKeyRequest();
                    }
                }
                nextJoinAt = now + (backingOff ? timing.slowRetryMillis() : timing.joinRetryMillis());
            }
            // a rekey that goes unanswered is a problem only once the current keys have expired
            if (!backingOff && joinAttempts >= 3 && (joinProblem == null || joinProblem.startsWith(NO_ANSWER))
                    && (!rekeying || session.keys().isExpired(nanos))) {
                joinProblem = noAnswer();
            }
            if (!rekeying) {
                return nextJoinAt;
            }
            // a rekey: the current keys still carry frames, and keepalives keep the port alive meanwhile
            Joined s = session;
            return Math.min(nextJoinAt, keepAlive(now, s, heard(s)));
        }
        Joined s = session;
        long interval = s.keepaliveMillis();
        long heard = heard(s);
        if (now - heard >= 3 * interval) {
            startJoin(now, "the switch has been silent for " + duration(3 * interval) + " (3 keepalive intervals):"
                    + " re-joining");
            return now;
        }
        if (s.keys() != null && s.keys().needsRekey(nanos)) {
            // a new handshake; the current keys carry frames until its RESPONSE arrives
            startJoin(now, null);
            rekeying = true;
            return now;
        }
        return keepAlive(now, s, heard);
    }

    /**
     * When the switch was last heard in this session. Encrypted, only what opened counts: anybody can send
     * plaintext datagrams from the switch's address.
     */
    private long heard(Joined s) {
        return Math.max(s.keys() != null ? lastAuthentic : lastFromSwitch, s.since());
    }

    /**
     * Sends a KEEPALIVE when nothing was sent, or nothing was received, for one interval; returns when it wants to
     * run next.
     */
    private long keepAlive(long now, Joined s, long heard) {
        long interval = s.keepaliveMillis();
        long sent = tapRxFrames.get() + controlSent.get(); // comparing counters costs the data path nothing
        if (sent != sentSeen) {
            sentSeen = sent;
            lastSentAt = now;
        }
        boolean quietOut = now - lastSentAt >= interval;
        boolean quietIn = now - heard >= interval && now - lastKeepaliveAt >= interval;
        if (quietOut || quietIn) {
            sendKeepalive(s);
            lastKeepaliveAt = now;
            lastSentAt = now;
            sentSeen = tapRxFrames.get() + controlSent.get();
        }
        long next = Math.min(lastSentAt + interval, heard + 3 * interval);
        return Math.min(next, Math.max(heard, lastKeepaliveAt) + interval);
    }

    private static final String NO_ANSWER = "no answer from the switch";

    private String noAnswer() {
        Link l = link;
        String at = l != null ? Endpoints.format(l.remote()) : switchAddress.toString();
        byte[] key = switchKey;
        String p = NO_ANSWER + " to " + (!encrypted ? "JOIN" : key != null ? "the handshake" : "KEY-REQUEST (trust on"
                + " first use: the agent asks for the switch's key before its first handshake)") + " (network "
                + Networks.format(settings.network()) + "): is a vl2 switch listening at " + at + "? (its vl2"
                + " transport listens on UDP " + VL2_PORT + " by default)";
        if (encrypted && key != null) {
            p += "; is switch.key (" + Identity.fingerprint(key) + ") the switch's public key? A switch"
                    + " ignores handshakes made for another key (it logs its key at start, and vl2:members shows"
                    + " it)";
        }
        if (malformed.get() > roundMalformed) {
            p += "; it sends datagrams that are not vl2 messages: if it is a raw-mode switch, set mode = raw";
        }
        return p + "; retrying every " + duration(timing.joinRetryMillis());
    }

    /**
     * Sends a JOIN with a fresh nonce; encrypted, inside a new handshake (new index, ephemeral key and timestamp:
     * the switch answers an initiation only once), whose RESPONSE any later round of this one may still complete.
     */
    private boolean sendJoin() {
        long nonce = random.nextLong();
        int slot = roundNonceCount % roundNonces.length;
        roundNonces[slot] = nonce;
        roundNonceCount++;
        Cidr v4 = settings.tap().ipv4();
        int capabilities = settings.tap().ipv6() == null ? Join.CAP_IPV6 : 0;
        Join join = new Join(settings.network(), member, nonce, maxFrame, capabilities,
                v4 == null ? null : (Inet4Address) v4.address(), joinName);
        controlBuffer.clear();
        join.encode(controlBuffer);
        ByteBuffer message = controlBuffer.flip();
        if (encrypted) {
            byte[] payload = new byte[message.remaining()]; // the whole 64-byte JOIN
            message.get(payload);
            Initiator handshake;
            try {
                handshake = Initiator.create(identity, switchKey, newIndex(), payload, freshCookie());
            } catch (IllegalArgumentException e) {
                fatal("switch.key " + Identity.fingerprint(switchKey) + " cannot be used (" + e.getMessage() + "):"
                        + " set switch.key to the switch's public key (the switch logs it at start: 'Switch public"
                        + " key ...', and vl2:members shows it), then restart the agent");
                return false;
            }
            roundInitiators[slot] = handshake;
            roundSequence[slot] = roundNonceCount - 1;
            message = ByteBuffer.wrap(handshake.initiation());
        }
        if (sendControl(message)) {
            joins.incrementAndGet();
            return true;
        }
        return false;
    }

    /** A KEY-REQUEST: which key does the switch hold (trust on first use, or to diagnose unanswered handshakes)? */
    private boolean sendKeyRequest() {
        controlBuffer.clear();
        new KeyRequest().encode(controlBuffer);
        keyRequested = true;
        return sendControl(controlBuffer.flip());
    }

    /**
     * A KEY-REPLY (unauthenticated: anybody can send one from the switch's address). Without a key and with trust
     * on first use, pin it and start the handshake; with one, only say so when the switch holds another key. A
     * pinned key is never replaced.
     */
    private void keyReply(byte[] key, long now) {
        keyRequested = false;
        byte[] pinned = switchKey;
        if (pinned == null) {
            if (!joining || knownSwitches == null) {
                return;
            }
            try {
                KnownSwitches.remember(knownSwitches, switchAddress.toString(), key);
            } catch (IOException | RuntimeException e) {
                fatal("the switch's key " + Identity.fingerprint(key) + " cannot be pinned in " + knownSwitches + " ("
                        + e + "): make its directory writable, or set switch.key instead of trust.on.first.use");
                return;
            }
            switchKey = key;
            LOG.warn("Port agent: trusting switch {} with public key {} on first use, NOT verified: an attacker on"
                    + " the path at this moment could have answered with its own key. Compare it with the switch's"
                    + " log ('Switch public key ...') or vl2:members. Pinned in {}: later starts refuse any other"
                    + " key", switchAddress, Identity.fingerprint(key), knownSwitches);
            joinAttempts = 0;
            nextJoinAt = now;
            joinProblem = null;
            return;
        }
        if (!Arrays.equals(pinned, key) && !Arrays.equals(mismatchSaid, key)) {
            mismatchSaid = key;
            joinProblem = "the switch at " + switchAddress + " presents public key " + Identity.fingerprint(key)
                    + ", not the pinned " + Identity.fingerprint(pinned) + " (" + (knownSwitches != null
                    ? "pinned on first use in " + knownSwitches : "switch.key") + "), and it ignores handshakes"
                    + " made for another key. If the switch's identity was replaced on purpose, "
                    + (knownSwitches != null ? "delete its line in " + knownSwitches : "set switch.key to its new key")
                    + "; if not, something else answers at that address";
            LOG.error("Port agent: {}", joinProblem);
        }
    }

    /**
     * Encrypted: a random non-zero session index, unlike the current and previous keys' and the round's others,
     * so that the receive path tells them apart by the index alone.
     */
    private int newIndex() {
        while (true) {
            int index = random.nextInt();
            Joined s = session;
            Session p = previous;
            boolean taken = index == 0 || s != null && s.keys() != null && s.keys().localIndex() == index
                    || p != null && p.localIndex() == index;
            for (Initiator i : roundInitiators) {
                taken |= i != null && i.senderIndex() == index;
            }
            if (!taken) {
                return index;
            }
        }
    }

    /** A KEEPALIVE with the next sequence number; encrypted, sealed: 16-byte header, sequence, tag. */
    private void sendKeepalive(Joined s) {
        long seq = keepaliveSequence + 1;
        keepaliveSentNanos.set((int) (seq % keepaliveSentNanos.length()), System.nanoTime());
        keepaliveSequence = seq; // after the send time: the UDP reader reads them in the other order
        controlBuffer.clear();
        if (s.keys() != null) {
            controlBuffer.limit(SEALED_KEEPALIVE_LENGTH);
            sealedHeader(controlBuffer, Wire.KEEPALIVE, s.keys().remoteIndex());
            controlBuffer.putLong(HEADER, seq);
            try {
                s.keys().seal(controlBuffer, 0, HEADER, 8, System.nanoTime());
            } catch (CryptoException e) {
                return; // the keys expired: a new handshake is under way
            }
        } else {
            new Keepalive(false, s.port(), s.token(), seq).encode(controlBuffer);
            controlBuffer.flip();
        }
        if (sendControl(controlBuffer)) {
            keepalives.incrementAndGet();
        }
    }

    /** Sends one control message unless the agent is stopping (then the LEAVE must be the last word). */
    private boolean sendControl(ByteBuffer message) {
        synchronized (lock) {
            Link l = link;
            if (!running || l == null) {
                return false;
            }
            try {
                if (l.send(message) == 0) {
                    return false; // offload's non-blocking socket, its send buffer full: the next round retries
                }
                controlSent.incrementAndGet();
                return true;
            } catch (PortUnreachableException e) {
                lastUnreachable = System.currentTimeMillis();
            } catch (ClosedChannelException e) {
                // replaced by a reconnect: the next round sends again
            } catch (IOException e) {
                checkWanted = true; // e.g. network unreachable: let the next round check the link
            }
            return false;
        }
    }

    private boolean inRound(long nonce) {
        for (int i = 0; i < Math.min(roundNonceCount, roundNonces.length); i++) {
            if (roundNonces[i] == nonce) {
                return true;
            }
        }
        return false;
    }

    private void handle(Object message, long now) {
        if (message instanceof Welcome w) {
            welcome(w, now, null);
        } else if (message instanceof Response r) {
            response(r.datagram(), now);
        } else if (message instanceof KeyReply k) {
            keyReply(k.publicKey(), now);
        } else if (message instanceof ProtocolError e) {
            error(e, now);
        } else if (message instanceof ForeignVersion v && joining) {
            fatal("the switch at " + switchAddress + " answered in vl2 protocol version " + v.version() + "; this"
                    + " agent speaks version " + Wire.VERSION + ": upgrade the agent or the switch so that they"
                    + " speak the same version, then restart the agent");
        }
    }

    /**
     * Encrypted: the round's handshakes are of no use any more: drop them (and their ephemeral private keys, as
     * far as the JDK lets go of them).
     */
    private void forgetRound() {
        Arrays.fill(roundInitiators, null);
        roundUsed = -1;
        roundForgetAt = 0;
    }

    /**
     * Encrypted: a RESPONSE. It must answer one of the current round's handshakes (by its receiver index, before
     * any Diffie-Hellman), verify, and carry the WELCOME for that handshake's JOIN. The first one that does ends
     * the round. When the switch was slower than the retry interval it answers two handshakes of the round, and,
     * as with two WELCOMEs, the later one holds the keys it sends with: for a short while after the round, a
     * RESPONSE to a handshake sent after the one in use replaces its keys; one to an earlier handshake is stale.
     */
    private void response(byte[] datagram, long now) {
        ByteBuffer d = ByteBuffer.wrap(datagram);
        int receiver;
        try {
            receiver = Handshake.receiverIndex(d);
        } catch (CryptoException e) {
            malformed();
            return;
        }
        int slot = -1;
        for (int i = 0; i < roundInitiators.length; i++) {
            if (roundInitiators[i] != null && roundInitiators[i].senderIndex() == receiver
                    && roundSequence[i] > roundUsed) {
                slot = i;
            }
        }
        if (slot < 0) {
            malformed(); // stale: an answer to an earlier round or handshake, or no handshake under way
            return;
        }
        if (Handshake.type(d) == Handshake.COOKIE_REPLY) {
            cookieReply(roundInitiators[slot], d, now);
            return;
        }
        Initiator.Completion done;
        try {
            done = roundInitiators[slot].consume(d, timing.sessionLimits());
        } catch (CryptoException e) {
            unopened.incrementAndGet(); // forged, modified, or a copy of one already consumed
            drops.incrementAndGet();
            return;
        }
        lastAuthentic = now;
        Welcome w;
        try {
            w = Welcome.decode(ByteBuffer.wrap(done.payload()));
        } catch (ProtocolException | RuntimeException e) {
            malformed(); // verified, but not a WELCOME: the next handshake of the round may do better
            return;
        }
        if (w.nonce() != roundNonces[slot] || w.network() != settings.network()) {
            malformed(); // verified, but not the WELCOME for this JOIN
            return;
        }
        roundUsed = roundSequence[slot];
        roundForgetAt = now + ROUND_GRACE_RETRIES * timing.joinRetryMillis();
        welcome(w, now, done.session());
    }

    /**
     * Encrypted: a COOKIE-REPLY: the switch is under a handshake flood and answers only initiations that prove
     * their source address with a cookie (mac2, docs/crypto.md). Keep the cookie and send the next handshake with
     * it at once (the switch limits its cookie replies, so this cannot loop faster than it allows).
     */
    private void cookieReply(Initiator handshake, ByteBuffer d, long now) {
        byte[] c;
        try {
            c = handshake.consumeCookieReply(d);
        } catch (CryptoException e) {
            unopened.incrementAndGet(); // forged, or for another key
            drops.incrementAndGet();
            return;
        }
        boolean first = cookie == null;
        cookie = c;
        cookieNanos = System.nanoTime();
        cookieReplies.incrementAndGet();
        if (first) {
            LOG.info("Port agent: the switch is under a handshake flood and asked for a cookie: retrying with it");
        }
        if (joining) {
            nextJoinAt = now;
        }
    }

    /** The switch's cookie while it is fresh enough to use (docs/crypto.md: 110 s), else null. */
    private byte[] freshCookie() {
        byte[] c = cookie;
        if (c != null && System.nanoTime() - cookieNanos > Cookies.COOKIE_USE_SECONDS * 1_000_000_000L) {
            cookie = null;
            return null;
        }
        return c;
    }

    /** Encrypted: how many retry intervals a finished round's handshakes may still be answered. */
    static final int ROUND_GRACE_RETRIES = 3;

    /**
     * An answer to a JOIN of the current round: plaintext, a WELCOME; encrypted, the WELCOME of a verified
     * RESPONSE and the session {@code keys} it gave. Every JOIN the switch receives gives a fresh token, so when
     * two JOINs of a round were answered the later WELCOME holds the token the switch keeps: it replaces the
     * earlier one until the next round starts.
     */
    private void welcome(Welcome w, long now, Session keys) {
        if (!inRound(w.nonce()) || w.network() != settings.network()) {
            malformed(); // stale: an answer to an earlier round
            return;
        }
        Joined old = session;
        boolean wasJoining = joining;
        boolean wasRekey = rekeying;
        long keepaliveMillis = (w.keepaliveSeconds() == 0 ? DEFAULT_KEEPALIVE_SECONDS : w.keepaliveSeconds())
                * timing.secondMillis();
        List<String> assigned = new ArrayList<>(2);
        if (w.ipv4() != null) {
            assigned.add(Endpoints.format(w.ipv4()) + "/" + w.ipv4Prefix());
        }
        if (w.ipv6() != null) {
            assigned.add(Endpoints.format(w.ipv6()) + "/" + w.ipv6Prefix());
        }
        Joined s = new Joined(w.port(), keys == null ? w.token() : 0, keepaliveMillis, now, List.copyOf(assigned),
                keys);
        if (keys != null) {
            // the switch sends with the old keys until it has opened a message under the new ones
            previous = old == null ? null : old.keys();
            handshakes.incrementAndGet();
        }
        session = s; // frames flow with the new token (keys) from here on
        joining = false;
        rekeying = false;
        backingOff = false;
        joinProblem = null;
        if (wasJoining) {
            sentSeen = -1;
            lastKeepaliveAt = now;
        }
        String change = configureTap(w, old == null);
        if (!running) {
            return; // re-creating the TAP device failed
        }
        if (keys != null) {
            sendKeepalive(s); // the first message under the new keys confirms them at the switch
        }
        if (old == null || wasJoining && (old.port() != s.port() || !old.assigned().equals(s.assigned())
                || change != null)) {
            LOG.info("Port agent joined network {} as port {} (member {}, {}): {}, MTU {}, keepalive {}{}",
                    Networks.format(settings.network()), Integer.toUnsignedString(s.port()),
                    MemberIdentity.format(member), keys != null ? ENCRYPTED : PLAINTEXT,
                    assigned.isEmpty() ? "no address from the switch" : String.join(", ", assigned), tap.mtu(),
                    duration(keepaliveMillis), change == null ? "" : "; TAP " + change);
        } else if (wasRekey) {
            LOG.debug("Port agent: new session keys for port {} (rekey)", Integer.toUnsignedString(s.port()));
        } else if (wasJoining) {
            LOG.info("Port agent re-joined network {} as port {}", Networks.format(settings.network()),
                    Integer.toUnsignedString(s.port()));
        }
    }

    /**
     * Puts the WELCOME's MTU and addresses on the TAP device, unless configured ones win. A device whose MTU or
     * addresses change is re-created (a {@link TapDevice} cannot be reconfigured), keeping its name and MAC;
     * one that would stay the same is not touched. Returns what changed, or null.
     */
    private String configureTap(Welcome w, boolean first) {
        TapDevice t = tap;
        TapSettings current = t.settings();
        int mtu = current.mtu();
        if (!settings.mtuConfigured()) {
            int maxMtu = encrypted ? MAX_SEALED_MTU : MAX_VL2_MTU; // what the JOIN offered
            if (w.mtu() >= TapSettings.MIN_MTU && w.mtu() <= maxMtu) {
                mtu = w.mtu();
            } else {
                LOG.warn("Port agent: ignoring the network MTU {} from the switch (allowed: {}..{}), keeping {}",
                        w.mtu(), TapSettings.MIN_MTU, maxMtu, mtu);
            }
        } else if (first && w.mtu() != 0 && w.mtu() != mtu) {
            LOG.info("Port agent: mtu {} is configured; the network's MTU is {}", mtu, w.mtu());
        }
        Cidr ipv4 = settings.tap().ipv4();
        if (ipv4 == null && w.ipv4() != null) {
            ipv4 = cidr(w.ipv4(), w.ipv4Prefix());
        }
        Cidr ipv6 = settings.tap().ipv6();
        if (ipv6 == null && w.ipv6() != null) {
            ipv6 = cidr(w.ipv6(), w.ipv6Prefix());
        }
        if (ipv6 != null && mtu < TapSettings.IPV6_MIN_MTU) {
            LOG.warn("Port agent: no IPv6 address {} on the TAP device: its MTU {} is below {}", ipv6, mtu,
                    TapSettings.IPV6_MIN_MTU);
            ipv6 = null;
        }
        if (mtu == current.mtu() && Objects.equals(ipv4, current.ipv4()) && Objects.equals(ipv6, current.ipv6())) {
            return null;
        }
        TapSettings next = current.toBuilder().name(t.name()).mac(t.mac()).mtu(mtu).ipv4(ipv4).ipv6(ipv6).build();
        String change = describeChange(current, next);
        replaceTap(t, next, change);
        return change;
    }

    /** An address the kernel can take, or null (with a WARN) for one it cannot. */
    private static Cidr cidr(InetAddress address, int prefix) {
        try {
            return Cidr.of(address, prefix);
        } catch (IllegalArgumentException e) {
            LOG.warn("Port agent: ignoring the address {}/{} from the switch: {}", Endpoints.format(address), prefix,
                    e.getMessage());
            return null;
        }
    }

    private static String describeChange(TapSettings from, TapSettings to) {
        List<String> c = new ArrayList<>(3);
        if (from.mtu() != to.mtu()) {
            c.add("MTU " + from.mtu() + " -> " + to.mtu());
        }
        if (!Objects.equals(from.ipv4(), to.ipv4())) {
            c.add((from.ipv4() == null ? "none" : from.ipv4()) + " -> " + (to.ipv4() == null ? "none" : to.ipv4()));
        }
        if (!Objects.equals(from.ipv6(), to.ipv6())) {
            c.add((from.ipv6() == null ? "none" : from.ipv6()) + " -> " + (to.ipv6() == null ? "none" : to.ipv6()));
        }
        return "re-created: " + String.join(", ", c);
    }

    /** Closes {@code old} (its reader waits) and creates the device anew with {@code next}. */
    private void replaceTap(TapDevice old, TapSettings next, String change) {
        old.close(); // deletes the interface: the new one takes its name
        TapDevice created;
        try {
            created = tapFactory.create(next);
        } catch (TapException e) {
            halt("TAP device " + old.name() + " could not be re-created for the addresses the switch assigned ("
                    + change + "): " + e.getMessage() + "; restart the agent, or configure address/address6/mtu");
            return;
        }
        synchronized (lock) {
            tap = created;
            lock.notifyAll();
        }
    }

    private void error(ProtocolError e, long now) {
        if (e.code() == ErrorCode.UNKNOWN_PORT) {
            Joined s = session;
            // encrypted, the port field names the switch's session index the agent sent to
            if (s == null || e.port() != (s.keys() != null ? s.keys().remoteIndex() : s.port())) {
                malformed(); // about a port (session) this agent does not have (any more)
                return;
            }
            if (joining && !rekeying || now - lastUnknownPortRejoin < timing.rejoinMillis()) {
                return; // already re-joining; and at most one round per rejoinMillis
            }
            lastUnknownPortRejoin = now;
            if (s.keys() != null) {
                LOG.info("Port agent: the switch does not know the session of port {} (it restarted, expired the"
                        + " port, or no longer authorizes this member): new handshake",
                        Integer.toUnsignedString(s.port()));
            } else {
                LOG.info("Port agent: the switch does not know port {} (it restarted, or expired the port):"
                        + " re-joining", Integer.toUnsignedString(s.port()));
            }
            startJoin(now, null);
            return;
        }
        if (!joining || !inRound(e.nonce())) {
            malformed(); // stale, or not about a JOIN
            return;
        }
        String text = e.code().label() + (e.message().isEmpty() ? "" : ": " + printable(e.message()));
        if (!e.code().retryable()) {
            fatal(e.code() == ErrorCode.UNSUPPORTED_VERSION
                    ? "the switch at " + switchAddress + " does not speak vl2 protocol version " + Wire.VERSION + " ("
                            + text + "): upgrade the agent or the switch so that they speak the same version, then"
                            + " restart the agent"
                    : "the switch at " + switchAddress + " refused the JOIN as malformed (" + text + "): check mtu"
                            + " (the JOIN offers frames up to " + maxFrame + " bytes) and name, then restart the agent");
            return;
        }
        backingOff = true;
        nextJoinAt = now + timing.slowRetryMillis();
        joinProblem = "the switch refused to let member " + MemberIdentity.format(member) + " join network "
                + Networks.format(settings.network()) + " (" + text + ")" + hint(e.code()) + "; retrying every "
                + duration(timing.slowRetryMillis());
    }

    private String hint(ErrorCode code) {
        switch (code) {
            case UNKNOWN_NETWORK:
                return ": check network (or create the network on the switch)";
            case NOT_AUTHORIZED:
                return encrypted ? ": authorize this agent's public key " + identity.fingerprint() + " on the switch"
                        + " (vl2:members)"
                        : ": authorize the member on the switch (a switch that does not allow plaintext agents"
                        + " refuses them: set switch.key and encryption = true)";
            case ADDRESS_CONFLICT:
                return ": address " + settings.tap().ipv4() + " is in use or outside the network's pool; change"
                        + " address, or leave it empty to get one from the pool";
            case PORT_LIMIT:
                return ": the switch has no free port (max.ports)";
            default:
                return "";
        }
    }

    private void fatal(String message) {
        joining = false;
        halt(message, FATAL);
    }

    /** The switch's text without control characters, for the log and the status. */
    private static String printable(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        s.codePoints().forEach(c -> sb.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return sb.toString();
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
                next = vxlan ? openVxlan(target) : open(target, localPort);
                if (next.channel() != null) {
                    // offload: the receive loop must see when nothing is queued, to write a pending superframe
                    next.channel().configureBlocking(!settings.tap().offload());
                }
            } catch (IOException | RuntimeException e) {
                String problem = (vxlan && e instanceof BindException ? e.getMessage()
                        : "cannot open a UDP socket to " + Endpoints.format(target) + " (" + e + "): is the network"
                        + " up?") + " retrying every " + duration(timing.retryMillis());
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

    /** True if this agent's link is a batched socket: TAP offload on, and vl2-netio works here. */
    private boolean batchedLink() {
        return settings.tap().offload() && settings.udpOffload() && UdpBatchSocket.unavailableReason() == null;
    }

    /**
     * A UDP socket connected to {@code remote}, on {@code localPort} if that is free (0: any): batched (see
     * {@link Link}) or a blocking channel.
     */
    private Link open(InetSocketAddress remote, int localPort) throws IOException {
        boolean v6 = remote.getAddress() instanceof Inet6Address;
        if (batchedLink()) {
            InetAddress any = InetAddress.getByAddress(new byte[v6 ? 16 : 4]);
            UdpBatchSocket b = null;
            if (localPort > 0) {
                b = openBatchWithin(new InetSocketAddress(any, localPort), 100);
            }
            if (b == null) {
                b = openBatch(new InetSocketAddress(any, 0));
            }
            try {
                b.connect(remote);
            } catch (IOException | RuntimeException e) {
                b.close();
                throw e;
            }
            return new Link(null, b, remote, b.localAddress());
        }
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
            return new Link(ch, null, remote, (InetSocketAddress) ch.getLocalAddress());
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /**
     * vxlan mode: a blocking UDP socket bound to the switch's VXLAN port on the local address of the route to the
     * switch, not connected. The switch sends to (that address, its VXLAN port), as to every VTEP, from source
     * ports of its choosing; a connected socket would drop those datagrams. The specific address (not the
     * wildcard) lets the agent share a port number with a switch on another address of this host (tests do).
     */
    private Link openVxlan(InetSocketAddress remote) throws IOException {
        ProtocolFamily family = remote.getAddress() instanceof Inet6Address ? StandardProtocolFamily.INET6
                : StandardProtocolFamily.INET;
        InetAddress source;
        try (DatagramChannel probe = DatagramChannel.open(family)) {
            probe.connect(remote); // sends nothing: the kernel picks the route and its source address
            source = ((InetSocketAddress) probe.getLocalAddress()).getAddress();
        }
        InetSocketAddress local = new InetSocketAddress(source, remote.getPort());
        if (batchedLink()) {
            UdpBatchSocket b = openBatchWithin(local, 100);
            if (b == null) {
                throw vxlanPortInUse(local, remote);
            }
            return new Link(null, b, remote, b.localAddress());
        }
        DatagramChannel ch = DatagramChannel.open(family);
        try {
            ch.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER_BYTES);
            ch.setOption(StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER_BYTES);
            if (!bindWithin(ch, local, 100)) {
                throw vxlanPortInUse(local, remote);
            }
            return new Link(ch, null, remote, (InetSocketAddress) ch.getLocalAddress());
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static BindException vxlanPortInUse(InetSocketAddress local, InetSocketAddress remote) {
        return new BindException("cannot receive VXLAN on UDP " + Endpoints.format(local) + ": the port is"
                + " in use. In vxlan mode the agent receives on the switch's VXLAN port (" + remote.getPort()
                + "), as every VTEP; is a Linux vxlan device (dstport " + remote.getPort() + "), a vl2"
                + " switch or another agent using it on this host?");
    }

    private static UdpBatchSocket openBatch(InetSocketAddress bind) throws IOException {
        UdpBatchSocket b = UdpBatchSocket.open(bind, LINK_SOCKET_BUFFER_BYTES, LINK_SOCKET_BUFFER_BYTES, LINK_BATCH,
                true);
        b.setAutoFlushWait(SEND_WAIT_MILLIS); // a burst that fills every slot waits for room like flushFrames()
        return b;
    }

    /** {@link #openBatch}, retrying for up to {@code millis} while the address is in use; null if it stays so. */
    private static UdpBatchSocket openBatchWithin(InetSocketAddress bind, long millis) throws IOException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (true) {
            try {
                return openBatch(bind);
            } catch (BindException e) {
                if (System.nanoTime() > deadline) {
                    return null; // taken by someone else meanwhile
                }
                pause(5);
            }
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
            l.close();
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
        TapDevice t = tap;
        Joined s = session;
        long rtt = rttNanos;
        return new AgentStatus(t.name(), t.mac(), t.mtu(), addresses(t), t.settings().bridge(),
                switchAddress.toString(), r == null ? null : Endpoints.format(r),
                l == null ? null : Endpoints.format(l.local()), settings.mode(), state, problemAt(state),
                tapRxFrames.get(), tapRxBytes.get(), tapTxFrames.get(), tapTxBytes.get(), drops.get(), since,
                last == 0 ? null : Instant.ofEpochMilli(last), statusNetwork(),
                vl2 ? MemberIdentity.format(member) : null,
                s == null ? 0 : Integer.toUnsignedLong(s.port()), s == null ? List.of() : s.assigned(),
                rtt < 0 ? null : Duration.ofNanos(rtt), vni, identity == null ? null : identity.fingerprint(),
                encrypted, encrypted && switchKey != null ? Identity.fingerprint(switchKey) : null);
    }

    /**
     * vl2 mode: the network joined. vxlan mode: the configured network, if any (the switch decides by the VNI;
     * its default mapping makes them the same). Raw mode: none.
     */
    private String statusNetwork() {
        if (vl2 || vxlan && settings.network() != Networks.DEFAULT) {
            return Networks.format(settings.network());
        }
        return null;
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
        if (vl2) {
            if (joinProblem != null) {
                return AgentState.SWITCH_UNREACHABLE;
            }
            if (session == null) {
                return AgentState.STARTING; // the first JOINs are under way
            }
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
        if (vl2 && !unreachableAt(System.currentTimeMillis()) && joinProblem != null) {
            return joinProblem;
        }
        return "ICMP port unreachable from " + Endpoints.format(l.remote()) + ": is the vl2 switch running"
                + " there and listening on UDP port " + l.remote().getPort() + "?";
    }

    /** What the agent put on the device (configured, or assigned by the switch). */
    private static List<String> addresses(TapDevice t) {
        List<String> a = new ArrayList<>(2);
        if (t.settings().ipv4() != null) {
            a.add(t.settings().ipv4().toString());
        }
        if (t.settings().ipv6() != null) {
            a.add(t.settings().ipv6().toString());
        }
        return a;
    }

    /** {@code vl2tap0 (02:..., mtu 1454, 10.1.1.101/24, bridge br0)}. */
    private String describeTap() {
        TapDevice t = tap;
        StringBuilder sb = new StringBuilder(t.name()).append(" (").append(t.mac()).append(", mtu ")
                .append(t.mtu());
        for (String a : addresses(t)) {
            sb.append(", ").append(a);
        }
        if (t.settings().bridge() != null) {
            sb.append(", bridge ").append(t.settings().bridge());
        }
        if (t.offload()) {
            sb.append(", offload");
        }
        return sb.append(')').toString();
    }

    /**
     * {@code 203.0.113.7:9991 (vl2, network 0000000000000000, member ..., from ...)}, with the resolved address
     * for a name, and why it is not connected. vxlan mode says its VNI and that nothing protects it.
     */
    private String describeSwitch() {
        StringBuilder sb = new StringBuilder(switchAddress.toString());
        Link l = link;
        sb.append(" (").append(settings.mode());
        if (vl2) {
            sb.append(", network ").append(Networks.format(settings.network())).append(", member ")
                    .append(MemberIdentity.format(member)).append(", public key ").append(identity.fingerprint());
            if (encrypted) {
                byte[] key = switchKey;
                sb.append(", ").append(ENCRYPTED).append(key == null ? " (switch key not known yet: trust on first use)"
                        : " to switch key " + Identity.fingerprint(key) + (knownSwitches != null ? " (pinned on first"
                        + " use)" : ""));
            } else {
                sb.append(", ").append(PLAINTEXT);
            }
        } else if (vxlan) {
            sb.append(", VNI ").append(vni).append(", plaintext and without identity: frames from the switch's"
                    + " address are accepted");
        }
        if (l != null) {
            if (switchAddress.isName()) {
                sb.append(", at ").append(Endpoints.format(l.remote()));
            }
            sb.append(", from ").append(Endpoints.format(l.local()));
            if (l.batch() != null) {
                sb.append(", UDP offload ").append(l.batch().offload());
            }
        } else {
            sb.append("; not connected yet: ").append(linkProblem);
        }
        return sb.append(')').toString();
    }
}

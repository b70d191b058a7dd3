package org.vl2.switching.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;
import org.vl2.api.MacAddress;
import org.vl2.api.spi.FrameReceiver;
import org.vl2.api.spi.Transport;
import org.vl2.api.test.FakeMacTable;
import org.vl2.api.test.FakeTransport;
import org.vl2.api.test.TestFrames;
import org.vl2.crypto.Identity;
import org.vl2.ipam.Ipv4Pool;
import org.vl2.protocol.FrameHeader;
import org.vl2.protocol.Keepalive;
import org.vl2.protocol.KeyReply;
import org.vl2.protocol.ProtocolError;
import org.vl2.protocol.ProtocolException;
import org.vl2.protocol.Welcome;
import org.vl2.protocol.Wire;
import org.vl2.switching.internal.SwitchPort.Kind;

/**
 * The switch core's whole receive path on arbitrary datagrams: {@link SwitchCore#receive} from a raw-mode and a
 * vl2-mode transport, and {@link SwitchCore#receiveFrame} as the VXLAN transport calls it. A switch with four
 * networks (the default one and one more with a pool and DHCP, one with a small pool, one without and with the hub
 * policy), room for {@value #MAX_PORTS} ports, leases in a scratch directory and a clock the input moves.
 *
 * <p>After every datagram: nothing has thrown; no answer to the sender is longer than its datagram (no
 * amplification; one known exception: the switch's DHCP reply, without padding, to a request shorter than that
 * reply's options need, which real clients never send); the switch has at most {@value #MAX_PORTS} ports and its
 * port, session and network tables agree; everything sent is well-formed (vl2 messages decode, frames are Ethernet
 * frames within max.frame.size from a unicast MAC, a FRAME carries the session of the member at the address it goes
 * to); a vl2 datagram that is not a FRAME of a live session makes the switch forward nothing, and what it forwards
 * stays in the sender's network; control answers (WELCOME, ERROR, KEEPALIVE-ACK) go only to the sender.
 *
 * <p>An input is a sequence of operations {@code [op][u16 n][n bytes]}; {@code op & 3}: 0 a raw datagram from raw
 * source {@code (op >> 2) & 7}; 1 a vl2 datagram from vl2 source {@code (op >> 2) & 7}, where bit 5 set writes the
 * port and token of the {@code (op >> 6)}-th session the switch handed out (a member that knows its token) into
 * bytes 4..15; 2 a frame from VTEP {@code (op >> 2) & 3} in network {@code (op >> 4) & 3} (0, a1, b2 or the unknown
 * ee); 3 no datagram: the clock advances by {@code n} x 100 ms, idle ports and expired leases go. Fuzzed for
 * {@code vl2.fuzz.duration} by {@code mvn verify} (see bundles/pom.xml); seeds (joins, frames, DHCP, ARP, keepalives,
 * leaves, expiry, the port limit) in {@code SwitchCoreFuzzTestInputs/datagrams}. Leases (and whatever else the switch
 * keeps in its state directory) go to /dev/shm when there is one: leases are written with an fsync.
 */
class SwitchCoreFuzzTest {

    static final int MAX_PORTS = 6;
    private static final int MAX_FRAME = 1522;
    private static final long NET_A = 0xa1L;
    private static final long NET_B = 0xb2L;
    private static final long NET_C = 0xc3L;
    private static final long[] ENCAP_NETWORKS = {0L, NET_A, NET_B, 0xeeL};
    private static final Path SCRATCH = scratch();

    private final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    private final FakeTransport raw = new FakeTransport("udp", "raw");
    private final FakeTransport vl2 = new FakeTransport("vl2", Transports.MODE_VL2);
    private final FakeTransport vxlan = new FakeTransport("vxlan", "vxlan");
    /** Sessions the switch handed out (WELCOME), in order: what members would put in their FRAMEs. */
    private final List<long[]> sessions = new ArrayList<>();
    private SwitchCore sw;
    /** The previous input's switch (whatever test instance ran it), stopped before its state is removed. */
    private static SwitchCore running;

    private SwitchCore newSwitch() throws Exception {
        SwitchCore s = new SwitchCore(new FakeMacTable(),
                Fakes.config("learning", MAX_FRAME, 300, MAX_PORTS), clock::get, false, SCRATCH);
        s.bindPolicy(new LearningPolicy());
        s.bindPolicy(new HubPolicy());
        s.attach(raw, 0L); // the operator's choice: raw ports in network 0, opened to plaintext below
        s.attach(vl2);
        s.attach(vxlan);
        s.bindNetwork(new NetworkDefinition(network(0L, null, "10.0.0.0/24", null, true, "10.0.0.1",
                List.of("10.0.0.1", "9.9.9.9"))));
        s.bindNetwork(new NetworkDefinition(network(NET_A, null, "10.147.17.0/24", "fd00:a1::", true, null,
                List.of())));
        s.bindNetwork(new NetworkDefinition(network(NET_B, null, "10.147.18.0/28", null, false, null, List.of())));
        s.bindNetwork(new NetworkDefinition(network(NET_C, "hub", null, null, false, null, List.of())));
        return s;
    }

    private static NetworkSettings network(long id, String policy, String pool, String ipv6, boolean dhcp,
                                           String gateway, List<String> dns) throws Exception {
        List<Inet4Address> servers = new ArrayList<>();
        for (String d : dns) {
            servers.add((Inet4Address) InetAddress.getByName(d));
        }
        return new NetworkSettings(id, "net-" + Long.toHexString(id), 1400, policy,
                pool == null ? null : Ipv4Pool.parse(pool, null),
                ipv6 == null ? null : (Inet6Address) InetAddress.getByName(ipv6), dhcp, Duration.ofHours(1),
                gateway == null ? null : (Inet4Address) InetAddress.getByName(gateway), servers)
                .withPlaintext(true); // the seeds drive raw ports, VTEPs and plaintext joins in every network
    }

    @FuzzTest
    void datagrams(byte[] input) throws Exception {
        stopRunning();    // its lease writes are done once this returns
        forgetLeases();   // each input starts a switch from scratch
        sw = newSwitch();
        running = sw;
        sessions.clear();
        int i = 0;
        while (i + 3 <= input.length) {
            int op = input[i] & 0xFF;
            int n = ((input[i + 1] & 0xFF) << 8) | (input[i + 2] & 0xFF);
            i += 3;
            if ((op & 3) == 3) {
                clock.addAndGet(n * 100_000_000L);
                sw.expireIdlePorts();
                sw.expireLeases();
                checkTables();
                continue;
            }
            n = Math.min(n, input.length - i);
            byte[] d = Arrays.copyOfRange(input, i, i + n);
            i += n;
            switch (op & 3) {
                case 0 -> fromRawPort(TestFrames.endpoint(50000 + ((op >> 2) & 7)), d);
                case 1 -> fromMember(TestFrames.endpoint(40000 + ((op >> 2) & 7)), (op & 0x20) != 0, op >> 6, d);
                default -> fromVtep(TestFrames.endpoint(4789 + ((op >> 2) & 3)), ENCAP_NETWORKS[(op >> 4) & 3], d);
            }
            checkTables();
        }
    }

    private void fromRawPort(SocketAddress source, byte[] d) {
        clearSent();
        sw.ingress().receive(raw, source, ByteBuffer.wrap(d));
        checkSent(raw, source, d.length, 0L);
    }

    private void fromMember(SocketAddress source, boolean knowsToken, int session, byte[] d) {
        if (knowsToken && !sessions.isEmpty() && d.length >= FrameHeader.LENGTH) {
            long[] s = sessions.get(session % sessions.size());
            ByteBuffer.wrap(d).putInt(4, (int) s[0]).putLong(8, s[1]);
        }
        ByteBuffer b = ByteBuffer.wrap(d);
        SwitchPort in = Wire.type(b) == Wire.FRAME && Wire.version(b) == Wire.VERSION
                && (Wire.flags(b) & Wire.FLAG_SEALED) == 0 ? live(FrameHeader.port(b), FrameHeader.token(b)) : null;
        clearSent();
        sw.ingress().receive(vl2, source, b);
        checkSent(vl2, source, d.length, in == null ? null : in.network.id);
        if (in != null && d.length >= FrameHeader.LENGTH + 14) {
            assertEquals(source, in.remote, "a member's port follows its FRAMEs (NAT rebinding)");
        }
    }

    private void fromVtep(SocketAddress vtep, long network, byte[] d) {
        clearSent();
        sw.ingress().receiveFrame(vxlan, vtep, network, ByteBuffer.wrap(d));
        checkSent(vxlan, vtep, d.length, network);
    }

    /** The live vl2 port of a session, or null. */
    private SwitchPort live(int port, long token) {
        SwitchPort p = sw.registry.session(port);
        return p != null && p.token == token && !p.removed && p.kind == Kind.VL2 ? p : null;
    }

    private void clearSent() {
        raw.clear();
        vl2.clear();
        vxlan.clear();
    }

    /**
     * What the switch sent for one datagram of {@code length} bytes from {@code source} through {@code in}: frames
     * only within {@code network} (null: none may be forwarded at all), well-formed, and no answer to the source
     * longer than the datagram.
     */
    private void checkSent(FakeTransport in, SocketAddress source, int length, Long network) {
        for (FakeTransport t : List.of(raw, vl2, vxlan)) {
            for (FakeTransport.Sent s : t.log) {
                if (t == in && s.to().equals(source) && s.bytes().length > length) {
                    // Known and reported, not fixable in the DHCP server alone: a DHCP request shorter than the
                    // server's reply needs for its options (a BOOTP message under 300 bytes; clients send 300) gets
                    // that reply, unpadded. Anything else longer than its datagram is amplification.
                    byte[] f = t == vl2 ? Arrays.copyOfRange(s.bytes(), FrameHeader.LENGTH, s.bytes().length)
                            : s.bytes();
                    assertTrue(unpaddedDhcpReply(f) && s.bytes().length <= length + 64, "amplification: "
                            + s.bytes().length + " bytes to " + t.name + " " + source + " for a datagram of " + length
                            + ": " + hex(s.bytes()));
                }
                if (t == vl2) {
                    int type = Wire.type(ByteBuffer.wrap(s.bytes()));
                    if (type != Wire.FRAME) {
                        if (type >= 0) {
                            control(s);
                        } // else a handshake message of an encrypted session, opaque here
                        assertTrue(t == in && s.to().equals(source), "a control answer to someone else: " + s.to());
                        continue;
                    }
                    SwitchPort to = live(FrameHeader.port(ByteBuffer.wrap(s.bytes())),
                            FrameHeader.token(ByteBuffer.wrap(s.bytes())));
                    assertNotNull(to, "a FRAME without a live session's port and token");
                    assertEquals(to.remote, s.to(), "a FRAME to another address than its member's");
                    assertEquals(0, Wire.flags(ByteBuffer.wrap(s.bytes())), "FRAME flags");
                    frame(Arrays.copyOfRange(s.bytes(), FrameHeader.LENGTH, s.bytes().length));
                    forwarded(network, to.network.id);
                } else {
                    frame(s.bytes());
                    if (t == raw) {
                        assertEquals(null, s.network());
                        forwarded(network, portAt(Kind.RAW, s.to(), 0L).network.id);
                    } else {
                        assertNotNull(s.network(), "a VXLAN frame without its network");
                        forwarded(network, portAt(Kind.ENCAP, s.to(), s.network()).network.id);
                    }
                }
            }
        }
    }

    private static void forwarded(Long from, long to) {
        assertNotNull(from, "a frame forwarded for a datagram that is no frame of a port");
        assertEquals((long) from, to, "a frame crossed from network " + from + " to " + to);
    }

    private SwitchPort portAt(Kind kind, SocketAddress remote, long network) {
        for (SwitchPort p : sw.registry.all()) {
            if (p.kind == kind && p.remote.equals(remote) && p.network.id == network) {
                return p;
            }
        }
        throw new AssertionError("sent to " + remote + " in network " + network + ", which is no " + kind + " port");
    }

    /** A frame the switch emits: an Ethernet header, at most max.frame.size, from a unicast MAC. */
    private static void frame(byte[] f) {
        assertTrue(f.length >= 14 && f.length <= MAX_FRAME, "a frame of " + f.length + " bytes");
        long src = ((ByteBuffer.wrap(f).getInt(6) & 0xFFFF_FFFFL) << 16) | (ByteBuffer.wrap(f).getShort(10) & 0xFFFF);
        assertFalse(MacAddress.isMulticast(src), "from a group MAC: " + hex(f));
    }

    /** A DHCP reply of the switch's own server (from a network's server MAC, UDP 67) that ends with its options. */
    private static boolean unpaddedDhcpReply(byte[] f) {
        if (f.length < 14 + 4 + 28) {
            return false;
        }
        ByteBuffer b = ByteBuffer.wrap(f);
        int l3 = (b.getShort(12) & 0xFFFF) == 0x8100 ? 18 : 14;
        long src = ((b.getInt(6) & 0xFFFF_FFFFL) << 16) | (b.getShort(10) & 0xFFFF);
        return f.length > l3 + 28 && (src & 0xFFFF_FF00_0000L) == Network.serverMac(0) && (b.getShort(l3 - 2) == 0x0800)
                && f[l3 + 9] == 17 && b.getShort(l3 + 20) == 67 && f[f.length - 1] == (byte) 255;
    }

    /** WELCOME, ERROR, KEEPALIVE-ACK or KEY-REPLY, each decodable; a WELCOME's session is noted for later FRAMEs. */
    private void control(FakeTransport.Sent s) {
        ByteBuffer b = ByteBuffer.wrap(s.bytes());
        try {
            switch (Wire.type(b)) {
                case Wire.WELCOME -> {
                    Welcome w = Welcome.decode(b);
                    SwitchPort p = live(w.port(), w.token());
                    assertNotNull(p, "a WELCOME for a session the switch does not have: " + w);
                    assertEquals(w.network(), p.network.id);
                    sessions.add(new long[] {w.port(), w.token()});
                }
                case Wire.ERROR -> assertNotNull(ProtocolError.decode(b));
                case Wire.KEEPALIVE_ACK -> assertTrue(Keepalive.decode(b).ack());
                // the answer to a KEY-REQUEST: the switch's own public key, nothing else
                case Wire.KEY_REPLY -> assertEquals(sw.publicKey(), Identity.fingerprint(KeyReply.decode(b).publicKey()));
                default -> fail("the switch sent a JOIN, KEEPALIVE, LEAVE or KEY-REQUEST: " + hex(s.bytes()));
            }
        } catch (ProtocolException e) {
            throw new AssertionError("the switch sent a malformed message: " + hex(s.bytes()), e);
        }
    }

    /** At most max.ports ports; ports, sessions, members and networks agree. */
    private void checkTables() {
        assertTrue(sw.registry.size() <= MAX_PORTS, sw.registry.size() + " ports");
        for (SwitchPort p : sw.registry.all()) {
            assertFalse(p.removed, "a removed port in the table");
            assertSame(p.network, sw.networks.get(p.network.id), "a port of a network the switch lacks");
            assertTrue(p.network.ports().contains(p), "a port missing from its network");
            if (p.kind == Kind.VL2) {
                assertSame(p, sw.registry.session(p.id.number()), "a member without its session");
                assertSame(p, p.network.members.get(p.member), "a member missing from its network");
            }
        }
        for (var n : sw.networks.all()) {
            for (SwitchPort p : n.ports()) {
                assertSame(p, sw.registry.get(p.id), "a network's port the switch does not have");
            }
        }
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(b.length, 64); i++) {
            sb.append(String.format("%02x", b[i] & 0xFF));
        }
        return b.length > 64 ? sb + "..." : sb.toString();
    }

    /** Removes what the previous input's switch kept in {@link #SCRATCH} (leases, keys). */
    private static void forgetLeases() throws IOException {
        try (Stream<Path> s = Files.walk(SCRATCH)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                if (!p.equals(SCRATCH)) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static Path scratch() {
        try {
            Path shm = Path.of("/dev/shm"); // leases are written with an fsync
            return Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "vl2-fuzz-")
                    : Files.createTempDirectory("vl2-fuzz-");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void stopRunning() {
        if (running != null) {
            running.deactivate();
            running = null;
        }
    }

    @AfterAll
    static void removeScratch() throws IOException {
        stopRunning();
        try (Stream<Path> s = Files.walk(SCRATCH)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}

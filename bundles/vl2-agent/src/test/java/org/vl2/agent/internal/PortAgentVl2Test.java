package org.vl2.agent.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.vl2.api.AgentState;
import org.vl2.api.AgentStatus;
import org.vl2.api.MacAddress;
import org.vl2.crypto.Identity;
import org.vl2.protocol.ErrorCode;
import org.vl2.protocol.FrameHeader;
import org.vl2.protocol.Join;
import org.vl2.protocol.Keepalive;
import org.vl2.protocol.Leave;
import org.vl2.protocol.ProtocolError;
import org.vl2.protocol.Welcome;
import org.vl2.protocol.Wire;
import org.vl2.tap.Cidr;

/**
 * Plaintext vl2 mode ({@code encryption = false}) against {@link TestSwitch} speaking the protocol on loopback,
 * with an in-memory TAP device; {@link PortAgentEncryptedTest} covers encrypted sessions. Timers
 * are {@link PortAgentTest#FAST}: JOIN every 100 ms, slow retry 600 ms, and the test switch's keepalive interval
 * of 2 "seconds" is 200 ms (3 silent intervals: 600 ms). The tests of the timers themselves (keepalives, silence,
 * retries) run them on the test's clock ({@link #DRIVEN}: JOIN every 1 s, slow retry 30 s) and move it.
 */
class PortAgentVl2Test extends AgentTestBase {

    private static final long INTERVAL = 200;

    private TestConfig config(TestSwitch sw) throws IOException {
        return new TestConfig().plaintext().switchAddress(sw.address()).identityFile(identityFile().toString());
    }

    /**
     * An agent that has joined and whose TAP device has the WELCOME's MTU (1400 unless configured); it does not retry
     * its JOIN ({@link #NO_RETRY}), so the session the switch holds is the one the agent uses.
     */
    private PortAgent joined(TestConfig config) {
        return joined(agent(config, NO_RETRY), config.mtu != 0 ? config.mtu : 1400);
    }

    private static PortAgent joined(PortAgent a, int mtu) {
        assertTrue(await(WAIT, () -> a.status().state() == AgentState.RUNNING && a.status().portId() != 0
                && a.status().mtu() == mtu), a.status().toString());
        return a;
    }

    /**
     * An agent whose timers run on the test's {@link #clock} ({@link #DRIVEN}), joined: while the clock stands
     * still it sends one JOIN, so the switch holds the session the agent uses.
     */
    private PortAgent joinedDriven(TestConfig config) {
        return joined(agent(config, driven(DRIVEN)), 1400);
    }

    /**
     * Whether the agent last heard the switch at the clock's present moment, when the clock moved on by seconds since
     * it heard it before: the status dates it that long (on the clock) before its own time.
     */
    private static boolean heardNow(PortAgent agent) {
        java.time.Instant before = java.time.Instant.now();
        java.time.Instant last = agent.status().lastFromSwitch();
        return last != null && !last.isBefore(before);
    }

    /** Waits until the agent took the ACK of its latest keepalive: the round trip, {@code before} until then, is new. */
    private static void awaitAck(PortAgent agent, Duration before, String what) {
        assertTrue(await(WAIT, () -> !java.util.Objects.equals(before, agent.status().switchRtt())), "no ACK of "
                + what);
    }

    private long member() throws IOException {
        return Identity.load(identityFile()).memberId();
    }

    private static TestSwitch.Datagram next(TestSwitch sw, int type, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (true) {
            long left = deadline - System.nanoTime();
            TestSwitch.Datagram d = sw.datagrams.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
            if (d == null || d.type() == type) {
                return d;
            }
        }
    }

    private static int u16(byte[] b, int at) {
        return ((b[at] & 0xff) << 8) | (b[at + 1] & 0xff);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Joining and addresses

    @Test
    void joinsAndPutsTheWelcomesAddressAndMtuOnTheTap() throws Exception {
        TestSwitch sw = vl2Switch();
        PortAgent agent = agent(config(sw).mac("02:76:6c:32:00:01"));
        FakeTap first = factory.all.get(0); // the WELCOME may have replaced it already: the test switch answers at once
        assertEquals(1454, first.settings().mtu(), "provisional MTU until the WELCOME");
        assertNull(first.settings().ipv4());

        Join join = sw.joins.poll(WAIT, TimeUnit.MILLISECONDS);
        assertNotNull(join, "no JOIN");
        assertEquals(0L, join.network());
        assertEquals(member(), join.member());
        assertEquals(65_491, join.maxFrameSize(), "automatic MTU: as large a frame as a datagram can carry");
        assertEquals(Join.CAP_IPV6, join.capabilities(), "no address6 configured: asks for IPv6");
        assertNull(join.requestedIpv4(), "no address configured: one from the pool");
        assertEquals(new Join(0, 0, 0, 64, 0, null, AgentConfig.hostName()).name(), join.name());

        assertTrue(await(WAIT, () -> agent.status().mtu() == 1400 && agent.status().state() == AgentState.RUNNING),
                agent.status().toString());
        TestSwitch.Session port = sw.sessionOf(member());
        AgentStatus s = agent.status();
        assertNull(s.problem());
        assertEquals("vl2", s.mode());
        assertEquals("0000000000000000", s.network());
        assertEquals(MemberIdentity.format(member()), s.memberId());
        assertEquals(Identity.load(identityFile()).fingerprint(), s.publicKey());
        assertFalse(s.encrypted());
        assertNull(s.switchKey());
        assertEquals(port.port(), s.portId());
        assertEquals(List.of("10.1.1.5/24"), s.assignedAddresses());
        assertEquals(List.of("10.1.1.5/24"), s.addresses());
        assertEquals(1400, s.mtu());

        // the device was re-created with the WELCOME's MTU and address, keeping its name and MAC
        FakeTap now = factory.last;
        assertNotSame(first, now);
        assertFalse(first.isOpen());
        assertEquals(2, factory.created);
        assertEquals(1400, now.settings().mtu());
        assertEquals(Cidr.parse("10.1.1.5/24"), now.settings().ipv4());
        assertNull(now.settings().ipv6());
        assertEquals("vl2tap0", now.name());
        assertEquals(MacAddress.valueOf("02:76:6c:32:00:01"), now.mac());
        assertEquals(AgentState.RUNNING, agent.status().state());
    }

    @Test
    void takesTheIpv6AddressTheSwitchDerivesUnlessOneIsConfigured() throws Exception {
        TestSwitch sw = vl2Switch();
        sw.ipv6Prefix = Cidr.parse("fd00:1::/64");
        PortAgent agent = joined(config(sw));
        byte[] a = InetAddress.getByName("fd00:1::").getAddress();
        long m = member();
        for (int i = 0; i < 8; i++) {
            a[8 + i] = (byte) (m >>> (56 - 8 * i));
        }
        Cidr expected = Cidr.of(Inet6Address.getByAddress(a), 64);
        assertTrue(await(WAIT, () -> expected.equals(factory.last.settings().ipv6())), factory.last.settings()
                .toString());
        assertEquals(List.of("10.1.1.5/24", expected.toString()), agent.status().assignedAddresses());
        assertEquals(List.of("10.1.1.5/24", expected.toString()), agent.status().addresses());
        agent.deactivate();

        // a configured address6 wins, and the JOIN does not ask for one
        sw.joins.clear();
        PortAgent other = joined(config(sw).address6("fd00:9::9/64"));
        assertEquals(0, sw.joins.poll(WAIT, TimeUnit.MILLISECONDS).capabilities());
        assertEquals(Cidr.parse("fd00:9::9/64"), factory.last.settings().ipv6());
        assertEquals(List.of("10.1.1.5/24"), other.status().assignedAddresses());
        assertEquals(List.of("10.1.1.5/24", "fd00:9::9/64"), other.status().addresses());
    }

    @Test
    void requestsTheConfiguredStaticAddressAndKeepsItsPrefixAndMtu() throws Exception {
        TestSwitch sw = vl2Switch();
        PortAgent agent = joined(config(sw).address("10.1.1.101/16").mtu(1500));

        Join join = sw.joins.poll(WAIT, TimeUnit.MILLISECONDS);
        assertEquals(InetAddress.getByName("10.1.1.101"), join.requestedIpv4());
        assertEquals(1500 + 22, join.maxFrameSize());
        AgentStatus s = agent.status();
        assertEquals(List.of("10.1.1.101/24"), s.assignedAddresses(), "what the switch said");
        assertEquals(List.of("10.1.1.101/16"), s.addresses(), "the configured prefix and MTU win");
        assertEquals(1500, s.mtu());
        assertEquals(1, factory.created, "nothing to change: the device was not re-created");
    }

    @Test
    void aNetworkWithoutPoolGivesNoAddress() throws Exception {
        TestSwitch sw = vl2Switch();
        sw.ipv4 = null;
        PortAgent agent = joined(config(sw));
        assertEquals(List.of(), agent.status().assignedAddresses());
        assertEquals(List.of(), agent.status().addresses());
        assertNull(factory.last.settings().ipv4());
    }

    @Test
    void aRejoinWithTheSameAddressLeavesTheTapAloneAndAnotherAddressReplacesIt() throws Exception {
        TestSwitch sw = vl2Switch();
        PortAgent agent = joined(config(sw));
        FakeTap tap = factory.last;
        int created = factory.created;
        long before = agent.status().portId();

        sw.restart(); // the next keepalive gets unknown-port: the agent re-joins and gets the same lease
        assertTrue(await(WAIT, () -> agent.status().portId() != before), agent.status().toString());
        assertTrue(await(WAIT, () -> agent.status().state() == AgentState.RUNNING));
        assertSame(tap, factory.last, "same address and MTU: the device was not touched");
        assertEquals(created, factory.created);
        assertTrue(tap.isOpen());

        sw.leases.put(member(), Cidr.parse("10.1.1.77/24"));
        long second = agent.status().portId();
        sw.restart();
        assertTrue(await(WAIT, () -> agent.status().portId() != second
                && Cidr.parse("10.1.1.77/24").equals(factory.last.settings().ipv4())), agent.status().toString());
        FakeTap replaced = factory.last;
        assertFalse(tap.isOpen(), "the old device is gone");
        assertEquals(tap.name(), replaced.name());
        assertEquals(tap.mac(), replaced.mac());
        assertEquals(List.of("10.1.1.77/24"), agent.status().addresses());

        // and frames flow through the new device
        TestSwitch.Session port = sw.sessionOf(member());
        replaced.fromKernel.add(frame(80, 1));
        TestSwitch.Frame f = sw.frames.poll(WAIT, TimeUnit.MILLISECONDS);
        assertNotNull(f, "nothing from the new device reached the switch");
        assertEquals(80, f.frame().length);
        assertEquals(port.token(), f.token());
        sw.sendFrame(port, frame(81, 2));
        assertEquals(81, replaced.toKernel.poll(WAIT, TimeUnit.MILLISECONDS).length);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Frames

    @Test
    void carriesFramesBothWaysBehindTheHeader() throws Exception {
        TestSwitch sw = vl2Switch();
        PortAgent agent = joined(config(sw));
        FakeTap tap = factory.last;
        TestSwitch.Session port = sw.sessionOf(member());
        sw.datagrams.clear();

        byte[] out = frame(60, 1);
        tap.fromKernel.add(out);
        TestSwitch.Datagram d = next(sw, Wire.FRAME, WAIT);
        assertNotNull(d, "no FRAME reached the switch");
        byte[] b = d.data();
        assertEquals(16 + 60, b.length);
        assertArrayEquals(new byte[] {0x56, 1, 3, 0}, java.util.Arrays.copyOf(b, 4), "magic, version, FRAME, flags");
        assertEquals(port.port(), ByteBuffer.wrap(b).getInt(4));
        assertEquals(port.token(), ByteBuffer.wrap(b).getLong(8));
        assertArrayEquals(out, java.util.Arrays.copyOfRange(b, 16, b.length));
        TestSwitch.Frame f = sw.frames.poll(WAIT, TimeUnit.MILLISECONDS);
        assertEquals(port.port(), f.port());
        assertEquals(port.token(), f.token());
        assertArrayEquals(out, f.frame());

        byte[] in = frame(1000, 2);
        sw.sendFrame(port, in);
        assertArrayEquals(in, tap.toKernel.poll(WAIT, TimeUnit.MILLISECONDS));

        // the longest frame the TAP allows passes both ways: MTU 1400 + 14 + 2 tags; one byte more does not
        byte[] longest = frame(1400 + 22, 3);
        tap.fromKernel.add(frame(1400 + 23, 4));
        tap.fromKernel.add(longest);
        assertArrayEquals(longest, sw.frames.poll(WAIT, TimeUnit.MILLISECONDS).frame());
        sw.sendFrame(port, frame(1400 + 23, 5));
        sw.sendFrame(port, longest);
        assertArrayEquals(longest, tap.toKernel.poll(WAIT, TimeUnit.MILLISECONDS));

        assertTrue(await(WAIT, () -> agent.status().tapTxFrames() == 2 && agent.status().tapRxFrames() == 2),
                agent.status().toString());
        AgentStatus s = agent.status();
        assertEquals(60 + 1422, s.tapRxBytes(), "frame bytes, without the header");
        assertEquals(1000 + 1422, s.tapTxBytes());
        assertEquals(2, s.drops(), "the two frames one byte too long");
        assertNull(sw.frames.poll(50, TimeUnit.MILLISECONDS));
        assertEquals(0, sw.wrongTokens.get());
    }

    @Test
    void dropsFramesOfOtherSessionsAndAnythingMalformed() throws Exception {
        TestSwitch sw = vl2Switch();
        PortAgent agent = joined(config(sw));
        FakeTap tap = factory.last;
        TestSwitch.Session port = sw.sessionOf(member());
        long drops = agent.status().drops();

        sw.sendFrame(port, port.port(), port.token() + 1, frame(60, 1)); // an old or guessed token
        sw.sendFrame(port, port.port() + 1, port.token(), frame(60, 2)); // another port
        sw.sendRaw(port, frame(60, 3)); // a raw Ethernet frame: not a vl2 message
        byte[] runt = new byte[16 + 10];
        FrameHeader.write(ByteBuffer.wrap(runt), 0, port.port(), port.token());
        sw.sendRaw(port, runt);
        byte[] sealed = new byte[16 + 60];
        FrameHeader.write(ByteBuffer.wrap(sealed), 0, port.port(), port.token());
        sealed[3] = Wire.FLAG_SEALED;
        sw.sendRaw(port, sealed);
        byte[] version2 = new byte[16 + 60];
        FrameHeader.write(ByteBuffer.wrap(version2), 0, port.port(), port.token());
        version2[1] = 2;
        sw.sendRaw(port, version2);
        sw.sendRaw(port, new byte[] {0x56, 1, 2}); // shorter than a header
        sw.sendRaw(port, new byte[] {0x56, 1, 2, 0, 1, 2, 3}); // a WELCOME cut short
        sw.sendRaw(port, new byte[] {0x56, 1, 9, 0, 1, 2, 3, 4}); // a reserved type
        sw.sendFrame(port, frame(61, 4));

        assertEquals(61, tap.toKernel.poll(WAIT, TimeUnit.MILLISECONDS).length, "the valid frame after them");
        assertTrue(await(WAIT, () -> agent.status().drops() == drops + 9), agent.status().toString());
        assertEquals(2, counters(agent).foreign.get());
        assertEquals(7, counters(agent).malformed.get());
        assertTrue(tap.toKernel.isEmpty());
        assertEquals(AgentState.RUNNING, agent.status().state());
        assertEquals(port.port(), agent.status().portId());
        sw.sendFrame(port, frame(62, 5));
        assertEquals(62, tap.toKernel.poll(WAIT, TimeUnit.MILLISECONDS).length, "still receiving");
    }

    @Test
    void framesFromTheTapBeforeTheWelcomeAreDropped() throws Exception {
        TestSwitch sw = vl2Switch();
        sw.silent = true;
        PortAgent agent = agent(config(sw));
        factory.last.fromKernel.add(frame(60, 1));
        assertTrue(await(WAIT, () -> agent.status().drops() == 1), agent.status().toString());
        assertEquals(0, agent.status().tapRxFrames());
        assertNull(next(sw, Wire.FRAME, 200));
    }

    @Test
    void staleWelcomesAreIgnored() throws Exception {
        TestSwitch sw = vl2Switch();
        PortAgent agent = joined(config(sw));
        TestSwitch.Session port = sw.sessionOf(member());
        long malformed = counters(agent).malformed.get();

        ByteBuffer b = ByteBuffer.allocate(64);
        new Welcome(0, 12345, 999, 42, 1280, 2, null, 0, null, 0).encode(b);
        sw.sendRaw(port, b.array());

        assertTrue(await(WAIT, () -> counters(agent).malformed.get() == malformed + 1));
        assertEquals(port.port(), agent.status().portId());
        assertEquals(1400, agent.status().mtu());
        sw.sendFrame(port, frame(60, 1));
        assertEquals(60, factory.last.toKernel.poll(WAIT, TimeUnit.MILLISECONDS).length, "the session is unchanged");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Liveness

    @Test
    void sendsKeepalivesWhenIdleAndMeasuresTheRoundTrip() throws Exception {
        long start = System.nanoTime();
        TestSwitch sw = vl2Switch();
        PortAgent agent = joinedDriven(config(sw));
        TestSwitch.Session port = sw.sessionOf(member());
        sw.keepalives.clear();

        // idle: a keepalive once per interval, not sooner; time moves on only once the ACK of the one before was
        // heard (else three intervals without one would be silence)
        for (int n = 1; n <= 6; n++) {
            long sent = n - 1;
            Duration rtt = agent.status().switchRtt();
            clock.advance(INTERVAL - 1);
            assertNotYet(() -> counters(agent).keepalives.get() > sent, "keepalive " + n + " before an interval");
            clock.advance(1);
            assertTrue(await(WAIT, () -> counters(agent).keepalives.get() == sent + 1), "no keepalive " + n
                    + " after an idle interval");
            awaitAck(agent, rtt, "keepalive " + n);
        }
        // each reached the switch, for the port, numbered one after the other
        List<Keepalive> ks = new ArrayList<>();
        while (ks.size() < 6) {
            Keepalive k = sw.keepalives.poll(WAIT, TimeUnit.MILLISECONDS);
            assertNotNull(k, "no keepalive after " + ks.size());
            ks.add(k);
        }
        for (int i = 0; i < ks.size(); i++) {
            assertEquals(port.port(), ks.get(i).port());
            assertEquals(port.token(), ks.get(i).token());
            assertFalse(ks.get(i).ack());
            if (i > 0) {
                assertEquals(ks.get(i - 1).sequence() + 1, ks.get(i).sequence());
            }
        }

        assertTrue(await(WAIT, () -> agent.status().switchRtt() != null), "the ACKs give the round trip");
        Duration rtt = agent.status().switchRtt();
        assertTrue(rtt.toNanos() > 0, rtt.toString());
        // a round trip of a keepalive of this test: shorter than the test so far
        assertTrue(rtt.toNanos() < System.nanoTime() - start, rtt.toString());
        assertEquals(AgentState.RUNNING, agent.status().state());
    }

    @Test
    void trafficBothWaysNeedsNoKeepalivesButOneWayTrafficDoes() throws Exception {
        TestSwitch sw = vl2Switch();
        // time moves half an interval at a time, and only once the step's frames have arrived and been counted (and
        // a keepalive's ACK heard): a keepalive goes for an interval without traffic, never for a slow round trip
        PortAgent agent = joinedDriven(config(sw));
        FakeTap tap = factory.last;
        TestSwitch.Session port = sw.sessionOf(member());
        long step = INTERVAL / 2;

        // 5 intervals of frames both ways, a round trip per half interval: something went each way in every interval
        long keepalives = counters(agent).keepalives.get();
        for (int i = 0; i < 10; i++) {
            clock.advance(step);
            if (i % 2 == 1) {
                assertNotYet(() -> counters(agent).keepalives.get() > keepalives, "a keepalive despite traffic both"
                        + " ways, after " + (i + 1) * step + " ms");
            }
            roundTrip(agent, tap, sw, port, i);
        }

        // only to the switch: frames out do not make up for nothing coming back; a keepalive goes an interval after
        // the switch was last heard (the ACK of the one before), every other step
        sw.keepalives.clear();
        for (int i = 0; i < 6; i++) {
            long sent = counters(agent).tapRxFrames.get();
            tap.fromKernel.add(frame(60, 100 + i));
            assertNotNull(sw.frames.poll(WAIT, TimeUnit.MILLISECONDS));
            assertTrue(await(WAIT, () -> counters(agent).tapRxFrames.get() == sent + 1), "frame not counted");
            Duration rtt = agent.status().switchRtt();
            clock.advance(step);
            long due = keepalives + (i + 1) / 2;
            if (i % 2 == 0) {
                assertNotYet(() -> counters(agent).keepalives.get() > due, "a keepalive half an interval after the"
                        + " switch was heard");
            } else {
                assertTrue(await(WAIT, () -> counters(agent).keepalives.get() == due), "no keepalive with one-way"
                        + " traffic, " + (i + 1) + " steps");
                awaitAck(agent, rtt, "the keepalive");
            }
        }
        assertTrue(await(WAIT, () -> sw.keepalives.size() == 3), "keepalives at the switch: " + sw.keepalives.size());
        assertEquals(AgentState.RUNNING, agent.status().state());
    }

    /** A frame from the TAP to the switch and one back, each waited for (and the one out counted). */
    private static void roundTrip(PortAgent agent, FakeTap tap, TestSwitch sw, TestSwitch.Session port, int seq)
            throws Exception {
        long sent = counters(agent).tapRxFrames.get();
        tap.fromKernel.add(frame(60, seq));
        assertNotNull(sw.frames.poll(WAIT, TimeUnit.MILLISECONDS), "frame " + seq + " to the switch");
        // counted after it left: the keepalive timer compares the count, which must not lag behind the clock
        assertTrue(await(WAIT, () -> counters(agent).tapRxFrames.get() == sent + 1), "frame " + seq + " not counted");
        sw.sendFrame(port, frame(60, seq));
        assertNotNull(tap.toKernel.poll(WAIT, TimeUnit.MILLISECONDS), "frame " + seq + " from the switch");
    }

    @Test
    void unknownPortMakesTheAgentRejoinAtOnce() throws Exception {
        TestSwitch sw = vl2Switch();
        sw.keepaliveSeconds = 1_000; // 100 s: nothing but the frame can trigger the re-join within the test's time
        PortAgent agent = joined(config(sw));
        FakeTap tap = factory.last;
        long before = agent.status().portId();
        sw.joins.clear();

        sw.restart(); // forgets the port: the next frame is answered unknown-port
        tap.fromKernel.add(frame(60, 1));
        assertTrue(await(WAIT, () -> agent.status().portId() != before && agent.status().portId() != 0),
                agent.status().toString());
        // at once: not after a keepalive (none was sent), nor after the silence of three intervals (300 s)
        assertEquals(0, counters(agent).keepalives.get(), "re-joined at once, not for a keepalive");
        assertEquals(1, sw.joins.size(), "one JOIN was enough");

        TestSwitch.Session port = sw.sessionOf(member());
        assertEquals(port.port(), agent.status().portId());
        tap.fromKernel.add(frame(61, 2));
        TestSwitch.Frame f = sw.frames.poll(WAIT, TimeUnit.MILLISECONDS);
        assertNotNull(f, "frames flow again");
        assertEquals(port.token(), f.token());
        assertEquals(61, f.frame().length);
    }

    @Test
    void rejoinsForUnknownPortAtMostOncePerInterval() throws Exception {
        TestSwitch sw = vl2Switch();
        sw.keepaliveSeconds = 1_000; // no keepalive in the test's time: only the frames get unknown-port
        PortAgent agent = joinedDriven(config(sw)); // time stands still: every JOIN here starts a re-join
        FakeTap tap = factory.last;
        sw.forgetful = true; // every port is forgotten right after its WELCOME
        sw.restart();
        long rejoin = DRIVEN.rejoinMillis();

        // the first unknown-port: a re-join at once
        long first = counters(agent).joins.get();
        long before = agent.status().portId();
        tap.fromKernel.add(frame(60, 0));
        assertTrue(await(WAIT, () -> counters(agent).joins.get() == first + 1), "no re-join for unknown-port");
        assertTrue(await(WAIT, () -> agent.status().portId() != before && agent.status().state() == AgentState.RUNNING),
                agent.status().toString());
        sw.datagrams.clear();

        // every frame gets unknown-port again (the switch forgot the port), one at a time: no re-join within the
        // interval, one once it is over
        for (int i = 1; i <= 4; i++) {
            if (i == 3) {
                clock.advance(rejoin - 1);
            }
            tap.fromKernel.add(frame(60, i));
            assertNotNull(next(sw, Wire.FRAME, WAIT), "frame " + i);
            assertNotYet(() -> counters(agent).joins.get() > first + 1, "a re-join within " + rejoin + " ms, frame "
                    + i);
        }
        clock.advance(1);
        tap.fromKernel.add(frame(60, 5));
        assertTrue(await(WAIT, () -> counters(agent).joins.get() == first + 2), "no re-join after " + rejoin + " ms");
    }

    @Test
    void aSilentSwitchIsDeclaredUnreachableAfterThreeIntervalsAndRejoined() throws Exception {
        TestSwitch sw = vl2Switch();
        PortAgent agent = joinedDriven(config(sw));
        FakeTap tap = factory.last;
        long port = agent.status().portId();
        long retry = DRIVEN.joinRetryMillis();

        // last heard at the WELCOME, when the clock stood where it still stands
        sw.silent = true;
        clock.advance(3 * INTERVAL - 1);
        assertNotYet(() -> agent.status().state() != AgentState.RUNNING, "declared silent before 3 intervals");
        clock.advance(1);
        assertTrue(await(WAIT, () -> agent.status().state() == AgentState.SWITCH_UNREACHABLE),
                agent.status().toString());
        assertEquals("the switch has been silent for 600 ms (3 keepalive intervals): re-joining",
                agent.status().problem());
        // JOINs while silent: one at once, then backing off (with jitter: within half an interval more)
        assertTrue(await(WAIT, () -> sw.joins.size() == 2), "no JOIN after the silence: " + sw.joins.size());
        clock.advance(retry * 3 / 2);
        assertTrue(await(WAIT, () -> sw.joins.size() == 3), "no retry: " + sw.joins.size());
        clock.advance(2 * retry * 3 / 2);
        assertTrue(await(WAIT, () -> sw.joins.size() == 4), "no second retry: " + sw.joins.size());
        assertEquals(AgentState.SWITCH_UNREACHABLE, agent.status().state());
        assertTrue(await(WAIT, () -> counters(agent).joinProblemsLogged.get() >= 1), "the silence is not logged");
        assertNotYet(() -> counters(agent).joinProblemsLogged.get() > 1, "logged again");

        sw.silent = false;
        clock.advance(4 * retry * 3 / 2);
        assertTrue(await(WAIT, () -> agent.status().state() == AgentState.RUNNING), agent.status().toString());
        assertNull(agent.status().problem());
        assertEquals(port, agent.status().portId(), "the switch gave the member its port back");
        assertSame(tap, factory.last);
        assertTrue(tap.isOpen());
        assertEquals(1, counters(agent).joinProblemsLogged.get(), "logged once, not per JOIN");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Errors

    @Test
    void aRetryableErrorIsShownAndRetriedSlowly() throws Exception {
        TestSwitch sw = vl2Switch();
        PortAgent agent = agent(config(sw).network("5"), driven(DRIVEN));
        String expected = "the switch refused to let member " + MemberIdentity.format(member())
                + " join network 0000000000000005 (unknown-network: no network 5): check network (or create the"
                + " network on the switch); retrying every 30 s";
        assertTrue(await(WAIT, () -> expected.equals(agent.status().problem())), agent.status().toString());
        assertEquals(AgentState.SWITCH_UNREACHABLE, agent.status().state());

        // retried, slowly: a slow retry interval after the refusal, not after the (backed-off) retry interval
        long slow = DRIVEN.slowRetryMillis();
        long longestBackoff = (DRIVEN.joinRetryMillis() << JoinBackoff.MAX_DOUBLINGS) * 3 / 2;
        clock.advance(longestBackoff);
        assertNotYet(() -> counters(agent).joins.get() > 1, "a JOIN sooner than the slow retry");
        clock.advance(slow - longestBackoff);
        assertTrue(await(WAIT, () -> counters(agent).joins.get() == 2), "no JOIN " + slow + " ms after the refusal");
        assertTrue(await(WAIT, () -> heardNow(agent)), "the retry was not refused");
        assertEquals(0, agent.status().portId());

        // the next JOIN is a slow retry after the control thread took that refusal, which it may do after a move
        sw.networks.add(5L);
        advanceUntil(slow, () -> counters(agent).joins.get() > 2, "no JOIN after the second refusal");
        assertTrue(await(WAIT, () -> agent.status().state() == AgentState.RUNNING), agent.status().toString());
        // the refusals of the retries came before the WELCOME, the same problem each time
        assertEquals(1, counters(agent).joinProblemsLogged.get(), "logged once, not per retry");
        assertEquals("0000000000000005", agent.status().network());
        assertNull(agent.status().problem());
    }

    @Test
    void addressConflictSaysWhichAddress() throws Exception {
        TestSwitch sw = vl2Switch();
        sw.joinError = new ProtocolError(ErrorCode.ADDRESS_CONFLICT, 0, 0, "10.1.1.101 is leased");
        PortAgent agent = agent(config(sw).address("10.1.1.101/24"), driven(DRIVEN));
        assertTrue(await(WAIT, () -> agent.status().problem() != null
                && agent.status().problem().contains("address-conflict")), agent.status().toString());
        assertTrue(agent.status().problem().endsWith("(address-conflict: 10.1.1.101 is leased): address"
                + " 10.1.1.101/24 is in use or outside the network's pool; change address, or leave it empty to get"
                + " one from the pool; retrying every 30 s"), agent.status().problem());

        sw.joinError = new ProtocolError(ErrorCode.PORT_LIMIT, 0, 0, "");
        clock.advance(DRIVEN.slowRetryMillis()); // the next JOIN
        assertTrue(await(WAIT, () -> agent.status().problem().contains("(port-limit): the switch has no free port")),
                agent.status().toString());
        // logged at the end of the control round that set it, which the status may show first
        assertTrue(await(WAIT, () -> counters(agent).joinProblemsLogged.get() == 2), "a new problem is logged again: "
                + counters(agent).joinProblemsLogged.get());
        assertEquals(2, counters(agent).joinProblemsLogged.get(), "logged once");
    }

    @Test
    void badRequestFailsTheAgent() throws Exception {
        TestSwitch sw = vl2Switch();
        sw.joinError = new ProtocolError(ErrorCode.BAD_REQUEST, 0, 0, "max frame size 40 < 64");
        PortAgent agent = agent(config(sw));

        assertTrue(await(WAIT, () -> agent.status().state() == AgentState.FAILED), agent.status().toString());
        assertEquals("the switch at " + sw.address() + " refused the JOIN as malformed (bad-request: max frame size"
                + " 40 < 64): check mtu (the JOIN offers frames up to 65491 bytes) and name, then restart the agent",
                agent.status().problem());
        // JOINs sent before the agent stopped may still be on their way to the switch: those are not "more"
        assertTrue(await(WAIT, () -> sw.joins.size() == counters(agent).joins.get()), sw.joins.size() + " of "
                + counters(agent).joins.get() + " JOINs arrived");
        sw.datagrams.clear();
        assertNull(next(sw, Wire.JOIN, 400), "no more JOINs");
        agent.deactivate();
        assertEquals(AgentState.STOPPED, agent.status().state());
        assertFalse(agent.diagnostics.threadsAlive());
    }

    @Test
    void unsupportedVersionFailsTheAgent() throws Exception {
        TestSwitch sw = vl2Switch();
        sw.joinError = new ProtocolError(ErrorCode.UNSUPPORTED_VERSION, 0, 0, "speaks 2");
        PortAgent agent = agent(config(sw));

        assertTrue(await(WAIT, () -> agent.status().state() == AgentState.FAILED), agent.status().toString());
        assertEquals("the switch at " + sw.address() + " does not speak vl2 protocol version 1 (unsupported-version:"
                + " speaks 2): upgrade the agent or the switch so that they speak the same version, then restart the"
                + " agent", agent.status().problem());
    }

    @Test
    void anErrorInAnotherProtocolVersionFailsTheAgent() throws Exception {
        TestSwitch sw = vl2Switch();
        sw.silent = true;
        PortAgent agent = agent(config(sw));
        TestSwitch.Datagram join = next(sw, Wire.JOIN, WAIT);
        ByteBuffer b = ByteBuffer.allocate(64);
        new ProtocolError(ErrorCode.UNSUPPORTED_VERSION, 0, 0, "v2 only").encode(b, 64);
        byte[] error = java.util.Arrays.copyOf(b.array(), b.position());
        error[1] = 2; // as a version 2 switch would send it
        sw.sendRaw(new TestSwitch.Session(0, 0, 0, join.source()), error);

        assertTrue(await(WAIT, () -> agent.status().state() == AgentState.FAILED), agent.status().toString());
        assertTrue(agent.status().problem().startsWith("the switch at " + sw.address() + " answered in vl2 protocol"
                + " version 2; this agent speaks version 1"), agent.status().problem());
    }

    @Test
    void noAnswerIsReportedAfterThreeJoins() throws Exception {
        TestSwitch sw = vl2Switch();
        sw.silent = true;
        PortAgent agent = agent(config(sw), driven(DRIVEN));
        AgentState first = agent.status().state();
        assertTrue(first == AgentState.STARTING || first == AgentState.SWITCH_UNREACHABLE, first.toString());
        long retry = DRIVEN.joinRetryMillis();

        // two JOINs unanswered: not yet a problem; the third, after the back-off (with its jitter), is
        assertTrue(await(WAIT, () -> counters(agent).joins.get() == 1), "no JOIN");
        clock.advance(retry * 3 / 2);
        assertTrue(await(WAIT, () -> counters(agent).joins.get() == 2), "no retry");
        assertNotYet(() -> agent.status().problem() != null, "a problem after two JOINs");
        clock.advance(2 * retry * 3 / 2);
        String expected = "no answer from the switch to JOIN (network 0000000000000000): is a vl2 switch listening at "
                + sw.address() + "? (its vl2 transport listens on UDP 9991 by default); retrying after 1 s, then"
                + " less often (up to every 8 s)";
        assertTrue(await(WAIT, () -> expected.equals(agent.status().problem())), agent.status().toString());
        assertEquals(AgentState.SWITCH_UNREACHABLE, agent.status().state());
        assertEquals(0, agent.status().portId());
        assertEquals(3, counters(agent).joins.get());

        // answering at last: running
        sw.silent = false;
        clock.advance(4 * retry * 3 / 2);
        assertTrue(await(WAIT, () -> agent.status().state() == AgentState.RUNNING), agent.status().toString());
    }

    @Test
    void joinRetriesBackOffWithJitterUpToACapAndStartOverAfterAWelcome() throws Exception {
        TestSwitch sw = vl2Switch();
        sw.silent = true;
        PortAgent agent = agent(config(sw).transportNamed(AgentConfig.TRANSPORT_UDP), driven(DRIVEN));
        assertTrue(await(WAIT, () -> counters(agent).joins.get() == 1), "the first JOIN goes at once");
        long retry = DRIVEN.joinRetryMillis();
        // the clock stands still between the test's moves, so each JOIN goes at the moment the test moved it to
        for (int sent = 1; sent <= JoinBackoff.MAX_DOUBLINGS + 2; sent++) {
            long wait = retry << Math.min(sent - 1, JoinBackoff.MAX_DOUBLINGS);
            long joins = counters(agent).joins.get();
            clock.advance(wait - 1);
            assertFalse(await(100, () -> counters(agent).joins.get() > joins), "JOIN " + (sent + 1) + " sooner than "
                    + wait + " ms after the one before");
            clock.advance(wait / 2 + 1);
            assertTrue(await(WAIT, () -> counters(agent).joins.get() == joins + 1), "JOIN " + (sent + 1)
                    + " not within " + wait * 3 / 2 + " ms of the one before");
        }

        // answered: joined; the next round (the switch went silent) starts again from the retry interval
        sw.silent = false;
        clock.advance((retry << JoinBackoff.MAX_DOUBLINGS) * 3 / 2);
        assertTrue(await(WAIT, () -> agent.status().state() == AgentState.RUNNING), agent.status().toString());
        sw.silent = true;
        long joins = counters(agent).joins.get();
        clock.advance(3 * INTERVAL);
        assertTrue(await(WAIT, () -> counters(agent).joins.get() == joins + 1), "no JOIN at once after the silence");
        clock.advance(retry - 1);
        assertFalse(await(100, () -> counters(agent).joins.get() > joins + 1), "a retry sooner than the interval");
        clock.advance(retry / 2 + 1);
        assertTrue(await(WAIT, () -> counters(agent).joins.get() == joins + 2), "the back-off did not start over");
    }

    @Test
    void joinsRefusedByAClosedPortDoNotBackOffSoTheAgentRejoinsSoonAfterTheSwitchRestarts() throws Exception {
        int port = closedUdpPort(); // each JOIN gets an ICMP port unreachable, as while the switch restarts
        PortAgent agent = agent(new TestConfig().plaintext().switchAddress("127.0.0.1:" + port)
                .identityFile(identityFile().toString()).transportNamed(AgentConfig.TRANSPORT_UDP), driven(DRIVEN));
        assertTrue(await(WAIT, () -> counters(agent).joins.get() == 1), "the first JOIN goes at once");
        assertTrue(await(WAIT, () -> agent.status().state() == AgentState.SWITCH_UNREACHABLE), agent.status()
                .toString());
        long retry = DRIVEN.joinRetryMillis();
        // refused within the hold (30 s of this clock, longer than the moves below): each wait stays at most
        // retry + half of it, where unanswered ones grow to 8 retries (joinRetriesBackOffWithJitter... above)
        for (int sent = 1; sent <= JoinBackoff.MAX_DOUBLINGS + 2; sent++) {
            long joins = counters(agent).joins.get();
            // each JOIN's refusal is what keeps the next wait short: the agent has read it before the clock moves
            assertTrue(await(WAIT, () -> counters(agent).refusals.get() >= joins), "JOIN " + sent + " not refused");
            clock.advance(retry * 3 / 2);
            assertTrue(await(WAIT, () -> counters(agent).joins.get() == joins + 1), "JOIN " + (sent + 1)
                    + " not within " + retry * 3 / 2 + " ms of the one before, though refused: " + agent.status());
        }

        // the switch is back on its port: the agent joins within one more retry. The last refusal is read first: read
        // after the move below it would date from the WELCOME's moment, and a tie counts as refused still
        long joins = counters(agent).joins.get();
        assertTrue(await(WAIT, () -> counters(agent).refusals.get() >= joins), "the last JOIN not refused");
        TestSwitch sw = closeLater(new TestSwitch(InetAddress.getLoopbackAddress(), port)).speakVl2();
        clock.advance(retry * 3 / 2);
        assertTrue(await(WAIT, () -> agent.status().state() == AgentState.RUNNING), agent.status().toString());
        assertFalse(sw.joins.isEmpty(), "the switch got the JOIN");
    }

    @Test
    void aRawSwitchIsRecognisedByWhatItSends() throws Exception {
        TestSwitch raw = TestSwitch.onLoopback(); // does not speak vl2: the JOIN is just a datagram to it
        closeLater(raw);
        PortAgent agent = agent(config(raw));
        TestSwitch.Datagram join = raw.receive(WAIT);
        assertNotNull(join);
        assertEquals(Wire.JOIN, join.type());
        raw.send(frame(60, 1), join.source()); // a flooded frame, as a raw switch sends them

        assertTrue(await(WAIT, () -> agent.status().problem() != null
                && agent.status().problem().endsWith("it sends datagrams that are not vl2 messages: if it is a raw-mode"
                + " switch, set mode = raw; retrying after 100 ms, then less often (up to every 800 ms)")),
                agent.status().toString());
        assertTrue(factory.last.toKernel.isEmpty(), "a raw frame is not written to the TAP in vl2 mode");
    }

    @Test
    void portUnreachableWhileJoining() throws Exception {
        int port = closedUdpPort();
        PortAgent agent = agent(new TestConfig().plaintext().switchAddress("127.0.0.1:" + port)
                .identityFile(identityFile().toString()));
        assertTrue(await(WAIT, () -> agent.status().problem() != null
                && agent.status().problem().startsWith("ICMP port unreachable from 127.0.0.1:" + port)),
                agent.status().toString());
        assertEquals(AgentState.SWITCH_UNREACHABLE, agent.status().state());
    }

    // ---------------------------------------------------------------------------------------------------------
    // Stopping

    @Test
    void stoppingSaysLeave() throws Exception {
        TestSwitch sw = vl2Switch();
        PortAgent agent = joined(config(sw));
        TestSwitch.Session port = sw.sessionOf(member());
        FakeTap tap = factory.last;

        agent.deactivate();

        Leave leave = sw.leaves.poll(WAIT, TimeUnit.MILLISECONDS);
        assertNotNull(leave, "no LEAVE");
        assertEquals(port.port(), leave.port());
        assertEquals(port.token(), leave.token());
        assertTrue(await(WAIT, () -> sw.sessionOf(port.member()) == null), "the switch removed the port");
        assertFalse(tap.isOpen());
        assertFalse(agent.diagnostics.threadsAlive());
        assertEquals(AgentState.STOPPED, agent.status().state());
        assertNotNull(next(sw, Wire.LEAVE, WAIT));
        assertNull(sw.datagrams.poll(200, TimeUnit.MILLISECONDS), "nothing after the LEAVE");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Identity

    @Test
    void identityFileIsCreatedOwnerOnlyAndReusedAndGivesTheMemberIdInPlaintextToo() throws Exception {
        TestSwitch sw = vl2Switch();
        Path file = identityFile();
        assertFalse(Files.exists(file.getParent()));
        PortAgent first = joined(config(sw));

        String text = Files.readString(file, StandardCharsets.US_ASCII);
        assertTrue(text.contains("\nprivate-key = "), text);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
        Identity identity = Identity.load(file);
        assertEquals(MemberIdentity.format(identity.memberId()), first.status().memberId());
        assertEquals(identity.fingerprint(), first.status().publicKey());
        assertEquals(identity.memberId(), sw.joins.poll(WAIT, TimeUnit.MILLISECONDS).member(), "the key's member id");
        first.deactivate();

        sw.joins.clear();
        PortAgent second = joined(config(sw));
        assertEquals(text, Files.readString(file, StandardCharsets.US_ASCII), "reused, not rewritten");
        assertEquals(MemberIdentity.format(identity.memberId()), second.status().memberId());
        assertEquals(identity.memberId(), sw.joins.poll(WAIT, TimeUnit.MILLISECONDS).member());
        assertEquals(List.of("10.1.1.5/24"), second.status().addresses(), "the member's lease");
        try (var files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList(), "no temporary files left");
        }
    }

    @Test
    void aCorruptIdentityFileIsAClearErrorAndLeftAlone() throws Exception {
        TestSwitch sw = vl2Switch();
        Path file = identityFile();
        Files.createDirectories(file.getParent());
        Files.writeString(file, "not an id\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> agent(config(sw)));
        // vl2-crypto's message names the file, what is wrong and the fix
        assertTrue(e.getMessage().startsWith("Port agent not started: Private key file " + file + " is corrupt (line"
                + " 1: "), e.getMessage());
        assertTrue(e.getMessage().contains("delete it"), e.getMessage());
        assertEquals("not an id\n", Files.readString(file));
        assertEquals(0, factory.created, "no TAP device");
        assertNull(sw.joins.poll(200, TimeUnit.MILLISECONDS));

        Files.writeString(file, "");
        e = assertThrows(IllegalStateException.class, () -> agent(config(sw)));
        assertTrue(e.getMessage().contains("is corrupt (no private-key line)"), e.getMessage());

        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        e = assertThrows(IllegalStateException.class, () -> agent(config(sw)));
        assertTrue(e.getMessage().startsWith("Port agent not started: Private key file " + file + " is accessible by"
                + " group or others"), e.getMessage());
        assertTrue(e.getMessage().endsWith("chmod 600 " + file), e.getMessage());

        Files.delete(file);
        Files.createDirectory(file); // a directory where the file should be
        e = assertThrows(IllegalStateException.class, () -> agent(config(sw)));
        assertEquals("Port agent not started: identity file " + file + " is a directory: remove it, or set"
                + " identity.file to a file (created with a new key pair on the agent's first start)", e.getMessage());
        assertEquals(0, factory.created, "no TAP device");
    }

    @Test
    void anOldStyleMemberIdFileIsRefusedAndLeftAlone() throws Exception {
        TestSwitch sw = vl2Switch();
        Path file = identityFile();
        Files.createDirectories(file.getParent());
        Files.writeString(file, "0123456789abcdef\n"); // what agents before encrypted sessions wrote

        for (TestConfig c : List.of(config(sw), config(sw).encryption(true).switchKey(Identity.generate()
                .fingerprint()))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> agent(c));
            assertEquals("Port agent not started: identity file " + file + " holds an old-style member id"
                    + " (0123456789abcdef, from an agent before encrypted sessions), not a key pair: delete it to"
                    + " create a key pair (this host then becomes a new member: it gets a new port and address, and"
                    + " private networks must authorize its public key)", e.getMessage());
        }
        assertEquals("0123456789abcdef\n", Files.readString(file), "never overwritten");
        assertEquals(0, factory.created, "no TAP device");
        assertNull(sw.joins.poll(200, TimeUnit.MILLISECONDS));
    }

    @Test
    void identityFileDefaultsUnderKarafData() {
        assertEquals(Path.of("/opt/vl2/data/vl2/agent-identity"),
                MemberIdentity.resolve("${karaf.data}/vl2/agent-identity", "/opt/vl2/data"));
        assertEquals(Path.of("/opt/vl2/data/vl2/agent-identity"), MemberIdentity.resolve("", "/opt/vl2/data"));
        assertEquals(Path.of("/etc/vl2/id"), MemberIdentity.resolve("/etc/vl2/id", null));
        Path fallback = MemberIdentity.resolve("${karaf.data}/vl2/agent-identity", null);
        assertTrue(fallback.startsWith(Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath()), fallback
                .toString());
        assertTrue(fallback.endsWith(Path.of("vl2/agent-identity")), fallback.toString());
        assertNotEquals(Path.of("vl2/agent-identity").toAbsolutePath(), fallback);
    }
}

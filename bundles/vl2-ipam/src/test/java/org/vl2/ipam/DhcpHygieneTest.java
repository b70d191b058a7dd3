package org.vl2.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.ipam.DhcpTestFrames.ACK;
import static org.vl2.ipam.DhcpTestFrames.OFFER;
import static org.vl2.ipam.DhcpTestFrames.RELEASE;
import static org.vl2.ipam.DhcpTestFrames.REQUEST;
import static org.vl2.ipam.DhcpTestFrames.ip4;
import static org.vl2.ipam.Ipv4PoolTest.ip;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vl2.api.MacAddress;
import org.vl2.ipam.DhcpTestFrames.Client;
import org.vl2.ipam.DhcpTestFrames.Reply;

/**
 * Per-port hygiene of the DHCP server: a request is only served for the station that sent it, and lease writes
 * happen off the thread that handles frames (the switch's receive thread).
 */
class DhcpHygieneTest {

    private static final long SERVER_MAC = 0x0200_5e00_00feL;
    private static final long CLIENT = 0x5254_0012_3456L;
    private static final long VICTIM = 0x5254_0012_3457L;
    private static final Ipv4Pool POOL = Ipv4Pool.parse("10.1.1.0/24", null);

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-21T10:00:00Z"));
    private final ByteBuffer out = ByteBuffer.allocate(2048);

    @TempDir
    Path dir;

    private DhcpServer server(LeaseTable leases) {
        return new DhcpServer(leases, MacAddress.of(SERVER_MAC), 1400, Duration.ofHours(1), null, null);
    }

    /** DISCOVER and REQUEST from {@code mac}: the address it was acknowledged. */
    private int dora(DhcpServer s, long mac) {
        assertEquals(DhcpServer.REPLY, s.handle(new Client(mac).build(), out));
        Reply offer = Reply.parse(out);
        assertEquals(OFFER, offer.messageType());
        assertEquals(0, DhcpFrames.ackedAddress(out), "an offer leases nothing");
        Client req = new Client(mac).type(REQUEST);
        req.requested = offer.yiaddr;
        req.serverId = POOL.serverInt();
        assertEquals(DhcpServer.REPLY, s.handle(req.build(), out));
        assertEquals(ACK, Reply.parse(out).messageType());
        assertEquals(offer.yiaddr, DhcpFrames.ackedAddress(out), "the ACK's address");
        return offer.yiaddr;
    }

    @Test
    void aRequestForAnotherMacIsRefusedAndCounted() throws Exception {
        LeaseTable leases = LeaseTable.load(POOL, null, clock, Duration.ofMinutes(3));
        DhcpServer s = server(leases);
        Client forged = new Client(VICTIM);
        forged.ethSrc = CLIENT; // asks for VICTIM's MAC from CLIENT's
        assertEquals(DhcpServer.REFUSED, s.handle(forged.build(), out));
        assertEquals(1, s.spoofed());
        assertTrue(leases.leases().isEmpty(), "no address reserved for the forged MAC");

        int victims = dora(s, VICTIM);
        Client release = new Client(VICTIM).type(RELEASE);
        release.ciaddr = victims;
        release.serverId = POOL.serverInt();
        release.ethSrc = CLIENT;
        assertEquals(DhcpServer.REFUSED, s.handle(release.build(), out));
        assertEquals(2, s.spoofed());
        assertEquals(ip4(leases.current("mac:52:54:00:12:34:57").orElseThrow().address().getHostAddress()), victims,
                "the victim keeps its lease");

        Client tagged = new Client(CLIENT);
        tagged.vlanTci = 7;
        assertEquals(DhcpServer.REPLY, s.handle(tagged.build(), out), "the station asking for itself is served");
        assertEquals(2, s.spoofed());
    }

    @Test
    void framesForTheServerPortAreRecognisedCheaply() {
        assertTrue(DhcpFrames.isToServerPort(new Client(CLIENT).build()));
        Client tagged = new Client(CLIENT);
        tagged.vlanTci = 5;
        assertTrue(DhcpFrames.isToServerPort(tagged.build()));
        assertFalse(DhcpFrames.isToServerPort(DhcpTestFrames.arpRequest(CLIENT, ip4("10.1.1.2"), ip4("10.1.1.254"),
                -1)));
        assertFalse(DhcpFrames.isToServerPort(DhcpTestFrames.ipv4Udp(CLIENT, -1, 0, -1, 68, 53, new byte[40])));
        assertFalse(DhcpFrames.isToServerPort(ByteBuffer.allocate(13)));
    }

    @Test
    void leaseWritesWaitForTheWriterAndAreCoalesced() throws Exception {
        Path file = dir.resolve("net.leases");
        Queue<Runnable> queued = new ArrayDeque<>();
        Executor manual = queued::add;
        LeaseTable leases = LeaseTable.load(POOL, file, clock, Duration.ofMinutes(3), manual);
        DhcpServer s = server(leases);
        int a = dora(s, CLIENT);
        int b = dora(s, VICTIM);
        leases.lease("member:0123456789abcdef", null, null);
        assertFalse(Files.exists(file), "handling frames wrote nothing to disk");
        assertEquals(1, queued.size(), "three changes, one queued write");

        queued.remove().run();
        List<String> lines = Files.readAllLines(file).stream().filter(l -> !l.startsWith("#")).toList();
        assertEquals(3, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("mac:52:54:00:12:34:56 " + Ipv4Pool.format(a) + " "), lines.toString());
        assertTrue(lines.get(1).startsWith("mac:52:54:00:12:34:57 " + Ipv4Pool.format(b) + " "), lines.toString());

        leases.release("member:0123456789abcdef");
        assertEquals(1, queued.size(), "a later change queues the next write");
        leases.flush(); // what a switch does when it stops
        assertEquals(2, Files.readAllLines(file).stream().filter(l -> !l.startsWith("#")).count());
        queued.remove().run(); // the queued write finds nothing left to write
        assertEquals(2, Files.readAllLines(file).stream().filter(l -> !l.startsWith("#")).count());
    }

    @Test
    void aBlockedWriterDoesNotHoldUpDhcpAndClosingWritesEverything() throws Exception {
        Path file = dir.resolve("slow/net.leases");
        LeaseWriter writer = new LeaseWriter("test-lease-writer");
        CountDownLatch disk = new CountDownLatch(1);
        writer.execute(() -> {
            try {
                disk.await(); // a disk that does not answer until the test says so
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        LeaseTable leases = LeaseTable.load(POOL, file, clock, Duration.ofMinutes(3), writer);
        DhcpServer s = server(leases);
        int a = dora(s, CLIENT); // would hang here if the ACK waited for the disk
        assertFalse(Files.exists(file));

        disk.countDown();
        assertTrue(writer.close(Duration.ofSeconds(30)), "the writer finished its queue");
        leases.flush();
        assertTrue(Files.readString(file).contains("mac:52:54:00:12:34:56 " + Ipv4Pool.format(a) + " "));

        // after the writer is closed a change is written by the thread making it: nothing is lost at shutdown
        leases.lease("member:0123456789abcdef", ip("10.1.1.9"), null);
        assertTrue(Files.readString(file).contains("member:0123456789abcdef 10.1.1.9 -"));
    }
}

package org.vl2.agent.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * What the kernel answers inside a TAP write (an echo reply, a TCP ACK) leaves from the receive pump's thread, without
 * the send pump's wake-up ({@link TapToSwitch#answer}); traffic that is not answered stops costing the receive pump
 * its look at the TAP. The fake TAP's send pump stays "asleep" (not woken by queued frames), so only the receive pump
 * can send the answer.
 */
class KernelAnswerTest extends AgentTestBase {

    @Test
    void anAnswerMadeInsideTheWriteLeavesWithoutTheSendPump() throws Exception {
        Lab lab = lab();
        TestSwitch sw = lab.sw();
        PortAgent agent = lab.agent();
        FakeTap tap = lab.tap();
        InetSocketAddress from = lab.from();
        tap.readerAsleep = true;
        tap.answers = f -> answerTo(f);
        try {
            for (int i = 1; i <= 5; i++) {
                byte[] request = frame(60, i);
                sw.send(request, from);
                assertArrayEquals(request, tap.toKernel.poll(WAIT, TimeUnit.MILLISECONDS), "request " + i);
                TestSwitch.Datagram d = sw.receive(WAIT);
                assertNotNull(d, "the answer to request " + i + " did not reach the switch");
                assertArrayEquals(answerTo(request), d.data());
            }
            assertEquals(5, counters(agent).answered.get());
        } finally {
            tap.readerAsleep = false;
        }
    }

    /**
     * The send pump woken by the answer the receive pump is sending (it holds the turn, held here inside its TAP
     * read) parks until the receive pump gives the turn back, rather than yielding in a loop; then it reads on.
     */
    @Test
    void aSendPumpWokenDuringAnAnswerParksUntilTheTurnIsFree() throws Exception {
        Lab lab = lab();
        TestSwitch sw = lab.sw();
        PortAgent agent = lab.agent();
        FakeTap tap = lab.tap();
        InetSocketAddress from = lab.from();
        TapToSwitch sender = sendPump(agent);
        java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
        tap.readerAsleep = true;
        tap.answers = f -> answerTo(f);
        tap.readGate = gate;
        try {
            byte[] request = frame(60, 1);
            sw.send(request, from);
            assertArrayEquals(request, tap.toKernel.poll(WAIT, TimeUnit.MILLISECONDS));
            assertTrue(await(WAIT, () -> tap.heldReads.get() == 1), "the receive pump reads the answer");
            tap.readerAsleep = false; // the send pump wakes to the queued answer, its turn taken
            assertTrue(await(WAIT, sender::parkedForTurn), "the send pump parks for the turn");
            tap.readGate = null;
            gate.countDown();
            TestSwitch.Datagram d = sw.receive(WAIT);
            assertNotNull(d, "the answer did not reach the switch");
            assertArrayEquals(answerTo(request), d.data());
            assertEquals(1, counters(agent).answered.get(), "sent by the receive pump");
            assertTrue(await(WAIT, () -> !sender.parkedForTurn() && tap.waiting), "the send pump waits again");
            byte[] next = frame(60, 2);
            tap.fromKernel.add(next);
            TestSwitch.Datagram n = sw.receive(WAIT);
            assertNotNull(n, "the send pump did not read on");
            assertArrayEquals(next, n.data());
        } finally {
            tap.readGate = null;
            gate.countDown();
            tap.readerAsleep = false;
        }
    }

    @Test
    void unansweredTrafficStopsTheLooks() throws Exception {
        TestSwitch sw = loopbackSwitch();
        agent(new TestConfig().raw().switchAddress(sw.address()).tapName("vl2a0"), InetAddress::getByName);
        FakeTap tap = factory.last;
        InetSocketAddress from = agentAddress(sw, tap);
        assertTrue(await(WAIT, () -> tap.waiting), "the send pump does not wait");
        tap.readerAsleep = true;
        try {
            int before = tap.emptyReads.get();
            for (int i = 1; i <= SwitchToTap.ANSWER_PROBE - 2; i++) {
                byte[] f = frame(60, i);
                sw.send(f, from);
                assertArrayEquals(f, tap.toKernel.poll(WAIT, TimeUnit.MILLISECONDS), "frame " + i);
            }
            // the look after the last frame may still be under way
            assertTrue(await(WAIT, () -> tap.emptyReads.get() - before == SwitchToTap.ANSWER_MISSES));
            assertEquals(SwitchToTap.ANSWER_MISSES, tap.emptyReads.get() - before, "looks that found nothing");
        } finally {
            tap.readerAsleep = false;
        }
    }

    /** A raw agent on a loopback switch, its fake TAP, and the agent's socket as the switch sees it. */
    private record Lab(TestSwitch sw, PortAgent agent, FakeTap tap, InetSocketAddress from) {
    }

    /** {@link Lab}, once the send pump waits on the TAP. */
    private Lab lab() throws Exception {
        TestSwitch sw = loopbackSwitch();
        PortAgent agent = agent(new TestConfig().raw().switchAddress(sw.address()).tapName("vl2a0"),
                InetAddress::getByName);
        FakeTap tap = factory.last;
        InetSocketAddress from = agentAddress(sw, tap);
        assertTrue(await(WAIT, () -> tap.waiting), "the send pump does not wait");
        return new Lab(sw, agent, tap, from);
    }

    /** The agent's socket, from a first frame it sends (the switch learns where to send from it). */
    private static InetSocketAddress agentAddress(TestSwitch sw, FakeTap tap) throws Exception {
        tap.fromKernel.add(frame(60, 0));
        TestSwitch.Datagram d = sw.receive(WAIT);
        assertNotNull(d, "the switch got nothing");
        return d.source();
    }

    /** "The kernel's" answer to a frame: the frame with its last byte flipped. */
    private static byte[] answerTo(byte[] frame) {
        byte[] a = frame.clone();
        a[a.length - 1] ^= (byte) 0xff;
        return a;
    }
}

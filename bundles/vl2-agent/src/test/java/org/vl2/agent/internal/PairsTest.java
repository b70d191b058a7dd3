package org.vl2.agent.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.vl2.crypto.CipherSuite;
import org.vl2.protocol.Pair;

/**
 * {@link Pairs}: which pair a frame from the TAP goes out under (by VLAN, source and destination MAC, tagged or not),
 * which one an index names, and what the control thread does with PAIRs: install, replace, refuse beyond the
 * capacity or for an AEAD or lifetime it cannot use, revoke (idempotent), clear, expire.
 */
class PairsTest {

    static final long A = 0x02_76_6c_32_00_01L;
    static final long B = 0x02_76_6c_32_00_02L;
    static final long C = 0x02_76_6c_32_00_03L;
    static final int AES = CipherSuite.AES_256_GCM.wireId();
    private static final long NOW = 1_000_000_000L;

    private final Counters counters = new Counters();
    private final Pairs pairs = new Pairs(Pairs.MAX, counters);

    static byte[] key(int seed) {
        byte[] k = new byte[Pair.KEY_LENGTH];
        Arrays.fill(k, (byte) seed);
        return k;
    }

    static Pair pair(int index, int role, int vlan, long source, long destination) {
        return new Pair(0, index, role, AES, vlan, source, destination, 60, key(index));
    }

    /** An Ethernet frame from {@code source} to {@code destination}, 802.1Q-tagged unless {@code vlan} is untagged. */
    static byte[] frame(int vlan, long source, long destination, int length) {
        ByteBuffer f = ByteBuffer.allocate(length);
        putMac(f, 0, destination);
        putMac(f, 6, source);
        if (vlan == Pair.UNTAGGED) {
            f.putShort(12, (short) 0x0800);
        } else {
            f.putShort(12, (short) 0x8100).putShort(14, (short) (0x2000 | vlan)).putShort(16, (short) 0x0800);
        }
        for (int i = 18; i < length; i++) {
            f.put(i, (byte) i);
        }
        return f.array();
    }

    private static void putMac(ByteBuffer f, int at, long mac) {
        for (int i = 0; i < 6; i++) {
            f.put(at + i, (byte) (mac >>> (40 - 8 * i)));
        }
    }

    /** The send pair for {@code frame}, looked up where the send pump has it: 16 bytes into its buffer. */
    private Pairs.Send lookup(byte[] frame) {
        ByteBuffer buf = ByteBuffer.allocate(16 + frame.length + 16);
        buf.put(16, frame);
        return pairs.sending(buf, 16, frame.length);
    }

    @Test
    void aFrameGoesOutUnderThePairOfItsVlanSourceAndDestination() {
        assertNull(lookup(frame(Pair.UNTAGGED, A, B, 60)), "no pairs: the session path");
        assertEquals(Pair.TAKEN, pairs.take(pair(11, Pair.SEND, Pair.UNTAGGED, A, B), NOW));
        assertEquals(Pair.TAKEN, pairs.take(pair(12, Pair.SEND, 7, A, B), NOW));
        assertEquals(Pair.TAKEN, pairs.take(pair(13, Pair.SEND, 0, A, B), NOW));

        assertEquals(11, lookup(frame(Pair.UNTAGGED, A, B, 60)).index());
        assertEquals(12, lookup(frame(7, A, B, 60)).index(), "the VLAN id is the low 12 bits (priority bits set)");
        assertEquals(13, lookup(frame(0, A, B, 60)).index(), "VLAN 0 (priority tagged) is not untagged");
        assertNull(lookup(frame(8, A, B, 60)), "another VLAN");
        assertNull(lookup(frame(Pair.UNTAGGED, B, A, 60)), "the other direction is another pair");
        assertNull(lookup(frame(Pair.UNTAGGED, A, C, 60)), "another destination");
        assertNull(lookup(frame(Pair.UNTAGGED, C, B, 60)), "another source");
        assertNull(pairs.receiving(11), "a send pair opens nothing");
        assertEquals(3, counters.pairsTaken.get());
        // an 802.1ad outer tag is never a pair's, though the switch keys its MAC table by it
        byte[] qinq = frame(Pair.UNTAGGED, A, B, 60);
        ByteBuffer.wrap(qinq).putShort(12, (short) 0x88A8).putShort(14, (short) 0).putShort(16, (short) 0x8100);
        assertNull(lookup(qinq), "802.1ad: the session path");
        assertNull(lookup(Arrays.copyOf(frame(0, A, B, 60), 17)), "a tag cut short: the session path");
    }

    @Test
    void theSameOfferAgainKeepsThePairsCounterAndReplayWindow() throws Exception {
        Pair send = pair(41, Pair.SEND, Pair.UNTAGGED, A, B);
        assertEquals(Pair.TAKEN, pairs.take(send, NOW));
        Pairs.Send first = lookup(frame(Pair.UNTAGGED, A, B, 60));
        ByteBuffer b = ByteBuffer.allocate(16 + 60 + 16);
        first.keys().seal(b, 0, 16, 60, NOW);
        assertEquals(1, first.keys().sent());
        assertEquals(Pair.TAKEN, pairs.take(send, NOW), "the switch missed the PAIR-ACK and sent it again");
        assertSame(first, lookup(frame(Pair.UNTAGGED, A, B, 60)),
                "same keys kept: a new Session would seal counter 0 again under the same key");
        assertEquals(Pair.TAKEN, pairs.take(new Pair(0, 41, Pair.SEND, AES, Pair.UNTAGGED, A, B, 60, key(99)), NOW));
        assertNotSame(first, lookup(frame(Pair.UNTAGGED, A, B, 60)), "a new key under the index: new keys");

        Pair receive = pair(42, Pair.RECEIVE, Pair.UNTAGGED, B, A);
        assertEquals(Pair.TAKEN, pairs.take(receive, NOW));
        Pairs.Receive r = pairs.receiving(42);
        assertEquals(Pair.TAKEN, pairs.take(receive, NOW));
        assertSame(r.keys(), pairs.receiving(42).keys(), "a new Session would forget which counters it opened");
    }

    @Test
    void anIndexNamesItsReceivePairWhichTakesOnlyItsOwnFlow() {
        assertEquals(Pair.TAKEN, pairs.take(pair(21, Pair.RECEIVE, 5, B, A), NOW));
        Pairs.Receive r = pairs.receiving(21);
        assertNotNull(r);
        assertNull(pairs.receiving(22));
        assertNull(lookup(frame(5, B, A, 60)), "a receive pair seals nothing");

        ByteBuffer ok = ByteBuffer.wrap(frame(5, B, A, 60));
        assertTrue(Pairs.matches(r, ok, 0, 60));
        assertFalse(Pairs.matches(r, ByteBuffer.wrap(frame(6, B, A, 60)), 0, 60), "another VLAN");
        assertFalse(Pairs.matches(r, ByteBuffer.wrap(frame(Pair.UNTAGGED, B, A, 60)), 0, 60), "untagged");
        assertFalse(Pairs.matches(r, ByteBuffer.wrap(frame(5, C, A, 60)), 0, 60), "another source");
        assertFalse(Pairs.matches(r, ByteBuffer.wrap(frame(5, B, C, 60)), 0, 60), "another destination");
        Pairs.Receive untagged = take(pair(23, Pair.RECEIVE, Pair.UNTAGGED, B, A));
        byte[] qinq = frame(Pair.UNTAGGED, B, A, 60);
        ByteBuffer.wrap(qinq).putShort(12, (short) 0x88A8);
        assertTrue(Pairs.matches(untagged, ByteBuffer.wrap(frame(Pair.UNTAGGED, B, A, 60)), 0, 60));
        assertFalse(Pairs.matches(untagged, ByteBuffer.wrap(qinq), 0, 60), "an 802.1ad frame is not untagged");
    }

    private Pairs.Receive take(Pair p) {
        assertEquals(Pair.TAKEN, pairs.take(p, NOW));
        return pairs.receiving(p.index());
    }

    @Test
    void aSendForAFlowHeldReplacesItAndAReceiveForAnIndexHeldReplacesIt() {
        pairs.take(pair(31, Pair.SEND, Pair.UNTAGGED, A, B), NOW);
        Pairs.Send old = lookup(frame(Pair.UNTAGGED, A, B, 60));
        assertEquals(Pair.TAKEN, pairs.take(pair(32, Pair.SEND, Pair.UNTAGGED, A, B), NOW));
        assertEquals(1, pairs.sendCount(), "one flow, one pair");
        Pairs.Send now = lookup(frame(Pair.UNTAGGED, A, B, 60));
        assertEquals(32, now.index());
        assertFalse(old.keys() == now.keys(), "new keys");

        pairs.take(pair(33, Pair.RECEIVE, Pair.UNTAGGED, B, A), NOW);
        assertEquals(Pair.TAKEN, pairs.take(pair(33, Pair.RECEIVE, 9, C, A), NOW));
        assertEquals(1, pairs.receiveCount());
        assertEquals(C, pairs.receiving(33).source());
        assertEquals(9, pairs.receiving(33).vlan());
    }

    @Test
    void beyondSixtyFourPairsEachWayAPairIsRefusedButAReplacementIsNot() {
        for (int i = 0; i < Pairs.MAX; i++) {
            assertEquals(Pair.TAKEN, pairs.take(pair(100 + i, Pair.SEND, i, A, B), NOW));
            assertEquals(Pair.TAKEN, pairs.take(pair(1000 + i, Pair.RECEIVE, i, B, A), NOW));
        }
        assertEquals(Pair.REFUSED, pairs.take(pair(999, Pair.SEND, 100, A, B), NOW));
        assertEquals(Pair.REFUSED, pairs.take(pair(9999, Pair.RECEIVE, 100, B, A), NOW));
        assertEquals(2, counters.pairsRefused.get());
        assertNull(lookup(frame(100, A, B, 60)));
        assertNull(pairs.receiving(9999));
        assertEquals(Pair.TAKEN, pairs.take(pair(998, Pair.SEND, 3, A, B), NOW), "the flow of VLAN 3 is held");
        assertEquals(998, lookup(frame(3, A, B, 60)).index());
        assertEquals(Pair.TAKEN, pairs.take(pair(1003, Pair.RECEIVE, 50, B, A), NOW), "index 1003 is held");
        assertEquals(Pairs.MAX, pairs.sendCount());
        assertEquals(Pairs.MAX, pairs.receiveCount());
    }

    @Test
    void anAeadItDoesNotHaveNoLifetimeOrPairsOffAreRefused() {
        assertEquals(Pair.REFUSED, pairs.take(new Pair(0, 41, Pair.SEND, 99, Pair.UNTAGGED, A, B, 60, key(1)), NOW));
        assertEquals(Pair.REFUSED, pairs.take(new Pair(0, 42, Pair.SEND, AES, Pair.UNTAGGED, A, B, 0, key(1)), NOW));
        Pairs off = new Pairs(0, counters);
        assertEquals(Pair.REFUSED, off.take(pair(43, Pair.RECEIVE, Pair.UNTAGGED, B, A), NOW));
        assertEquals(Pair.TAKEN, off.take(Pair.revoke(0, 43, Pair.UNTAGGED, B, A), NOW), "nothing to revoke: taken");
        assertEquals(3, counters.pairsRefused.get());
        assertEquals(0, pairs.sendCount() + off.receiveCount());
    }

    @Test
    void aRevokeEndsThePairOfItsIndexEitherWayAndAgainIsStillTaken() {
        pairs.take(pair(51, Pair.SEND, Pair.UNTAGGED, A, B), NOW);
        pairs.take(pair(52, Pair.SEND, Pair.UNTAGGED, A, C), NOW);
        pairs.take(pair(51, Pair.RECEIVE, Pair.UNTAGGED, B, A), NOW);
        pairs.take(pair(53, Pair.RECEIVE, Pair.UNTAGGED, C, A), NOW);

        assertEquals(Pair.TAKEN, pairs.take(Pair.revoke(0, 51, Pair.UNTAGGED, A, B), NOW));
        assertNull(lookup(frame(Pair.UNTAGGED, A, B, 60)));
        assertNull(pairs.receiving(51));
        assertEquals(52, lookup(frame(Pair.UNTAGGED, A, C, 60)).index(), "other pairs stay");
        assertNotNull(pairs.receiving(53));
        assertEquals(Pair.TAKEN, pairs.take(Pair.revoke(0, 51, Pair.UNTAGGED, A, B), NOW), "idempotent");
        assertEquals(Pair.TAKEN, pairs.take(Pair.revoke(0, 77, Pair.UNTAGGED, A, B), NOW), "unknown: taken");
        assertEquals(3, counters.pairsRevoked.get());
        assertEquals(1, pairs.sendCount());
        assertEquals(1, pairs.receiveCount());
    }

    @Test
    void clearDropsEveryPairAndExpiryOnlyTheExpiredOnes() {
        pairs.take(pair(61, Pair.SEND, Pair.UNTAGGED, A, B), NOW);
        pairs.take(new Pair(0, 62, Pair.SEND, AES, Pair.UNTAGGED, A, C, 1, key(2)), NOW);
        pairs.take(new Pair(0, 63, Pair.RECEIVE, AES, Pair.UNTAGGED, B, A, 1, key(3)), NOW);
        pairs.take(pair(64, Pair.RECEIVE, Pair.UNTAGGED, C, A), NOW);

        pairs.expire(NOW + 999_999_999L);
        assertEquals(2, pairs.sendCount(), "not yet");
        pairs.expire(NOW + 1_000_000_000L);
        assertNull(lookup(frame(Pair.UNTAGGED, A, C, 60)), "its second is over");
        assertNull(pairs.receiving(63));
        assertEquals(61, lookup(frame(Pair.UNTAGGED, A, B, 60)).index());
        Pairs.Receive kept = pairs.receiving(64);
        assertSame(kept, pairs.receiving(64));

        pairs.clear();
        assertEquals(0, pairs.sendCount());
        assertEquals(0, pairs.receiveCount());
        assertNull(lookup(frame(Pair.UNTAGGED, A, B, 60)));
        assertNull(pairs.receiving(64));
    }

    @Test
    void aDataThreadDropsThePairItFoundExpiredButNotItsReplacement() {
        pairs.take(pair(71, Pair.SEND, Pair.UNTAGGED, A, B), NOW);
        Pairs.Send expired = lookup(frame(Pair.UNTAGGED, A, B, 60));
        pairs.take(pair(72, Pair.SEND, Pair.UNTAGGED, A, B), NOW); // the switch rekeyed the flow meanwhile
        pairs.expired(expired);
        assertEquals(72, lookup(frame(Pair.UNTAGGED, A, B, 60)).index());
        pairs.expired(lookup(frame(Pair.UNTAGGED, A, B, 60)));
        assertEquals(0, pairs.sendCount());
    }
}

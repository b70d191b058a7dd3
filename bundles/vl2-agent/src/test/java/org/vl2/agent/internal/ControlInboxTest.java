package org.vl2.agent.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vl2.protocol.ErrorCode;
import org.vl2.protocol.KeyReply;
import org.vl2.protocol.ProtocolError;
import org.vl2.protocol.Wire;

/**
 * The receive pump's two clear-text control messages that the shared framing hands to the control thread, KEY-REPLY
 * and an ERROR of another protocol version: when the control inbox is full they count as queue_full (valid messages
 * the agent had no room for), not as malformed. The inbox is filled directly, with no control thread draining it,
 * so nothing here depends on timing.
 */
class ControlInboxTest {

    private static final InetSocketAddress SWITCH = new InetSocketAddress("127.0.0.1", 9);

    @TempDir
    Path dir;

    @Test
    void aKeyReplyOrAForeignErrorThatAFullInboxCannotTakeCountsAsQueueFull() {
        // encrypted, trust on first use and no key known yet: the join round starts with a KEY-REQUEST
        AgentConfig.Settings settings = AgentConfig.validate(new TestConfig().switchAddress("127.0.0.1:9")
                .trustOnFirstUse(true).identityFile(dir.resolve("identity").toString()));
        Lifecycle life = new Lifecycle("");
        life.run();
        Counters counters = new Counters();
        LinkKeeper links = new LinkKeeper(settings, java.net.InetAddress::getByName, Timing.DEFAULT, life, counters);
        SwitchTrust trust = SwitchTrust.load(settings, "", new AgentInstances());
        Vl2Session session = new Vl2Session(settings, trust, "inbox", 1500, Timing.DEFAULT, life,
                (message, log) -> { }, counters, links, null);
        FrameCodec codec = new SealedCodec(new CodecContext(counters, links, null, 2048), session);

        ByteBuffer keyReply = ByteBuffer.allocate(64);
        new KeyReply(new byte[KeyReply.KEY_LENGTH]).encode(keyReply);
        keyReply.flip();
        ByteBuffer foreignError = ByteBuffer.allocate(64);
        new ProtocolError(ErrorCode.UNSUPPORTED_VERSION, 0, 0, "version 2 only").encode(foreignError, 64);
        foreignError.flip();
        foreignError.put(1, (byte) (Wire.VERSION + 1));

        // no KEY-REQUEST outstanding: a KEY-REPLY is unsolicited, so malformed whatever the inbox holds
        assertEquals(-1, decode(codec, keyReply));
        assertEquals(1, counters.malformed.get());

        session.sendJoinAttempt();
        assertTrue(session.keyRequested(), "the round's first attempt asks for the switch's key");
        int queued = 0;
        while (session.offer(new ControlMessage.ForeignVersion(Wire.VERSION + 1))) {
            queued++;
        }
        assertTrue(queued > 0 && session.hasMail(), "the inbox took messages until it was full");

        assertEquals(-1, decode(codec, keyReply));
        assertEquals(-1, decode(codec, foreignError));
        assertEquals(2, counters.queueFull.get(), "the KEY-REPLY and the foreign ERROR had no room");
        assertEquals(1, counters.malformed.get(), "neither counts as malformed");
        assertFalse(session.offer(new ControlMessage.ForeignVersion(Wire.VERSION + 1)), "still full: none was taken");
        life.stopRunning();
    }

    private static int decode(FrameCodec codec, ByteBuffer datagram) {
        ByteBuffer buf = ByteBuffer.allocate(2048);
        buf.put(datagram.duplicate());
        return codec.decode(buf, 0, datagram.remaining(), SWITCH, null);
    }
}

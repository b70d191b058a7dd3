package org.vl2.crypto;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * The responder's side of the handshake (the switch). {@link #consume} verifies an initiation and reveals who
 * sent it, so that the caller decides <em>before</em> answering:
 *
 * <pre>
 * Responder hs = Responder.consume(switchIdentity, datagram, guard);   // rejects forged, replayed, garbage
 * if (!authorized(network(hs.payload()), hs.initiatorPublicKey())) { answer ERROR not-authorized, or nothing }
 * Responder.Reply r = hs.respond(index, welcomeFields);                // r.response() to send, r.session()
 * </pre>
 *
 * <p>Cost of a rejection: one HMAC for initiations not addressed to this key (mac1), two X25519 for the rest;
 * answering costs three more (a key pair, ee, se). The response is never larger than the initiation. mac2 is
 * not checked here: a switch under load first asks {@link CookieChecker#check} whether the source is proven.
 */
public final class Responder {

    /** The response to send and the session it opens (unconfirmed until the initiator's first frame). */
    public record Reply(byte[] response, Session session) {
    }

    private final TimestampGuard guard;
    private final int initiationLength;
    private final int initiatorIndex;
    private final byte[] initiatorEphemeral;
    private final byte[] initiatorStatic;
    private final byte[] timestamp;
    private final byte[] payload;
    private SymmetricState state;

    private Responder(TimestampGuard guard, int initiationLength, int initiatorIndex,
                      byte[] initiatorEphemeral, byte[] initiatorStatic, byte[] timestamp, byte[] payload,
                      SymmetricState state) {
        this.guard = guard;
        this.initiationLength = initiationLength;
        this.initiatorIndex = initiatorIndex;
        this.initiatorEphemeral = initiatorEphemeral;
        this.initiatorStatic = initiatorStatic;
        this.timestamp = timestamp;
        this.payload = payload;
        this.state = state;
    }

    /**
     * Verifies the initiation between the buffer's position and limit (absolute reads): length and header, mac1
     * (mac2 is ignored), then es (opens the initiator's static key), ss (opens timestamp and payload), then the
     * timestamp against {@code guard} (which {@link #respond} updates).
     *
     * @throws CryptoException naming the reason: wrong length or header (MALFORMED), not addressed to this
     *                         identity's key (BAD_MAC), modified or sealed for another key (AUTH_FAILED), a
     *                         low-order key (BAD_KEY), a timestamp not newer than the last answered (REPLAYED)
     */
    public static Responder consume(Identity self, ByteBuffer initiation, TimestampGuard guard)
            throws CryptoException {
        Objects.requireNonNull(guard, "guard");
        int len = initiation.limit() - initiation.position();
        if (len < Handshake.MIN_INITIATION_LENGTH || len > Handshake.MAX_INITIATION_LENGTH) {
            throw new CryptoException(CryptoException.Reason.MALFORMED, "initiation of " + len + " bytes; "
                    + Handshake.MIN_INITIATION_LENGTH + ".." + Handshake.MAX_INITIATION_LENGTH + " expected");
        }
        byte[] msg = Handshake.copy(initiation);
        Handshake.checkHeader(msg, Handshake.INITIATION, "initiation");
        byte[] rs = self.publicKey();
        int macAt = Handshake.mac1Offset(len);
        if (!Handshake.macMatches(Hkdf.mac(Handshake.mac1Key(rs)), msg, macAt)) {
            throw new CryptoException(CryptoException.Reason.BAD_MAC, "mac1 does not match this responder's key"
                    + " (the initiator pinned another key, or the initiation was modified)");
        }
        SymmetricState s = SymmetricState.start(rs);
        s.mixHash(msg, 0, Handshake.I_EPHEMERAL);
        byte[] e = Arrays.copyOfRange(msg, Handshake.I_EPHEMERAL, Handshake.I_EPHEMERAL + Handshake.KEY_LENGTH);
        s.mixChain(e);
        s.mixHash(e, 0, e.length);
        byte[] k = s.mixKey(X25519.dh(self.privateKey(), e, 0)); // es
        byte[] initiatorStatic = s.decryptAndHash(k, msg, Handshake.I_STATIC, Handshake.I_STATIC_LENGTH);
        k = s.mixKey(X25519.dh(self.privateKey(), initiatorStatic, 0)); // ss
        byte[] body = s.decryptAndHash(k, msg, Handshake.I_BODY, macAt - Handshake.I_BODY);
        int payloadLength = (body[Tai64n.LENGTH] & 0xFF) << 8 | body[Tai64n.LENGTH + 1] & 0xFF;
        if (payloadLength > body.length - Handshake.I_BODY_PREFIX) {
            throw new CryptoException(CryptoException.Reason.MALFORMED, "initiation payload length " + payloadLength
                    + " exceeds its " + (body.length - Handshake.I_BODY_PREFIX) + " bytes");
        }
        byte[] timestamp = Arrays.copyOf(body, Tai64n.LENGTH);
        if (!guard.isFresh(initiatorStatic, timestamp)) {
            throw new CryptoException(CryptoException.Reason.REPLAYED, "initiation timestamp is not newer than the"
                    + " last one answered for member " + Identity.formatMemberId(Identity.memberId(initiatorStatic)));
        }
        byte[] payload = Arrays.copyOfRange(body, Handshake.I_BODY_PREFIX, Handshake.I_BODY_PREFIX + payloadLength);
        return new Responder(guard, len, Handshake.getInt(msg, Handshake.I_SENDER), e, initiatorStatic,
                timestamp, payload, s);
    }

    /** The initiator's static public key, authenticated (a copy): what authorization checks. */
    public byte[] initiatorPublicKey() {
        return initiatorStatic.clone();
    }

    /** {@link Identity#memberId(byte[])} of the initiator's key. */
    public long initiatorMemberId() {
        return Identity.memberId(initiatorStatic);
    }

    /** The initiator's payload (a copy). */
    public byte[] payload() {
        return payload.clone();
    }

    /** The initiator's index for the session: the receiver index of the response and of its frames to it. */
    public int initiatorIndex() {
        return initiatorIndex;
    }

    /** The largest response payload that keeps the response no larger than this initiation. */
    public int maxResponsePayload() {
        return Math.min(Handshake.MAX_PAYLOAD, initiationLength - Handshake.RESPONSE_OVERHEAD);
    }

    /** {@link #respond(int, byte[], Session.Limits)} with {@link Session.Limits#DEFAULT}. */
    public Reply respond(int senderIndex, byte[] payload) throws CryptoException {
        return respond(senderIndex, payload, Session.Limits.DEFAULT);
    }

    /**
     * Builds the response (ee, se, payload sealed), derives the session and records the initiation's timestamp.
     *
     * @param senderIndex this side's index for the session (random, unique among this side's sessions)
     * @throws CryptoException          ({@link CryptoException.Reason#REPLAYED}) if the guard has meanwhile
     *                                  recorded a timestamp as new (another copy of this initiation was answered)
     * @throws IllegalArgumentException if the payload exceeds {@link #maxResponsePayload()}
     * @throws IllegalStateException    if called twice
     */
    public synchronized Reply respond(int senderIndex, byte[] payload, Session.Limits limits) throws CryptoException {
        if (state == null) {
            throw new IllegalStateException("this initiation has been answered");
        }
        if (payload.length > maxResponsePayload()) {
            throw new IllegalArgumentException("response payload of " + payload.length + " bytes; at most "
                    + maxResponsePayload() + " so that the response is no larger than the initiation");
        }
        SymmetricState s = state;
        state = null;
        byte[] msg = new byte[Handshake.RESPONSE_OVERHEAD + payload.length];
        Handshake.putHeader(msg, Handshake.RESPONSE);
        Handshake.putInt(msg, Handshake.R_SENDER, senderIndex);
        Handshake.putInt(msg, Handshake.R_RECEIVER, initiatorIndex);
        s.mixHash(msg, 0, Handshake.R_EPHEMERAL);
        var pair = X25519.generate();
        byte[] e = X25519.publicKey(pair);
        System.arraycopy(e, 0, msg, Handshake.R_EPHEMERAL, Handshake.KEY_LENGTH);
        s.mixChain(e);
        s.mixHash(e, 0, e.length);
        byte[] ee = X25519.dh(pair.getPrivate(), initiatorEphemeral, 0);
        s.mixChain(ee);
        Arrays.fill(ee, (byte) 0);
        byte[] k = s.mixKey(X25519.dh(pair.getPrivate(), initiatorStatic, 0)); // se
        byte[] body = new byte[2 + payload.length];
        body[0] = (byte) (payload.length >>> 8);
        body[1] = (byte) payload.length;
        System.arraycopy(payload, 0, body, 2, payload.length);
        byte[] c = s.encryptAndHash(k, body);
        System.arraycopy(c, 0, msg, Handshake.R_BODY, c.length);
        byte[][] keys = s.split();
        if (!guard.record(initiatorStatic, timestamp)) {
            Arrays.fill(keys[0], (byte) 0);
            Arrays.fill(keys[1], (byte) 0);
            throw new CryptoException(CryptoException.Reason.REPLAYED, "another copy of this initiation was"
                    + " answered first");
        }
        Session session = new Session(false, senderIndex, initiatorIndex, keys[1], keys[0], initiatorStatic, limits);
        return new Reply(msg, session);
    }
}

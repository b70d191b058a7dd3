package org.vl2.crypto;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
 * <p>Cost of a rejection: one HMAC for initiations not addressed to this key (mac1), two X25519 for the rest (one
 * for a member the guard remembers: its ss is kept there); answering costs three more (a key pair, ee, se). The
 * response is never larger than the initiation. mac2 is not checked here: a switch under load first asks {@link CookieChecker#check} whether the source is proven.
 */
public final class Responder {

    /** The response to send and the session it opens (unconfirmed until the initiator's first frame). */
    public record Reply(byte[] response, Session session) {
    }

    private final TimestampGuard guard;
    private final Identity self;
    /** ss, recorded in the guard with the timestamp when answered (the next handshake of this member skips it). */
    private final byte[] ss;
    private final int initiationLength;
    private final int initiatorIndex;
    private final byte[] initiatorEphemeral;
    private final byte[] initiatorStatic;
    private final byte[] timestamp;
    private final byte[] payload;
    /**
     * The initiator's cipher offer that this version knows, best first; null: none (an initiator from before
     * negotiation); empty: only suites this version does not know (a mismatch, unlike no offer).
     */
    private final List<CipherSuite> offer;
    private SymmetricState state;

    private Responder(TimestampGuard guard, Identity self, byte[] ss, int initiationLength, int initiatorIndex,
                      byte[] initiatorEphemeral, byte[] initiatorStatic, byte[] timestamp, byte[] payload,
                      List<CipherSuite> offer, SymmetricState state) {
        this.guard = guard;
        this.self = self;
        this.ss = ss;
        this.initiationLength = initiationLength;
        this.initiatorIndex = initiatorIndex;
        this.initiatorEphemeral = initiatorEphemeral;
        this.initiatorStatic = initiatorStatic;
        this.timestamp = timestamp;
        this.payload = payload;
        this.offer = offer;
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
        // ss is the same in every handshake of this member with this switch: computed once, then kept in the guard
        byte[] ss = guard.staticSecret(self, initiatorStatic);
        if (ss == null) {
            ss = X25519.dh(self.privateKey(), initiatorStatic, 0);
        }
        byte[] ssKept = ss.clone();
        try {
            k = s.mixKey(ss); // wipes ss
            byte[] body = s.decryptAndHash(k, msg, Handshake.I_BODY, macAt - Handshake.I_BODY);
            int payloadLength = (body[Tai64n.LENGTH] & 0xFF) << 8 | body[Tai64n.LENGTH + 1] & 0xFF;
            if (payloadLength > body.length - Handshake.I_BODY_PREFIX) {
                throw new CryptoException(CryptoException.Reason.MALFORMED, "initiation payload length "
                        + payloadLength + " exceeds its " + (body.length - Handshake.I_BODY_PREFIX) + " bytes");
            }
            byte[] timestamp = Arrays.copyOf(body, Tai64n.LENGTH);
            if (!guard.isFresh(initiatorStatic, timestamp)) {
                throw new CryptoException(CryptoException.Reason.REPLAYED, "initiation timestamp is not newer than"
                        + " the last one answered for member "
                        + Identity.formatMemberId(Identity.memberId(initiatorStatic)));
            }
            byte[] payload = Arrays.copyOfRange(body, Handshake.I_BODY_PREFIX,
                    Handshake.I_BODY_PREFIX + payloadLength);
            List<CipherSuite> offer = parseOffer(body, Handshake.I_BODY_PREFIX + payloadLength);
            return new Responder(guard, self, ssKept, len, Handshake.getInt(msg, Handshake.I_SENDER), e,
                    initiatorStatic, timestamp, payload, offer, s);
        } catch (CryptoException ex) {
            Arrays.fill(ssKept, (byte) 0);
            throw ex;
        }
    }

    /**
     * The cipher offer behind the payload: a count, then that many suite ids. A zero count (the padding of an
     * initiator from before negotiation) or no room for it is no offer; ids this version does not know are
     * skipped (a later version may offer more), so an offer of unknown suites only is a mismatch, not no offer.
     */
    static List<CipherSuite> parseOffer(byte[] body, int at) throws CryptoException {
        int count = at < body.length ? body[at] & 0xFF : 0;
        if (count == 0) {
            return null;
        }
        if (count > Handshake.MAX_OFFER || at + 1 + count > body.length) {
            throw new CryptoException(CryptoException.Reason.MALFORMED, "cipher offer of " + count + " suites");
        }
        List<CipherSuite> suites = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            CipherSuite s = CipherSuite.ofWireId(body[at + 1 + i] & 0xFF);
            if (s != null && !suites.contains(s)) {
                suites.add(s);
            }
        }
        return List.copyOf(suites);
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

    /**
     * The ciphers the initiator offered that this version knows, best first; empty if it offered none (an initiator
     * from before cipher negotiation, which can only use ChaCha20-Poly1305: {@link CipherPolicy#choose} treats it
     * so). {@link #offered()} tells an empty offer from none.
     */
    public List<CipherSuite> offer() {
        return offer == null ? List.of() : offer;
    }

    /** Whether the initiation carried a cipher offer (false: an initiator from before negotiation). */
    public boolean offered() {
        return offer != null;
    }

    /**
     * The cipher {@code policy} picks for this initiation, or null when the two sides have none in common (refuse:
     * the caller answers with an error naming both sides' ciphers).
     */
    public CipherSuite choose(CipherPolicy policy) {
        return offer == null ? policy.choose(List.of()) : offer.isEmpty() ? null : policy.choose(offer);
    }

    /** The initiator's index for the session: the receiver index of the response and of its frames to it. */
    public int initiatorIndex() {
        return initiatorIndex;
    }

    /** The largest response payload that keeps the response no larger than this initiation (with the choice). */
    public int maxResponsePayload() {
        return Math.min(Handshake.MAX_PAYLOAD, initiationLength - Handshake.RESPONSE_OVERHEAD) - (offered() ? 1 : 0);
    }

    /** {@link #respond(int, byte[], Session.Limits)} with {@link Session.Limits#DEFAULT}. */
    public Reply respond(int senderIndex, byte[] payload) throws CryptoException {
        return respond(senderIndex, payload, Session.Limits.DEFAULT);
    }

    /**
     * {@link #respond(int, byte[], Session.Limits, CipherSuite)} with the cipher {@link CipherPolicy#auto()} picks.
     *
     * @throws CryptoException CIPHER_MISMATCH if the offer has no cipher this side accepts
     */
    public Reply respond(int senderIndex, byte[] payload, Session.Limits limits) throws CryptoException {
        CipherSuite suite = choose(CipherPolicy.auto());
        if (suite == null) {
            throw new CryptoException(CryptoException.Reason.CIPHER_MISMATCH, "no common cipher in " + offer());
        }
        return respond(senderIndex, payload, limits, suite);
    }

    /**
     * Builds the response (ee, se, payload and the cipher choice sealed), derives the session and records the
     * initiation's timestamp.
     *
     * @param senderIndex this side's index for the session (random, unique among this side's sessions)
     * @param suite       the session's cipher, one of {@link #offer()} ({@link #choose}); ChaCha20-Poly1305 for an
     *                    initiator that offered none (its response then carries no choice, as before negotiation)
     * @throws CryptoException          ({@link CryptoException.Reason#REPLAYED}) if the guard has meanwhile
     *                                  recorded a timestamp as new (another copy of this initiation was answered)
     * @throws IllegalArgumentException if the payload exceeds {@link #maxResponsePayload()}, or the initiator did not
     *                                  offer {@code suite}
     * @throws IllegalStateException    if called twice
     */
    public Reply respond(int senderIndex, byte[] payload, Session.Limits limits, CipherSuite suite)
            throws CryptoException {
        return respond(senderIndex, payload, limits, suite, offered());
    }

    /** Tests: what a responder from before negotiation sends (no choice byte, ChaCha20-Poly1305), to any initiator. */
    Reply respondAsBeforeNegotiation(int senderIndex, byte[] payload) throws CryptoException {
        return respond(senderIndex, payload, Session.Limits.DEFAULT, CipherSuite.CHACHA20_POLY1305, false);
    }

    private synchronized Reply respond(int senderIndex, byte[] payload, Session.Limits limits, CipherSuite suite,
                                       boolean withChoice) throws CryptoException {
        if (state == null) {
            throw new IllegalStateException("this initiation has been answered");
        }
        if (withChoice ? !offer.contains(suite) : suite != CipherSuite.CHACHA20_POLY1305) {
            throw new IllegalArgumentException("cipher " + suite + " was not offered (" + (offered() ? offer
                    : "an initiator from before negotiation: chacha20-poly1305 only") + ")");
        }
        if (payload.length > maxResponsePayload()) {
            throw new IllegalArgumentException("response payload of " + payload.length + " bytes; at most "
                    + maxResponsePayload() + " so that the response is no larger than the initiation");
        }
        SymmetricState s = state;
        state = null;
        int choice = withChoice ? 1 : 0;
        byte[] msg = new byte[Handshake.RESPONSE_OVERHEAD + payload.length + choice];
        Handshake.putHeader(msg, Handshake.RESPONSE);
        Handshake.putInt(msg, Handshake.R_SENDER, senderIndex);
        Handshake.putInt(msg, Handshake.R_RECEIVER, initiatorIndex);
        s.mixHash(msg, 0, Handshake.R_EPHEMERAL);
        byte[] ephemeral = X25519.newScalar(); // as a scalar: no JDK key objects for a key used twice
        byte[] k;
        try {
            byte[] e = X25519.publicKeyOf(ephemeral);
            System.arraycopy(e, 0, msg, Handshake.R_EPHEMERAL, Handshake.KEY_LENGTH);
            s.mixChain(e);
            s.mixHash(e, 0, e.length);
            byte[] ee = X25519.dh(ephemeral, initiatorEphemeral, 0);
            s.mixChain(ee);
            Arrays.fill(ee, (byte) 0);
            k = s.mixKey(X25519.dh(ephemeral, initiatorStatic, 0)); // se
        } finally {
            Arrays.fill(ephemeral, (byte) 0);
        }
        byte[] body = new byte[2 + payload.length + choice];
        body[0] = (byte) (payload.length >>> 8);
        body[1] = (byte) payload.length;
        System.arraycopy(payload, 0, body, 2, payload.length);
        if (choice == 1) {
            body[body.length - 1] = (byte) suite.wireId(); // sealed and in the transcript, as the offer
        }
        byte[] c = s.encryptAndHash(k, body);
        System.arraycopy(c, 0, msg, Handshake.R_BODY, c.length);
        byte[][] keys = s.split(suite);
        boolean recorded = guard.record(initiatorStatic, timestamp, self, ss);
        Arrays.fill(ss, (byte) 0);
        if (!recorded) {
            Arrays.fill(keys[0], (byte) 0);
            Arrays.fill(keys[1], (byte) 0);
            throw new CryptoException(CryptoException.Reason.REPLAYED, "another copy of this initiation was"
                    + " answered first");
        }
        Session session = new Session(false, suite, senderIndex, initiatorIndex, keys[1], keys[0], initiatorStatic,
                limits);
        return new Reply(msg, session);
    }
}

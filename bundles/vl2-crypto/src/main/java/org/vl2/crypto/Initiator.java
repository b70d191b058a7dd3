package org.vl2.crypto;

import java.nio.ByteBuffer;
import java.security.PrivateKey;
import java.util.Arrays;
import java.util.List;

/**
 * The initiator's side of the handshake (an agent): it knows the responder's static public key (pinned in its
 * configuration) and sends its own encrypted to it.
 *
 * <pre>
 * Initiator hs = Initiator.create(identity, switchKey, index, joinFields);
 * send(hs.initiation());
 * ... Initiator.Completion done = hs.consume(responseDatagram);   // done.payload(), done.session()
 * ... or, under load, a COOKIE REPLY instead:
 * byte[] cookie = hs.consumeCookieReply(cookieReplyDatagram);     // keep it Cookies.COOKIE_USE_SECONDS
 * Initiator retry = Initiator.create(identity, switchKey, newIndex, joinFields, cookie);
 * </pre>
 *
 * <p>One handshake, one initiation: a retry (no response within a few seconds) is a new {@code Initiator},
 * because the responder rejects an initiation it has answered (its timestamp is no longer newer). A response
 * that fails to verify leaves the handshake as it was, so forged responses cannot break a pending handshake.
 */
public final class Initiator {

    /** What a verified response gives: the responder's payload and the session (its {@link Session#cipher()}). */
    public record Completion(byte[] payload, Session session) {
    }

    private final Identity self;
    private final byte[] responderPublic;
    private final int senderIndex;
    /** The ciphers offered, best first; empty: none (an initiation as before negotiation, ChaCha20 only). */
    private final List<CipherSuite> offer;
    /** Dropped when the handshake completes: forward secrecy needs it gone (the JDK cannot wipe it). */
    private PrivateKey ephemeral;
    private final byte[] initiation;
    /** The symmetric state after the initiation; consume works on copies until a response verifies. */
    private SymmetricState state;

    private Initiator(Identity self, byte[] responderPublic, int senderIndex, List<CipherSuite> offer,
                      PrivateKey ephemeral, byte[] initiation, SymmetricState state) {
        this.self = self;
        this.responderPublic = responderPublic;
        this.senderIndex = senderIndex;
        this.offer = offer;
        this.ephemeral = ephemeral;
        this.initiation = initiation;
        this.state = state;
    }

    /** {@link #create(Identity, byte[], int, byte[], byte[])} without a cookie: mac2 is zeros. */
    public static Initiator create(Identity self, byte[] responderPublic, int senderIndex, byte[] payload) {
        return create(self, responderPublic, senderIndex, payload, null);
    }

    /** {@link #create(Identity, byte[], int, byte[], byte[], List)} offering {@link CipherPolicy#auto()}'s. */
    public static Initiator create(Identity self, byte[] responderPublic, int senderIndex, byte[] payload,
                                   byte[] cookie) {
        return create(self, responderPublic, senderIndex, payload, cookie, CipherPolicy.auto().offer());
    }

    /**
     * Builds the initiation: es, then the static key sealed; ss, then timestamp and payload sealed; mac1; mac2.
     *
     * @param responderPublic the responder's pinned static public key, 32 bytes
     * @param senderIndex     this side's index for the session, which the responder puts in front of every
     *                        frame it sends on it (random, unique among this side's sessions)
     * @param payload         at most {@link Handshake#MAX_PAYLOAD} bytes, sealed with forward secrecy only
     *                        against the loss of the initiator's key, not the responder's (docs/crypto.md)
     * @param cookie          null, or the 16-byte cookie of the switch's last COOKIE REPLY to this source, if
     *                        received less than {@link Cookies#COOKIE_USE_SECONDS} ago: proves the source address
     *                        to a switch under load (mac2)
     * @param offer           the transport ciphers this side accepts, best first ({@link CipherPolicy#offer()}),
     *                        sealed behind the payload; empty: offer nothing, as initiators before negotiation
     *                        did (the responder then uses ChaCha20-Poly1305)
     * @throws IllegalArgumentException if the responder's key is not 32 bytes or is a low-order point, the
     *                                  payload (with the offer) is too long, the offer repeats a suite, or the
     *                                  cookie is not 16 bytes
     */
    public static Initiator create(Identity self, byte[] responderPublic, int senderIndex, byte[] payload,
                                   byte[] cookie, List<CipherSuite> offer) {
        if (cookie != null && cookie.length != Cookies.COOKIE_LENGTH) {
            throw new IllegalArgumentException("a cookie is " + Cookies.COOKIE_LENGTH + " bytes, got " + cookie.length);
        }
        if (responderPublic.length != Handshake.KEY_LENGTH) {
            throw new IllegalArgumentException("the responder's public key is 32 bytes, got "
                    + responderPublic.length);
        }
        List<CipherSuite> suites = List.copyOf(offer);
        if (suites.stream().distinct().count() != suites.size() || suites.size() > Handshake.MAX_OFFER) {
            throw new IllegalArgumentException("a cipher offer names each suite once, at most " + Handshake.MAX_OFFER
                    + ": " + suites);
        }
        int extension = suites.isEmpty() ? 0 : 1 + suites.size();
        if (payload.length + extension > Handshake.MAX_PAYLOAD) {
            throw new IllegalArgumentException("handshake payload of " + payload.length + " bytes; at most "
                    + (Handshake.MAX_PAYLOAD - extension) + (extension == 0 ? "" : " beside the cipher offer"));
        }
        byte[] rs = responderPublic.clone();
        int len = Handshake.initiationLength(payload.length + extension);
        byte[] msg = new byte[len];
        Handshake.putHeader(msg, Handshake.INITIATION);
        Handshake.putInt(msg, Handshake.I_SENDER, senderIndex);

        SymmetricState s = SymmetricState.start(rs);
        s.mixHash(msg, 0, Handshake.I_EPHEMERAL);
        var pair = X25519.generate();
        byte[] e = X25519.publicKey(pair);
        System.arraycopy(e, 0, msg, Handshake.I_EPHEMERAL, Handshake.KEY_LENGTH);
        s.mixChain(e);
        s.mixHash(e, 0, e.length);
        try {
            byte[] k = s.mixKey(X25519.dh(pair.getPrivate(), rs, 0)); // es
            byte[] c = s.encryptAndHash(k, self.publicKey());
            System.arraycopy(c, 0, msg, Handshake.I_STATIC, c.length);
            k = s.mixKey(X25519.dh(self.privateKey(), rs, 0)); // ss
            byte[] body = new byte[Handshake.mac1Offset(len) - Handshake.I_BODY - Handshake.TAG_LENGTH];
            System.arraycopy(Tai64n.now(), 0, body, 0, Tai64n.LENGTH);
            body[Tai64n.LENGTH] = (byte) (payload.length >>> 8);
            body[Tai64n.LENGTH + 1] = (byte) payload.length;
            System.arraycopy(payload, 0, body, Handshake.I_BODY_PREFIX, payload.length);
            // the offer behind the payload, sealed and hashed into the transcript like it; the rest: zero pad
            int at = Handshake.I_BODY_PREFIX + payload.length;
            if (!suites.isEmpty()) {
                body[at++] = (byte) suites.size();
                for (CipherSuite cs : suites) {
                    body[at++] = (byte) cs.wireId();
                }
            }
            c = s.encryptAndHash(k, body);
            System.arraycopy(c, 0, msg, Handshake.I_BODY, c.length);
        } catch (CryptoException lowOrder) {
            throw new IllegalArgumentException("the responder's public key is not usable (a low-order point):"
                    + " check the pinned key", lowOrder);
        }
        int mac1At = Handshake.mac1Offset(len);
        System.arraycopy(Handshake.mac1(rs, msg, mac1At), 0, msg, mac1At, Handshake.MAC_LENGTH);
        if (cookie != null) { // else mac2 stays zeros
            int mac2At = Handshake.mac2Offset(len);
            System.arraycopy(Handshake.mac(cookie, msg, mac2At), 0, msg, mac2At, Handshake.MAC_LENGTH);
        }
        return new Initiator(self, rs, senderIndex, suites, pair.getPrivate(), msg, s);
    }

    /** The initiation datagram (a copy). */
    public byte[] initiation() {
        return initiation.clone();
    }

    public int senderIndex() {
        return senderIndex;
    }

    /** The ciphers this initiation offers, best first (empty: none, as before negotiation). */
    public List<CipherSuite> offer() {
        return offer;
    }

    /**
     * Opens a COOKIE REPLY to this initiation (between the buffer's position and limit, absolute reads): the
     * switch is under load and wants this source address proven. The caller keeps the cookie with the time it
     * received it and passes it to {@link #create(Identity, byte[], int, byte[], byte[])} for new initiations
     * during {@link Cookies#COOKIE_USE_SECONDS}; this handshake itself is unchanged (it may still be answered).
     *
     * @return the 16-byte cookie
     * @throws CryptoException naming the reason: not a cookie reply of its one length (MALFORMED), another
     *                         receiver index (UNKNOWN_RECEIVER), a tag that does not verify: another switch key,
     *                         a reply to another initiation, modified bytes (AUTH_FAILED)
     */
    public byte[] consumeCookieReply(ByteBuffer reply) throws CryptoException {
        int len = reply.limit() - reply.position();
        if (len != Handshake.COOKIE_REPLY_LENGTH) {
            throw new CryptoException(CryptoException.Reason.MALFORMED, "cookie reply of " + len + " bytes; "
                    + Handshake.COOKIE_REPLY_LENGTH + " expected");
        }
        byte[] msg = copyAddressedToThis(reply, Handshake.COOKIE_REPLY, Handshake.C_RECEIVER, "cookie reply");
        // ad = the mac1 the switch saw: only a reply to this very initiation opens
        int mac1At = Handshake.mac1Offset(initiation.length);
        byte[] mac1 = Arrays.copyOfRange(initiation, mac1At, mac1At + Handshake.MAC_LENGTH);
        byte[] nonce = Arrays.copyOfRange(msg, Handshake.C_NONCE, Handshake.C_COOKIE);
        return Aead.open(Handshake.cookieKey(responderPublic), nonce, mac1, msg, Handshake.C_COOKIE,
                len - Handshake.C_COOKIE);
    }

    /** A copy of the answer, once its header is {@code type}'s and its receiver index this handshake's. */
    private byte[] copyAddressedToThis(ByteBuffer answer, int type, int receiverAt, String what)
            throws CryptoException {
        byte[] msg = Handshake.copy(answer);
        Handshake.checkHeader(msg, type, what);
        int receiver = Handshake.getInt(msg, receiverAt);
        if (receiver != senderIndex) {
            throw new CryptoException(CryptoException.Reason.UNKNOWN_RECEIVER, what + " for index "
                    + Integer.toUnsignedString(receiver) + ", this handshake is " + Integer.toUnsignedString(senderIndex));
        }
        return msg;
    }

    /** {@link #consume(ByteBuffer, Session.Limits)} with {@link Session.Limits#DEFAULT}. */
    public Completion consume(ByteBuffer response) throws CryptoException {
        return consume(response, Session.Limits.DEFAULT);
    }

    /**
     * Verifies the response between the buffer's position and limit (absolute reads) and derives the session:
     * ee and se are mixed in, the payload opened, the transport keys split off.
     *
     * @throws CryptoException naming the reason: not a response of a possible length, another receiver index,
     *                         a low-order ephemeral key, a tag that does not verify (another responder key,
     *                         modified bytes), a handshake that is already complete (a replayed response), or a
     *                         verified response that chose no offered cipher (CIPHER_MISMATCH: a responder from
     *                         before negotiation, which seals with ChaCha20-Poly1305, and an offer without it)
     */
    public Completion consume(ByteBuffer response, Session.Limits limits) throws CryptoException {
        return consume(response, limits, System.nanoTime());
    }

    /**
     * {@link #consume(ByteBuffer, Session.Limits)} with the session's age counted from {@code nowNanos}: the clock
     * the caller passes to {@link Session#seal}, {@link Session#open} and {@link Session#needsRekey} as well.
     */
    public synchronized Completion consume(ByteBuffer response, Session.Limits limits, long nowNanos)
            throws CryptoException {
        int len = response.limit() - response.position();
        if (len < Handshake.RESPONSE_OVERHEAD || len > Handshake.MAX_RESPONSE_LENGTH) {
            throw new CryptoException(CryptoException.Reason.MALFORMED, "response of " + len + " bytes; "
                    + Handshake.RESPONSE_OVERHEAD + ".." + Handshake.MAX_RESPONSE_LENGTH + " expected");
        }
        byte[] msg = copyAddressedToThis(response, Handshake.RESPONSE, Handshake.R_RECEIVER, "response");
        if (state == null) {
            throw new CryptoException(CryptoException.Reason.REPLAYED, "handshake already complete");
        }
        SymmetricState s = state.copy();
        s.mixHash(msg, 0, Handshake.R_EPHEMERAL);
        byte[] e = Arrays.copyOfRange(msg, Handshake.R_EPHEMERAL, Handshake.R_EPHEMERAL + Handshake.KEY_LENGTH);
        s.mixChain(e);
        s.mixHash(e, 0, e.length);
        byte[] ee = X25519.dh(ephemeral, e, 0);
        s.mixChain(ee);
        Arrays.fill(ee, (byte) 0);
        byte[] k = s.mixKey(X25519.dh(self.privateKey(), e, 0)); // se
        byte[] body = s.decryptAndHash(k, msg, Handshake.R_BODY, len - Handshake.R_BODY);
        int payloadLength = (body[0] & 0xFF) << 8 | body[1] & 0xFF;
        // with an offer, one byte names the choice behind the payload; without (or from an older responder) none
        int choiceBytes = body.length - 2 - payloadLength;
        if (choiceBytes != 0 && (choiceBytes != 1 || offer.isEmpty())) {
            throw new CryptoException(CryptoException.Reason.MALFORMED, "response payload length " + payloadLength
                    + " does not match its " + (body.length - 2) + " bytes");
        }
        CipherSuite suite = choiceBytes == 0 ? CipherSuite.CHACHA20_POLY1305
                : CipherSuite.ofWireId(body[body.length - 1] & 0xFF);
        if (!offer.isEmpty() && !offer.contains(suite)) {
            throw new CryptoException(CryptoException.Reason.CIPHER_MISMATCH, choiceBytes == 0
                    ? "the switch does not negotiate ciphers (an older version) and seals with "
                            + CipherSuite.CHACHA20_POLY1305.configName() + "; this side offered " + offer
                    : "the switch chose cipher id " + (body[body.length - 1] & 0xFF) + ", not one of " + offer);
        }
        byte[][] keys = s.split(suite);
        state.wipe();
        state = null;
        ephemeral = null;
        Session session = new Session(true, suite, senderIndex, Handshake.getInt(msg, Handshake.R_SENDER), keys[0],
                keys[1], responderPublic, limits, nowNanos);
        return new Completion(Arrays.copyOfRange(body, 2, 2 + payloadLength), session);
    }
}

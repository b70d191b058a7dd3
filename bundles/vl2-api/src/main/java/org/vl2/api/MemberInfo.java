package org.vl2.api;

/**
 * A member of a network: authorized in its configuration, or joined (or both).
 *
 * @param network    the network
 * @param member     the member id, 16 hex digits (derived from the member's public key)
 * @param publicKey  the member's public key (base64), null if known only by member id
 * @param authorized whether the network's configuration lists it (private networks admit only those)
 * @param port       its port now, null if it has none
 * @param address    the IPv4 address assigned to it, null if none
 * @param name       the name it gave when it joined, null if none
 * @param encrypted  whether its port uses the encrypted protocol (false: plaintext join, or no port)
 * @param cipher     the AEAD its port's current session seals with, as negotiated in the handshake
 *                   ({@code AES-256-GCM}, {@code ChaCha20-Poly1305}); null if not encrypted or no session
 * @param refused    when the switch last refused it on this private network (it proved its key in the handshake
 *                   but is not listed), null if it was not refused since the switch started: a member
 *                   {@value #WAITING} for authorization
 */
public record MemberInfo(long network, String member, String publicKey, boolean authorized, PortId port,
                         String address, String name, boolean encrypted, String cipher, java.time.Instant refused) {

    /** It has a port now. */
    public static final String ONLINE = "online";
    /** Its network's configuration lists it, but it has no port now. */
    public static final String AUTHORIZED = "authorized";
    /** Not authorized, refused when it tried to join a private network: an operator may authorize it. */
    public static final String WAITING = "waiting";

    /** Not refused: the fields before members waiting for authorization. */
    public MemberInfo(long network, String member, String publicKey, boolean authorized, PortId port,
                      String address, String name, boolean encrypted, String cipher) {
        this(network, member, publicKey, authorized, port, address, name, encrypted, cipher, null);
    }

    /** Without the cipher: the fields before cipher negotiation. */
    public MemberInfo(long network, String member, String publicKey, boolean authorized, PortId port,
                      String address, String name, boolean encrypted) {
        this(network, member, publicKey, authorized, port, address, name, encrypted, null, null);
    }

    /** {@value #ONLINE}, {@value #AUTHORIZED} or {@value #WAITING}. */
    public String state() {
        return port != null ? ONLINE : authorized ? AUTHORIZED : WAITING;
    }
}

/**
 * Private networks' cryptography ({@code docs/crypto.md}), on JDK primitives (X25519, HMAC-SHA256,
 * ChaCha20-Poly1305, AES-256-GCM: the transport {@link org.vl2.crypto.CipherSuite} is negotiated in the handshake
 * by {@link org.vl2.crypto.CipherPolicy}): member {@link org.vl2.crypto.Identity identities}, the Noise-IK-like handshake
 * ({@link org.vl2.crypto.Initiator}, {@link org.vl2.crypto.Responder}, and under load the
 * {@link org.vl2.crypto.CookieChecker}'s mac2 and cookie reply) and the {@link org.vl2.crypto.Session}
 * that seals and opens frames in place with a 64-bit counter nonce and a replay window. X25519 runs in Bouncy
 * Castle's RFC 7748 code where that bundle is installed (an optional import), else in the JDK. 1.4.0:
 * {@link org.vl2.crypto.Identity#x25519Engine()}.
 *
 * <p>Conventions: handshake messages are read between a buffer's position and limit, sealed messages at the
 * absolute offsets given, always with absolute gets (position and limit are left as they were), whatever the
 * buffer's byte order, heap or direct; anything malformed, forged, replayed or stale is reported as a
 * {@link org.vl2.crypto.CryptoException} naming the {@link org.vl2.crypto.CryptoException.Reason reason}, never
 * as another exception. Multi-byte integers on the wire are big-endian, as in {@code docs/protocol.md}.
 */
@Export
@Version("1.4.0")
package org.vl2.crypto;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

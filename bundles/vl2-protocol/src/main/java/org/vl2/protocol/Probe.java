package org.vl2.protocol;

import java.nio.ByteBuffer;

/**
 * PROBE and PROBE-ACK (types {@value Wire#PROBE}, {@value Wire#PROBE_ACK}; docs/protocol.md, "Direct paths"): agent to
 * agent, never through the switch. A pair's sender sends a PROBE to the receiver's endpoint that the switch gave it in
 * PAIR SEND, sealed with the pair's key under the pair's index (a {@link SealedHeader} of type PROBE). The receiver
 * opens it with that pair, which proves it came from the pair's sender, and answers to the probe's source with a
 * PROBE-ACK, sealed under the pair's index with the pair's <em>reply key</em> (derived from the pair key: only the
 * receiver seals under it, so no nonce is ever used twice), echoing the probe id. Body, after the 16-byte sealed
 * header, before the tag:
 *
 * <pre>
 * offset size field
 *  0      8   probe id        the sender's, echoed in the PROBE-ACK
 *  8          end
 * </pre>
 *
 * A PROBE-ACK is exactly as long as its PROBE and only answers one that opened (authenticated, never seen before by
 * the replay window): no amplification, nothing for anyone without the pair key.
 */
public final class Probe {

    /** Body length of both messages. */
    public static final int LENGTH = 8;

    private Probe() {
    }

    /** Writes the probe id at absolute index {@code at}. */
    public static void encode(ByteBuffer out, int at, long id) {
        Codec.put64(out, at, id);
    }

    /** The probe id of a body of {@code length} bytes at {@code at}. */
    public static long decode(ByteBuffer in, int at, int length) throws ProtocolException {
        if (length != LENGTH) {
            throw new ProtocolException("probe: " + length + " bytes, not " + LENGTH);
        }
        return Codec.i64(in, at);
    }
}

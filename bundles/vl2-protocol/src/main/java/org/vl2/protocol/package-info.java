/**
 * The vl2 wire protocol, version 1 ({@code docs/protocol.md}): constants, header helpers and a codec per
 * message, shared by the switch and the port agent.
 *
 * <p>Conventions of every decoder: it reads the datagram between its position and limit with absolute gets
 * only (position and limit are left as they were), in network byte order whatever the buffer's
 * {@link java.nio.ByteBuffer#order() order}, heap or direct, and reports any malformed input as a
 * {@link org.vl2.protocol.ProtocolException}, never as another exception. Encoders write big-endian at the
 * buffer's position and advance it; reserved bytes are written as zero.
 */
@Export
@Version("1.2.0")
package org.vl2.protocol;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

/**
 * vl2 messages over a byte stream (TCP, optionally TLS 1.3): {@link org.vl2.netio.stream.LengthPrefix} frames each
 * message with a 2-byte length, {@link org.vl2.netio.stream.FramedStream} carries them over one non-blocking
 * connection with a bounded write queue, and {@link org.vl2.netio.stream.StreamEndpoints} connects the agent's side
 * as a {@link org.vl2.netio.DatagramEndpoint}, so the agent's pumps do not know a stream from a UDP socket.
 * 2.0.0: the trust-any client context ({@code StreamEndpoints.clientContext()}) is no longer exported.
 */
@Export
@Version("2.0.0")
package org.vl2.netio.stream;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

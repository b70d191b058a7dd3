/**
 * UDP datagram endpoints: {@link org.vl2.netio.DatagramEndpoint} receives and sends datagrams in batches, opened by
 * {@link org.vl2.netio.DatagramEndpoints} as a {@link org.vl2.netio.internal.UdpBatchSocket} (many datagrams per system call,
 * {@code recvmmsg}/{@code sendmmsg} through JNA, UDP GSO/GRO) or on Java NIO, for the switch's transports and the
 * port agent. 2.1.0: queue with a tag and the Refusals a flush reports by tag.
 */
@Export
@Version("2.2.0")
package org.vl2.netio;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

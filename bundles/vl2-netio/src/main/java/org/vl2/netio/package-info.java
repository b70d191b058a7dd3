/**
 * Batched UDP socket I/O on Linux: {@link org.vl2.netio.UdpBatchSocket} receives and sends many datagrams per
 * system call ({@code recvmmsg}, {@code sendmmsg}) through JNA, for the switch's transports and the port agent.
 */
@Export
@Version("1.0.0")
package org.vl2.netio;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

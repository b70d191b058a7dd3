/**
 * Service provider interfaces: what transports and forwarding policies implement, and what the switch
 * core offers them ({@link org.vl2.api.spi.FrameReceiver}). 1.3.0: Transport.NETWORK, the network a raw
 * transport's ports land in. 1.4.0: Transport.send and sendFrame with the
 * port, and FrameReceiver.transmitFailed with the port and bytes, so a transport that refuses a queued frame later
 * corrects that port's TX counters. 1.5.0: FrameReceiver.connectionClosed, a stream transport's connection that ended.
 * 1.6.0: Transport.receiveDrops, what a transport dropped on receive, by reason.
 */
@Export
@Version("1.6.0")
package org.vl2.api.spi;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

/**
 * Service provider interfaces: what transports and forwarding policies implement, and what the switch
 * core offers them ({@link org.vl2.api.spi.FrameReceiver}). 1.3.0: Transport.NETWORK, the network a raw
 * transport's ports land in.
 */
@Export
@Version("1.3.0")
package org.vl2.api.spi;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

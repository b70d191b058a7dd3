/**
 * Linux TAP devices: the kernel side of a vl2 port agent. A {@link org.vl2.tap.TapFactory} creates a
 * {@link org.vl2.tap.TapDevice} from {@link org.vl2.tap.TapSettings} (name, MTU, MAC, addresses, bridge,
 * offload); the device then reads and writes whole Ethernet frames and disappears when it is closed.
 * With offload, {@link org.vl2.tap.TsoSegmenter} cuts the TCP superframes it hands out into wire frames and
 * {@link org.vl2.tap.TcpCoalescer} merges received segments into superframes for it
 * ({@link org.vl2.tap.VirtioNetHeader} describes both).
 */
@Export
@Version("1.2.0")
package org.vl2.tap;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

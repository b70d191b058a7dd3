/**
 * IPv4 address management for vl2 networks: address pools ({@link org.vl2.ipam.Ipv4Pool}), persistent leases
 * ({@link org.vl2.ipam.LeaseTable}) and a DHCPv4 server answering from them ({@link org.vl2.ipam.DhcpServer}).
 * Plain classes without OSGi services: the switch creates one set per network. 1.1.0: lease files written by a
 * {@link org.vl2.ipam.LeaseWriter}, {@link org.vl2.ipam.DhcpServer#REFUSED} for a request naming another station's
 * MAC, {@link org.vl2.ipam.DhcpFrames}. 1.2.0: {@link org.vl2.ipam.LeaseTable#close()}.
 */
@Export
@Version("1.2.0")
package org.vl2.ipam;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

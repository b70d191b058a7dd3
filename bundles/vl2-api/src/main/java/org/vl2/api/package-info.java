/**
 * vl2 contracts: value types (MAC addresses, Ethernet frame views, ports) and the services the switch
 * offers (MAC table read/admin, switch status). Implementations live in their own bundles.
 */
@Export
@Version("1.2.0")
package org.vl2.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

/**
 * vl2 contracts: value types (MAC addresses, Ethernet frame views, ports) and the services the switch
 * offers (MAC table read/admin, switch read/admin). Implementations live in their own bundles.
 *
 * <p>2.0.0: SwitchService is read-only; what changes the switch moved to SwitchAdminService (a breaking change for
 * callers, hence the major version). 2.1.0: SwitchStatistics.dropPortQuota, the per-port hygiene drops (MAC
 * limit, DHCP client MAC, DHCP rate, IPv4 source guard) and dropSealed; NetworkInfo says who may be a port (access:
 * sealed, plaintext, private); Networks.RAW, the built-in network of raw ports. 2.2.0: networks created, changed and
 * removed through SwitchAdminService (InvalidSettingException names the setting at fault); MemberInfo.refused and
 * state (members waiting for authorization). 2.3.0: AgentService.routes() (AgentRoutes: an agent's managed routes and
 * gateway mode). 2.4.0: ApiTokenService (the HTTP API's tokens); SwitchStatistics handshakes, cookie replies and
 * throttled handshakes; NetworkInfo.leaseCapacity; SwitchService.transportErrors; AgentService.counters. 2.5.0:
 * SwitchService.transportReceiveDrops. 2.6.0: MacTableService.nowNanos, the table's clock for the frame path.
 * 2.7.0: pair keys: SwitchService.pairs (PairInfo); SwitchStatistics.pairFrames, pairDrops, pairsMade, pairsEnded;
 * AgentService's pair counter keys; EthernetFrame.outerTpid.
 * 2.8.0: direct paths: AgentService counter keys DIRECT_FRAMES_SENT, DIRECT_FRAMES_RECEIVED, PROBES_SENT,
 * PROBES_ANSWERED, PAIRS_DIRECT.
 */
@Export
@Version("2.8.0")
package org.vl2.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

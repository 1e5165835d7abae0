import type { LoadedConfig } from "../config/load.js";
import type { ClusterFacts, Finding } from "../types.js";
import { topologyDrift } from "./drift.js";
import { importPeers, type PeerFacts } from "./import.js";

/**
 * Everything the topology facts say about the config: drift against the live cluster, conflicts with and
 * problems of imported descriptors. Reported (audit, metrics, logs), never denied: they are about the config.
 */
/** No descriptor read yet: every importing remote is reported as such (with no entry, `now` is never read). */
const NO_PEERS: PeerFacts = { items: new Map(), now: new Date(0) };

export function topologyFindings(loaded: LoadedConfig, facts: Pick<ClusterFacts, "liveTopology" | "peers">): Finding[] {
  const drift = facts.liveTopology ? topologyDrift(loaded, facts.liveTopology) : [];
  const imports = importPeers(loaded, facts.peers ?? NO_PEERS).findings;
  return [...drift, ...imports];
}

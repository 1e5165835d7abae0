import type { LoadedConfig } from "./config/load.js";
import { importPeers } from "./discovery/import.js";
import type { PeerView, PolicyModel, RuleView } from "./model/policy.js";
import type { Topology } from "./topology.js";
import type { ClusterFacts } from "./types.js";

export type { PeerView, RuleView } from "./model/policy.js";

/** One validated policy, of any kind, prepared for the rules: every peer with its exact address range. */
export interface PolicyContext {
  readonly model: PolicyModel;
  readonly loaded: LoadedConfig;
  readonly topology: Topology;
  readonly facts: ClusterFacts;
  readonly rules: readonly RuleView[];
  readonly peers: readonly PeerView[];
}

export function buildContext(model: PolicyModel, loaded: LoadedConfig, facts: ClusterFacts): PolicyContext {
  const topology = facts.peers ? importPeers(loaded, facts.peers).topology : loaded.topology;
  return { model, loaded, topology, facts, rules: model.rules, peers: model.rules.flatMap((r) => r.peers) };
}

/**
 * Remotes' published descriptors merged into the declared topology: declared values win, the descriptor fills
 * what the config leaves out, conflicts are reported, and a descriptor older than its maxAgeSeconds is stale
 * (provable rules resting on ranges taken from it warn: premises.ts).
 */
import type { LoadedConfig } from "../config/load.js";
import type { GuardrailConfig, RemoteCluster } from "../config/types.js";
import { AddressSet } from "../net/address-set.js";
import { parseCidr } from "../net/cidr.js";
import { buildTopology, type ImportInfo, type Topology } from "../topology.js";
import type { Finding } from "../types.js";
import { readDescriptor, type ClusterDescriptor, type DescribedCluster } from "./descriptor.js";
import { TOPOLOGY_DRIFT } from "./drift.js";

export const DESCRIPTOR_IMPORT = "descriptor-import";

/** What the leader last read of one remote's descriptor. */
export interface PeerDescriptor {
  /** The last descriptor read successfully (kept when later reads fail). */
  descriptor?: ClusterDescriptor;
  /** When it was read. */
  readAt?: string;
  /** Why the last attempt failed; absent when it succeeded. */
  error?: string;
  attemptedAt: string;
}

export interface PeerFacts {
  /** By remote name. */
  readonly items: ReadonlyMap<string, PeerDescriptor>;
  readonly now: Date;
}

const MERGED_FIELDS = ["podCIDRs", "serviceCIDRs", "nodeCIDRs", "natSourceCIDRs", "exposedCIDRs", "namespaces"] as const;
type MergedField = (typeof MERGED_FIELDS)[number];

const sameValues = (field: MergedField, a: readonly string[], b: readonly string[]): boolean => {
  if (field === "namespaces") return a.length === b.length && [...a].sort().join() === [...b].sort().join();
  const set = (l: readonly string[]) => AddressSet.of(l.map((c) => parseCidr(c)).filter((c) => c !== undefined));
  const [x, y] = [set(a), set(b)];
  return x.within(y) && y.within(x);
};

export interface PeerImport {
  readonly topology: Topology;
  /** Conflicts between declared values and descriptors, unreadable and stale descriptors: reported, never denied. */
  readonly findings: readonly Finding[];
}

const list = (values: readonly string[]): string => (values.length > 6 ? `${values.slice(0, 6).join(", ")} and ${values.length - 6} more` : values.join(", "));

function mergeRemote(remote: RemoteCluster, at: string, described: DescribedCluster, findings: Finding[]): { merged: RemoteCluster; fields: string[] } {
  const merged: RemoteCluster = { ...remote };
  const fields: string[] = [];
  for (const field of MERGED_FIELDS) {
    const declared = remote[field];
    const shown = described[field];
    if (declared.length === 0) {
      if (shown.length > 0) (merged[field] = [...shown]), fields.push(field);
      continue;
    }
    if (shown.length === 0 || sameValues(field, declared, shown)) continue;
    findings.push({
      rule: TOPOLOGY_DRIFT,
      action: "warn",
      certainty: "provable",
      path: `${at}.${field}`,
      message: `${at}.${field} declares ${list(declared)}, but ${remote.name}'s descriptor shows ${list(shown)}; the declared values are used.`,
      fix: `Correct ${at}.${field}, or remove it to take ${remote.name}'s published values.`,
    });
  }
  return { merged, fields };
}

function importAll(loaded: LoadedConfig, peers: PeerFacts): PeerImport {
  const findings: Finding[] = [];
  const imported = new Map<string, ImportInfo>();
  const remotes = loaded.config.remoteClusters.map((remote, i) => {
    const source = remote.descriptorFrom;
    const peer = source ? peers.items.get(remote.name) : undefined;
    if (!source) return remote;
    const at = `remoteClusters[${i}]`;
    const problem = (message: string, fix: string): void => void findings.push({ rule: DESCRIPTOR_IMPORT, action: "warn", certainty: "provable", path: `${at}.descriptorFrom`, message, fix });
    const secret = `Secret ${source.secretName}`;
    if (!peer?.descriptor || !peer.readAt) {
      problem(
        `${remote.name}'s descriptor has not been read${peer?.error ? `: ${peer.error}` : " yet"}; only the declared values of ${at} are used.`,
        `Check that ${secret} (key ${source.key}) holds a kubeconfig that can get ConfigMap ${source.namespace}/netguard-cluster-descriptor in ${remote.name}.`,
      );
      return remote;
    }
    if (peer.descriptor.remoteCluster.name !== remote.name) {
      problem(`the descriptor read through ${secret} describes cluster ${peer.descriptor.remoteCluster.name}, not ${remote.name}; it is not used.`, `Point ${at}.descriptorFrom at ${remote.name}'s credentials.`);
      return remote;
    }
    const ageSeconds = Math.max(0, Math.round((peers.now.getTime() - Date.parse(peer.readAt)) / 1000));
    const stale = ageSeconds > source.maxAgeSeconds;
    if (peer.error) {
      problem(
        `${remote.name}'s descriptor could not be read (${peer.error}); the one read at ${peer.readAt} (${ageSeconds} s ago) is used${stale ? ", and it is stale" : ""}.`,
        `Check ${remote.name}'s apiserver and ${secret}.`,
      );
    } else if (stale) {
      problem(`${remote.name}'s descriptor was last read at ${peer.readAt}, ${ageSeconds} s ago (more than maxAgeSeconds ${source.maxAgeSeconds}).`, "Check that netguard's leader is running and refreshing descriptors.");
    }
    const { merged, fields } = mergeRemote(remote, at, peer.descriptor.remoteCluster, findings);
    imported.set(remote.name, { fields, readAt: peer.readAt, ageSeconds, stale, maxAgeSeconds: source.maxAgeSeconds });
    return merged;
  });
  const config: GuardrailConfig = { ...loaded.config, remoteClusters: remotes };
  return { topology: buildTopology(config, imported), findings };
}

const memo = new WeakMap<PeerFacts, WeakMap<LoadedConfig, PeerImport>>();

/** The topology with the remotes' descriptors merged in (memoized per config and facts: the webhook asks per request). */
export function importPeers(loaded: LoadedConfig, peers: PeerFacts): PeerImport {
  let byConfig = memo.get(peers);
  if (!byConfig) memo.set(peers, (byConfig = new WeakMap()));
  let result = byConfig.get(loaded);
  if (!result) byConfig.set(loaded, (result = importAll(loaded, peers)));
  return result;
}

/**
 * The imports as the leader stores them (ConfigMap netguard-peer-descriptors: one `<remote>.json` key per remote),
 * read back; entries that do not parse or validate are left out and reported.
 */
export function readPeerDescriptors(data: Readonly<Record<string, string>>): { peers: Map<string, PeerDescriptor>; problems: { key: string; message: string }[] } {
  const peers = new Map<string, PeerDescriptor>();
  const problems: { key: string; message: string }[] = [];
  for (const [key, text] of Object.entries(data)) {
    if (!key.endsWith(".json")) continue;
    let entry: Partial<PeerDescriptor>;
    try {
      entry = JSON.parse(text) as Partial<PeerDescriptor>;
    } catch (error) {
      problems.push({ key, message: `not JSON: ${(error as Error).message}` });
      continue;
    }
    if (typeof entry !== "object" || entry === null || typeof entry.attemptedAt !== "string") {
      problems.push({ key, message: "not a stored import (no attemptedAt)" });
      continue;
    }
    const read = entry.descriptor === undefined ? undefined : readDescriptor(entry.descriptor);
    if (read && !read.ok) problems.push({ key, message: `invalid descriptor: ${read.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}` });
    peers.set(key.slice(0, -".json".length), {
      attemptedAt: entry.attemptedAt,
      ...(read?.ok && typeof entry.readAt === "string" ? { descriptor: read.descriptor, readAt: entry.readAt } : {}),
      ...(typeof entry.error === "string" ? { error: entry.error } : {}),
    });
  }
  return { peers, problems };
}

import type * as k8s from "@kubernetes/client-node";
import {
  auditNamespace,
  expiredExceptionFindings,
  invalidExceptionFindings,
  namespaceLabelsOf,
  namespacesNotLabelledLocal,
  readExceptions,
  topologyFindings,
  type ClusterFacts,
  type LiveTopology,
  type PeerFacts,
  type LoadedConfig,
  type Namespace,
  type NetworkPolicy,
} from "../../policies/index.js";
import { checkObjects, refOf, type CheckReport } from "./report.js";

/** What an audit looks at: every Namespace, NetworkPolicy, and Cilium or Calico policy of the cluster. */
export interface ClusterSnapshot {
  namespaces: readonly k8s.V1Namespace[];
  policies: readonly k8s.V1NetworkPolicy[];
  /** Cilium and Calico policies, each with apiVersion and kind; absent when none is served. */
  cniPolicies?: readonly unknown[];
  /** GuardrailExceptions as stored; absent when their CRD is not installed. */
  exceptions?: readonly unknown[];
  /** This cluster's ranges as its API shows them; absent: not discovered. */
  liveTopology?: LiveTopology;
  /** The remotes' imported descriptors. */
  peers?: PeerFacts;
}

const withKind = <T extends object>(o: T, apiVersion: string, kind: string): T => ({ apiVersion, kind, ...o });

/** The audit in steps, so that a caller can pause between them. */
function* auditSteps(snapshot: ClusterSnapshot, loaded: LoadedConfig, chunk: number, now: Date): Generator<void, CheckReport> {
  const localNamespaces = new Set(snapshot.namespaces.map((n) => n.metadata?.name ?? ""));
  const { clusterLabel, cluster } = loaded.config;
  const stored = readExceptions(snapshot.exceptions ?? []);
  const facts: ClusterFacts = {
    origin: "cluster",
    localNamespaces,
    namespacesNotLabelledLocal: namespacesNotLabelledLocal(snapshot.namespaces, clusterLabel, cluster.name),
    namespaceLabels: namespaceLabelsOf(snapshot.namespaces),
    exceptions: { items: stored.items, now },
    ...(snapshot.liveTopology ? { liveTopology: snapshot.liveTopology } : {}),
    ...(snapshot.peers ? { peers: snapshot.peers } : {}),
  };
  // Objects from a list call carry no kind; the engine expects it.
  const policies = snapshot.policies.map((p) => withKind(p, "networking.k8s.io/v1", "NetworkPolicy"));
  const evaluated: readonly unknown[] = [...policies, ...(snapshot.cniPolicies ?? [])];
  const report: CheckReport = { findings: [], errors: [], objects: 0, skipped: 0 };
  for (let i = 0; i < evaluated.length; i += chunk) {
    const part = checkObjects(
      evaluated.slice(i, i + chunk).map((object) => ({ object })),
      loaded,
      facts,
    );
    report.findings.push(...part.findings);
    report.errors.push(...part.errors);
    report.objects += part.objects;
    report.skipped += part.skipped;
    yield;
  }
  const byNamespace = new Map<string, NetworkPolicy[]>();
  for (const p of policies) {
    const ns = p.metadata?.namespace ?? "";
    let list = byNamespace.get(ns);
    if (!list) byNamespace.set(ns, (list = []));
    list.push(p as unknown as NetworkPolicy);
  }
  let done = 0;
  for (const raw of snapshot.namespaces) {
    const ns = withKind(raw, "v1", "Namespace") as unknown as Namespace;
    const object = refOf(ns);
    for (const f of auditNamespace(ns, byNamespace.get(ns.metadata.name ?? "") ?? [], loaded.config)) report.findings.push({ ...f, object });
    if (++done % chunk === 0) yield;
  }
  const config = { kind: "GuardrailConfig", name: cluster.name ?? "netguard" };
  for (const finding of topologyFindings(loaded, facts)) report.findings.push({ ...finding, object: config });
  for (const { name, finding } of [...expiredExceptionFindings(stored.items, now), ...invalidExceptionFindings(stored.invalid)]) report.findings.push({ ...finding, object: { kind: "GuardrailException", name } });
  return report;
}

/**
 * The audit of a live cluster: every NetworkPolicy through the same engine as the webhook and
 * `netguard check`, with the real namespace list as cluster facts, plus namespace findings.
 */
export function auditSnapshot(snapshot: ClusterSnapshot, loaded: LoadedConfig, now = new Date()): CheckReport {
  const steps = auditSteps(snapshot, loaded, Number.MAX_SAFE_INTEGER, now);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * The same audit, yielding to the event loop every `chunk` objects: in `netguard serve` a scan of
 * thousands of policies must not hold up admission requests for its whole duration.
 */
export async function auditSnapshotAsync(snapshot: ClusterSnapshot, loaded: LoadedConfig, chunk = 250, now = new Date()): Promise<CheckReport> {
  const steps = auditSteps(snapshot, loaded, chunk, now);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

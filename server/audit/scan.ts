import type * as k8s from "@kubernetes/client-node";
import { auditNamespace, type LoadedConfig, type Namespace, type NetworkPolicy } from "../../policies/index.js";
import { checkObjects, refOf, type CheckReport } from "./report.js";

/** What an audit looks at: every Namespace and every NetworkPolicy of the cluster. */
export interface ClusterSnapshot {
  namespaces: readonly k8s.V1Namespace[];
  policies: readonly k8s.V1NetworkPolicy[];
}

const withKind = <T extends object>(o: T, apiVersion: string, kind: string): T => ({ apiVersion, kind, ...o });

/**
 * The audit of a live cluster: every NetworkPolicy through the same engine as the webhook and
 * `netguard check`, with the real namespace list as cluster facts, plus namespace findings.
 */
export function auditSnapshot(snapshot: ClusterSnapshot, loaded: LoadedConfig): CheckReport {
  const localNamespaces = new Set(snapshot.namespaces.map((n) => n.metadata?.name ?? ""));
  // Objects from a list call carry no kind; the engine expects it.
  const policies = snapshot.policies.map((p) => withKind(p, "networking.k8s.io/v1", "NetworkPolicy"));
  const report = checkObjects(policies.map((object) => ({ object })), loaded, { localNamespaces });
  const byNamespace = new Map<string, NetworkPolicy[]>();
  for (const p of policies) {
    const ns = p.metadata?.namespace ?? "";
    byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), p as unknown as NetworkPolicy]);
  }
  for (const raw of snapshot.namespaces) {
    const ns = withKind(raw, "v1", "Namespace") as unknown as Namespace;
    const object = refOf(ns);
    for (const f of auditNamespace(ns, byNamespace.get(ns.metadata.name ?? "") ?? [], loaded.config)) report.findings.push({ ...f, object });
  }
  return report;
}

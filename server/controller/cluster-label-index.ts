import type * as k8s from "@kubernetes/client-node";
import { isLabelledLocal } from "../../policies/index.js";

/**
 * The namespaces whose cluster label is absent or not this cluster's name (ClusterFacts.namespacesNotLabelledLocal),
 * kept up to date from the namespace cache's events: O(1) per event, rebuilt from the cache only when the
 * label key or the cluster name changes (a config reload).
 */
export class ClusterLabelIndex {
  private readonly notLocal = new Map<string, string | undefined>();
  private key: string | undefined;
  private name: string | undefined;

  constructor(private readonly list: () => readonly k8s.V1Namespace[]) {}

  /** The current map for this label key and cluster name; the engine reads it synchronously, never keeps it. */
  view(key: string, name: string | undefined): ReadonlyMap<string, string | undefined> {
    if (key !== this.key || name !== this.name) {
      this.key = key;
      this.name = name;
      this.notLocal.clear();
      for (const ns of this.list()) this.upsert(ns);
    }
    return this.notLocal;
  }

  upsert(ns: k8s.V1Namespace): void {
    const nsName = ns.metadata?.name;
    if (this.key === undefined || !nsName) return;
    if (isLabelledLocal(ns, this.key, this.name)) this.notLocal.delete(nsName);
    else this.notLocal.set(nsName, ns.metadata?.labels?.[this.key]);
  }

  remove(ns: k8s.V1Namespace): void {
    if (ns.metadata?.name) this.notLocal.delete(ns.metadata.name);
  }
}

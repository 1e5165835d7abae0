/**
 * Shared by the controller and audit end-to-end tests: polling, kubectl JSON, alice's RBAC, the
 * expected baseline, and a second `netguard serve` replica against the same cluster.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { freePort } from "../k8s/cluster.js";
import { waitFor } from "../helpers/wait.js";
import { isReady } from "../helpers/https.js";
import type { NetguardEnv } from "../k8s/netguard-env.js";
import { repoRoot } from "../helpers/paths.js";

export const CLI = join(repoRoot, "dist/server/cli/main.js");
export const BASELINE = "netguard-baseline";
export const MANAGED = { "app.kubernetes.io/managed-by": "netguard" };

/** `kubectl get ... -o json`, parsed; undefined when not found. */
export async function getJson<T = any>(env: NetguardEnv, args: string[]): Promise<T | undefined> {
  const r = await env.kubectl(["get", ...args, "-o", "json"]);
  if (r.code !== 0) {
    if (/NotFound|not found/.test(r.stderr)) return undefined;
    throw new Error(`kubectl get ${args.join(" ")}: ${r.stderr}`);
  }
  return JSON.parse(r.stdout) as T;
}

export const baselineOf = (env: NetguardEnv, ns: string) => getJson(env, ["networkpolicy", BASELINE, "-n", ns]);

export async function kubectlOk(env: NetguardEnv, args: string[], stdin?: string): Promise<string> {
  const r = await env.kubectl(args, stdin);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

/** The baseline the multicloud fixture config asks for (DESIGN.md section 4 defaults), as the apiserver stores it. */
export const DNS_ONLY_SPEC = {
  podSelector: {},
  policyTypes: ["Ingress", "Egress"],
  egress: [
    {
      to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    },
  ],
};
export const ALLOW_ALL_EGRESS_SPEC = { podSelector: {}, policyTypes: ["Ingress"] };

/** RBAC runs before admission: alice may manage namespaces and policies, so netguard is what stops her. */
export const ALICE_RBAC = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-controller-alice}
rules:
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [get, list, watch, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: e2e-controller-alice}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: e2e-controller-alice}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
`;

export async function leaseOf(env: NetguardEnv): Promise<{ holderIdentity?: string; leaseTransitions?: number; leaseDurationSeconds?: number } | undefined> {
  const lease = await getJson(env, ["lease", "netguard-controller", "-n", "netguard-system"]);
  return lease?.spec;
}

export interface Replica {
  child: ChildProcess;
  identity: string;
  url: string;
  logPath: string;
  /** SIGTERM (graceful: releases the lease) or SIGKILL (a crash). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  log(): string;
}

/**
 * Another `netguard serve` against the same cluster, config and lease namespace (what a second pod of
 * the Deployment is). It is not registered as a webhook; it serves on its own port with a
 * generated certificate.
 */
export async function startReplica(env: NetguardEnv, extraArgs: readonly string[] = []): Promise<Replica> {
  const port = await freePort();
  const logPath = join(env.cluster.dir, `netguard-replica-${port}.log`);
  const out = openSync(logPath, "a");
  const child = spawn(
    process.execPath,
    [CLI, "serve", "--config", env.configPath, "--port", String(port), "--host", "127.0.0.1", "--kubeconfig", env.cluster.kubeconfig, "--lease-namespace", "netguard-system", ...extraArgs],
    { stdio: ["ignore", out, out] },
  );
  closeSync(out);
  const url = `https://127.0.0.1:${port}`;
  await waitFor(`replica on ${url} to be ready`, async () => {
    if (child.exitCode !== null) throw new Error(`replica exited with ${child.exitCode}: ${readFileSync(logPath, "utf8")}`);
    return isReady(url);
  }, 120_000); // as startNetguard: a loaded machine has taken 60 s
  return {
    child,
    identity: `${hostname()}-${child.pid}`,
    url,
    logPath,
    log: () => readFileSync(logPath, "utf8"),
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill(signal);
      await exited;
    },
  };
}

/** Log lines of netguard's main process (JSON), optionally only those with `msg`. */
export function logLines(env: NetguardEnv, msg?: string): Record<string, any>[] {
  return readFileSync(env.logPath, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, any>;
      } catch {
        return { msg: l };
      }
    })
    .filter((l) => msg === undefined || l.msg === msg);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/**
 * A replica that starts while something it needs is missing heals once it is there, on a real
 * kube-apiserver: its own identity (the apiserver unreachable at first) is asked for until known, and
 * the pod guard admits while its namespace cache cannot be listed (RBAC denies the list at first).
 */
import { readFileSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import t from "tap";
import { buildWebhookConfigurations, WEBHOOK_NAMES } from "../../certs/webhook-configurations.js";
import { buildBaselinePolicy, defaultConfig, NETGUARD_FIELD_MANAGER } from "../../policies/index.js";
import { https, MULTICLOUD, namespace, namespaceReview, networkPolicyReview, spawnServe, type ServeProcess } from "../integration/fixtures/harness.js";
import { freePort, type LocalCluster } from "../k8s/cluster.js";
import { clusterFor, NAMESPACE, serviceAccountKubeconfig, type Kubectl } from "./fixtures/install.js";
import { waitFor } from "../helpers/wait.js";
import { metricValue } from "../helpers/prometheus.js";
import { httpsGet } from "../helpers/https.js";

const NS = NAMESPACE;
let cluster: LocalCluster;
let kubectl: Kubectl;
t.before(async () => {
  ({ cluster, kubectl } = await clusterFor(t));
  await k(["create", "namespace", NS]);
});
const k = async (args: string[], stdin?: string) => {
  const r = await kubectl(args, stdin);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
};
const tokenKubeconfig = (name: string, server?: string) => serviceAccountKubeconfig(cluster, kubectl, { name, server });

/** A TCP relay to the apiserver that refuses every connection until opened: the apiserver "unreachable". */
async function gate(): Promise<{ url: string; open(): void; close(): Promise<void> }> {
  const apiPort = Number(new URL(cluster.server).port);
  let open = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (!open) return client.destroy();
    const upstream = createConnection(apiPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return {
    url: `https://127.0.0.1:${port}`,
    open: () => (open = true),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A busy machine takes a while to start a TypeScript child process. */
const listeningPort = async (serve: ServeProcess) => (await serve.line((l) => l.msg.startsWith("listening on https://"), "the listening line", 120_000)).port as number;
const readyz = async (serve: ServeProcess) => httpsGet(`https://127.0.0.1:${await listeningPort(serve)}/readyz`);
const caOf = async (serve: ServeProcess) => readFileSync((await serve.line((l) => typeof l.caPath === "string", "the CA line")).caPath as string, "utf8");

t.test("a replica started while the apiserver is unreachable learns its identity once it answers", async (t) => {
  const username = `system:serviceaccount:${NS}:netguard`;
  await k(["create", "serviceaccount", "netguard", "-n", NS]);
  await k(["create", "clusterrolebinding", "e2e-netguard", "--clusterrole=cluster-admin", `--serviceaccount=${NS}:netguard`]);
  const relay = await gate();
  t.teardown(() => relay.close());
  const serve = spawnServe(t, ["--port", "0", "--host", "127.0.0.1", "--config", MULTICLOUD, "--kubeconfig", await tokenKubeconfig("netguard", relay.url), "--lease-namespace", NS]);

  const before = await readyz(serve);
  t.equal(before.status, 503, "not ready while its own username is unknown");
  t.match(before.body, /netguard's own username is not known yet/, `/readyz says why: ${before.body}`);

  relay.open();
  const opened = Date.now();
  await waitFor("the replica to become ready", async () => (await readyz(serve)).status === 200, 30_000, 50);
  t.comment(`ready ${Date.now() - opened} ms after the apiserver became reachable`);
  t.ok(serve.logs.some((l) => l.msg === "netguard's own identity counts as privileged" && l.username === username), "it learned its username");

  // The leader runs as the same ServiceAccount: its writes, routed to this replica, are admitted; alice's are not.
  const port = await listeningPort(serve);
  const ca = await caOf(serve);
  const config = defaultConfig().config;
  const optedOut = namespace("shop", { "netguard.dev/cluster": "gcp-west", "netguard.dev/baseline": "disabled" });
  const labelled = namespace("shop", { "netguard.dev/cluster": "gcp-west" });
  // As stored after the controller wrote it: its field manager in managedFields makes it netguard's.
  const built = buildBaselinePolicy("shop", config);
  const baseline = { ...built, metadata: { ...built.metadata, name: config.baseline.name, managedFields: [{ manager: NETGUARD_FIELD_MANAGER, operation: "Update" }] } };
  const writes = [
    ["opting a namespace out", namespaceReview(optedOut, { operation: "UPDATE", oldObject: labelled, user: { username, groups: ["system:serviceaccounts"] } })],
    ["deleting a baseline (opt-out)", networkPolicyReview(baseline, { operation: "DELETE", oldObject: baseline, user: { username, groups: ["system:serviceaccounts"] } })],
  ] as const;
  for (const [what, review] of writes) {
    const asLeader = await https({ port, ca, path: "/validate", method: "POST", body: review });
    t.equal(asLeader.json?.response?.allowed, true, `${what} as netguard: admitted`);
    const asAlice = await https({ port, ca, path: "/validate", method: "POST", body: { ...review, request: { ...review.request, uid: `${review.request.uid}-alice`, userInfo: { username: "alice", groups: ["system:authenticated"] } } } });
    t.equal(asAlice.json?.response?.allowed, false, `${what} as alice: denied`);
  }
  serve.child.kill("SIGTERM");
  t.equal(await serve.exited, 0);
});

const ROLE = (verbs: string) => `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-pod-guard}
rules:
- {apiGroups: [""], resources: [namespaces], verbs: [${verbs}]}
- {apiGroups: [networking.k8s.io], resources: [networkpolicies], verbs: [get]}
- {apiGroups: [authentication.k8s.io], resources: [selfsubjectreviews], verbs: [create]}
`;
const pod = (ns: string, name: string) => JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: ns }, spec: { containers: [{ name: "app", image: "registry.example/app:1" }] } });

t.test("the pod guard admits pods while its namespace cache cannot sync, and guards once it has", async (t) => {
  // It may read namespaces and baselines, but not list namespaces: its cache cannot sync. It cannot write.
  await k(["apply", "-f", "-"], ROLE("get, watch"));
  await k(["create", "serviceaccount", "pod-guard", "-n", NS]);
  await k(["create", "clusterrolebinding", "e2e-pod-guard", "--clusterrole=e2e-pod-guard", `--serviceaccount=${NS}:pod-guard`]);
  await k(["apply", "-f", "-"], JSON.stringify(namespace("pg-optout", { "netguard.dev/baseline": "disabled" })));
  const serve = spawnServe(t, ["--port", "0", "--host", "127.0.0.1", "--config", MULTICLOUD, "--kubeconfig", await tokenKubeconfig("pod-guard"), "--lease-namespace", NS, "--pod-guard"]);
  const port = await listeningPort(serve);
  const url = `https://127.0.0.1:${port}`;
  const { validating } = buildWebhookConfigurations({ caCert: await caOf(serve), target: { url }, podGuard: true, name: "netguard-pod-guard" });
  validating.webhooks = validating.webhooks!.filter((w) => w.name === WEBHOOK_NAMES.guardPods);
  await k(["apply", "-f", "-"], JSON.stringify(validating));
  await serve.line((l) => l.msg === "watch failed; restarting" && l.status === 403, "the namespace list to be refused");

  // The Pod webhook takes effect asynchronously: create pods until the guard has answered one.
  const decided = async () => {
    const m = (await httpsGet(`${url}/metrics`)).body;
    return ["not-synced", "denied", "not-applicable", "protected"].reduce((n, d) => n + (metricValue(m, "netguard_pod_guard_decisions_total", `decision="${d}"`) ?? 0), 0);
  };
  let i = 0;
  const refusals: string[] = [];
  await waitFor("the pod guard to answer", async () => {
    const r = await kubectl(["create", "-f", "-"], pod("kube-public", `early-${i++}`));
    if (r.code !== 0) refusals.push(r.stderr);
    return (await decided()) > 0;
  }, 30_000, 250);
  t.same(refusals, [], "no pod in the exempt namespace kube-public was refused");
  const optedOut = await kubectl(["create", "-f", "-"], pod("pg-optout", "app"));
  t.equal(optedOut.code, 0, `a pod in an opted-out namespace is admitted: ${optedOut.stderr}`);
  const ready = await httpsGet(`${url}/readyz`);
  t.equal(ready.status, 200, "the replica is ready: the guard does not hold it back");
  t.ok((metricValue((await httpsGet(`${url}/metrics`)).body, "netguard_pod_guard_decisions_total", 'decision="not-synced"') ?? 0) >= 2, "counted as not-synced");

  // The list is allowed: the cache syncs (after the watch's backoff) and the guard judges again.
  await k(["apply", "-f", "-"], ROLE("get, list, watch"));
  await waitFor("the namespace cache to sync (after the watch's backoff)", async () => serve.logs.some((l) => l.msg === "namespace cache synced"), 90_000, 200);
  await k(["create", "namespace", "pg-new"]);
  const denied = await waitFor("a pod in a namespace without its baseline to be refused", async () => {
    const r = await kubectl(["create", "-f", "-"], pod("pg-new", `app-${i++}`));
    return r.code !== 0 ? r : undefined;
  }, 15_000, 250);
  t.match(denied.stderr, /namespace pg-new is not protected yet/, "a namespace without its baseline is guarded (this replica may not create it)");
  t.equal((await kubectl(["create", "-f", "-"], pod("kube-public", `late-${i++}`))).code, 0, "kube-public still admitted");
  t.equal((await kubectl(["create", "-f", "-"], pod("pg-optout", "later"))).code, 0, "the opted-out namespace still admitted");
});

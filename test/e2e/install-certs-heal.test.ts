/**
 * Self-managed certificates when the netguard-tls Secret is deleted, on a real kube-apiserver with the
 * manifests' RBAC (netguard's ServiceAccount): a running replica recreates it with the certificates in
 * use, a new `netguard serve` then starts and becomes ready, the webhooks keep working; with no replica
 * running a new one creates it afresh; and a replica that cannot get certificates serves, not ready,
 * instead of exiting, and heals once it can.
 */
import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import t from "tap";
import { kubeClients, loadKubeConfig, type KubeClients } from "../../kube/client.js";
import type { LocalCluster } from "../k8s/cluster.js";
import { MULTICLOUD, spawnServe, type ServeProcess } from "../integration/fixtures/harness.js";
import { httpsGet, isReady } from "../helpers/https.js";
import { waitFor } from "../helpers/wait.js";
import { clusterFor, MANIFESTS, NAMESPACE, pointAt, policy, secretData, serviceAccountKubeconfig, startCertsReplica, type CertsReplica, type Kubectl } from "./fixtures/install.js";

const FAST = { syncMs: 250 };
let cluster: LocalCluster;
let kubectl: Kubectl;
let kubeconfig: string;
let clients: KubeClients;
t.before(async () => {
  ({ cluster, kubectl } = await clusterFor(t));
  if ((await kubectl(["apply", "-f", join(MANIFESTS, "base", "namespace.yaml")])).code !== 0) throw new Error("creating the namespace failed");
  const applied = await kubectl(["apply", "-k", MANIFESTS]);
  if (applied.code !== 0) throw new Error(`applying the manifests failed: ${applied.stderr}`);
  kubeconfig = await serviceAccountKubeconfig(cluster, kubectl);
  clients = kubeClients(loadKubeConfig(kubeconfig));
});

const serialOf = (pem: string | undefined) => (pem ? new X509Certificate(pem).serialNumber : undefined);
const deleteSecret = async () => {
  const deleted = await kubectl(["delete", "secret", "netguard-tls", "-n", NAMESPACE]);
  if (deleted.code !== 0) throw new Error(`deleting netguard-tls failed: ${deleted.stderr}`);
};
const pointWebhooksAt = async (replica: CertsReplica) => {
  for (const kind of ["validatingwebhookconfiguration", "mutatingwebhookconfiguration"]) await pointAt(kubectl, kind, replica.server.url);
};
/** Both webhooks answer through the apiserver, over TLS verified with the injected caBundle. */
const webhooksWork = (ns: string) =>
  waitFor(`the webhooks to answer (${ns})`, async () => {
    if ((await kubectl(["create", "namespace", ns])).code !== 0) return false;
    const label = await kubectl(["get", "namespace", ns, "-o", "jsonpath={.metadata.labels.netguard\\.dev/cluster}"]);
    const denied = await kubectl(["create", "-f", "-"], JSON.stringify(policy("from-aws-pods", ns, "10.100.0.0/16")));
    return label.stdout === "gcp-west" && /nat-hidden-cidr/.test(denied.stderr);
  }, 30_000);
/** The port, once listening: a slow start (a busy machine, ten seconds of asking for the Secret first) takes a while. */
const listeningPort = async (serve: ServeProcess) => (await serve.line((l) => l.msg.startsWith("listening on https://"), "the listening line", 120_000)).port as number;
const serveArgs = (config: string, dir: string) => ["--port", "0", "--host", "127.0.0.1", "--config", MULTICLOUD, "--kubeconfig", config, "--lease-namespace", NAMESPACE, "--self-managed-certs", "--cert-dir", join(cluster.dir, dir)];

t.test("a running replica recreates the deleted Secret with the certificates in use; a new replica starts", async (t) => {
  const a = await startCertsReplica(t, { clients, ...FAST }, join(cluster.dir, "replica-a"));
  await pointWebhooksAt(a);
  t.ok(await webhooksWork("before"), "the webhooks work");
  const before = await secretData(kubectl);

  await deleteSecret();
  const after = await waitFor("the Secret to be back", async () => {
    const data = await secretData(kubectl);
    return data["tls.crt"] ? data : undefined;
  });
  t.equal(serialOf(after["tls.crt"]), serialOf(before["tls.crt"]), "with the certificate every replica serves");
  t.equal(after["ca-bundle.crt"], before["ca-bundle.crt"], "and the caBundle the webhooks trust");
  t.ok(await webhooksWork("after-delete"), "the webhooks kept working");

  // What the next rollout does: a new replica, which could not start while the Secret was missing.
  const b = spawnServe(t, serveArgs(kubeconfig, "replica-b"));
  const port = await listeningPort(b);
  await waitFor("the new replica to be ready", () => isReady(`https://127.0.0.1:${port}`), 30_000);
  t.equal(b.logs.find((l) => l.msg.startsWith("listening on"))?.certificate, serialOf(after["tls.crt"]), "it serves the Secret's certificate");
  b.child.kill("SIGKILL");
  await b.exited;
  await a.stop();
});

t.test("with no replica running, the next one creates the Secret afresh and the webhooks follow", async (t) => {
  const before = await secretData(kubectl);
  await deleteSecret();
  const c = await startCertsReplica(t, { clients, ...FAST }, join(cluster.dir, "replica-c"));
  const after = await secretData(kubectl);
  t.not(after["ca.crt"], before["ca.crt"], "a new CA");
  await pointWebhooksAt(c);
  t.ok(await webhooksWork("after-recreate"), "the webhooks trust it: the caBundle was injected");
  await c.stop();
});

t.test("a replica that cannot get certificates serves not ready, does not exit, and heals", async (t) => {
  t.equal((await kubectl(["create", "serviceaccount", "stranger", "-n", NAMESPACE])).code, 0);
  const d = spawnServe(t, serveArgs(await serviceAccountKubeconfig(cluster, kubectl, { name: "stranger" }), "replica-d"));
  const port = await listeningPort(d);
  const notReady = await httpsGet(`https://127.0.0.1:${port}/readyz`);
  t.equal(notReady.status, 503, "not ready");
  t.match(notReady.body, /no serving certificate from Secret netguard-system\/netguard-tls yet \(403/, `says why: ${notReady.body}`);
  t.equal(d.child.exitCode, null, "still running");

  // Given netguard's permissions, it picks up the Secret's pair and becomes ready without a restart.
  for (const kind of ["clusterrolebinding", "rolebinding"]) {
    const bound = await kubectl(["create", kind, "e2e-stranger-certs", ...(kind === "rolebinding" ? ["-n", NAMESPACE, "--role=netguard-certs"] : ["--clusterrole=netguard-certs"]), `--serviceaccount=${NAMESPACE}:stranger`]);
    t.equal(bound.code, 0, bound.stderr);
  }
  await waitFor("the replica to become ready", () => isReady(`https://127.0.0.1:${port}`), 30_000);
  t.equal(d.child.exitCode, null, "without restarting");
});

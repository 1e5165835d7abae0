/**
 * The optional hardening of docs/install.md on the real kube-apiserver: `netguard certs --client-auth` writes
 * the apiserver's admission configuration, the apiserver presents its client certificate to the webhooks,
 * and `netguard serve --client-ca` answers it while refusing every other caller.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import t from "tap";
import { generateCA } from "../../certs/generate.js";
import { freePort } from "../k8s/cluster.js";
import { startNetguardEnv, type NetguardEnv } from "../k8s/netguard-env.js";
import { waitFor } from "../helpers/wait.js";
import { CLI } from "./controller-helpers.js";
import { https } from "../integration/fixtures/harness.js";

const run = promisify(execFile);
const NAT_HIDDEN = JSON.stringify({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name: "allow-aws", namespace: "default" },
  spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "10.100.0.0/16" } }] }] },
});

let env: NetguardEnv;
let dir: string;
let clientCa: string;
t.before(async () => {
  dir = await mkdtemp(join(tmpdir(), "netguard-client-auth-"));
  const port = await freePort();
  await run(process.execPath, [CLI, "certs", "--out", dir, "--url", `https://127.0.0.1:${port}`, "--client-auth"]);
  clientCa = await readFile(join(dir, "client-auth", "ca.crt"), "utf8");
  env = await startNetguardEnv({
    port,
    apiserverArgs: [`--admission-control-config-file=${join(dir, "client-auth", "admission-config.yaml")}`],
    extraServeArgs: ["--client-ca", join(dir, "client-auth", "ca.crt")],
  });
});
t.teardown(async () => {
  await env?.stop();
  await rm(dir, { recursive: true, force: true });
});

const port = () => Number(new URL(env.url).port);

t.test("the apiserver authenticates with its client certificate: both webhooks answer it", async (t) => {
  t.equal((await env.kubectl(["create", "namespace", "authenticated"])).code, 0);
  const labels = await env.kubectl(["get", "namespace", "authenticated", "-o", "jsonpath={.metadata.labels.netguard\\.dev/cluster}"]);
  t.equal(labels.stdout, "gcp-west", "the mutating webhook stamped the namespace");
  const denied = await env.kubectl(["create", "-f", "-"], NAT_HIDDEN);
  t.not(denied.code, 0);
  t.match(denied.stderr, "nat-hidden-cidr", "the validating webhook decided");
});

t.test("any other caller gets a 401; probes stay open", async (t) => {
  const ca = await readFile(env.caPath, "utf8");
  const anonymous = await https({ port: port(), ca, path: "/validate", method: "POST", body: {} });
  t.equal(anonymous.status, 401);
  t.match(anonymous.json.reason, "needs a client certificate signed by netguard's --client-ca");
  t.equal((await https({ port: port(), ca, path: "/readyz" })).status, 200);
});

t.test("a client CA that no longer trusts the apiserver fails its webhook calls (failurePolicy Fail), and recovers", async (t) => {
  await writeFile(join(dir, "client-auth", "ca.crt"), (await generateCA("someone-else")).cert);
  const refused = await waitFor("the apiserver to be refused", async () => {
    const r = await env.kubectl(["create", "namespace", `refused-${Date.now()}`]);
    return r.code !== 0 ? r.stderr : undefined;
  });
  t.match(refused, /failed calling webhook "namespaces\.mutate\.netguard\.dev"/);
  t.match(refused, "the server has asked for the client to provide credentials", "the apiserver's words for netguard's 401");

  await writeFile(join(dir, "client-auth", "ca.crt"), clientCa);
  await waitFor("the apiserver to be answered again", async () => (await env.kubectl(["create", "namespace", `back-${Date.now()}`])).code === 0);
  t.pass("answered again with the original client CA");
});

/**
 * The Deployment's own command line (`netguard serve` + its args, paths mapped to temp files) run as a
 * process with netguard's ServiceAccount token: its permissions are enough for everything it does
 * (certificates, leader election, audit reports), and it serves the certificate the apiserver will
 * check for the Service name.
 */
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import t from "tap";
import { parseAllDocuments } from "yaml";
import { waitFor } from "../helpers/wait.js";
import { repoRoot } from "../helpers/paths.js";
import { clusterFor, kustomize, MANIFESTS, NAMESPACE, serviceAccountKubeconfig } from "./fixtures/install.js";

type LogLine = { msg: string; level: number; [key: string]: unknown };

function get(port: number, path: string, ca: string, servername: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, ca, servername, agent: false }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

t.test("the Deployment's command line, as netguard's ServiceAccount", async (t) => {
  const { cluster, kubectl } = await clusterFor(t);
  t.equal((await kubectl(["apply", "-f", join(MANIFESTS, "base", "namespace.yaml")])).code, 0);
  t.equal((await kubectl(["apply", "-k", MANIFESTS])).code, 0);
  const kubeconfig = await serviceAccountKubeconfig(cluster, kubectl);
  // A new CRD answers 429 for a moment after it is established; the first audit scan writes at once.
  await waitFor("the PolicyReport API", async () => (await kubectl(["get", "policyreports,clusterpolicyreports", "-A"])).code === 0);

  const config = join(cluster.dir, "config.yaml");
  await writeFile(config, await readFile(join(MANIFESTS, "base", "config.yaml")));
  const built = parseAllDocuments((await kustomize(MANIFESTS)).stdout).map((d) => d.toJS());
  const container = built.find((d) => d.kind === "Deployment").spec.template.spec.containers[0];
  const args = (container.args as string[]).map((a) =>
    a.replace(/^--config=.*/, `--config=${config}`).replace(/^--cert-dir=.*/, `--cert-dir=${join(cluster.dir, "tls")}`),
  );

  const loader = process.execArgv.filter((a) => a.includes("@tapjs/typescript"));
  const child = spawn(process.execPath, [...loader, join(repoRoot, "server/cli/main.ts"), "serve", ...args, "--kubeconfig", kubeconfig, "--port", "0", "--host", "127.0.0.1"], {
    env: { ...process.env, POD_NAMESPACE: NAMESPACE, TS_NODE_TRANSPILE_ONLY: "1" },
  });
  const logs: LogLine[] = [];
  let stderr = "";
  let pending = "";
  child.stdout.on("data", (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines.filter(Boolean)) logs.push(JSON.parse(line) as LogLine);
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  t.teardown(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });

  const listening = await waitFor(
    "the listening line",
    () => {
      if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}: ${stderr}`);
      return logs.find((l) => l.msg.startsWith("listening on https://"));
    },
    60_000,
  );
  const secret = JSON.parse((await kubectl(["get", "secret", "netguard-tls", "-n", NAMESPACE, "-o", "jsonpath={.data}"])).stdout) as Record<string, string>;
  const bundle = Buffer.from(secret["ca-bundle.crt"]!, "base64").toString();
  const injected = await kubectl(["get", "validatingwebhookconfiguration", "netguard", "-o", "jsonpath={.webhooks[0].clientConfig.caBundle}"]);
  t.equal(Buffer.from(injected.stdout, "base64").toString(), bundle, "caBundle injected");

  const ready = await get(listening.port as number, "/readyz", bundle, "netguard.netguard-system.svc");
  t.same(ready, { status: 200, body: "ok" }, "serves a certificate for the Service name, trusted through the caBundle");

  const holder = await waitFor("the leader lease", async () => {
    const r = await kubectl(["get", "lease", "netguard-controller", "-n", NAMESPACE, "-o", "jsonpath={.spec.holderIdentity}"]);
    return r.stdout;
  }, 30_000);
  t.ok(holder, `leader: ${holder}`);
  await waitFor("the audit's reports", async () => (await kubectl(["get", "policyreports,clusterpolicyreports", "-A", "-o", "name"])).stdout.trim(), 30_000);
  await waitFor("the cluster descriptor, published as the ServiceAccount", async () => (await kubectl(["get", "configmap", "netguard-cluster-descriptor", "-n", NAMESPACE])).code === 0, 30_000);

  // Enforce mode makes the leader write: baselines and cluster labels. No pod answers the Service-mode
  // webhooks here, so they go first (as when breaking glass).
  t.equal((await kubectl(["delete", "validatingwebhookconfiguration,mutatingwebhookconfiguration", "netguard"])).code, 0);
  await writeFile(config, (await readFile(config, "utf8")).replace(/^mode: audit$/m, "mode: enforce"));
  await waitFor("the baseline in default", async () => (await kubectl(["get", "networkpolicy", "netguard-baseline", "-n", "default"])).code === 0, 30_000);
  const label = await kubectl(["get", "namespace", "default", "-o", "jsonpath={.metadata.labels.netguard\\.dev/cluster}"]);
  t.equal(label.stdout, "cluster-1", "the cluster label backfilled");

  const denied = logs.filter((l) => l.level >= 40 && /\b403\b|forbidden/i.test(JSON.stringify(l)));
  t.same(denied, [], "no API call was forbidden");

  child.kill("SIGTERM");
  t.equal(await exited, 0, "SIGTERM: clean exit");
});

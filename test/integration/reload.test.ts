import { X509Certificate } from "node:crypto";
import { mkdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { Agent } from "node:https";
import { join } from "node:path";
import t from "tap";
import { waitFor } from "../helpers/wait.js";
import { metricValue } from "../helpers/prometheus.js";
import { https, ingressFrom, MULTICLOUD, networkPolicy, networkPolicyReview, postInTwoHalves, startTestServer, tempDir } from "./fixtures/harness.js";

const multicloud = await readFile(MULTICLOUD, "utf8");

/** Lays out a config the way the kubelet mounts a ConfigMap, and updates it the same way (symlink swap). */
async function configMapVolume(dir: string, text: string) {
  let version = 0;
  const publish = async (content: string) => {
    const data = join(dir, `..v${++version}`);
    await mkdir(data);
    await writeFile(join(data, "config.yaml"), content);
    await symlink(`..v${version}`, join(dir, "..data_tmp"));
    await rename(join(dir, "..data_tmp"), join(dir, "..data"));
    if (version > 1) await rm(join(dir, `..v${version - 1}`), { recursive: true });
  };
  await publish(text);
  await symlink("..data/config.yaml", join(dir, "config.yaml"));
  return { path: join(dir, "config.yaml"), publish };
}

t.test("config hot reload through a ConfigMap-style symlink swap", async (t) => {
  const volume = await configMapVolume(await tempDir(t), multicloud);
  const { post, get, server, logs } = await startTestServer(t, { configPath: volume.path });
  const policy = networkPolicy("p", ingressFrom("10.100.0.0/16"));
  const count = async (name: string) => metricValue(await server.metrics.registry.metrics(), name);

  t.equal((await post("/validate", networkPolicyReview(policy))).json.response.allowed, false, "enforce at start");

  await volume.publish(multicloud.replace("mode: enforce", "mode: audit"));
  await waitFor("the audit config", async () => (await count("netguard_config_reloads_total")) === 1);
  const audited = (await post("/validate", networkPolicyReview(policy))).json.response;
  t.equal(audited.allowed, true, "the new mode is in force");
  t.ok(audited.auditAnnotations["nat-hidden-cidr"]);
  t.match(logs.find((l) => l.msg === "config reloaded"), { mode: "audit", cluster: "gcp-west", path: volume.path });

  const broken = multicloud
    .replace("mode: enforce", "mode: audit")
    .replace("podCIDRs: [10.100.0.0/16]", "podCIDRs: [10.100.0.0/33]");
  await volume.publish(`${broken}\nsurprise: true\n`);
  await waitFor("the rejection", async () => (await count("netguard_config_reload_failures_total")) === 1);
  const rejected = logs.find((l) => l.msg === "config change rejected; keeping the last good config");
  const problems = (rejected?.problems ?? []) as { path: string; message: string }[];
  t.ok(problems.some((p) => p.path.endsWith("remoteClusters[0].podCIDRs[0]")), "the bad CIDR is named");
  t.ok(problems.some((p) => p.path.endsWith("surprise") && p.message === "unknown field"), "the unknown field is named");
  t.equal(await count("netguard_config_reloads_total"), 1, "nothing was loaded");
  const still = (await post("/validate", networkPolicyReview(policy))).json.response;
  t.equal(still.allowed, true, "the last good (audit) config stays in force");
  t.ok(still.auditAnnotations);
  t.equal((await get("/readyz")).status, 200, "still ready");

  await volume.publish(multicloud);
  await waitFor("the fixed config", async () => (await count("netguard_config_reloads_total")) === 2);
  t.equal((await post("/validate", networkPolicyReview(policy))).json.response.allowed, false, "back to enforce");
});

t.test("config written in place is picked up as well", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "netguard.yaml");
  await writeFile(path, multicloud);
  const { server } = await startTestServer(t, { configPath: path });
  await writeFile(`${path}.new`, multicloud.replace("name: gcp-west", "name: gcp-east"));
  await rename(`${path}.new`, path);
  await waitFor("the reload", () => server.state.config?.config.cluster.name === "gcp-east");
  t.pass("reloaded");
});

t.test("certificate rotation while serving", async (t) => {
  const { server, certs } = await startTestServer(t, { configPath: MULTICLOUD });
  const ca = certs.ca.cert;
  const serialOf = (pem: string) => new X509Certificate(pem).serialNumber;
  const original = server.state.certificate!.serialNumber;
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => keepAlive.destroy());

  const before = await https({ port: server.port, ca, path: "/healthz", agent: keepAlive });
  t.equal(before.serial, original);
  const inFlight = await postInTwoHalves({ port: server.port, ca, path: "/validate", body: networkPolicyReview(networkPolicy("p", ingressFrom("10.100.0.0/16"))) });

  const next = await certs.rotate(30);
  await writeFile(`${certs.keyPath}.tmp`, next.key);
  await writeFile(`${certs.certPath}.tmp`, next.cert);
  await rename(`${certs.keyPath}.tmp`, certs.keyPath);
  await rename(`${certs.certPath}.tmp`, certs.certPath);
  await waitFor("the new certificate", () => server.state.certificate?.serialNumber === serialOf(next.cert));

  const fresh = await https({ port: server.port, ca, path: "/healthz" });
  t.equal(fresh.serial, serialOf(next.cert), "a new connection gets the new certificate, verified against the same CA");
  const finished = await inFlight.finish();
  t.equal(finished.status, 200, "the request in flight during the rotation completes");
  t.equal(finished.serial, original, "on its original connection");
  t.equal(finished.json.response.allowed, false);
  const reused = await https({ port: server.port, ca, path: "/healthz", agent: keepAlive });
  t.equal(reused.serial, original, "an open keep-alive connection keeps working");

  const text = await server.metrics.registry.metrics();
  t.equal(metricValue(text, "netguard_cert_reloads_total"), 1);
  t.equal(metricValue(text, "netguard_cert_expiry_timestamp_seconds"), Math.floor(new Date(new X509Certificate(next.cert).validTo).getTime() / 1000));

  const mismatched = await certs.rotate();
  await writeFile(`${certs.keyPath}.tmp`, mismatched.key);
  await rename(`${certs.keyPath}.tmp`, certs.keyPath);
  await waitFor("the rejection", async () => metricValue(await server.metrics.registry.metrics(), "netguard_cert_reload_failures_total") === 1);
  const after = await https({ port: server.port, ca, path: "/healthz" });
  t.equal(after.serial, serialOf(next.cert), "a key that does not match the certificate is refused; the current pair stays");
});

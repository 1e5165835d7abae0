/** `serve --client-ca`: the admission routes answer only callers with a client certificate the CA signed. */
import { X509Certificate } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { Agent } from "node:https";
import { join } from "node:path";
import t, { type Test } from "tap";
import { generateCA, generateClientCert, generateServingCert } from "../../certs/generate.js";
import { writeServingFiles } from "../../certs/files.js";
import { waitFor } from "../helpers/wait.js";
import { metricValue } from "../helpers/prometheus.js";
import { https, ingressFrom, networkPolicy, networkPolicyReview, runCommand, startTestServer, tempDir, type TestServer } from "./fixtures/harness.js";

const natHidden = () => networkPolicyReview(networkPolicy("allow-aws", ingressFrom("10.100.0.0/16")));

async function clientAuthServer(t: Test) {
  const dir = await tempDir(t);
  const clientCa = await generateCA("apiserver-client-ca");
  const clientCaPath = join(dir, "client-ca.crt");
  await writeFile(clientCaPath, clientCa.cert);
  const ts = await startTestServer(t, { clientCaPath, configText: "apiVersion: netguard.dev/v1alpha1\nkind: GuardrailConfig\ncluster: {name: gcp-west, podCIDRs: [10.8.0.0/14], nodeCIDRs: [10.0.0.0/20]}\nremoteClusters: [{name: aws-east, connectivity: nat, podCIDRs: [10.100.0.0/16], natSourceCIDRs: [203.0.113.10/32]}]\n" });
  const apiserver = await generateClientCert(clientCa, "kube-apiserver");
  const validate = (client?: { cert: string; key: string }) => https({ port: ts.server.port, ca: ts.certs.ca.cert, path: "/validate", method: "POST", body: natHidden(), client });
  return { ts, clientCa, clientCaPath, apiserver, validate };
}

const rejected = (ts: TestServer) => ts.server.metrics.registry.metrics().then((text) => metricValue(text, 'netguard_admission_rejected_requests_total{status="401"}'));

t.test("callers without a client certificate from the client CA get a 401 with the reason", async (t) => {
  const { ts, apiserver, validate } = await clientAuthServer(t);
  const anonymous = await validate();
  t.equal(anonymous.status, 401);
  t.match(anonymous.json, { error: "Unauthorized", reason: "/validate needs a client certificate signed by netguard's --client-ca; none was presented" });

  const stranger = await generateClientCert(await generateCA("someone-else"), "kube-apiserver");
  const foreign = await validate(stranger);
  t.equal(foreign.status, 401);
  t.match(foreign.json.reason, /the one presented was refused \(UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to (get|verify)/i);

  const mutate = await https({ port: ts.server.port, ca: ts.certs.ca.cert, path: "/mutate?timeout=5s", method: "POST", body: {} });
  t.equal(mutate.status, 401, "/mutate too");
  t.equal(await rejected(ts), 3, "counted as rejected requests with status 401");

  const answer = await validate(apiserver);
  t.equal(answer.status, 200, "the apiserver's certificate is accepted");
  t.match(answer.json.response, { allowed: false, status: { code: 403 } }, "and the review decided as usual");
});

t.test("probes and metrics need no client certificate", async (t) => {
  const { ts } = await clientAuthServer(t);
  for (const path of ["/healthz", "/readyz", "/metrics"]) t.equal((await https({ port: ts.server.port, ca: ts.certs.ca.cert, path })).status, 200, path);
});

t.test("a certificate for serving, not for clients, is refused even from the client CA", async (t) => {
  const { clientCa, validate } = await clientAuthServer(t);
  const serverOnly = await generateServingCert(clientCa, { dnsNames: ["kube-apiserver"] });
  const res = await validate(serverOnly);
  t.equal(res.status, 401);
  t.match(res.json.reason, /refused/);
});

t.test("the client CA and the serving certificate reload independently, each keeping the other", async (t) => {
  const { ts, clientCaPath, apiserver, validate } = await clientAuthServer(t);
  // Serving certificate rotated: client authentication still applies to new connections.
  const next = await generateServingCert(ts.certs.ca, { ips: ["127.0.0.1"] });
  await writeServingFiles(ts.dir, next);
  await waitFor("the new serving certificate", () => ts.server.state.certificate?.serialNumber === new X509Certificate(next.cert).serialNumber);
  t.equal((await validate()).status, 401, "after a serving rotation, still no anonymous callers");
  t.equal((await validate(apiserver)).status, 200, "and the apiserver still accepted");

  // Client CA replaced by a bundle with a new CA: its clients are accepted on new connections.
  const newCa = await generateCA("apiserver-client-ca-2");
  await writeFile(clientCaPath, newCa.cert);
  const newClient = await generateClientCert(newCa, "kube-apiserver");
  await waitFor("the new client CA", async () => (await validate(newClient)).status === 200);
  t.equal((await validate(apiserver)).status, 401, "the old CA's clients no longer are");
  t.ok(ts.logs.some((l) => l.msg === "client CA reloaded"));

  // A broken client CA file is refused; the current one stays.
  await writeFile(clientCaPath, "not a certificate\n");
  await waitFor("the rejection", () => ts.logs.some((l) => l.msg === "client CA change rejected; keeping the current one"));
  t.equal((await validate(newClient)).status, 200, "the last good client CA is kept");
});

t.test("replacing the client CA revokes kept-alive connections verified under the old one", async (t) => {
  const { ts, clientCaPath, apiserver } = await clientAuthServer(t);
  const agent = new Agent({ keepAlive: true, maxSockets: 1, cert: apiserver.cert, key: apiserver.key });
  t.teardown(() => agent.destroy());
  const validate = () => https({ port: ts.server.port, ca: ts.certs.ca.cert, path: "/validate", method: "POST", body: natHidden(), agent });
  t.equal((await validate()).status, 200, "answered on a kept-alive connection");
  await writeFile(clientCaPath, (await generateCA("someone-else")).cert);
  await waitFor("the new client CA", () => ts.logs.some((l) => l.msg === "client CA reloaded"));
  const revoked = await validate();
  t.equal(revoked.status, 401, "the same connection is refused once its CA is gone");
  t.match(revoked.json.reason, "issued by a client CA no longer trusted");
  t.equal(revoked.headers.connection, "close", "and closed");
});

t.test("serve --client-ca with a file that holds no CA exits 2 with the reason", async (t) => {
  const dir = await tempDir(t);
  const leaf = join(dir, "leaf.crt");
  await writeFile(leaf, (await generateClientCert(await generateCA(), "x")).cert);
  for (const [path, why] of [[join(dir, "missing.crt"), "ENOENT"], [leaf, "CN=x is not a CA certificate"]] as const) {
    const res = await runCommand(t, "serve", ["--port", "0", "--client-ca", path]);
    t.equal(res.code, 2);
    t.match(res.stderr, `netguard serve: cannot load the client CA ${path}: `);
    t.match(res.stderr, why);
  }
});

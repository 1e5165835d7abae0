import { X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { Agent, createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import t from "tap";
import { parseAllDocuments } from "yaml";
import { repoRoot } from "../helpers/paths.js";
import { loopbackCerts } from "../helpers/certs.js";
import { https, ingressFrom, MULTICLOUD, namespace, namespaceReview, networkPolicy, networkPolicyReview, postInTwoHalves, runCommand, spawnServe, startTestServer, tempDir } from "./fixtures/harness.js";

const listening = (l: { msg: string }) => l.msg.startsWith("listening on https://");

t.test("usage", async (t) => {
  const help = await runCommand(t, "serve", ["--help"]);
  t.equal(help.code, 0);
  t.match(help.stdout, /^usage: netguard serve/);
  for (const args of [["--port", "http"], ["--cert", "x.crt"], ["--nope"], ["extra"]]) {
    const bad = await runCommand(t, "serve", args);
    t.equal(bad.code, 2, args.join(" "));
    t.match(bad.stderr, /^netguard serve: .*\n\nusage: netguard serve/, args.join(" "));
  }
});

t.test("a bad config at startup: serve starts unchecked, lists every problem, and says so", async (t) => {
  const config = join(repoRoot, "test/fixtures/config/invalid.yaml");
  const serve = spawnServe(t, ["--port", "0", "--host", "127.0.0.1", "--config", config]);
  const invalid = await serve.line((l) => l.msg.startsWith("config invalid at start"), "the invalid-config line");
  t.equal(invalid.level, 50, "logged as an error");
  const problems = (invalid.problems as { path: string; line: number; message: string }[]).map((p) => `${p.line}: ${p.path}: ${p.message}`);
  t.same(problems, [
    '13: remoteClusters[0].podCIDRs[0]: "10.100.0.0/33" is not a valid IPv4 or IPv6 CIDR',
    '15: remoteClusters[1].name: "gcp-west" is already the local cluster\'s name; names must be unique',
    "19: rules.ipblock-local-pods: deny is only allowed for provable rules; ipblock-local-pods is likely (a warning at most): use warn or off",
  ]);
  const { port } = (await serve.line(listening, "the listening line")) as unknown as { port: number };
  const caPath = (serve.logs.find((l) => typeof l.caPath === "string") as unknown as { caPath: string }).caPath;
  const ready = await https({ port, ca: await readFile(caPath, "utf8"), path: "/readyz" });
  t.equal(ready.status, 200, "ready: an unready netguard would block the cluster behind its fail-closed webhooks");
  t.match(ready.json, { ready: true, degraded: [/^config invalid \(3 problems\): admitting every request unchecked/, new RegExp(`^${config}:13: remoteClusters`)] });
});

t.test("a port already in use exits 2 with the reason", async (t) => {
  const { server } = await startTestServer(t, { configPath: MULTICLOUD });
  const res = await runCommand(t, "serve", ["--port", String(server.port), "--host", "127.0.0.1"]);
  t.equal(res.code, 2);
  t.match(res.stderr, `netguard serve: cannot serve on 127.0.0.1:${server.port}: `);
  t.match(res.stderr, "EADDRINUSE");
});

t.test("netguard certs writes a CA, a serving cert and webhook configurations", async (t) => {
  const out = await tempDir(t);
  const res = await runCommand(t, "certs", ["--out", out, "--url", "https://127.0.0.1:9443", "--ip", "::1"]);
  t.equal(res.code, 0, res.stderr);
  const ca = await readFile(join(out, "ca.crt"), "utf8");
  const cert = new X509Certificate(await readFile(join(out, "tls.crt")));
  t.ok(cert.verify(new X509Certificate(ca).publicKey), "tls.crt is signed by ca.crt");
  t.equal(cert.checkIP("127.0.0.1"), "127.0.0.1");
  t.ok(cert.checkIP("::1"));
  t.equal(cert.checkHost("netguard.netguard-system.svc"), "netguard.netguard-system.svc");
  const ecdsaWithSha256 = Buffer.from("06082a8648ce3d040302", "hex");
  t.ok(cert.raw.includes(ecdsaWithSha256), "signed with ecdsa-with-SHA256");
  t.equal(new X509Certificate(ca).ca, true);

  const yamlText = await readFile(join(out, "webhooks.yaml"), "utf8");
  const [validating, mutating] = parseAllDocuments(yamlText).map((d) => d.toJS());
  t.equal(validating.kind, "ValidatingWebhookConfiguration");
  t.equal(mutating.kind, "MutatingWebhookConfiguration");
  for (const w of [...validating.webhooks, ...mutating.webhooks]) {
    t.equal(Buffer.from(w.clientConfig.caBundle, "base64").toString(), ca, `${w.name}: caBundle is ca.crt`);
    // The config webhook fails open: fixing a bad ConfigMap must never wait for netguard.
    const failurePolicy = w.name === "config.validate.netguard.dev" ? "Ignore" : "Fail";
    t.match(w, { sideEffects: "None", admissionReviewVersions: ["v1"], timeoutSeconds: 5, failurePolicy }, w.name);
  }
  t.match(validating.webhooks[0], {
    name: "networkpolicies.validate.netguard.dev",
    clientConfig: { url: "https://127.0.0.1:9443/validate" },
    rules: [{ apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], operations: ["CREATE", "UPDATE", "DELETE"] }],
    namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system", "netguard-system"] }] },
  });
  const namespaces = validating.webhooks.find((w: { name: string }) => w.name === "namespaces.validate.netguard.dev");
  t.match(namespaces, { name: "namespaces.validate.netguard.dev", rules: [{ apiGroups: [""], resources: ["namespaces", "namespaces/status", "namespaces/finalize"], operations: ["CREATE", "UPDATE"] }] });
  t.notOk(namespaces.namespaceSelector, "every namespace is labelled, kube-system included");
  t.match(mutating.webhooks[0], { clientConfig: { url: "https://127.0.0.1:9443/mutate" }, reinvocationPolicy: "IfNeeded", rules: [{ resources: ["namespaces", "namespaces/status", "namespaces/finalize"], operations: ["CREATE", "UPDATE"] }] });
  t.match(yamlText, /# Fail: .*\n(\s+# .*\n)*\s+failurePolicy: Fail/, "failurePolicy carries its reason");

  const again = await runCommand(t, "certs", ["--out", out]);
  t.match(again.stdout, /^reused the CA/);
  t.equal(await readFile(join(out, "ca.crt"), "utf8"), ca, "rotation keeps the CA, so the caBundle stays valid");
  const [serviceMode] = parseAllDocuments(await readFile(join(out, "webhooks.yaml"), "utf8")).map((d) => d.toJS());
  t.same(serviceMode.webhooks[0].clientConfig.service, { name: "netguard", namespace: "netguard-system", path: "/validate", port: 443 });
});

t.test("netguard certs --client-auth writes the apiserver's side of client authentication", async (t) => {
  const out = await tempDir(t);
  const args = ["--out", out, "--url", "https://127.0.0.1:9443", "--client-auth"];
  const first = await runCommand(t, "certs", args);
  t.equal(first.code, 0, first.stderr);
  const dir = join(out, "client-auth");
  t.match(first.stdout, `wrote a client CA: ${join(dir, "ca.crt")} (serve --client-ca ${join(dir, "ca.crt")})`);
  const ca = new X509Certificate(await readFile(join(dir, "ca.crt")));
  const client = new X509Certificate(await readFile(join(dir, "tls.crt")));
  t.ok(ca.ca && client.verify(ca.publicKey), "the client certificate is signed by the client CA");
  t.match(client.toLegacyObject(), { ext_key_usage: ["1.3.6.1.5.5.7.3.2"] }, "for client authentication only");
  t.not(ca.fingerprint256, new X509Certificate(await readFile(join(out, "ca.crt"))).fingerprint256, "a CA of its own, not the serving CA");

  const kubeconfig = parseAllDocuments(await readFile(join(dir, "webhook-kubeconfig.yaml"), "utf8"))[0]!.toJS();
  t.equal(kubeconfig.users.length, 1);
  t.equal(kubeconfig.users[0].name, "127.0.0.1:9443", "named for netguard's host:port only");
  t.equal(Buffer.from(kubeconfig.users[0].user["client-certificate-data"], "base64").toString(), await readFile(join(dir, "tls.crt"), "utf8"));
  const admission = parseAllDocuments(await readFile(join(dir, "admission-config.yaml"), "utf8"))[0]!.toJS();
  t.equal(admission.kind, "AdmissionConfiguration");
  t.same(admission.plugins.map((p: { name: string }) => p.name), ["ValidatingAdmissionWebhook", "MutatingAdmissionWebhook"]);
  for (const p of admission.plugins) t.equal(p.configuration.kubeConfigFile, join(dir, "webhook-kubeconfig.yaml"));

  const again = await runCommand(t, "certs", args);
  t.match(again.stdout, "reused the client CA in");
  t.equal(new X509Certificate(await readFile(join(dir, "ca.crt"))).fingerprint256, ca.fingerprint256, "the client CA survives a rerun");

  const service = await runCommand(t, "certs", ["--out", await tempDir(t), "--client-auth"]);
  t.match(service.stdout, "(user netguard.netguard-system.svc)", "a Service target is named by its DNS name");
});

t.test("serve with files from netguard certs; SIGTERM finishes requests in flight and exits 0", async (t) => {
  const out = await tempDir(t);
  t.equal((await runCommand(t, "certs", ["--out", out, "--ip", "127.0.0.1"])).code, 0);
  const ca = await readFile(join(out, "ca.crt"), "utf8");
  const serve = spawnServe(t, ["--port", "0", "--host", "127.0.0.1", "--config", MULTICLOUD, "--cert", join(out, "tls.crt"), "--key", join(out, "tls.key")]);
  const { port } = (await serve.line(listening, "the listening line")) as unknown as { port: number };
  t.equal(serve.logs.filter((l) => /listening/.test(l.msg)).length, 1, "one listening line");
  t.equal((await https({ port, ca, path: "/readyz" })).text, "ok");

  // Like the apiserver, keep connections alive: shutdown must not wait for them to idle out.
  const agent = new Agent({ keepAlive: true });
  t.teardown(() => agent.destroy());
  const body = networkPolicyReview(networkPolicy("p", ingressFrom("10.100.0.0/16")));
  const inFlight = await postInTwoHalves({ port, ca, path: "/validate", body, agent });
  const stoppedAt = Date.now();
  serve.child.kill("SIGTERM");
  await serve.line((l) => l.msg.startsWith("shutting down"), "the shutdown line");
  const answered = await inFlight.finish();
  t.equal(answered.status, 200, "the request in flight is answered");
  t.equal(answered.json.response.allowed, false);
  t.equal(answered.headers.connection, "close", "and its connection closed");
  t.equal(await serve.exited, 0, "exit 0");
  t.ok(Date.now() - stoppedAt < 5000, `promptly (${Date.now() - stoppedAt} ms)`);
  t.ok(serve.logs.some((l) => l.msg === "stopped"));
  await t.rejects(https({ port, ca, path: "/healthz" }), { code: "ECONNREFUSED" }, "no longer accepting");
});

t.test("serve without certificates; its own cluster identity is privileged", async (t) => {
  const dir = await tempDir(t);
  const apiCerts = await loopbackCerts(dir);
  const reviews: unknown[] = [];
  const apiserver = createServer({ cert: await readFile(apiCerts.certPath), key: await readFile(apiCerts.keyPath) }, (req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      reviews.push({ method: req.method, url: req.url, auth: req.headers.authorization });
      res.setHeader("content-type", "application/json");
      if (req.method !== "POST" || req.url?.split("?")[0] !== "/apis/authentication.k8s.io/v1/selfsubjectreviews") {
        res.statusCode = 404;
        return res.end("{}");
      }
      res.statusCode = 201;
      res.end(JSON.stringify({ ...JSON.parse(body), status: { userInfo: { username: "system:serviceaccount:netguard-system:netguard", groups: ["system:serviceaccounts"] } } }));
    });
  });
  await new Promise<void>((r) => apiserver.listen(0, "127.0.0.1", r));
  t.teardown(() => apiserver.close());
  const kubeconfig = join(dir, "kubeconfig");
  await writeFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "fake", cluster: { server: `https://127.0.0.1:${(apiserver.address() as AddressInfo).port}`, "certificate-authority-data": Buffer.from(apiCerts.ca.cert).toString("base64") } }],
      users: [{ name: "netguard", user: { token: "secret-token" } }],
      contexts: [{ name: "fake", context: { cluster: "fake", user: "netguard" } }],
      "current-context": "fake",
    }),
  );

  const serve = spawnServe(t, ["--port", "0", "--host", "127.0.0.1", "--config", MULTICLOUD, "--kubeconfig", kubeconfig]);
  const ready = (await serve.line(listening, "the listening line")) as unknown as { port: number; privilegedUsers: string[] };
  t.same(ready.privilegedUsers, ["system:serviceaccount:netguard-system:netguard"]);
  t.match(reviews, [{ method: "POST", auth: "Bearer secret-token" }]);
  const caLine = serve.logs.find((l) => typeof l.caPath === "string") as unknown as { caPath: string };
  t.ok(caLine, "says where the CA is");
  const ca = await readFile(caLine.caPath, "utf8");

  const spoof = namespace("mirror", { "netguard.dev/cluster": "aws-east" });
  const asController = await https({ port: ready.port, ca, path: "/validate", method: "POST", body: namespaceReview(spoof, { user: { username: "system:serviceaccount:netguard-system:netguard" } }) });
  t.equal(asController.json.response.allowed, true);
  const asOther = await https({ port: ready.port, ca, path: "/validate", method: "POST", body: namespaceReview(spoof) });
  t.equal(asOther.json.response.allowed, false);

  serve.child.kill("SIGINT");
  t.equal(await serve.exited, 0);
  t.notOk(existsSync(caLine.caPath), "the throwaway certificates are removed");
});

import { connect } from "node:tls";
import t from "tap";
import { generateCA } from "../../certs/generate.js";
import { ruleById } from "../../policies/index.js";
import { DEFAULT_BODY_LIMIT } from "../../server/app.js";
import { metricValue } from "../helpers/prometheus.js";
import { https, ingressFrom, MULTICLOUD, namespace, namespaceReview, networkPolicy, networkPolicyReview, startTestServer } from "./fixtures/harness.js";

t.test("malformed requests get a 400 with a reason, and the server keeps serving", async (t) => {
  const { post, server } = await startTestServer(t, { configPath: MULTICLOUD });
  const valid = networkPolicyReview(networkPolicy("p", ingressFrom("10.100.0.0/16")));
  const cases: [string, unknown, RegExp][] = [
    ["malformed JSON", '{"apiVersion": "admission.k8s.io/v1", "kind": ', /^request body is not valid JSON$/],
    ["empty body", "", /^request body is empty/],
    ["a JSON array", "[1,2]", /^body must be a JSON object/],
    ["wrong apiVersion", { ...valid, apiVersion: "admission.k8s.io/v1beta1" }, /^not a valid AdmissionReview: apiVersion must be "admission\.k8s\.io\/v1", got "admission\.k8s\.io\/v1beta1"$/],
    ["wrong kind", { ...valid, kind: "TokenReview" }, /kind must be "AdmissionReview", got "TokenReview"/],
    ["missing request", { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" }, /^not a valid AdmissionReview: request is missing$/],
    ["missing uid", { ...valid, request: { ...valid.request, uid: undefined } }, /^not a valid AdmissionReview: request\.uid is missing$/],
    ["empty uid", { ...valid, request: { ...valid.request, uid: "" } }, /request\.uid must NOT have fewer than 1 characters/],
    ["unknown operation", { ...valid, request: { ...valid.request, operation: "PATCH" } }, /request\.operation must be one of "CREATE", "UPDATE", "DELETE", "CONNECT", got "PATCH"/],
    ["prototype pollution", '{"apiVersion":"admission.k8s.io/v1","__proto__":{"x":1}}', /^request body is not valid JSON$/],
  ];
  for (const [name, body, reason] of cases) {
    for (const path of ["/validate", "/mutate"]) {
      const res = await post(path, body);
      t.equal(res.status, 400, `${name} ${path}: 400`);
      t.match(res.json, { error: "Bad Request", reason }, `${name} ${path}: reason`);
    }
  }
  const notJson = await post("/validate", "a=b", { "content-type": "application/x-www-form-urlencoded" });
  t.equal(notJson.status, 415);
  t.match(notJson.json.reason, "content-type must be application/json");
  const missing = await post("/nope", {});
  t.equal(missing.status, 404);
  t.match(missing.json.reason, "no route POST /nope");

  const ok = await post("/validate", valid);
  t.equal(ok.json.response.allowed, false, "still serving after the bad requests");
  const text = await server.metrics.registry.metrics();
  t.equal(metricValue(text, 'netguard_admission_rejected_requests_total{status="400"}'), cases.length * 2);
});

t.test("bodies over the limit get a 413 with a reason; large real reviews fit", async (t) => {
  const { post } = await startTestServer(t, { configPath: MULTICLOUD });
  // A Namespace with ~3 MiB of annotations, as object and oldObject: bigger than etcd would store, still accepted.
  const big = namespace("big", { "netguard.dev/cluster": "gcp-west" }) as ReturnType<typeof namespace> & { metadata: { annotations?: Record<string, string> } };
  big.metadata.annotations = { blob: "x".repeat(3 * 1024 * 1024) };
  const large = await post("/validate", namespaceReview(big, { operation: "UPDATE", oldObject: big }));
  t.equal(large.status, 200);
  t.equal(large.json.response.allowed, true);

  const tooBig = await post("/validate", JSON.stringify({ pad: "x".repeat(DEFAULT_BODY_LIMIT) }));
  t.equal(tooBig.status, 413);
  t.same(tooBig.json, { error: "Payload Too Large", reason: `request body is larger than the ${DEFAULT_BODY_LIMIT}-byte limit` });
});

t.test("health, readiness and metrics", async (t) => {
  const { get, post, server } = await startTestServer(t, { configPath: MULTICLOUD });
  const health = await get("/healthz");
  t.equal(health.status, 200);
  t.equal(health.text, "ok");
  const ready = await get("/readyz");
  t.equal(ready.status, 200);
  t.equal(ready.text, "ok");

  await post("/validate", networkPolicyReview(networkPolicy("d", ingressFrom("10.100.0.0/16", "10.8.1.0/24"))));
  await post("/validate", networkPolicyReview(networkPolicy("a", ingressFrom("203.0.113.10/32"))));
  await post("/mutate", namespaceReview(namespace("n")));
  const res = await get("/metrics");
  t.equal(res.status, 200);
  t.match(res.headers["content-type"], "text/plain");
  const m = res.text;
  t.equal(metricValue(m, 'netguard_admission_requests_total{webhook="validate",operation="CREATE",kind="NetworkPolicy",decision="denied"}'), 1);
  t.equal(metricValue(m, 'netguard_admission_requests_total{webhook="validate",operation="CREATE",kind="NetworkPolicy",decision="allowed"}'), 1);
  t.equal(metricValue(m, 'netguard_admission_requests_total{webhook="mutate",operation="CREATE",kind="Namespace",decision="patched"}'), 1);
  t.equal(metricValue(m, 'netguard_admission_duration_seconds_count{webhook="validate",operation="CREATE",kind="NetworkPolicy",decision="denied"}'), 1);
  t.equal(metricValue(m, 'netguard_findings_total{rule="nat-hidden-cidr",action="deny"}'), 1);
  t.equal(metricValue(m, 'netguard_findings_total{rule="ipblock-local-pods",action="warn"}'), 1);
  t.equal(metricValue(m, "netguard_config_reloads_total"), 0);
  t.equal(metricValue(m, "netguard_config_reload_failures_total"), 0);
  t.equal(metricValue(m, "netguard_cert_expiry_timestamp_seconds"), Math.floor(server.state.certificate!.notAfter.getTime() / 1000));
  t.ok(metricValue(m, "netguard_process_resident_memory_bytes")! > 0, "process metrics carry the prefix too");

  server.state.closing = true;
  const draining = await get("/readyz");
  t.equal(draining.status, 503);
  t.same(draining.json, { ready: false, reasons: ["shutting down"] });
  server.state.closing = false;
  server.state.certificate = { ...server.state.certificate!, notAfter: new Date(Date.now() - 1000) };
  const expired = await get("/readyz");
  t.equal(expired.status, 503);
  t.match(expired.json.reasons[0], /^serving certificate expired at /);
});

t.test("TLS: 1.2 or newer only, HTTP/1.1 only, certificate verified against the CA", async (t) => {
  const { server, certs } = await startTestServer(t, { configPath: MULTICLOUD });
  const alpn = await new Promise<string | false | null>((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: server.port, ca: certs.ca.cert, ALPNProtocols: ["h2", "http/1.1"] }, () => {
      resolve(socket.alpnProtocol);
      socket.end();
    }).on("error", reject);
  });
  t.equal(alpn, "http/1.1", "h2 is not offered");

  const old = await new Promise<string>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port: server.port, ca: certs.ca.cert, minVersion: "TLSv1", maxVersion: "TLSv1.1", ciphers: "DEFAULT@SECLEVEL=0" }, () => {
      resolve("connected");
      socket.end();
    }).on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
  t.equal(old, "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION", "the server refuses TLS 1.1");

  const otherCa = await generateCA("someone-else");
  const untrusted = await https({ port: server.port, ca: otherCa.cert, path: "/healthz" }).catch((e: NodeJS.ErrnoException) => e.code);
  t.match(untrusted, /UNABLE_TO_VERIFY|SELF_SIGNED|UNABLE_TO_GET_ISSUER/, "a client trusting another CA refuses the server");
});

t.test("a rule that throws loses only its own findings; the error is counted and logged", async (t) => {
  const rule = ruleById("ipblock-local-pods")! as { check: (...args: never[]) => unknown };
  const original = rule.check;
  rule.check = () => {
    throw new Error("boom");
  };
  t.teardown(() => {
    rule.check = original;
  });
  const { post, server, logs } = await startTestServer(t, { configPath: MULTICLOUD });
  const body = networkPolicyReview(networkPolicy("p", ingressFrom("10.100.0.0/16", "10.8.1.0/24")));
  const { response } = (await post("/validate", body)).json;
  t.equal(response.allowed, false, "the other rules still deny");
  t.match(response.status.message, "nat-hidden-cidr");
  t.same(response.warnings, ["netguard rule ipblock-local-pods failed internally and was skipped"]);
  t.equal(metricValue(await server.metrics.registry.metrics(), 'netguard_rule_failures_total{rule="ipblock-local-pods"}'), 1);
  t.match(logs.find((l) => l.rule === "ipblock-local-pods"), { level: 50, uid: body.request.uid, error: "boom" });
});

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import t from "tap";
import { repoRoot } from "../helpers/paths.js";
import { ingressFrom, MULTICLOUD, networkPolicy, networkPolicyReview, startTestServer } from "./fixtures/harness.js";

const multicloud = await readFile(MULTICLOUD, "utf8");

t.test("enforce mode", async (t) => {
  const { post, logs } = await startTestServer(t, { configPath: MULTICLOUD });

  t.test("a policy with no findings is allowed, uid and envelope echoed", async (t) => {
    const body = networkPolicyReview(networkPolicy("from-aws-nat", ingressFrom("203.0.113.10/32")));
    const res = await post("/validate", body);
    t.equal(res.status, 200);
    t.equal(res.protocol?.startsWith("TLSv1."), true);
    t.same(res.json, { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: body.request.uid, allowed: true } });
  });

  t.test("an ipBlock hidden by NAT is denied with a message naming rule, path, why and fix", async (t) => {
    const body = networkPolicyReview(networkPolicy("from-aws-pods", ingressFrom("10.100.0.0/16")));
    const res = await post("/validate?timeout=5s", body);
    t.equal(res.status, 200);
    const { response } = res.json;
    t.equal(response.uid, body.request.uid);
    t.equal(response.allowed, false);
    t.equal(response.status.code, 403);
    t.equal(response.status.reason, "Forbidden");
    const message: string = response.status.message;
    t.match(message, /^netguard denied this NetworkPolicy shop\/from-aws-pods \(1 finding\):\n/);
    t.match(message, "(1) nat-hidden-cidr at spec.ingress[0].from[0].ipBlock: ipBlock 10.100.0.0/16 lies entirely in aws-east's pod range");
    t.match(message, "the selected pods stay isolated");
    t.match(message, /\n {4}fix: Allow aws-east's NAT source addresses instead \(ipBlock cidr 203\.0\.113\.10\/32\)/);
    t.notOk(response.auditAnnotations, "no audit annotations in enforce mode");
  });

  t.test("the sample review in test/fixtures/admission (used in the README) is denied", async (t) => {
    const sample = JSON.parse(await readFile(join(repoRoot, "test/fixtures/admission/networkpolicy-nat-hidden-cidr.json"), "utf8"));
    const { response } = (await post("/validate?timeout=10s", sample)).json;
    t.equal(response.uid, sample.request.uid);
    t.equal(response.allowed, false);
    t.match(response.status.message, "nat-hidden-cidr at spec.ingress[0].from[0].ipBlock");
  });

  t.test("every deny finding is listed; warn findings become warnings under 120 characters", async (t) => {
    const body = networkPolicyReview(networkPolicy("mixed", ingressFrom("10.100.0.0/16", "10.101.0.0/20", "10.8.1.0/24")));
    const { response } = (await post("/validate", body)).json;
    t.equal(response.allowed, false);
    t.match(response.status.message, "(2 findings)");
    t.match(response.status.message, "(1) nat-hidden-cidr at spec.ingress[0].from[0].ipBlock");
    t.match(response.status.message, "(2) nat-hidden-cidr at spec.ingress[0].from[1].ipBlock: ipBlock 10.101.0.0/20 lies entirely in aws-east's service range");
    t.equal(response.warnings.length, 1);
    t.match(response.warnings[0], /^ipblock-local-pods spec\.ingress\[0\]\.from\[2\]\.ipBlock: ipBlock 10\.8\.1\.0\/24 overlaps/);
    t.ok(response.warnings[0].length < 120, `${response.warnings[0].length} characters`);
  });

  t.test("warn-only findings allow with warnings, in a stable order", async (t) => {
    const policy = networkPolicy("warned", {
      podSelector: {},
      ingress: [
        { from: [{ ipBlock: { cidr: "10.8.1.0/24" } }] },
        { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "payments" } } }] },
        { from: [{ ipBlock: { cidr: "10.100.0.0/15" } }] },
      ],
    });
    const first = (await post("/validate", networkPolicyReview(policy))).json.response;
    const second = (await post("/validate", networkPolicyReview(policy))).json.response;
    t.equal(first.allowed, true);
    t.notOk(first.status);
    t.same(
      first.warnings.map((w: string) => w.split(" ").slice(0, 2).join(" ")),
      [
        "ipblock-local-pods spec.ingress[0].from[0].ipBlock:",
        "remote-namespace-name spec.ingress[1].from[0].namespaceSelector:",
        "partially-hidden-cidr spec.ingress[2].from[0].ipBlock:",
      ],
    );
    t.same(second.warnings, first.warnings, "same warnings, same order");
    for (const w of first.warnings) t.ok(w.length < 120, `under 120: ${w}`);
  });

  t.test("IPv6 ipBlocks are judged like IPv4 ones", async (t) => {
    const denied = (await post("/validate", networkPolicyReview(networkPolicy("v6-pods", ingressFrom("fd00:200::/64"))))).json.response;
    t.equal(denied.allowed, false);
    t.match(denied.status.message, "nat-hidden-cidr at spec.ingress[0].from[0].ipBlock: ipBlock fd00:200::/64 lies entirely in dc-north's pod range");
    t.match(denied.status.message, "fd00:202::/64", "the fix points at dc-north's node range");

    const local = (await post("/validate", networkPolicyReview(networkPolicy("v6-local", ingressFrom("fd00:8::/64"))))).json.response;
    t.equal(local.allowed, true);
    t.match(local.warnings[0], /^ipblock-local-pods .*fd00:8::\/64/);

    const nodes = (await post("/validate", networkPolicyReview(networkPolicy("v6-nodes", ingressFrom("fd00:202::/64"))))).json.response;
    t.same(nodes, { uid: nodes.uid, allowed: true }, "dc-north's node range carries its traffic: nothing to say");
  });

  t.test("UPDATE is denied only for what it introduces", async (t) => {
    const flagged = networkPolicy("legacy", ingressFrom("10.100.0.0/16"));
    const relabelled = networkPolicy("legacy", ingressFrom("10.100.0.0/16"), { team: "payments" });
    const label = (await post("/validate", networkPolicyReview(relabelled, { operation: "UPDATE", oldObject: flagged }))).json.response;
    t.equal(label.allowed, true, "a label change on a policy flagged before is admitted");
    t.match(label.warnings[0], /^nat-hidden-cidr spec\.ingress\[0\]\.from\[0\]\.ipBlock: /);

    const grown = networkPolicy("legacy", ingressFrom("10.100.0.0/16", "10.101.0.0/20"));
    const added = (await post("/validate", networkPolicyReview(grown, { operation: "UPDATE", oldObject: flagged }))).json.response;
    t.equal(added.allowed, false, "a new dead peer is denied");
    t.match(added.status.message, "(1 finding)");
    t.match(added.status.message, "(1) nat-hidden-cidr at spec.ingress[0].from[1].ipBlock: ipBlock 10.101.0.0/20");
  });

  t.test("UPDATE is validated with the apiserver's update rules", async (t) => {
    const legacySelector = { matchExpressions: [{ key: "app", operator: "In", values: ["-legacy-"] }] };
    const stored = { ...networkPolicy("legacy", { ...ingressFrom("192.0.2.0/24"), podSelector: legacySelector }), metadata: { name: "legacy", namespace: "shop", resourceVersion: "7" } };
    const relabelled = { ...stored, metadata: { ...stored.metadata, labels: { team: "payments" } } };
    const response = (await post("/validate", networkPolicyReview(relabelled, { operation: "UPDATE", oldObject: stored }))).json.response;
    t.equal(response.allowed, true);
    t.equal(response.warnings, undefined, "a selector value the apiserver accepted before it checked values is still evaluated");
  });

  t.test("dryRun requests get the same decision", async (t) => {
    const policy = networkPolicy("dry", ingressFrom("10.100.0.0/16"));
    const wet = (await post("/validate", networkPolicyReview(policy, { uid: "same-uid" }))).json.response;
    const dry = (await post("/validate", networkPolicyReview(policy, { uid: "same-uid", dryRun: true }))).json.response;
    t.same(dry, wet);
    const line = logs.filter((l) => l.uid === "same-uid").at(-1);
    t.equal(line?.dryRun, true);
  });

  t.test("an object the apiserver would reject is allowed with a warning that netguard could not evaluate it", async (t) => {
    const res = await post("/validate", networkPolicyReview(networkPolicy("bad", ingressFrom("10.100.0.0/33"))));
    t.equal(res.json.response.allowed, true);
    t.match(res.json.response.warnings[0], /^netguard could not evaluate this NetworkPolicy, it is invalid: spec\.ingress\[0\]\.from\[0\]\.ipBlock\.cidr: /);
  });

  t.test("other kinds and NetworkPolicy DELETE of unmanaged policies are allowed", async (t) => {
    const body = networkPolicyReview(networkPolicy("gone", ingressFrom("10.100.0.0/16")), { operation: "DELETE", oldObject: networkPolicy("gone", ingressFrom("10.100.0.0/16")) });
    t.same((await post("/validate", body)).json.response, { uid: body.request.uid, allowed: true });
    const pod = { ...body, request: { ...body.request, kind: { group: "", version: "v1", kind: "Pod" }, operation: "CREATE", object: { metadata: { name: "p" } } } };
    t.same((await post("/validate", pod)).json.response, { uid: body.request.uid, allowed: true });
  });

  t.test("one structured log line per decision, without the object", async (t) => {
    const body = networkPolicyReview(networkPolicy("logged", ingressFrom("10.100.0.0/16", "10.8.1.0/24")), { user: { username: "bob", groups: [] } });
    await post("/validate", body);
    const lines = logs.filter((l) => l.uid === body.request.uid);
    t.equal(lines.length, 1);
    const line = lines[0]!;
    t.match(line, {
      msg: "admission decision",
      webhook: "validate",
      operation: "CREATE",
      kind: "NetworkPolicy",
      namespace: "shop",
      name: "logged",
      user: "bob",
      decision: "denied",
      rules: ["nat-hidden-cidr", "ipblock-local-pods"],
    });
    t.type(line.latencyMs, "number");
    t.notMatch(JSON.stringify(logs), "10.100.0.0/16", "no log line carries the object's content");
  });
});

t.test("audit mode never denies: would-be denials become warnings and audit annotations", async (t) => {
  const { post, logs } = await startTestServer(t, { configText: multicloud.replace("mode: enforce", "mode: audit") });
  const body = networkPolicyReview(networkPolicy("audited", ingressFrom("10.100.0.0/16", "10.101.0.0/20", "10.8.1.0/24")));
  const { response } = (await post("/validate", body)).json;
  t.equal(response.allowed, true);
  t.notOk(response.status);
  t.equal(response.warnings.length, 3);
  t.match(response.warnings[0], /^audit, would deny: nat-hidden-cidr spec\.ingress\[0\]\.from\[0\]\.ipBlock: ipBlock 10\.100\.0\.0\/16/);
  t.match(response.warnings[1], /^audit, would deny: nat-hidden-cidr spec\.ingress\[0\]\.from\[1\]\.ipBlock: ipBlock 10\.101\.0\.0\/20/);
  t.match(response.warnings[2], /^ipblock-local-pods /);
  for (const w of response.warnings) t.ok(w.length < 120);
  t.same(Object.keys(response.auditAnnotations), ["nat-hidden-cidr"]);
  for (const key of Object.keys(response.auditAnnotations)) t.match(key, /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, "a qualified name, valid after the apiserver adds its webhook prefix");
  const value: string = response.auditAnnotations["nat-hidden-cidr"];
  t.match(value, "spec.ingress[0].from[0].ipBlock: ipBlock 10.100.0.0/16 lies entirely in aws-east's pod range");
  t.match(value, " | spec.ingress[0].from[1].ipBlock: ipBlock 10.101.0.0/20");
  t.match(logs.find((l) => l.uid === body.request.uid), { decision: "audited", mode: "audit", rules: ["nat-hidden-cidr", "nat-hidden-cidr", "ipblock-local-pods"] });
});

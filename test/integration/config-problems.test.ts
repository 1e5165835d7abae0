/**
 * Bad configs over HTTPS against the real server: the ConfigMap webhook refuses them with their
 * reasons (never a 500), a hot reload of one is a counted failure that keeps the last good config,
 * and a server started on one admits unchecked and loudly until the file is fixed.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import t from "tap";
import { waitFor } from "../helpers/wait.js";
import { metricValue } from "../helpers/prometheus.js";
import { MULTICLOUD, decodePatch, ingressFrom, namespace, namespaceReview, networkPolicy, networkPolicyReview, newUid, startTestServer } from "./fixtures/harness.js";

const multicloud = await readFile(MULTICLOUD, "utf8");
const ALIAS = multicloud.replace("namespaces: [payments, ledger]", "namespaces: *remote-namespaces");
const ALIAS_LINE = multicloud.split("\n").findIndex((l) => l.includes("namespaces: [payments, ledger]")) + 1;
const BOMB = `a: &a [x, x, x, x, x, x, x, x, x, x]\n${[..."bcdefgh"].map((c, i) => `${c}: &${c} [${Array(10).fill(`*${"abcdefg"[i]}`).join(", ")}]`).join("\n")}\n`;
/** A policy the multicloud config denies (nat-hidden-cidr), so enforcement is visible. */
const DENIED = networkPolicyReview(networkPolicy("p", ingressFrom("10.100.0.0/16")));

function configMapReview(text: string) {
  const object = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "netguard-config", namespace: "netguard-system" }, data: { "config.yaml": text } };
  const kind = { group: "", version: "v1", kind: "ConfigMap" };
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: newUid(),
      kind,
      resource: { group: "", version: "v1", resource: "configmaps" },
      name: "netguard-config",
      namespace: "netguard-system",
      operation: "CREATE",
      userInfo: { username: "admin", groups: ["system:masters"] },
      object,
      oldObject: null,
      dryRun: false,
    },
  };
}

t.test("the ConfigMap webhook refuses every kind of bad config text with a 403 and its reasons", async (t) => {
  const { post } = await startTestServer(t, { configPath: MULTICLOUD });
  const cases: [string, string, RegExp][] = [
    ["an undefined alias", ALIAS, new RegExp(`data\\["config\\.yaml"\\]:${ALIAS_LINE}: remoteClusters\\[0\\]\\.namespaces: alias \\*remote-namespaces has no anchor &remote-namespaces before it`)],
    ["an alias bomb", BOMB, /data\["config\.yaml"\]:5: e\[\d+\]: alias \*d expands the document beyond 100000 nodes \(an alias bomb\)/],
    ["a list", "- apiVersion: netguard.dev/v1alpha1\n", /data\["config\.yaml"\]:1: \(document\): must be a map \(key: value entries\), not a list/],
    ["two documents", `${multicloud}---\n${multicloud}`, /a second YAML document starts here/],
    ["a duplicate key", `${multicloud}mode: audit\n`, /data\["config\.yaml"\]:\d+: mode: duplicate key \(first at line 5\)/],
    ["a bad DNS selector", `${multicloud}baseline:\n  dns:\n    podSelector: {matchExpressions: [{key: k8s-app, operator: In}]}\n`, /baseline\.dns\.podSelector\.matchExpressions\[0\]\.values: must be non-empty when operator is In/],
  ];
  for (const [name, text, reason] of cases) {
    const res = await post("/validate", configMapReview(text));
    t.equal(res.status, 200, `${name}: a well-formed answer`);
    t.equal(res.json.response.allowed, false, `${name}: refused`);
    t.equal(res.json.response.status.code, 403);
    t.match(res.json.response.status.message, /it is not a valid GuardrailConfig/);
    t.match(res.json.response.status.message, reason, `${name}: says what and where`);
  }
  t.equal((await post("/validate", configMapReview(multicloud))).json.response.allowed, true, "a valid one passes");
});

t.test("a hot reload of an alias error is a counted failed reload; the last good config stays", async (t) => {
  const { post, get, server, logs, dir } = await startTestServer(t, { configText: multicloud });
  const count = async (name: string) => metricValue(await server.metrics.registry.metrics(), name);
  await writeFile(join(dir, "config.yaml"), ALIAS);
  await waitFor("the rejection", async () => (await count("netguard_config_reload_failures_total")) === 1);
  const rejected = logs.find((l) => l.msg === "config change rejected; keeping the last good config");
  t.match(rejected?.problems, [{ path: "remoteClusters[0].namespaces", line: ALIAS_LINE, message: "alias *remote-namespaces has no anchor &remote-namespaces before it" }]);
  t.notOk(logs.some((l) => /watching the config file failed/.test(l.msg)), "not mistaken for a broken watch");
  t.equal(await count("netguard_config_reloads_total"), 0);
  t.equal(await count("netguard_config_loaded"), 1, "a valid config is still in force");
  t.equal((await post("/validate", DENIED)).json.response.allowed, false, "and enforced");
  t.equal((await get("/readyz")).text, "ok");

  await writeFile(join(dir, "config.yaml"), BOMB);
  await waitFor("the second rejection", async () => (await count("netguard_config_reload_failures_total")) === 2);
  t.equal((await post("/validate", DENIED)).json.response.allowed, false, "an alias bomb changes nothing either");
});

t.test("started on an invalid config: admits unchecked and loudly; the fixed file restores the guardrails without a restart", async (t) => {
  const { post, get, server, logs, dir } = await startTestServer(t, { configText: ALIAS });
  const count = async (name: string) => metricValue(await server.metrics.registry.metrics(), name);
  t.ok(logs.some((l) => l.msg.startsWith("config invalid at start") && l.level === 50), "an error in the log");
  t.equal(await count("netguard_config_loaded"), 0, "netguard_config_loaded 0");
  const ready = await get("/readyz");
  t.equal(ready.status, 200, "ready, so that the apiserver can reach it");
  t.match(ready.json.degraded, [/^config invalid \(1 problem\): admitting every request unchecked/, new RegExp(`config\\.yaml:${ALIAS_LINE}: remoteClusters\\[0\\]\\.namespaces: alias \\*remote-namespaces`)]);

  const unchecked = (await post("/validate", DENIED)).json.response;
  t.equal(unchecked.allowed, true, "a policy netguard would deny is admitted");
  t.match(unchecked.warnings, [/^netguard admitted this unchecked: its config is invalid/, /alias \*remote-namespaces/]);
  t.ok(unchecked.warnings.every((w: string) => w.length <= 120), "warnings fit the apiserver's limit");
  t.match(unchecked.auditAnnotations, { "config-invalid": /admitted unchecked/ });
  const created = (await post("/mutate", namespaceReview(namespace("shop")))).json.response;
  t.equal(created.allowed, true, "a Namespace create goes through");
  t.notOk(created.patch, "without a cluster label: the cluster name is unknown");
  t.match(created.warnings, [/unchecked/]);
  t.equal((await post("/validate", configMapReview(ALIAS))).json.response.allowed, false, "netguard's own ConfigMap is still checked");

  await writeFile(join(dir, "config.yaml"), multicloud);
  await waitFor("the fixed config", async () => (await count("netguard_config_loaded")) === 1);
  t.equal(await count("netguard_config_reloads_total"), 1);
  t.equal((await get("/readyz")).text, "ok", "no longer degraded");
  t.equal((await post("/validate", DENIED)).json.response.allowed, false, "guardrails back on");
  const patched = (await post("/mutate", namespaceReview(namespace("shop")))).json.response;
  t.same(decodePatch(patched.patch), [{ op: "add", path: "/metadata/labels", value: { "netguard.dev/cluster": "gcp-west" } }], "the cluster label is stamped again");
});

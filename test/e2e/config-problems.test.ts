/**
 * Bad configs on a real kube-apiserver: a ConfigMap whose text has an undefined alias is refused at
 * `kubectl apply` with a message that says so, and a netguard that starts on a bad config file (one
 * that slipped past while netguard was down) never blocks the cluster: Namespace and NetworkPolicy
 * writes go through, unchecked and with a warning, and fixing the file restores the guardrails
 * without a restart.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { startNetguardEnv, type NetguardEnv } from "../k8s/netguard-env.js";
import { waitFor } from "../helpers/wait.js";
import { repoRoot } from "../helpers/paths.js";
import { httpsGet } from "../helpers/https.js";
import { baselineOf, getJson, kubectlOk, logLines } from "./controller-helpers.js";

const MULTICLOUD = readFileSync(join(repoRoot, "test/fixtures/config/multicloud.yaml"), "utf8");
const ALIAS = MULTICLOUD.replace("namespaces: [payments, ledger]", "namespaces: *remote-namespaces");
const ALIAS_LINE = MULTICLOUD.split("\n").findIndex((l) => l.includes("namespaces: [payments, ledger]")) + 1;
/** Denied by the multicloud config (nat-hidden-cidr): shows whether the guardrails are on. */
const HIDDEN = (name: string) =>
  JSON.stringify({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, namespace: "default" },
    spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "10.100.0.0/16" } }] }] },
  });

let env: NetguardEnv;
t.before(async () => {
  env = await startNetguardEnv();
});
t.teardown(() => env?.stop());

t.test("kubectl apply of netguard-config with an undefined alias is refused with a message that says so", async (t) => {
  const configMap = (text: string) =>
    JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "netguard-config", namespace: "netguard-system" }, data: { "config.yaml": text } });
  const refused = await env.kubectl(["apply", "-f", "-"], configMap(ALIAS));
  t.not(refused.code, 0, "refused");
  t.match(refused.stderr, /config\.validate\.netguard\.dev/);
  t.match(refused.stderr, new RegExp(`data\\["config\\.yaml"\\]:${ALIAS_LINE}: remoteClusters\\[0\\]\\.namespaces: alias \\*remote-namespaces has no anchor &remote-namespaces before it`));
  t.equal((await env.kubectl(["get", "configmap", "netguard-config", "-n", "netguard-system"])).code, 1, "nothing stored");
  const bomb = `a: &a [x, x, x, x, x, x, x, x, x, x]\n${[..."bcdefgh"].map((c, i) => `${c}: &${c} [${Array(10).fill(`*${"abcdefg"[i]}`).join(", ")}]`).join("\n")}\n`;
  const refusedBomb = await env.kubectl(["apply", "-f", "-"], configMap(bomb));
  t.not(refusedBomb.code, 0);
  t.match(refusedBomb.stderr, /an alias bomb/, "an alias bomb too, without a 500");
});

t.test("started on a bad config: the cluster keeps working, unchecked and warned; the fixed file restores the guardrails", async (t) => {
  await env.stopNetguard();
  writeFileSync(env.configPath, ALIAS);
  await env.startNetguard(); // waits for /readyz 200: a netguard that is not ready would have no endpoints
  const ready = await httpsGet(`${env.url}/readyz`, readFileSync(env.caPath, "utf8"));
  t.match(JSON.parse(ready.body), { ready: true, degraded: [/^config invalid \(1 problem\)/, /alias \*remote-namespaces/] }, "/readyz says why");
  t.ok(logLines(env).some((l) => String(l.msg).startsWith("config invalid at start")), "logged");

  const ns = await env.kubectl(["create", "namespace", "cfg-unchecked"]);
  t.equal(ns.code, 0, "a Namespace create succeeds", { stderr: ns.stderr });
  t.match(ns.stderr, /Warning: netguard admitted this unchecked: its config is invalid/);
  const created = await getJson(env, ["namespace", "cfg-unchecked"]);
  t.notOk(created.metadata.labels["netguard.dev/cluster"], "no cluster label while the cluster name is unknown");
  const policy = await env.kubectl(["create", "-f", "-"], HIDDEN("cfg-unchecked-hidden"));
  t.equal(policy.code, 0, "a NetworkPolicy netguard would deny is admitted");
  t.match(policy.stderr, /Warning: netguard admitted this unchecked/);
  t.equal(await baselineOf(env, "cfg-unchecked"), undefined, "the controller waits for a valid config");

  const linesBefore = logLines(env).length;
  writeFileSync(env.configPath, MULTICLOUD);
  await waitFor("the fixed config", async () => logLines(env).slice(linesBefore).some((l) => l.msg === "config reloaded"), 30_000);
  const denied = await env.kubectl(["create", "-f", "-"], HIDDEN("cfg-checked-hidden"));
  t.not(denied.code, 0, "the guardrails are back without a restart");
  t.match(denied.stderr, /nat-hidden-cidr/);
  await waitFor("the baseline in the namespace created meanwhile", () => baselineOf(env, "cfg-unchecked"), 30_000);
  const labelled = await waitFor("the cluster label backfilled", async () => {
    const current = await getJson(env, ["namespace", "cfg-unchecked"]);
    return current.metadata.labels["netguard.dev/cluster"];
  }, 30_000);
  t.equal(labelled, "gcp-west", "the controller backfills the cluster label");
  const after = await env.kubectl(["create", "namespace", "cfg-checked"]);
  t.equal(after.code, 0);
  t.notMatch(after.stderr, /unchecked/);
  t.equal((await getJson(env, ["namespace", "cfg-checked"])).metadata.labels["netguard.dev/cluster"], "gcp-west", "new namespaces are stamped again");
  await kubectlOk(env, ["delete", "networkpolicy", "cfg-unchecked-hidden", "-n", "default"]);
});

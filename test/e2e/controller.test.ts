/**
 * The baseline controller on a real kube-apiserver: every new namespace gets the baseline, drift is
 * refused for normal users and repaired for admins, opt-out, exempt namespaces, config roll-out,
 * netguard's own ConfigMap validated on admission, and the namespace → baseline latency.
 */
import * as k8s from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { editConfig, startNetguardEnv, type NetguardEnv } from "../k8s/netguard-env.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { metricValue } from "../helpers/prometheus.js";
import { repoRoot } from "../helpers/paths.js";
import { httpsGet } from "../helpers/https.js";
import { ALICE_RBAC, ALLOW_ALL_EGRESS_SPEC, BASELINE, baselineOf, DNS_ONLY_SPEC, getJson, kubectlOk, MANAGED, percentile } from "./controller-helpers.js";

let env: NetguardEnv;
t.before(async () => {
  env = await startNetguardEnv();
  await kubectlOk(env, ["apply", "-f", "-"], ALICE_RBAC);
});
t.teardown(() => env?.stop());

const specOf = (p: any) => p?.spec;
const baselinePresent = (ns: string) => waitFor(`the baseline in ${ns}`, () => baselineOf(env, ns));

t.test("a new namespace gets the baseline with the exact configured spec and the managed label", async (t) => {
  await kubectlOk(env, ["create", "namespace", "ctl-new"]);
  const p = await baselinePresent("ctl-new");
  t.same(p.spec, DNS_ONLY_SPEC, "deny all ingress; egress only to kube-dns in kube-system on UDP/TCP 53");
  t.match(p.metadata.labels, MANAGED, "labelled as managed by netguard");
  t.equal(p.metadata.name, BASELINE);
  const ns = await getJson(env, ["namespace", "ctl-new"]);
  t.equal(ns.metadata.labels["netguard.dev/cluster"], "gcp-west", "and the namespace carries the cluster label");
});

t.test("alice may not delete or change the baseline; netguard says why", async (t) => {
  await kubectlOk(env, ["--as=alice", "create", "namespace", "ctl-alice"]);
  const before = await baselinePresent("ctl-alice");

  const del = await env.kubectl(["--as=alice", "delete", "networkpolicy", BASELINE, "-n", "ctl-alice"]);
  t.not(del.code, 0, "delete refused");
  t.match(del.stderr, /networkpolicies\.validate\.netguard\.dev/);
  t.match(del.stderr, /managed-baseline/);
  t.match(del.stderr, /managed by netguard \(the namespace baseline\) and cannot be deleted by alice/);

  const patch = await env.kubectl(["--as=alice", "patch", "networkpolicy", BASELINE, "-n", "ctl-alice", "--type=merge", "-p", '{"spec":{"ingress":[{}]}}']);
  t.not(patch.code, 0, "edit refused");
  t.match(patch.stderr, /managed-baseline/);
  t.match(patch.stderr, /cannot be changed by alice/);

  const unlabel = await env.kubectl(["--as=alice", "label", "networkpolicy", BASELINE, "-n", "ctl-alice", "app.kubernetes.io/managed-by-"]);
  t.not(unlabel.code, 0, "removing the managed label is an edit too");

  const after = await baselineOf(env, "ctl-alice");
  t.equal(after.metadata.uid, before.metadata.uid, "the same object");
  t.same(after.spec, DNS_ONLY_SPEC, "unchanged");
});

t.test("an admin's deletion or edit of the baseline is repaired by the controller; removing its label hands it over", async (t) => {
  await kubectlOk(env, ["create", "namespace", "ctl-repair"]);
  const original = await baselinePresent("ctl-repair");

  await kubectlOk(env, ["delete", "networkpolicy", BASELINE, "-n", "ctl-repair"]);
  const recreated = await waitFor("the baseline to be recreated", async () => {
    const p = await baselineOf(env, "ctl-repair");
    return p && p.metadata.uid !== original.metadata.uid ? p : undefined;
  });
  t.same(recreated.spec, DNS_ONLY_SPEC, "recreated after deletion");

  await kubectlOk(env, ["patch", "networkpolicy", BASELINE, "-n", "ctl-repair", "--type=merge", "-p", '{"spec":{"ingress":[{}],"policyTypes":["Ingress"]}}']);
  const repaired = await waitFor("the edit to be reverted", async () => {
    const p = await baselineOf(env, "ctl-repair");
    return p && Number(p.metadata.generation) > Number(recreated.metadata.generation) + 1 ? p : undefined;
  });
  t.same(repaired.spec, DNS_ONLY_SPEC, "spec restored after an edit");

  const writes = (await httpsGet(`${env.url}/metrics`, readFileSync(env.caPath, "utf8"))).body;
  t.ok((metricValue(writes, "netguard_baseline_writes_total", 'action="repair"') ?? 0) >= 1, "repairs are counted");

  // Removing the managed label is an admin taking the policy over: netguard leaves it alone and reports it.
  await kubectlOk(env, ["label", "networkpolicy", BASELINE, "-n", "ctl-repair", "app.kubernetes.io/managed-by-"]);
  await waitFor("the taken-over baseline to be reported", async () => {
    const text = (await httpsGet(`${env.url}/metrics`, readFileSync(env.caPath, "utf8"))).body;
    return (metricValue(text, "netguard_baseline_name_taken") ?? 0) >= 1;
  });
  const kept = await baselineOf(env, "ctl-repair");
  t.equal(kept.metadata.labels?.["app.kubernetes.io/managed-by"], undefined, "not relabelled");
  t.same(kept.spec, DNS_ONLY_SPEC);
  await kubectlOk(env, ["delete", "networkpolicy", BASELINE, "-n", "ctl-repair"]);
  const back = await waitFor("netguard's own baseline once the name is free", async () => {
    const p = await baselineOf(env, "ctl-repair");
    return p?.metadata.labels?.["app.kubernetes.io/managed-by"] === "netguard" ? p : undefined;
  });
  t.same(back.spec, DNS_ONLY_SPEC);
});

t.test("opt-out: an admin's label removes the baseline, alice's is denied", async (t) => {
  await kubectlOk(env, ["create", "namespace", "ctl-optout"]);
  await kubectlOk(env, ["create", "namespace", "ctl-optout-alice"]);
  await baselinePresent("ctl-optout");
  await baselinePresent("ctl-optout-alice");

  const denied = await env.kubectl(["--as=alice", "label", "namespace", "ctl-optout-alice", "netguard.dev/baseline=disabled"]);
  t.not(denied.code, 0);
  t.match(denied.stderr, /namespaces\.validate\.netguard\.dev/);
  t.match(denied.stderr, /baseline-opt-out/);
  t.match(denied.stderr, /reserved for system:masters/);
  const created = await env.kubectl(["--as=alice", "create", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "ctl-optout-alice2", labels: { "netguard.dev/baseline": "disabled" } } }));
  t.not(created.code, 0, "nor may alice create a namespace opted out");
  t.match(created.stderr, /baseline-opt-out/);

  await kubectlOk(env, ["label", "namespace", "ctl-optout", "netguard.dev/baseline=disabled"]);
  await waitFor("the baseline to be removed", async () => (await baselineOf(env, "ctl-optout")) === undefined);
  t.pass("removed after an admin opted the namespace out");
  await sleep(500);
  t.equal(await baselineOf(env, "ctl-optout"), undefined, "and not recreated");
  t.ok(await baselineOf(env, "ctl-optout-alice"), "alice's namespace keeps its baseline");

  await kubectlOk(env, ["label", "namespace", "ctl-optout", "netguard.dev/baseline-"]);
  const back = await baselinePresent("ctl-optout");
  t.same(back.spec, DNS_ONLY_SPEC, "opting back in restores it");
});

t.test("exempt namespaces get no baseline", async (t) => {
  await sleep(200);
  for (const ns of ["kube-system", "kube-public", "kube-node-lease", "netguard-system"]) {
    const list = await getJson(env, ["networkpolicies", "-n", ns]);
    t.same(list.items, [], `${ns}: no NetworkPolicy`);
  }
  const def = await baselineOf(env, "default");
  t.ok(def, "default is not exempt: it got the baseline at start-up (backfill)");
});

t.test("a baseline config change rolls out to every existing namespace, and back", async (t) => {
  const names = ["ctl-new", "ctl-alice", "ctl-repair", "ctl-optout", "default"];
  for (const ns of names) await baselinePresent(ns);
  const original = readFileSync(env.configPath, "utf8");
  await editConfig(env, (text) => `${text}\nbaseline:\n  egress: allow-all\n`);
  for (const ns of names) {
    const p = await waitFor(`${ns}'s baseline to allow all egress`, async () => {
      const current = await baselineOf(env, ns);
      return current && !current.spec.egress && current.spec.policyTypes.length === 1 ? current : undefined;
    });
    t.same(specOf(p), ALLOW_ALL_EGRESS_SPEC, `${ns}: ingress-only isolation`);
  }
  t.equal(await baselineOf(env, "kube-system"), undefined, "exempt namespaces stay untouched");

  await editConfig(env, () => original);
  for (const ns of names) {
    const p = await waitFor(`${ns}'s baseline back to DNS-only`, async () => {
      const current = await baselineOf(env, ns);
      return current?.spec.egress ? current : undefined;
    });
    t.same(specOf(p), DNS_ONLY_SPEC, `${ns}: DNS-only again`);
  }
});

t.test("netguard's ConfigMap is validated on admission", async (t) => {
  const configMap = (text: string) =>
    JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "netguard-config", namespace: "netguard-system" }, data: { "config.yaml": text } });
  const invalid = readFileSync(join(repoRoot, "test/fixtures/config/invalid.yaml"), "utf8");
  const valid = readFileSync(join(repoRoot, "test/fixtures/config/multicloud.yaml"), "utf8");

  const denied = await env.kubectl(["apply", "-f", "-"], configMap(invalid));
  t.not(denied.code, 0, "an invalid config is refused at apply time");
  t.match(denied.stderr, /config\.validate\.netguard\.dev/);
  t.match(denied.stderr, /not a valid GuardrailConfig \(3 problems\)/);
  t.match(denied.stderr, /remoteClusters\[0\]\.podCIDRs\[0\]: "10\.100\.0\.0\/33" is not a valid IPv4 or IPv6 CIDR/);
  t.match(denied.stderr, /remoteClusters\[1\]\.name/);
  t.match(denied.stderr, /rules\.ipblock-local-pods: deny is only allowed for provable rules/);
  t.equal((await env.kubectl(["get", "configmap", "netguard-config", "-n", "netguard-system"])).code, 1, "nothing stored");

  const unknown = await env.kubectl(["apply", "-f", "-"], configMap(`${valid}\nbogus: 1\n`));
  t.not(unknown.code, 0);
  t.match(unknown.stderr, /bogus/, "unknown fields are named");

  const yamlError = await env.kubectl(["apply", "-f", "-"], configMap("cluster: [unclosed\n"));
  t.not(yamlError.code, 0);
  t.match(yamlError.stderr, /data\["config\.yaml"\]:\d+/, "a YAML error says where");

  const missingKey = await env.kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "netguard-config", namespace: "netguard-system" }, data: { "other.yaml": valid } }));
  t.not(missingKey.code, 0);
  t.match(missingKey.stderr, /data\["config\.yaml"\]: missing/);

  const accepted = await env.kubectl(["apply", "-f", "-"], configMap(valid));
  t.equal(accepted.code, 0, accepted.stderr);
  const update = await env.kubectl(["apply", "-f", "-"], configMap(invalid));
  t.not(update.code, 0, "an update to an invalid config is refused too");
  const stored = await getJson(env, ["configmap", "netguard-config", "-n", "netguard-system"]);
  t.equal(stored.data["config.yaml"], valid, "the valid version stays");

  const other = await env.kubectl(["create", "configmap", "unrelated", "-n", "netguard-system", "--from-literal=config.yaml=not: [a config"]);
  t.equal(other.code, 0, "other ConfigMaps are not netguard's business");
});

/** Creates `namespace` and returns a server-side dry run of a NetworkPolicy there: what the webhook answers now. */
async function dryRunIn(namespace: string, name: string, spec: unknown): Promise<() => ReturnType<NetguardEnv["kubectl"]>> {
  await kubectlOk(env, ["create", "namespace", namespace]);
  const policy = JSON.stringify({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace }, spec });
  return () => env.kubectl(["create", "--dry-run=server", "-f", "-"], policy);
}

t.test("remote-namespace-name knows this cluster's namespaces from the controller's cache", async (t) => {
  const dryRun = await dryRunIn("ctl-facts", "to-ledger", {
    podSelector: {},
    policyTypes: ["Egress"],
    egress: [{ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ledger" } } }] }],
  });
  const remote = await dryRun();
  t.equal(remote.code, 0, "a warning, not a denial");
  t.match(remote.stderr, /remote-namespace-name/, "ledger exists only in aws-east: the selector matches nothing here");
  await kubectlOk(env, ["create", "namespace", "ledger"]);
  const local = await waitFor("the webhook to learn that ledger exists here", async () => {
    const r = await dryRun();
    return /remote-namespace-name/.test(r.stderr) ? undefined : r;
  }, 10_000, 100);
  t.equal(local.code, 0);
  t.notMatch(local.stderr, /remote-namespace-name/, "once a local ledger exists, the selector matches it and the warning goes");
});

t.test("remote-cluster-selector denies only while no namespace it could match lacks this cluster's label", async (t) => {
  const dryRun = await dryRunIn("ctl-label", "from-aws", {
    podSelector: {},
    // Only guarded namespaces: kube-system and the other unguarded ones could take any label later (a warning).
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { "netguard.dev/cluster": "aws-east" }, matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system", "netguard-system", "kube-public", "kube-node-lease"] }] } }] }],
  });
  const denied = await waitFor("the label premise to hold", async () => ((await dryRun()).code !== 0 ? true : undefined), 10_000, 100);
  t.ok(denied, "every namespace carries gcp-west (or no label an aws-east selector could match): denied");
  // An admin may label a local namespace with another cluster's name; the selector then matches it here.
  await kubectlOk(env, ["create", "namespace", "ctl-legacy"]);
  await kubectlOk(env, ["label", "namespace", "ctl-legacy", "netguard.dev/cluster=aws-east", "--overwrite"]);
  const warned = await waitFor("the controller's cache to see the relabelled namespace", async () => {
    const r = await dryRun();
    return r.code === 0 ? r : undefined;
  }, 10_000, 100);
  t.match(warned.stderr, /remote-cluster-selector/, "a warning (kubectl shows its first 120 characters)");
  await kubectlOk(env, ["label", "namespace", "ctl-legacy", "netguard.dev/cluster=gcp-west", "--overwrite"]);
  const again = await waitFor("the premise to hold again", async () => ((await dryRun()).code !== 0 ? true : undefined), 10_000, 100);
  t.ok(again, "relabelled back: denied again");
});

t.test("namespace created → baseline present: latency over 50 namespaces", async (t) => {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(env.cluster.kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const seen = new Map<string, number>();
  const watch = new k8s.Watch(kc);
  const request = await watch.watch(
    "/apis/networking.k8s.io/v1/networkpolicies",
    { fieldSelector: `metadata.name=${BASELINE}` },
    (phase, obj: k8s.V1NetworkPolicy) => {
      if (phase === "ADDED" && !seen.has(obj.metadata!.namespace!)) seen.set(obj.metadata!.namespace!, performance.now());
    },
    () => undefined,
  );
  t.teardown(() => request.abort());
  await sleep(300); // the watch is established

  const measure = async (names: string[], sequential: boolean): Promise<number[]> => {
    const created = new Map<string, number>();
    const create = async (name: string) => {
      await core.createNamespace({ body: { metadata: { name } } });
      created.set(name, performance.now());
    };
    if (sequential) {
      for (const name of names) {
        await create(name);
        await waitFor(`baseline in ${name}`, async () => seen.has(name), 10_000, 2);
      }
    } else {
      await Promise.all(names.map(create));
      await waitFor("every baseline", async () => names.every((n) => seen.has(n)), 30_000, 10);
    }
    return names.map((n) => Math.max(0, seen.get(n)! - created.get(n)!)).sort((a, b) => a - b);
  };
  const report = (label: string, ms: number[]) => {
    const fmt = (v: number) => `${v.toFixed(1)} ms`;
    t.comment(`${label}: n=${ms.length} p50 ${fmt(percentile(ms, 50))} p90 ${fmt(percentile(ms, 90))} p99 ${fmt(percentile(ms, 99))} max ${fmt(ms[ms.length - 1]!)}`);
  };
  const one = await measure(Array.from({ length: 50 }, (_, i) => `lat-seq-${i}`), true);
  report("namespace created → baseline present, one at a time", one);
  const burst = await measure(Array.from({ length: 50 }, (_, i) => `lat-burst-${i}`), false);
  report("namespace created → baseline present, 50 created at once", burst);
  t.equal(one.length + burst.length, 100, "every namespace got its baseline");

  const metrics = (await httpsGet(`${env.url}/metrics`, readFileSync(env.caPath, "utf8"))).body;
  const count = metricValue(metrics, "netguard_baseline_latency_seconds_count") ?? 0;
  const sum = metricValue(metrics, "netguard_baseline_latency_seconds_sum") ?? 0;
  t.ok(count >= 100, "the controller's own latency histogram saw them");
  t.comment(`controller-side (informer event → baseline written) mean over ${count}: ${((sum / count) * 1000).toFixed(1)} ms`);
  t.match(metrics, /netguard_namespaces\{status="protected"\} \d+/, "namespace counts are exported");
  t.match(metrics, /netguard_namespaces\{status="missing"\} 0/, "none missing");
  t.match(metrics, /netguard_namespaces\{status="exempt"\} 4/);
});

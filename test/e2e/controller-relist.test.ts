/**
 * 410 Gone on a real kube-apiserver: the watch of netguard's namespace cache expires (the apiserver ends watches
 * after a few seconds), meanwhile etcd is compacted past the cache's resourceVersion, so the re-watch is answered
 * 410 Gone and the cache re-lists — without counting as a failure — and the controller keeps working from the
 * new list. The watch cache is off so that watches are served from etcd, where compaction applies.
 */
import { readFileSync } from "node:fs";
import t from "tap";
import { startNetguardEnv, type NetguardEnv } from "../k8s/netguard-env.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { metricValue } from "../helpers/prometheus.js";
import { httpsGet } from "../helpers/https.js";
import { baselineOf, kubectlOk } from "./controller-helpers.js";

let env: NetguardEnv;
t.before(async () => {
  env = await startNetguardEnv({ apiserverArgs: ["--watch-cache=false", "--min-request-timeout=3", "--etcd-compaction-interval=2s"] });
});
t.teardown(() => env?.stop());

const metric = async (name: string) =>
  metricValue((await httpsGet(`${env.url}/metrics`, readFileSync(env.caPath, "utf8"))).body, name, 'resource="namespaces"') ?? 0;

t.test("an expired resourceVersion re-lists the namespace cache, and the controller carries on", async (t) => {
  await kubectlOk(env, ["create", "namespace", "relist-a"]);
  await waitFor("relist-a's baseline", () => baselineOf(env, "relist-a"));
  const [lists, restarts] = [await metric("netguard_watch_lists_total"), await metric("netguard_watch_restarts_total")];
  t.ok(lists >= 1, `the first list is counted (${lists}): the metric this test reads exists`);

  // Writes elsewhere move etcd's revision past the namespace cache's; compaction then expires it.
  let writing = true;
  const writer = (async () => {
    for (let i = 0; writing; i++) {
      await kubectlOk(env, ["create", "configmap", `churn-${i}`, "-n", "default"]);
      await sleep(300);
    }
  })();
  try {
    await waitFor("a re-list of namespaces", async () => (await metric("netguard_watch_lists_total")) > lists, 60_000, 500);
  } finally {
    writing = false;
    await writer;
  }
  t.pass("the namespace cache re-listed");
  t.equal(await metric("netguard_watch_restarts_total"), restarts, "through the 410 path, not as a failed watch");

  await kubectlOk(env, ["create", "namespace", "relist-b"]);
  await waitFor("relist-b's baseline", () => baselineOf(env, "relist-b"), 20_000);
  t.pass("a namespace created after the re-list gets its baseline");
});

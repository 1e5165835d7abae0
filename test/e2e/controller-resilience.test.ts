/**
 * The controller when things go wrong: namespaces created while netguard was down are backfilled,
 * two replicas elect one leader and the second takes over when the first stops or dies, and the
 * apiserver restarting under a running controller.
 */
import t from "tap";
import { startNetguardEnv, type NetguardEnv } from "../k8s/netguard-env.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { metricValue } from "../helpers/prometheus.js";
import { httpsGet } from "../helpers/https.js";
import { baselineOf, DNS_ONLY_SPEC, getJson, kubectlOk, leaseOf, logLines, startReplica, type Replica } from "./controller-helpers.js";

const LEASE_SECONDS = 3;
let env: NetguardEnv;
const replicas: Replica[] = [];
t.before(async () => {
  env = await startNetguardEnv({ extraServeArgs: ["--lease-duration", String(LEASE_SECONDS)] });
});
t.teardown(async () => {
  for (const r of replicas) await r.stop("SIGKILL");
  await env?.stop();
});

const baselinePresent = (ns: string, timeoutMs = 20_000) => waitFor(`the baseline in ${ns}`, () => baselineOf(env, ns), timeoutMs);

t.test("namespaces created while netguard was down are backfilled when it starts", async (t) => {
  await env.stopNetguard();
  await env.registerWebhooks({ failurePolicy: "Ignore" });
  // The apiserver picks up the new failurePolicy asynchronously: retry until creation goes through.
  for (const ns of ["bf-one", "bf-two"]) {
    await waitFor(`creating ${ns} with netguard down`, async () => (await env.kubectl(["create", "namespace", ns])).code === 0, 30_000, 250);
  }
  for (const ns of ["bf-one", "bf-two"]) {
    const created = await getJson(env, ["namespace", ns]);
    t.notOk(created.metadata.labels?.["netguard.dev/cluster"], `${ns} was created without the cluster label`);
    t.equal(await baselineOf(env, ns), undefined, `${ns} has no baseline yet`);
  }

  await env.startNetguard();
  for (const ns of ["bf-one", "bf-two"]) {
    const p = await baselinePresent(ns);
    t.same(p.spec, DNS_ONLY_SPEC, `${ns}: baseline created on start`);
    const labelled = await waitFor(`${ns}'s cluster label`, async () => {
      const n = await getJson(env, ["namespace", ns]);
      return n.metadata.labels?.["netguard.dev/cluster"];
    });
    t.equal(labelled, "gcp-west", `${ns}: cluster label backfilled`);
  }
  await env.registerWebhooks({ failurePolicy: "Fail" });
});

t.test("two replicas: one leader; the other takes over when it stops, and when it dies", async (t) => {
  const first = await waitFor("a lease holder", async () => (await leaseOf(env))?.holderIdentity);
  const second = await startReplica(env, ["--lease-duration", String(LEASE_SECONDS)]);
  replicas.push(second);
  t.not(first, second.identity, "the replica that started first leads");

  await sleep(LEASE_SECONDS * 1000 + 500); // several election rounds
  t.equal((await leaseOf(env))?.holderIdentity, first, "the leader keeps the lease while it renews");
  const follower = (await httpsGet(`${second.url}/metrics`)).body;
  t.equal(metricValue(follower, "netguard_leader"), 0, "the second replica follows");
  t.notMatch(follower, /netguard_namespaces\{/, "a follower does not report namespace counts it cannot know");
  t.equal((await httpsGet(`${second.url}/readyz`)).status, 200, "but serves webhooks like every replica");
  t.equal(second.log().includes('"msg":"became leader"'), false);

  // Graceful stop: the leader releases the lease, the follower takes over at its next retry.
  const stoppedAt = Date.now();
  await env.stopNetguard();
  const holder = await waitFor("the second replica to take the lease", async () => {
    const lease = await leaseOf(env);
    return lease?.holderIdentity === second.identity ? lease : undefined;
  }, 10_000);
  t.comment(`takeover after a graceful stop: ${Date.now() - stoppedAt} ms`);
  t.ok((holder.leaseTransitions ?? 0) >= 1, "a lease transition was recorded");
  await waitFor("the second replica to say it leads", async () => second.log().includes('"msg":"became leader"'));
  t.equal(metricValue((await httpsGet(`${second.url}/metrics`)).body, "netguard_leader"), 1);

  // The new leader reconciles. (The webhooks point at the stopped replica, so let creation through.)
  await env.registerWebhooks({ failurePolicy: "Ignore" });
  await waitFor("creating ha-one", async () => (await env.kubectl(["create", "namespace", "ha-one"])).code === 0, 30_000, 250);
  t.same((await baselinePresent("ha-one")).spec, DNS_ONLY_SPEC, "the new leader created the baseline");

  // The first replica comes back: it follows.
  await env.startNetguard();
  await env.registerWebhooks({ failurePolicy: "Fail" });
  await sleep(LEASE_SECONDS * 1000);
  t.equal((await leaseOf(env))?.holderIdentity, second.identity, "the returning replica does not steal the lease");

  // A crash: no release. The lease must expire before the other replica takes over.
  const before = (await leaseOf(env))?.leaseTransitions ?? 0;
  const killedAt = Date.now();
  await second.stop("SIGKILL");
  const afterCrash = await waitFor("the first replica to take over after the crash", async () => {
    const lease = await leaseOf(env);
    return lease?.holderIdentity && lease.holderIdentity !== second.identity ? lease : undefined;
  }, 20_000);
  const took = Date.now() - killedAt;
  t.comment(`takeover after a crash (lease ${LEASE_SECONDS} s): ${took} ms`);
  t.ok(took >= LEASE_SECONDS * 1000 - 1000, "not before the lease could have expired");
  t.equal(afterCrash.leaseTransitions, before + 1);
  await kubectlOk(env, ["create", "namespace", "ha-two"]);
  t.same((await baselinePresent("ha-two")).spec, DNS_ONLY_SPEC, "the first replica reconciles again");
});

t.test("the apiserver restarts under a running controller; the controller recovers", async (t) => {
  await kubectlOk(env, ["create", "namespace", "rs-before"]);
  await baselinePresent("rs-before");
  const restartsBefore = logLines(env, "watch failed; restarting").length;

  await env.cluster.restartApiserver();
  // The webhooks must answer again before kubectl can create namespaces: retry briefly.
  await waitFor("creating rs-after", async () => (await env.kubectl(["create", "namespace", "rs-after"])).code === 0, 30_000, 250);
  const p = await baselinePresent("rs-after", 45_000);
  t.same(p.spec, DNS_ONLY_SPEC, "a namespace created after the restart gets its baseline");
  t.ok(logLines(env, "watch failed; restarting").length > restartsBefore, "the informers noticed and restarted");

  // Both watches work again: a deletion is seen and repaired (the NetworkPolicy informer),
  // a label change is seen (the Namespace informer).
  const old = await baselineOf(env, "rs-before");
  await kubectlOk(env, ["delete", "networkpolicy", "netguard-baseline", "-n", "rs-before"]);
  const again = await waitFor("the deleted baseline to be recreated", async () => {
    const b = await baselineOf(env, "rs-before");
    return b && b.metadata.uid !== old.metadata.uid ? b : undefined;
  }, 30_000);
  t.same(again.spec, DNS_ONLY_SPEC, "drift after the restart is repaired");
  await kubectlOk(env, ["label", "namespace", "rs-after", "netguard.dev/baseline=disabled"]);
  await waitFor("the opted-out baseline to go", async () => (await baselineOf(env, "rs-after")) === undefined, 30_000);
  t.pass("an opt-out after the restart is honoured");
  const leader = await waitFor("a lease holder", async () => (await leaseOf(env))?.holderIdentity);
  t.ok(leader, `the lease is held (${leader})`);
});

/**
 * Leader election against a real kube-apiserver when clocks disagree: expiry is timed from when each
 * replica last saw the Lease change, on its own monotonic clock, so neither a replica whose clock runs
 * fast nor a Lease whose renewTime lies in the future moves a takeover. Electors run in this process,
 * each with its own client; a replica "dies" when its client stops reaching the apiserver.
 */
import * as k8s from "@kubernetes/client-node";
import { pino } from "pino";
import t from "tap";
import { LeaderElector } from "../../server/controller/leader-election.js";
import { loadKubeConfig } from "../../kube/client.js";
import { startCluster, type LocalCluster } from "../k8s/cluster.js";
import { kubectl } from "../k8s/kubectl.js";
import { sleep, waitFor } from "../helpers/wait.js";

const LEASE_SECONDS = 4;
const RETRY_MS = 800;
const FAST_MS = 20_000;
const NAMESPACE = "default";
const LEASE = "e2e-election";
const log = pino({ level: process.env.NETGUARD_TEST_LOG ?? "silent" });

let cluster: LocalCluster;
t.before(async () => {
  cluster = await startCluster();
});
t.teardown(() => cluster?.stop());

interface Candidate {
  name: string;
  elector: LeaderElector;
  /** When it started and stopped leading (Date.now()), in order. */
  events: { leading: boolean; at: number }[];
  /** From now on every call fails, as if the process had died or been cut off: it never writes again. */
  kill(): void;
}

const candidates: Candidate[] = [];
t.afterEach(async () => {
  for (const c of candidates.splice(0)) await c.elector.stop();
  await kubectl(cluster.kubeconfig, ["delete", "lease", LEASE, "-n", NAMESPACE, "--ignore-not-found"]);
});

function candidate(name: string, clockOffsetMs = 0): Candidate {
  const real = loadKubeConfig(cluster.kubeconfig).makeApiClient(k8s.CoordinationV1Api);
  let dead = false;
  const coordination = new Proxy(real, {
    get: (target, key, receiver) => {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => (dead ? Promise.reject(new Error(`${name} is dead`)) : (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  const events: Candidate["events"] = [];
  const elector = new LeaderElector({
    coordination,
    namespace: NAMESPACE,
    name: LEASE,
    identity: name,
    log: log.child({ candidate: name }),
    leaseDurationSeconds: LEASE_SECONDS,
    retryPeriodMs: RETRY_MS,
    now: () => Date.now() + clockOffsetMs,
    onStartedLeading: () => events.push({ leading: true, at: Date.now() }),
    onStoppedLeading: () => events.push({ leading: false, at: Date.now() }),
  });
  const c = { name, elector, events, kill: () => (dead = true) };
  candidates.push(c);
  elector.start();
  return c;
}

const leaseSpec = async () => {
  const r = await kubectl(cluster.kubeconfig, ["get", "lease", LEASE, "-n", NAMESPACE, "-o", "json"]);
  return r.code === 0 ? (JSON.parse(r.stdout) as k8s.V1Lease).spec : undefined;
};
const leading = (c: Candidate) => waitFor(`${c.name} to lead`, async () => c.elector.isLeader, 60_000, 50);

t.test("a replica whose clock runs 20 s fast does not take the lease from a healthy leader", async (t) => {
  const healthy = candidate("healthy");
  await leading(healthy);
  const fast = candidate("fast-clock", FAST_MS);
  await sleep(3 * (LEASE_SECONDS * 1000 + RETRY_MS));
  const spec = await leaseSpec();
  t.equal(spec?.holderIdentity, "healthy", "the healthy leader still holds the lease");
  t.equal(spec?.leaseTransitions, 0, "no transition");
  t.same(fast.events, [], "the fast replica never led");
  t.same(healthy.events.map((e) => e.leading), [true], "the leader never stepped down");
});

t.test("a Lease written with a renewTime an hour ahead does not stop replicas from leading", async (t) => {
  const inAnHour = new Date(Date.now() + 3_600_000).toISOString().replace(/Z$/, "000Z"); // MicroTime: six fractional digits
  const edited = await kubectl(cluster.kubeconfig, ["apply", "-f", "-"], JSON.stringify({
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: LEASE, namespace: NAMESPACE },
    spec: { holderIdentity: "ghost", leaseDurationSeconds: LEASE_SECONDS, acquireTime: inAnHour, renewTime: inAnHour, leaseTransitions: 7 },
  }));
  t.equal(edited.code, 0, edited.stderr);
  const started = Date.now();
  const a = candidate("replica-a");
  const b = candidate("replica-b");
  const winner = await Promise.race([leading(a).then(() => a), leading(b).then(() => b)]);
  const took = Date.now() - started;
  t.comment(`a Lease renewed "an hour ahead" by a ghost is taken after ${took} ms (lease ${LEASE_SECONDS} s, retry ${RETRY_MS} ms)`);
  t.ok(took >= LEASE_SECONDS * 1000, "not before the ghost's lease could have expired");
  const spec = await leaseSpec();
  t.equal(spec?.holderIdentity, winner.name, "the winner holds the lease");
  t.equal(spec?.leaseTransitions, 8, "one transition from the ghost");
  await sleep(2 * RETRY_MS);
  t.equal([a, b].filter((c) => c.elector.isLeader).length, 1, "exactly one leader");
});

t.test("a dead leader's lease is taken within lease duration + one retry period, whatever its clock", async (t) => {
  for (const [what, offset] of [["a leader with a true clock", 0], ["a leader whose clock runs 20 s fast", FAST_MS]] as const) {
    const leader = candidate(`leader-${offset}`, offset);
    await leading(leader);
    const follower = candidate(`follower-${offset}`);
    await sleep(2 * RETRY_MS); // the follower has seen the lease renewed
    const lastWrite = Date.now();
    leader.kill();
    await leading(follower);
    const took = Date.now() - lastWrite;
    t.comment(`takeover after ${what} died: ${took} ms (lease ${LEASE_SECONDS} s + retry ${RETRY_MS} ms = ${LEASE_SECONDS * 1000 + RETRY_MS} ms)`);
    // The leader's last write may precede the kill by a retry period, and the follower saw it up to one later.
    t.ok(took >= LEASE_SECONDS * 1000 - 2 * RETRY_MS, `${what}: not before its lease could have expired`);
    // Lease duration + one retry period, counted from the last renewal the follower saw (up to a retry period after the
    // leader's last write), plus 1 s for the apiserver round trips on a loaded machine. Timed from the leader's clock,
    // the takeover would wait for its renewTime, 20 s ahead.
    t.ok(took <= LEASE_SECONDS * 1000 + 2 * RETRY_MS + 1000, `${what}: taken within lease duration + one retry period, its clock does not delay it`);
    const stepDown = leader.events.find((e) => !e.leading);
    t.ok(stepDown && stepDown.at <= follower.events[0]!.at, `${what}: the dead leader stepped down before the follower started leading`);
    const spec = await leaseSpec();
    t.equal(spec?.holderIdentity, follower.name);
    for (const c of candidates.splice(0)) await c.elector.stop();
    await kubectl(cluster.kubeconfig, ["delete", "lease", LEASE, "-n", NAMESPACE, "--ignore-not-found"]);
  }
});

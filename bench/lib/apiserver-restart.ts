/**
 * The soak's last fault: the kube-apiserver restarted under a running `netguard serve --kubeconfig` (webhooks
 * and controller, test/k8s/netguard-env.ts) while namespaces and NetworkPolicies are created through it.
 * Counts failed admissions inside and outside the apiserver's own downtime, and how long the baseline
 * reconciler takes to catch up with every namespace created.
 */
import { request } from "node:https";
import { readFileSync } from "node:fs";
import { startNetguardEnv, type NetguardEnv } from "../../test/k8s/netguard-env.js";
import { natHiddenPolicy, typicalPolicy } from "./fixtures.js";
import { kubeClient, type Kube } from "./kube.js";
import { fmt, percentile, table } from "./report.js";

const LOAD_MS = 60_000;
const RESTART_AT_MS = 20_000;
/** One call every 50 ms: namespace creates and dry-run NetworkPolicy creates, alternating. */
const INTERVAL_MS = 50;
const BASELINE = "netguard-baseline";
const POLL_MS = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Call {
  kind: "namespace" | "policy";
  at: number;
  namespace?: string;
  /** Undefined when the answer was the expected one. */
  failure?: string;
}

/** What one call got, compared with what netguard decides: namespaces are created, the NAT-hidden policy refused. */
async function call(kube: Kube, i: number): Promise<Omit<Call, "at">> {
  try {
    if (i % 2 === 0) {
      const r = await kube.call("POST", "/api/v1/namespaces", { metadata: { name: `soak-${i}` } });
      return { kind: "namespace", namespace: `soak-${i}`, failure: r.status === 201 ? undefined : `HTTP ${r.status} ${r.body?.message ?? ""}`.trim() };
    }
    const hidden = i % 10 === 9;
    const policy = hidden ? natHiddenPolicy(`p-${i}`, "default") : typicalPolicy(`p-${i}`, "default");
    const r = await kube.call("POST", "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies?dryRun=All", policy);
    const expected = hidden ? r.status === 403 && String(r.body?.message).includes("nat-hidden-cidr") : r.status === 201;
    return { kind: "policy", failure: expected ? undefined : `HTTP ${r.status} ${hidden ? "(NAT-hidden policy) " : ""}${r.body?.message ?? ""}`.trim() };
  } catch (error) {
    return { kind: i % 2 === 0 ? "namespace" : "policy", failure: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
}

async function baselines(kube: Kube): Promise<Set<string>> {
  const r = await kube.call("GET", `/apis/networking.k8s.io/v1/networkpolicies?fieldSelector=metadata.name%3D${BASELINE}`);
  return new Set((r.body?.items ?? []).map((p: { metadata: { namespace: string } }) => p.metadata.namespace));
}

function watchRestarts(env: NetguardEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    request(`${env.url}/metrics`, { ca: readFileSync(env.caPath) }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve(text.split("\n").filter((l) => l.startsWith("netguard_watch_restarts_total{")).join(", ") || "none"));
    })
      .on("error", reject)
      .end();
  });
}

export async function apiserverRestartFault(): Promise<void> {
  const env = await startNetguardEnv();
  const kube = kubeClient(env.cluster);
  try {
    const calls: Call[] = [];
    const pending: Promise<void>[] = [];
    const started = performance.now();
    const now = () => performance.now() - started;
    let down = { from: Infinity, to: Infinity };
    // Baselines are polled (a list every POLL_MS, failing while the apiserver is down): first seen per namespace.
    const seen = new Map<string, number>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const found = await baselines(kube).catch(() => new Set<string>());
        for (const ns of found) if (!seen.has(ns)) seen.set(ns, now());
        await sleep(POLL_MS);
      }
    })();
    const restart = sleep(RESTART_AT_MS).then(async () => {
      down = { from: now(), to: Infinity };
      await env.cluster.restartApiserver();
      down.to = now();
    });
    for (let i = 0; now() < LOAD_MS; i++) {
      const at = now();
      pending.push(call(kube, i).then((c) => void calls.push({ ...c, at })));
      await sleep(Math.max(0, INTERVAL_MS * (i + 1) - now()));
    }
    await Promise.all([restart, ...pending]);
    const loadEnd = now();
    const created = calls.filter((c) => c.kind === "namespace" && !c.failure);
    for (const deadline = loadEnd + 120_000; now() < deadline && created.some((c) => !seen.has(c.namespace!)); ) await sleep(POLL_MS);
    polling = false;
    await poller;
    const lag = (cs: Call[]) => cs.filter((c) => seen.has(c.namespace!)).map((c) => seen.get(c.namespace!)! - c.at);
    const lagRow = (what: string, cs: Call[]) => {
      const l = lag(cs);
      return [what, cs.length, l.length, fmt(percentile(l, 50), 0), fmt(percentile(l, 99), 0), fmt(percentile(l, 100), 0)];
    };

    const inWindow = (c: Call) => c.at >= down.from - 1_000 && c.at <= down.to;
    const summary = (kind: Call["kind"], window: boolean) => {
      const mine = calls.filter((c) => c.kind === kind && inWindow(c) === window);
      const failed = new Map<string, number>();
      for (const c of mine.filter((c) => c.failure)) {
        const why = c.failure!.slice(0, 80);
        failed.set(why, (failed.get(why) ?? 0) + 1);
      }
      return `${mine.length - [...failed.values()].reduce((a, b) => a + b, 0)} / ${mine.length}${failed.size ? ` (failed: ${[...failed].map(([w, n]) => `${n} × ${w}`).join("; ")})` : ""}`;
    };
    console.log(`\n## Fault: kube-apiserver restarted under the controller (${LOAD_MS / 1000} s of creates, restart at ${RESTART_AT_MS / 1000} s)\n`);
    console.log(
      table(
        ["calls", "namespace creates as expected", "NetworkPolicy creates (dry run) as expected"],
        [
          [`while the apiserver was down or restarting (${fmt(down.from / 1000, 1)}–${fmt(down.to / 1000, 1)} s, from 1 s before)`, summary("namespace", true), summary("policy", true)],
          ["the rest of the run", summary("namespace", false), summary("policy", false)],
        ],
      ),
    );
    console.log(`\nNamespace created → baseline seen (a list every ${POLL_MS} ms, so ±${POLL_MS} ms):\n`);
    console.log(
      table(
        ["namespaces created", "n", "with baseline", "p50 ms", "p99 ms", "max ms"],
        [
          lagRow("before the restart", created.filter((c) => c.at < down.from)),
          lagRow("in the last second before the apiserver stopped", created.filter((c) => c.at >= down.from - 1_000 && c.at < down.from)),
          lagRow("after the apiserver was back", created.filter((c) => c.at > down.to)),
        ],
      ),
    );
    console.log(`\nnetguard's watch restarts: ${await watchRestarts(env)}.`);
  } finally {
    kube.close();
    await env.stop();
  }
}

/**
 * Hostile input against `netguard serve` under the Deployment's own settings (NODE_OPTIONS heap cap): how much real
 * AdmissionReviews weigh, peak RSS under concurrent maximum bodies, and what callers get beyond the in-flight cap.
 * Loopback only; a fixed number of requests; stops by itself.
 *
 *   node --import tsx bench/hostile.ts        (after `make build`)
 *   NETGUARD_HOSTILE_CONCURRENCY (default 3), NETGUARD_HOSTILE_BURST (default 64)
 */
import { readFileSync } from "node:fs";
import { request, Agent } from "node:https";
import { join } from "node:path";
import { DEFAULT_BODY_LIMIT } from "../server/app.js";
import { jsonCost, MAX_JSON_VALUES } from "../server/json.js";
import { admissionReview, MULTICLOUD, networkPolicy, namespaceObject, ROOT } from "./lib/fixtures.js";
import { fmt, load, table } from "./lib/report.js";
import { makeCerts, rssMiB, startServe, tempDir } from "./lib/server.js";

const CONCURRENCY = Number(process.env.NETGUARD_HOSTILE_CONCURRENCY ?? 3);
const BURST = Number(process.env.NETGUARD_HOSTILE_BURST ?? 64);
/** What the Deployment sets (manifests/base/deployment.yaml). */
const DEPLOYMENT = readFileSync(join(ROOT, "manifests/base/deployment.yaml"), "utf8");
const NODE_OPTIONS = DEPLOYMENT.match(/value: (--max-old-space-size=\d+)/)?.[1] ?? "";
const MEMORY_LIMIT = DEPLOYMENT.match(/limits:\s*\n\s*cpu: \S+\s*\n\s*memory: (\S+)/)?.[1] ?? "?";

/** The managedFields the apiserver adds to a created policy (one entry per manager; atomic lists are one field). */
const managedFields = [
  {
    manager: "kubectl-client-side-apply",
    operation: "Update",
    apiVersion: "networking.k8s.io/v1",
    time: "2026-12-04T00:00:00Z",
    fieldsType: "FieldsV1",
    fieldsV1: { "f:metadata": { "f:annotations": { ".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {} } }, "f:spec": { "f:ingress": {}, "f:podSelector": {}, "f:policyTypes": {} } },
  },
];

function peers(n: number) {
  return Array.from({ length: n }, (_, i) =>
    i % 2 ? { ipBlock: { cidr: `10.${(i >> 8) & 255}.${i & 255}.0/24`, except: [`10.${(i >> 8) & 255}.${i & 255}.128/25`] } } : { namespaceSelector: { matchLabels: { team: `team-${i}` } }, podSelector: { matchLabels: { app: `app-${i}` } } },
  );
}

/** An UPDATE review the apiserver would send: object and oldObject, both with kubectl's last-applied annotation. */
function updateReview(object: Record<string, any>) {
  const applied = { ...object, metadata: { ...object.metadata, annotations: { "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify(object) }, managedFields, uid: "u", resourceVersion: "1" } };
  const review = admissionReview(applied as never);
  return { ...review, request: { ...review.request, operation: "UPDATE", oldObject: applied } };
}

function realWeights(): (string | number)[][] {
  const config = readFileSync(MULTICLOUD, "utf8");
  const configMap = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "netguard-config", namespace: "netguard-system" }, data: { "config.yaml": config } };
  const cases: [string, unknown][] = [
    ["NetworkPolicy, 10 peers, UPDATE", updateReview(networkPolicy("p", "shop", { podSelector: {}, ingress: [{ from: peers(10) }] }))],
    ["NetworkPolicy, 1,000 peers, UPDATE", updateReview(networkPolicy("p", "shop", { podSelector: {}, ingress: [{ from: peers(1000) }] }))],
    ["NetworkPolicy, 10,000 peers, UPDATE", updateReview(networkPolicy("p", "shop", { podSelector: {}, ingress: [{ from: peers(10_000) }] }))],
    ["Namespace, 50 labels, UPDATE", updateReview({ ...namespaceObject("team-a"), metadata: { name: "team-a", labels: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`example.com/label-${i}`, `value-${i}`])) } })],
    ["ConfigMap netguard-config (multicloud), UPDATE", updateReview(configMap)],
  ];
  return cases.map(([what, review]) => {
    const text = JSON.stringify(review);
    const cost = jsonCost(text);
    return [what, fmt(text.length / 1024, 1), cost.values];
  });
}

/**
 * ~limit bytes of `[{},{},…]` as the object: the cheapest text for the most heap. With `values`, only that many
 * `{}` and a string padding the body to the limit: the heaviest body the value cap still lets through.
 */
function hostileBody(limit: number, values?: number): string {
  const envelope = JSON.stringify(admissionReview(networkPolicy("p", "shop", { podSelector: {} }) as never)).replace('"object":{', '"object":[HOLE],"_":{');
  const count = values ?? Math.floor((limit - envelope.length - 16) / 3);
  const array = `[${"{},".repeat(count - 1)}{}]`;
  const pad = values === undefined ? "" : `,"x"${"x".repeat(Math.max(0, limit - envelope.length - array.length - 16))}"`.replace(',"x"', ',"');
  return envelope.replace("[HOLE]", values === undefined ? array : `[${array}${pad}]`);
}

interface Answer {
  status: number;
  reason: string;
}

function post(port: number, ca: string, body: string, agent: Agent): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/validate", method: "POST", ca, agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }, timeout: 60_000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (text += c));
      res.on("end", () => {
        let reason = "";
        try {
          reason = JSON.parse(text).reason ?? "";
        } catch {
          reason = text.slice(0, 80);
        }
        resolve({ status: res.statusCode ?? 0, reason });
      });
    });
    req.on("error", (e) => resolve({ status: 0, reason: e.message }));
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end(body);
  });
}

function tally(answers: Answer[]): string {
  const byStatus = new Map<string, number>();
  for (const a of answers) byStatus.set(`${a.status || "error"}: ${a.reason}`, (byStatus.get(`${a.status || "error"}: ${a.reason}`) ?? 0) + 1);
  return [...byStatus].map(([k, n]) => `${n} × ${k}`).join("; ");
}

export async function hostileBench(): Promise<void> {
  console.log(`NODE_OPTIONS=${NODE_OPTIONS}, memory limit ${MEMORY_LIMIT} (manifests/base/deployment.yaml); body limit ${DEFAULT_BODY_LIMIT} bytes; load ${load()}\n`);
  console.log("What real AdmissionReviews weigh (UPDATE: object and oldObject, kubectl's last-applied annotation, managedFields):\n");
  console.log(table(["review", "KiB", "JSON values"], realWeights()));

  const tmp = await tempDir("netguard-hostile-");
  const certs = await makeCerts(tmp.dir);
  process.env.NODE_OPTIONS = NODE_OPTIONS;
  const server = await startServe({ configPath: MULTICLOUD, dir: tmp.dir, certs, logLevel: "warn" });
  delete process.env.NODE_OPTIONS;
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  try {
    const overCap = hostileBody(DEFAULT_BODY_LIMIT - 1024);
    // Each `{}` counts twice: the object and the comma after it.
    const underCap = hostileBody(DEFAULT_BODY_LIMIT - 1024, MAX_JSON_VALUES / 2 - 1000);
    const idle = server.rssMiB();
    // Sampled, since a process that dies takes its /proc entry (and VmHWM) with it.
    let peak = 0;
    const sampler = setInterval(() => {
      if (server.child.exitCode === null && server.child.signalCode === null) peak = Math.max(peak, rssMiB(server.child.pid!, "VmHWM") || 0);
    }, 20);
    const rows: (string | number)[][] = [];
    for (let round = 1; round <= 6; round++) {
      const [body, what] = round <= 3 ? [overCap, "over the value cap"] : [underCap, `${jsonCost(underCap).values} values, padded`];
      const answers = await Promise.all(Array.from({ length: CONCURRENCY }, () => post(server.port, certs.ca.cert, body, agent)));
      await new Promise((r) => setTimeout(r, 500));
      const alive = server.child.exitCode === null && server.child.signalCode === null;
      const healthy = alive ? (await post(server.port, certs.ca.cert, JSON.stringify(admissionReview(networkPolicy("ok", "shop", { podSelector: {} }) as never)), agent)).status : 0;
      rows.push([round, `${CONCURRENCY} × ${fmt(body.length / 1048576, 2)} MiB, ${what}`, tally(answers), alive ? "alive" : `died (${server.child.exitCode ?? server.child.signalCode})`, healthy || "-", fmt(peak, 0)]);
      if (!alive) break;
    }
    console.log(`\nConcurrent maximum bodies of \`[{},{},…]\` (idle RSS ${fmt(idle, 0)} MiB):\n`);
    console.log(table(["round", "bodies", "answers", "process", "a typical review after", "peak RSS MiB (VmHWM)"], rows));

    if (server.child.exitCode === null) {
      const slow = hostileBody(2 * 1024 * 1024);
      const answers = await Promise.all(Array.from({ length: BURST }, () => post(server.port, certs.ca.cert, slow, agent)));
      await new Promise((r) => setTimeout(r, 500));
      console.log(`\nA burst of ${BURST} concurrent 2 MiB hostile bodies: ${tally(answers)}; peak RSS ${fmt(peak, 0)} MiB; process ${server.child.exitCode === null ? "alive" : "died"}`);
    }
    clearInterval(sampler);
  } finally {
    agent.destroy();
    await server.stop();
    await tmp.remove();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await hostileBench();

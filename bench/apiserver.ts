/**
 * Through the real kube-apiserver (test/k8s): latency of `create NetworkPolicy` in four namespaces of one
 * cluster, interleaved round by round so load on the machine hits each alike: no admission check, netguard
 * (URL-mode validating webhook, compiled server in its own process), an in-process ValidatingAdmissionPolicy
 * (CEL) rejecting the same NAT-hidden case (an ipBlock cidr inside 10.100.0.0/16), and for reference a
 * no-op webhook (a bare Node HTTPS server that only parses the review), the floor of any webhook here.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { buildWebhookConfigurations } from "../certs/webhook-configurations.js";
import { freePort, startCluster } from "../test/k8s/cluster.js";
import { MULTICLOUD, natHiddenPolicy, typicalPolicy } from "./lib/fixtures.js";
import { expectStatus, kubeClient, type Kube } from "./lib/kube.js";
import { fmt, mean, percentile, table } from "./lib/report.js";
import { makeCerts, startServe, tempDir, type BenchCerts } from "./lib/server.js";

const ROUNDS = Number(process.env.NETGUARD_BENCH_CREATES ?? 300);
const WARMUP = 20;
const MODES = ["none", "noop", "netguard", "cel"] as const;
type Mode = (typeof MODES)[number];
const namespaceOf = (mode: Mode) => `bench-${mode}`;

const inside = (field: "ingress" | "egress", peers: "from" | "to") =>
  `!has(object.spec.${field}) || object.spec.${field}.all(r, !has(r.${peers}) || r.${peers}.all(p, !has(p.ipBlock) || !cidr('10.100.0.0/16').containsCIDR(p.ipBlock.cidr)))`;

const celPolicy = {
  apiVersion: "admissionregistration.k8s.io/v1",
  kind: "ValidatingAdmissionPolicy",
  metadata: { name: "bench-nat-hidden-cidr" },
  spec: {
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [{ apiGroups: ["networking.k8s.io"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["networkpolicies"] }],
    },
    validations: [
      { expression: inside("ingress", "from"), message: "ipBlock inside aws-east's pod range 10.100.0.0/16: NAT hides it from this cluster" },
      { expression: inside("egress", "to"), message: "ipBlock inside aws-east's pod range 10.100.0.0/16: NAT hides it from this cluster" },
    ],
  },
};

const celBinding = {
  apiVersion: "admissionregistration.k8s.io/v1",
  kind: "ValidatingAdmissionPolicyBinding",
  metadata: { name: "bench-nat-hidden-cidr" },
  spec: { policyName: "bench-nat-hidden-cidr", validationActions: ["Deny"], matchResources: { namespaceSelector: { matchLabels: { bench: "cel" } } } },
};

/** The no-op webhook: parses the review and denies only the probe and denial-timing objects, by name. */
const NOOP_WEBHOOK = `
const { createServer } = require("node:https");
const { readFileSync } = require("node:fs");
const [cert, key, port] = process.argv.slice(1);
createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const { uid, name } = JSON.parse(Buffer.concat(chunks).toString()).request;
    const allowed = !/^(probe|d)-/.test(name);
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid, allowed, ...(allowed ? {} : { status: { code: 403, message: "no" } }) } }));
  });
}).listen(Number(port), "127.0.0.1");
`;

async function startNoopWebhook(certs: BenchCerts): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  const child = spawn(process.execPath, ["-e", NOOP_WEBHOOK, certs.certPath, certs.keyPath, String(port)], { stdio: "ignore" });
  return { url: `https://127.0.0.1:${port}`, stop: () => child.kill() };
}

const policiesPath = (mode: Mode) => `/apis/networking.k8s.io/v1/namespaces/${namespaceOf(mode)}/networkpolicies`;

/** Creates `object` in the mode's namespace; resolves with the HTTP status and the ms it took. */
async function timedCreate(kube: Kube, mode: Mode, object: unknown): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const { status } = await kube.call("POST", policiesPath(mode), object);
  return { status, ms: performance.now() - started };
}

/** Denied by a webhook (403) or by an admission policy (422), as opposed to failing (a webhook not reachable yet: 500). */
const refused = (status: number) => status === 403 || status === 422;

/** A new webhook or admission policy takes effect asynchronously: retry the NAT-hidden create until it is refused. */
async function untilEnforced(kube: Kube, mode: Mode): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const { status } = await timedCreate(kube, mode, natHiddenPolicy(`probe-${i}`, namespaceOf(mode)));
    if (refused(status)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${mode} never started refusing the NAT-hidden policy`);
}

/** The latencyMs netguard logged for each allowed benchmark create. */
function serverSideMs(logPath: string): number[] {
  return readFileSync(logPath, "utf8")
    .split("\n")
    .filter((l) => l.includes('"admission decision"') && l.includes('"name":"p-'))
    .map((l) => (JSON.parse(l) as { latencyMs: number }).latencyMs);
}

export async function apiserverBench(): Promise<void> {
  const tmp = await tempDir("netguard-bench-api-");
  const cluster = await startCluster();
  const kube = kubeClient(cluster);
  const certs = await makeCerts(tmp.dir);
  const server = await startServe({ configPath: MULTICLOUD, dir: tmp.dir, certs });
  const noop = await startNoopWebhook(certs);
  try {
    for (const mode of MODES) {
      await expectStatus(kube.call("POST", "/api/v1/namespaces", { metadata: { name: namespaceOf(mode), labels: { bench: mode } } }), `namespace ${mode}`);
    }
    const { validating } = buildWebhookConfigurations({ caCert: certs.ca.cert, target: { url: server.url } });
    const [webhook] = validating.webhooks!;
    validating.webhooks = [
      { ...webhook!, namespaceSelector: { matchLabels: { bench: "netguard" } } },
      { ...webhook!, name: "noop.bench.netguard.dev", clientConfig: { ...webhook!.clientConfig, url: `${noop.url}/validate` }, namespaceSelector: { matchLabels: { bench: "noop" } } },
    ];
    await expectStatus(kube.call("POST", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", validating), "webhook configuration");
    await expectStatus(kube.call("POST", "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies", celPolicy), "admission policy");
    await expectStatus(kube.call("POST", "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings", celBinding), "admission policy binding");
    await untilEnforced(kube, "netguard");
    await untilEnforced(kube, "noop");
    await untilEnforced(kube, "cel");

    const allowed = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
    const denied = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      for (const mode of [...MODES].sort(() => Math.random() - 0.5)) {
        const ok = await timedCreate(kube, mode, typicalPolicy(`p-${round}`, namespaceOf(mode)));
        if (ok.status !== 201) throw new Error(`create in ${mode}: HTTP ${ok.status}`);
        if (round >= WARMUP) allowed.get(mode)!.push(ok.ms);
        if (mode === "none") continue;
        const no = await timedCreate(kube, mode, natHiddenPolicy(`d-${round}`, namespaceOf(mode)));
        if (!refused(no.status)) throw new Error(`${mode} did not refuse the NAT-hidden policy: HTTP ${no.status}`);
        if (round >= WARMUP) denied.get(mode)!.push(no.ms);
      }
    }

    const base = allowed.get("none")!;
    const added = (mode: Mode, stat: (xs: number[]) => number) => stat(allowed.get(mode)!) - stat(base);
    const p50 = (xs: number[]) => percentile(xs, 50);
    console.log(`${ROUNDS} creates per mode (after ${WARMUP} warm-up rounds), one at a time, modes shuffled in every round.\n`);
    console.log(
      table(
        ["allowed create", "p50 ms", "p90 ms", "p99 ms", "mean ms", "added p50 ms", "added mean ms", "denied create p50 ms"],
        MODES.map((m) => {
          const xs = allowed.get(m)!;
          const no = denied.get(m)!;
          return [m, fmt(p50(xs)), fmt(percentile(xs, 90)), fmt(percentile(xs, 99)), fmt(mean(xs)), fmt(added(m, p50)), fmt(added(m, mean)), no.length ? fmt(p50(no)) : "-"];
        }),
      ),
    );
    const ratio = (stat: (xs: number[]) => number) => {
      const cel = added("cel", stat);
      return cel > 0 ? `${fmt(added("netguard", stat) / cel, 1)}×` : "n/a (CEL adds nothing measurable)";
    };
    console.log(`\nnetguard's added latency / CEL's: ${ratio(p50)} at p50, ${ratio(mean)} in the mean (target: within 2×).`);
    console.log(`A no-op webhook adds ${fmt(added("noop", p50))} ms at p50: the floor of any out-of-process webhook on this machine.`);
    const inside = serverSideMs(server.logPath);
    console.log(
      `Of netguard's added latency, p50 ${fmt(percentile(inside, 50), 3)} ms (p99 ${fmt(percentile(inside, 99), 3)} ms) is spent inside netguard ` +
        "(its logged latencyMs: request received → response); the rest is the apiserver's webhook call (encoding the AdmissionReview, HTTPS on loopback, decoding).",
    );
    console.log(`netguard server RSS: ${fmt(server.rssMiB(), 0)} MiB.`);
  } finally {
    kube.close();
    noop.stop();
    await server.stop();
    await cluster.stop();
    await tmp.remove();
  }
}

/**
 * Fuzzing the admission server (a real `netguard serve` process over HTTPS): random, mutated and malformed
 * bodies (fixtures/bodies.ts). Every response is a well-formed AdmissionReview echoing the uid, or a 4xx with
 * a JSON reason; a valid review always gets 200; the process never dies and its RSS stays bounded.
 *   NETGUARD_FUZZ_SECONDS=300 npx tap --timeout=0 test/fuzz   (the larger run)
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import t, { type Test } from "tap";
import { DEFAULT_BODY_LIMIT } from "../../server/app.js";
import { waitFor } from "../helpers/wait.js";
import { loopbackCerts } from "../helpers/certs.js";
import { https, ingressFrom, MULTICLOUD, networkPolicy, networkPolicyReview, spawnServe, tempDir, type HttpResult } from "../integration/fixtures/harness.js";
import { freePort } from "../k8s/cluster.js";
import { bodyArb, deepValue, render, type FuzzBody, type Json } from "./fixtures/bodies.js";

const SECONDS = Number(process.env.NETGUARD_FUZZ_SECONDS ?? 15);
/** Random values nest up to this deep (the server refuses deeper than 256 levels with a 400). */
const FUZZ_DEPTH = 100_000;

const rssMiB = (pid: number) => Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+)/m)?.[1]) / 1024;

function sentUid(text: string): unknown {
  try {
    return (JSON.parse(text) as { request?: { uid?: unknown } } | null)?.request?.uid;
  } catch {
    return undefined;
  }
}

/** Why this response breaks the HTTP contract (DESIGN.md §7), or undefined. */
function contractBreach(body: FuzzBody, res: HttpResult): string | undefined {
  if (res.status !== 200) {
    if (body.validUid) return `a valid review got HTTP ${res.status}`;
    const ok = res.status >= 400 && res.status < 500 && typeof res.json?.reason === "string" && res.json.reason !== "";
    return ok ? undefined : `HTTP ${res.status} without a JSON reason: ${res.text.slice(0, 200)}`;
  }
  const review = res.json;
  const r = review?.response;
  if (review?.apiVersion !== "admission.k8s.io/v1" || review?.kind !== "AdmissionReview" || typeof r !== "object" || r === null) return "HTTP 200 without an AdmissionReview";
  if (r.uid !== sentUid(body.text)) return `uid ${JSON.stringify(r.uid)} is not the one sent`;
  if (typeof r.allowed !== "boolean") return "allowed is not a boolean";
  if (!r.allowed && (r.status?.code !== 403 || typeof r.status?.message !== "string")) return "a denial without status 403 and a message";
  if (r.warnings !== undefined && !(Array.isArray(r.warnings) && r.warnings.every((w: unknown) => typeof w === "string" && w.length < 120))) return "malformed warnings";
  if (r.patch !== undefined) {
    if (r.patchType !== "JSONPatch") return "a patch without patchType JSONPatch";
    if (!Array.isArray(JSON.parse(Buffer.from(r.patch, "base64").toString()))) return "a patch that is not a JSONPatch array";
  }
  return undefined;
}

const server = async (t: Test) => {
  const dir = await tempDir(t, "netguard-fuzz-");
  const certs = await loopbackCerts(dir);
  const port = await freePort();
  const serve = spawnServe(t, ["--config", MULTICLOUD, "--cert", certs.certPath, "--key", certs.keyPath, "--port", String(port), "--host", "127.0.0.1", "--log-level", "warn"]);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const ca = certs.ca.cert;
  const get = (path: string) => https({ port, ca, path, agent });
  await waitFor("netguard ready", async () => (await get("/readyz").catch(() => undefined))?.status === 200, 30_000);
  const post = (path: string, body: FuzzBody) => https({ port, ca, path, method: "POST", body: body.text, headers: { "content-type": body.contentType }, agent });
  return { serve, get, post };
};

t.test(`fuzzing /validate and /mutate for ${SECONDS} s`, async (t) => {
  const { serve, get, post } = await server(t);
  const statuses = new Map<number, number>();
  let slowest = 0;
  // RSS saws with garbage collection and with the occasional multi-MiB body: compare peaks, not samples.
  const rssPeak = [0, 0, 0, 0];
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(bodyArb(FUZZ_DEPTH), async (body) => {
      const sent = performance.now();
      let res: HttpResult;
      try {
        res = await post(Math.random() < 0.5 ? "/validate" : "/mutate?timeout=5s", body);
      } catch (error) {
        // Past the body limit the server answers 413 and stops reading, so writing the rest can fail.
        if (body.text.length > DEFAULT_BODY_LIMIT && /EPIPE|ECONNRESET/.test(String(error))) return;
        throw error;
      }
      slowest = Math.max(slowest, performance.now() - sent);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const quarter = Math.min(3, Math.floor((4 * (performance.now() - started)) / (SECONDS * 1000)));
      rssPeak[quarter] = Math.max(rssPeak[quarter]!, rssMiB(serve.child.pid!));
      const breach = contractBreach(body, res);
      if (breach) throw new Error(`${breach}; body: ${body.text.slice(0, 2000)}`);
    }),
    { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false, includeErrorInReport: true },
  );

  t.equal(serve.child.exitCode, null, "the server process is still running");
  t.equal((await get("/healthz")).status, 200, "and healthy");
  const natHidden = networkPolicyReview(networkPolicy("after-fuzz", ingressFrom("10.100.0.0/16")));
  const decision = await post("/validate", { text: JSON.stringify(natHidden), contentType: "application/json" });
  t.equal(decision.json?.response?.allowed, false, "and still decides as before (no polluted prototype): the NAT-hidden policy is denied");
  const requests = [...statuses.values()].reduce((a, b) => a + b, 0);
  const [early, late] = [rssPeak[1]!, rssPeak[3]!];
  t.comment(`${requests} requests; by status ${JSON.stringify(Object.fromEntries(statuses))}; slowest ${slowest.toFixed(0)} ms; peak RSS by quarter ${rssPeak.map((r) => r.toFixed(0)).join(", ")} MiB`);
  t.ok(late < early * 1.5 + 32, `RSS stays bounded: peak ${early.toFixed(0)} MiB in the second quarter, ${late.toFixed(0)} MiB in the last`);
  t.notMatch(serve.stderr(), /Error|FATAL/, "nothing on stderr");
});

// Recursion over a parsed body would overflow the stack at a few thousand levels: the server refuses such bodies with a 400.
t.test("deeply nested JSON gets a contract answer", async (t) => {
  const { post } = await server(t);
  for (const depth of [10_000, 100_000]) {
    const inObject = networkPolicyReview(networkPolicy("deep", { podSelector: {}, x: deepValue(depth) }));
    const inEnvelope = { ...networkPolicyReview(networkPolicy("deep", { podSelector: {} })), apiVersion: deepValue(depth) };
    for (const [where, doc] of [["object", inObject], ["envelope", inEnvelope]] as const) {
      const body: FuzzBody = { text: render(doc as Json), contentType: "application/json" };
      t.equal(contractBreach(body, await post("/validate", body)), undefined, `${depth} levels in the ${where}`);
    }
  }
});

import { readFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { DEFAULT_BODY_LIMIT } from "../../server/app.js";
import { DEFAULT_IN_FLIGHT } from "../../server/in-flight.js";
import { MAX_JSON_VALUES } from "../../server/json.js";
import { repoRoot } from "../helpers/paths.js";
import { loopbackCerts } from "../helpers/certs.js";
import { https, MULTICLOUD, networkPolicy, networkPolicyReview, postInTwoHalves, spawnServe, tempDir } from "./fixtures/harness.js";

/** The Deployment's own heap cap (manifests/base/deployment.yaml), so this is the replica the cluster runs. */
const NODE_OPTIONS = readFileSync(join(repoRoot, "manifests/base/deployment.yaml"), "utf8").match(/value: (--max-old-space-size=\d+)/)![1]!;

/** A review whose object is `[{},{},…]` up to the body limit: the cheapest text for the most parsed heap. */
function hostileBody(): string {
  const envelope = JSON.stringify(networkPolicyReview(networkPolicy("p", { podSelector: {} }))).replace('"object":{', '"object":[HOLE],"_":{');
  const count = Math.floor((DEFAULT_BODY_LIMIT - envelope.length - 64) / 3);
  return envelope.replace("[HOLE]", `[${"{},".repeat(count - 1)}{}]`);
}

t.test("hostile bodies and crowds against serve under the Deployment's heap cap", async (t) => {
  const dir = await tempDir(t);
  const certs = await loopbackCerts(dir);
  const ca = certs.ca.cert;
  const serve = spawnServe(t, ["--port", "0", "--host", "127.0.0.1", "--config", MULTICLOUD, "--cert", certs.certPath, "--key", certs.keyPath], { NODE_OPTIONS });
  const { port } = (await serve.line((l) => l.msg.startsWith("listening on https://"), "the listening line")) as unknown as { port: number };
  const typical = () => https({ port, ca, path: "/validate", method: "POST", body: networkPolicyReview(networkPolicy("ok", { podSelector: {} })) });

  const body = hostileBody();
  t.ok(body.length <= DEFAULT_BODY_LIMIT && body.length > DEFAULT_BODY_LIMIT - 1024, "each body is just under the body limit");
  for (let round = 1; round <= 3; round++) {
    const answers = await Promise.all([1, 2, 3].map(() => https({ port, ca, path: "/validate", method: "POST", body })));
    for (const a of answers) {
      t.ok(a.status === 400 || a.status === 429, `round ${round}: refused with a reason (${a.status})`);
      if (a.status === 400) t.same(a.json, { error: "Bad Request", reason: `request body holds more than ${MAX_JSON_VALUES} JSON values; no Kubernetes object does` });
      else t.match(a.json.reason, /^netguard is answering \d+ admission requests .* in flight; retry shortly$/);
    }
    t.equal(serve.child.exitCode, null, `round ${round}: the process is alive`);
    t.equal((await typical()).status, 200, `round ${round}: and answers a typical review`);
  }

  // The in-flight cap: that many requests held open (headers and half a body sent), then one more.
  const held = await Promise.all(
    Array.from({ length: DEFAULT_IN_FLIGHT.requests }, (_, i) => postInTwoHalves({ port, ca, path: "/validate", body: networkPolicyReview(networkPolicy(`held-${i}`, { podSelector: {} })) })),
  );
  const beyond = await typical();
  t.equal(beyond.status, 429, "beyond the cap: 429");
  t.equal(beyond.headers["retry-after"], "1");
  t.match(beyond.json, {
    error: "Too Many Requests",
    reason: new RegExp(`^netguard is answering ${DEFAULT_IN_FLIGHT.requests} admission requests \\([\\d.]+ MiB of bodies\\) and takes at most ${DEFAULT_IN_FLIGHT.requests} requests and 16.0 MiB in flight; retry shortly$`),
  });
  t.equal((await https({ port, ca, path: "/healthz" })).status, 200, "probes are never refused");
  const finished = await Promise.all(held.map((h) => h.finish()));
  t.same(new Set(finished.map((r) => r.status)), new Set([200]), "every held request is answered");
  t.equal((await typical()).status, 200, "below the cap again: answered");
  t.equal(serve.child.exitCode, null);
});

/**
 * enforce → audit → enforce on a real control plane: a policy admitted with findings in audit mode can
 * still be labelled, get and lose finalizers, and be deleted in the foreground by the garbage collector
 * after the switch back (ratcheting: an UPDATE is judged only by the findings it introduces), while a change
 * adding a new ineffective peer is denied.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { editConfig, startNetguardEnv, type NetguardEnv } from "../k8s/netguard-env.js";
import { waitFor } from "../helpers/wait.js";
import { repoRoot } from "../helpers/paths.js";
import { getJson, kubectlOk } from "./controller-helpers.js";

let env: NetguardEnv;
t.before(async () => {
  env = await startNetguardEnv();
});
t.teardown(() => env?.stop());

const NS = "life-ratchet";
const NAME = "allow-aws-east-payments";
const flagged = readFileSync(join(repoRoot, "docs/examples/nat-hidden-policy.yaml"), "utf8");
const setMode = (mode: "enforce" | "audit") => editConfig(env, (text) => text.replace(/^mode: \w+/m, `mode: ${mode}`));
const patch = (type: "merge" | "json", body: unknown) => env.kubectl(["patch", "networkpolicy", NAME, "-n", NS, `--type=${type}`, "-p", JSON.stringify(body)]);

t.test("a policy admitted in audit mode lives on after the switch back to enforce", async (t) => {
  await kubectlOk(env, ["create", "namespace", NS]);
  const enforced = await env.kubectl(["apply", "-n", NS, "-f", "-"], flagged);
  t.match(enforced.stderr, /nat-hidden-cidr/, "denied in enforce mode");

  await setMode("audit");
  const audited = await env.kubectl(["apply", "-n", NS, "-f", "-"], flagged);
  t.equal(audited.code, 0, `admitted in audit mode: ${audited.stderr}`);
  t.match(audited.stderr, /nat-hidden-cidr/, "with the finding as a warning");
  await setMode("enforce");

  const labelled = await env.kubectl(["label", "networkpolicy", NAME, "-n", NS, "team=payments"]);
  t.equal(labelled.code, 0, `a label change is admitted: ${labelled.stderr}`);
  t.match(labelled.stderr, /nat-hidden-cidr/, "and still warns about the finding it keeps");
  const held = await patch("merge", { metadata: { finalizers: ["e2e.netguard.dev/hold"] } });
  t.equal(held.code, 0, `adding a finalizer is admitted: ${held.stderr}`);
  const released = await patch("json", [{ op: "remove", path: "/metadata/finalizers" }]);
  t.equal(released.code, 0, `removing it is admitted: ${released.stderr}`);

  const widened = await patch("json", [{ op: "add", path: "/spec/ingress/0/from/-", value: { ipBlock: { cidr: "10.101.0.0/20" } } }]);
  t.not(widened.code, 0, "a change adding a new NAT-hidden peer is denied");
  t.match(widened.stderr, /nat-hidden-cidr/);
  t.match(widened.stderr, /from\[1\]/, "naming the new peer");
  const stored = await getJson(env, ["networkpolicy", NAME, "-n", NS]);
  t.equal(stored.spec.ingress[0].from.length, 1, "nothing was stored");
  t.equal(stored.metadata.labels.team, "payments");
});

t.test("the garbage collector finishes a foreground deletion of that policy", async (t) => {
  // The collector's removal of foregroundDeletion is never sent to netguard (its webhook's matchConditions).
  await kubectlOk(env, ["delete", "networkpolicy", NAME, "-n", NS, "--cascade=foreground", "--wait=false"]);
  await waitFor("the policy to be gone", async () => (await getJson(env, ["networkpolicy", NAME, "-n", NS])) === undefined, 60_000);
  const deleted = await env.kubectl(["delete", "namespace", NS, "--timeout=60s"]);
  t.equal(deleted.code, 0, deleted.stderr);
});

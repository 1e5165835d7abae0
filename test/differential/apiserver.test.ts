/**
 * Differential test: every generated edge-case manifest goes to kubectl and the real kube-apiserver
 * (server-side dry run, kubectl's default strict field validation) and to netguard's reader and
 * validator; any disagreement fails with both verdicts. kubectl's own reading (client dry run) is
 * compared object for object with netguard's, and the corpus goes through netguard's webhook too:
 * nothing the apiserver accepts may come back "could not evaluate", on CREATE and, for every manifest of
 * the stored policy's name, on UPDATE (the webhook validates updates with the apiserver's update rules).
 */
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { canonicalJson } from "../../policies/baseline.js";
import { classify } from "../../server/audit/report.js";
import { parseObjects } from "../../server/cli/documents.js";
import { validateNetworkPolicy } from "../../policies/validate/network-policy.js";
import { kubectlBinary } from "../k8s/kubectl.js";
import { startNetguardEnv, type NetguardEnv } from "../k8s/netguard-env.js";
import { generateCorpus, NAMESPACES, type Case } from "./corpus.js";
import { repoRoot } from "../helpers/paths.js";
import { httpsGet } from "../helpers/https.js";
import { metricSum } from "../helpers/prometheus.js";

interface NetguardVerdict {
  accepted: boolean;
  reason: string;
  /** The objects netguard read, as JSON, when it could read the file. */
  objects?: unknown[];
}

/** netguard's verdict on one file: read as `netguard check` reads it, then validated. */
function netguardVerdict(text: string, source: string): NetguardVerdict {
  const read = parseObjects(text, source);
  if (read.problems.length > 0) return { accepted: false, reason: read.problems.map((p) => `line ${p.line}: ${p.message}`).join("; ") };
  const objects = read.objects.map((o) => o.object);
  for (const object of objects) {
    const kind = classify(object);
    if (kind === "skip") return { accepted: false, reason: "skipped (another API group)", objects };
    if (kind !== "evaluate") return { accepted: false, reason: kind.error, objects };
    const { errors } = validateNetworkPolicy(object);
    if (errors.length > 0) return { accepted: false, reason: errors.map((e) => `${e.path}: ${e.message}`).join("; "), objects };
  }
  return { accepted: true, reason: "valid", objects };
}

/** Runs kubectl with stdout and stderr into one file, so warnings stay next to the result they belong to. */
async function kubectlMerged(kubeconfig: string, args: readonly string[], dir: string): Promise<string> {
  const out = join(dir, `kubectl-${args[1] ?? "out"}.log`);
  const fd = openSync(out, "w");
  try {
    const child = spawn(await kubectlBinary(), ["--kubeconfig", kubeconfig, ...args], { stdio: ["ignore", fd, fd] });
    await new Promise((done, fail) => {
      child.on("error", fail);
      child.on("close", done);
    });
  } finally {
    closeSync(fd);
  }
  return readFileSync(out, "utf8");
}

/** kubectl's JSON output: a stream of objects, one per object read. */
function jsonStream(text: string): unknown[] {
  const objects: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") {
      if (depth++ === 0) start = i;
    } else if (c === "}" && --depth === 0) objects.push(JSON.parse(text.slice(start, i + 1)));
  }
  return objects;
}

const mentions = (output: string, file: string): boolean => output.includes(`${file}"`) || output.includes(`${file}:`);

let env: NetguardEnv;
let dir: string;
t.before(async () => {
  dir = mkdtempSync(join(tmpdir(), "netguard-differential-"));
  const config = join(dir, "audit.yaml");
  // Audit mode: netguard denies nothing, so every verdict below is the apiserver's own.
  writeFileSync(config, readFileSync(join(repoRoot, "test/fixtures/config/multicloud.yaml"), "utf8").replace("mode: enforce", "mode: audit"));
  env = await startNetguardEnv({ config });
  for (const ns of NAMESPACES) await env.kubectl(["create", "namespace", ns]);
});
t.teardown(async () => {
  await env?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

t.test("netguard reads and judges every generated manifest as kubectl and kube-apiserver do", async (t) => {
  const corpus: Case[] = generateCorpus();
  const manifests = join(dir, "corpus");
  const files = corpus.map((c, i) => join(manifests, `${String(i).padStart(4, "0")}.${c.json ? "json" : "yaml"}`));
  await import("node:fs/promises").then((fs) => fs.mkdir(manifests));
  corpus.forEach((c, i) => writeFileSync(files[i]!, c.text));
  const version = JSON.parse((await env.kubectl(["version", "-o", "json"])).stdout) as { serverVersion: { gitVersion: string } };

  const creates = async () =>
    metricSum((await httpsGet(`${env.url}/metrics`, readFileSync(env.caPath, "utf8"))).body, "netguard_admission_requests_total", [
      'webhook="validate"',
      'operation="CREATE"',
      'kind="NetworkPolicy"',
    ]);
  const createsBefore = await creates();
  const started = Date.now();
  // kubectl's reading: what it would send (client dry run, no schema check), and which files it refuses.
  const client = await env.kubectl(["create", "--dry-run=client", "--validate=false", "-o", "json", "-f", manifests]);
  const sent = jsonStream(client.stdout);
  // The apiserver's verdict, through the webhook: results in file order, errors gathered at the end.
  const server = await kubectlMerged(env.cluster.kubeconfig, ["create", "--dry-run=server", "-f", manifests], dir);
  const seconds = (Date.now() - started) / 1000;

  const lines = server.split("\n");
  const created = lines.filter((l) => / created \(server dry run\)$/.test(l));
  let sentIndex = 0;
  let createdIndex = 0;
  let lineIndex = 0;
  const disagreements: string[] = [];
  const couldNotEvaluate: string[] = [];
  let accepted = 0;
  for (const [i, c] of corpus.entries()) {
    const file = files[i]!;
    const ours = netguardVerdict(c.text, file);
    const clientRefused = mentions(client.stderr, file);
    const theirs = !mentions(server, file);
    const show = `${file.split("/").pop()} (${c.about})`;
    if (!clientRefused) {
      const theirObject = sent[sentIndex] as { metadata?: Record<string, unknown> } | undefined;
      const ourObject = ours.objects?.[0] as { metadata?: Record<string, unknown> } | undefined;
      // kubectl's client dry run fills in its context's namespace where none is set (netguard leaves
      // it to the request) and prints no managedFields.
      const ourMeta = ourObject?.metadata;
      if (theirObject?.metadata?.namespace === "default" && ourMeta && [undefined, null, ""].includes(ourMeta.namespace as never)) {
        theirObject.metadata.namespace = ourMeta.namespace;
        if (ourMeta.namespace === undefined) delete theirObject.metadata.namespace;
      }
      if (ourMeta) delete ourMeta.managedFields;
      sentIndex += ours.objects?.length ?? 1;
      if (ours.objects?.length && canonicalJson(theirObject) !== canonicalJson(ourObject)) {
        disagreements.push(`${show}: read differently\n    kubectl:  ${canonicalJson(theirObject).slice(0, 400)}\n    netguard: ${canonicalJson(ourObject).slice(0, 400)}`);
      }
    }
    if (theirs) accepted++;
    // The warnings before an object's "created" line are the ones its request got.
    for (let n = theirs ? (ours.objects?.length ?? 1) : 0; n > 0; n--) {
      const warnings: string[] = [];
      for (; lineIndex < lines.length && lines[lineIndex] !== created[createdIndex]; lineIndex++) warnings.push(lines[lineIndex]!);
      lineIndex++;
      createdIndex++;
      const bad = warnings.filter((w) => w.includes("could not evaluate"));
      if (bad.length > 0) couldNotEvaluate.push(`${show}: ${bad.join(" | ")}`);
    }
    if (ours.accepted !== theirs) {
      const why = lines.find((l) => mentions(l, file)) ?? (clientRefused ? client.stderr.split("\n").find((l) => mentions(l, file)) : "");
      disagreements.push(`${show}\n    apiserver: ${theirs ? "accepted" : `rejected: ${why?.slice(0, 300)}`}\n    netguard:  ${ours.accepted ? "accepted" : `rejected: ${ours.reason.slice(0, 300)}`}`);
    }
  }
  t.equal(createdIndex, created.length, "every accepted manifest was matched with its result line");
  // Without this, a webhook the apiserver never called would pass the "could not evaluate" check vacuously.
  t.ok((await creates()) - createsBefore >= created.length, `netguard answered every accepted create (${created.length})`);
  t.comment(
    `kube-apiserver ${version.serverVersion.gitVersion}: ${corpus.length} manifests, ${accepted} accepted, ${corpus.length - accepted} rejected, ` +
      `${disagreements.length} disagreements, ${couldNotEvaluate.length} "could not evaluate" (kubectl runs: ${seconds.toFixed(1)} s)`,
  );
  t.same(disagreements, [], "netguard and kube-apiserver agree on every manifest");
  t.same(couldNotEvaluate, [], "the webhook evaluates everything the apiserver accepted");
  t.ok(accepted > 100 && corpus.length - accepted > 100, "the corpus has plenty of both verdicts");
});

/** The policy every UPDATE below replaces (the corpus's default name, in the default namespace). */
const STORED = `${"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"}metadata: {name: p, labels: {team: a}}\nspec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}}]}]}\n`;

t.test("on UPDATE too, netguard validates as the apiserver does and evaluates every update it accepts", async (t) => {
  const updates = join(dir, "updates");
  await import("node:fs/promises").then((fs) => fs.mkdir(updates));
  // Manifests that read as one NetworkPolicy named p in the default namespace: each replaces the stored one.
  const files = generateCorpus().flatMap((c, i) => {
    const read = parseObjects(c.text, "corpus");
    const objects = read.objects.map((o) => o.object as { kind?: unknown; metadata?: Record<string, unknown> } | null);
    const meta = objects[0]?.metadata;
    const replacesStored = objects.length === 1 && objects[0]?.kind === "NetworkPolicy" && meta?.name === "p" && [undefined, null, "", "default"].includes(meta.namespace as never);
    // A resourceVersion or uid of its own is a precondition (a conflict), not validation.
    if (!replacesStored || meta.resourceVersion !== undefined || meta.uid !== undefined) return [];
    const file = join(updates, `${String(i).padStart(4, "0")}.${c.json ? "json" : "yaml"}`);
    writeFileSync(file, c.text);
    return [{ file, about: c.about, object: objects[0], readProblems: read.problems.map((p) => ({ path: `line ${p.line}`, message: p.message })) }];
  });
  const stored = join(dir, "stored.yaml");
  writeFileSync(stored, STORED);
  await env.kubectl(["create", "-f", stored]);
  const old = JSON.parse((await env.kubectl(["get", "networkpolicy", "p", "-n", "default", "-o", "json"])).stdout) as { metadata: Record<string, unknown> };
  /**
   * netguard's UPDATE verdict, on the object as the webhook receives it: once decoded, the apiserver's BeforeUpdate
   * keeps generation and creationTimestamp from the stored object, and its uid when none is given.
   */
  const ourUpdate = (object: { metadata?: Record<string, unknown> } | null | undefined) => {
    const { uid, creationTimestamp, resourceVersion, generation, namespace } = old.metadata;
    const own = object?.metadata ?? {};
    const time = own.creationTimestamp;
    const decodes = {
      generation: own.generation == null || Number.isInteger(own.generation),
      // RFC 3339 as Go parses it: a real calendar date (2024-02-30 is refused).
      creationTimestamp: time == null || (typeof time === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(time) && new Date(time).toISOString().startsWith(time.slice(0, 19))),
    };
    const kept = { ...(decodes.generation ? { generation } : {}), ...(decodes.creationTimestamp ? { creationTimestamp } : {}) };
    const sent = { ...object, metadata: { uid, resourceVersion, ...own, ...kept, namespace } };
    return validateNetworkPolicy(sent, { operation: "UPDATE", oldObject: old }).errors;
  };

  const output = await kubectlMerged(env.cluster.kubeconfig, ["replace", "--dry-run=server", "-f", updates], dir);
  const lines = output.split("\n");
  const accepted = files.filter((f) => !mentions(output, f.file));
  const couldNotEvaluate: string[] = [];
  let warnings: string[] = [];
  let result = 0;
  for (const line of lines) {
    if (!/ replaced \(server dry run\)$/.test(line)) {
      warnings.push(line);
      continue;
    }
    const bad = warnings.filter((w) => w.includes("could not evaluate"));
    const file = accepted[result++];
    if (bad.length > 0) couldNotEvaluate.push(`${file?.file.split("/").pop()} (${file?.about}): ${bad.join(" | ")}`);
    warnings = [];
  }
  t.equal(result, accepted.length, "every accepted update was matched with its result line");
  const disagreements = files.flatMap((f) => {
    const theirs = !mentions(output, f.file);
    const errors = f.readProblems.length > 0 ? f.readProblems : ourUpdate(f.object);
    if (theirs === (errors.length === 0)) return [];
    const why = lines.find((l) => mentions(l, f.file));
    return [`${f.file.split("/").pop()} (${f.about})\n    apiserver: ${theirs ? "accepted" : `rejected: ${why?.slice(0, 300)}`}\n    netguard:  ${errors.length === 0 ? "accepted" : errors.map((e) => `${e.path}: ${e.message}`).join("; ").slice(0, 300)}`];
  });
  t.same(disagreements, [], "netguard's UPDATE validation agrees with the apiserver's on every update");
  t.comment(`${files.length} updates of a stored policy, ${accepted.length} accepted, ${disagreements.length} disagreements, ${couldNotEvaluate.length} "could not evaluate"`);
  t.same(couldNotEvaluate, [], "the webhook evaluates every update the apiserver accepted");
  t.ok(accepted.length > 100 && files.length - accepted.length > 50, "the updates have plenty of both verdicts");
});

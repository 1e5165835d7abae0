/**
 * A small run of the dataplane check inside `make test` (the full one is `make dataplane`, docs/dataplane.md):
 * a fixed seed, so a red run replays exactly. Needs root, as CI has; elsewhere it says so and skips.
 */
import t from "tap";
import { spawnCollect } from "../helpers/spawn.js";
import { repoRoot } from "../helpers/paths.js";

const CASES = 4;
const SEED = 7;

t.test(`dataplane: ${CASES} generated cases, kube-router enforcing, no element netguard denies admits a probe`, { skip: process.getuid?.() !== 0 && "needs root (network namespaces); run as root or use make dataplane" }, async (t) => {
  const r = await spawnCollect(process.execPath, ["--import", "tsx", "test/dataplane/run.ts"], { cwd: repoRoot, env: { ...process.env, NETGUARD_DATAPLANE_CASES: String(CASES), NETGUARD_DATAPLANE_SEED: String(SEED) } });
  t.comment(r.stdout.trim());
  const last = r.stdout.trim().split("\n").at(-1) ?? "";
  const m = /^dataplane: (\d+) cases, (\d+) flagged elements probed, (\d+) contradictions$/.exec(last);
  t.ok(m, `last line is the summary (got ${JSON.stringify(last)}; stderr ${r.stderr.slice(-2000)})`);
  t.equal(Number(m?.[1]), CASES, "every case judged");
  t.ok(Number(m?.[2]) > 0, "some element netguard denies was probed");
  t.equal(Number(m?.[3]), 0, "no contradiction");
  t.match(r.stdout, /harness failures 0;/, "the harness proved itself on every case");
  t.equal(r.code, 0, "exit 0");
});

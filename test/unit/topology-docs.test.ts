/** docs/topology.md and docs/controller.md against the code: every source, premise and controller metric is documented. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { Registry } from "prom-client";
import { SOURCES } from "../../policies/index.js";
import { controllerMetrics } from "../../server/controller/metrics.js";
import { repoRoot } from "../helpers/paths.js";
import { multicloud } from "./helpers.js";

const doc = (name: string) => readFileSync(join(repoRoot, "docs", name), "utf8");

t.test("docs/topology.md names every discovery source with the objects it reads", async (t) => {
  const topology = doc("topology.md");
  for (const [id, info] of Object.entries(SOURCES)) {
    const row = topology.split("\n").find((l) => l.startsWith(`| \`${id}\` |`));
    t.ok(row, `${id} has a row`);
    t.ok(row?.includes(info.objects.split(" ")[0]!), `${id}: its row names ${info.objects}`);
    t.equal(row?.includes("| yes |") || row?.includes("with `cluster.cni"), info.authoritative("calico"), `${id}: authoritative as the code says`);
  }
});

t.test("the premises discovery adds are in docs/rules/README.md", async (t) => {
  const rules = readFileSync(join(repoRoot, "docs/rules/README.md"), "utf8");
  for (const id of ["live-ranges-declared", "remote-descriptor-current:<remote>"]) t.ok(rules.includes(`| \`${id}\` |`), id);
});

t.test("docs/controller.md lists every controller metric", async (t) => {
  const registry = new Registry();
  const loaded = multicloud();
  controllerMetrics(registry, {
    namespaces: () => [],
    config: () => loaded,
    baselineInPlace: () => undefined,
    cniMismatch: () => false,
    exceptions: () => ({ active: 0, expired: 0, expiringSoon: 0 }),
    topology: () => ({ ranges: undefined, drift: [], descriptorAges: [] }),
  });
  const controller = doc("controller.md").concat(doc("platform-teams.md"));
  for (const metric of registry.getMetricsAsArray()) t.ok(controller.includes(`\`${metric.name}`), metric.name);
});

/**
 * No false positives on real-world Cilium and Calico policies: every cilium.io/v2 example the cilium/cilium module
 * ships (examples/), the projectcalico.org/v3 policies the projectcalico/calico module ships, and the Calico
 * example of the background articles. Read in place from the Go module cache, never copied here. Each must be
 * valid input and draw no deny finding, with the default config and with the multicloud fixture.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import t from "tap";
import { cniPolicyKindOf, defaultConfig, evaluatePolicy, type LoadedConfig } from "../../policies/index.js";
import { parseObjects } from "../../server/cli/documents.js";
import { CNI_MODULES, goModuleDir } from "../helpers/go-modules.js";
import { repoRoot } from "../helpers/paths.js";
import { fixture, withScope } from "./helpers.js";

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) return yamlFiles(full);
      return /\.ya?ml$/i.test(name) ? [full] : [];
    });
}

const cilium = goModuleDir(CNI_MODULES.cilium);
const calico = goModuleDir(CNI_MODULES.calico);
const sources = [
  ...yamlFiles(path.join(cilium, "examples")).map((file) => ({ file, rel: `cilium@${CNI_MODULES.cilium.version}/${path.relative(cilium, file)}` })),
  ...["calicoctl/test-data/convert/output", "app-policy/config/demo"].flatMap((dir) =>
    yamlFiles(path.join(calico, dir)).map((file) => ({ file, rel: `calico/${path.relative(calico, file)}` })),
  ),
  { file: path.join(repoRoot, "test/fixtures/background/k8s-and-calico-policy-apis-4.yaml"), rel: "background/k8s-and-calico-policy-apis-4.yaml" },
];

const configs: [string, LoadedConfig][] = [
  ["default config", defaultConfig()],
  ["multicloud config", fixture],
];

/** Examples that kube-apiserver refuses under the CRDs of the same Cilium version: the example is older than the schema. */
const STALE: Record<string, string> = {
  "cilium@v1.19.4/examples/policies/auth/auth.yaml": "spec.egress[0].auth",
  "cilium@v1.19.4/examples/policies/l3/requires/requires.yaml": "specs[0].ingress[0].fromRequires",
};
/**
 * ClusterMesh examples select another cluster by io.cilium.k8s.policy.cluster. Under the multicloud config
 * (policyScope local-only: the platform team declares no ClusterMesh) they provably match nothing; under
 * policyScope cilium-clustermesh they are left alone.
 */
const CLUSTERMESH = /examples\/policies\/kubernetes\/clustermesh\//;

const counts = { CiliumNetworkPolicy: 0, CiliumClusterwideNetworkPolicy: 0, CalicoNetworkPolicy: 0, CalicoGlobalNetworkPolicy: 0 };
for (const { file, rel } of sources) {
  // Read as `netguard check` reads them; files that hold no CNI policy (Deployments, Helm templates) are not part of it.
  const text = readFileSync(file, "utf8");
  if (!/cilium\.io\/v2|projectcalico\.org\/v3/.test(text)) continue;
  const read = parseObjects(text, file);
  const policies = read.objects.map((o) => o.object).filter((o) => cniPolicyKindOf(o) !== undefined);
  if (policies.length === 0) continue;
  t.test(rel, async (t) => {
    for (const [i, object] of policies.entries()) {
      counts[cniPolicyKindOf(object)!]++;
      if (STALE[rel]) {
        t.match(evaluatePolicy(object, fixture).inputErrors, [{ path: STALE[rel], message: /unknown field|at most 0 items/ }], `${rel}#${i}: refused at ${STALE[rel]}, as kube-apiserver refuses it`);
        continue;
      }
      if (CLUSTERMESH.test(rel)) {
        const denied = evaluatePolicy(object, fixture, { origin: "offline" }).findings.filter((f) => f.action === "deny");
        t.ok(denied.length > 0 && denied.every((f) => f.rule === "remote-cluster-selector"), `${rel}#${i} (multicloud, local-only): another cluster's endpoints, denied`);
        for (const [name, loaded] of [["cilium-clustermesh", withScope("cilium-clustermesh")], ["default config", defaultConfig()]] as const) {
          t.same(evaluatePolicy(object, loaded, { origin: "offline" }).findings.filter((f) => f.action === "deny"), [], `${rel}#${i} (${name}): no deny finding`);
        }
        continue;
      }
      for (const [name, loaded] of configs) {
        const result = evaluatePolicy(object, loaded, { origin: "offline" });
        t.same(result.inputErrors, [], `${rel}#${i} (${name}): valid under the CRD's schema`);
        t.same(result.ruleFailures, [], `${rel}#${i} (${name}): no rule crashed`);
        t.same(result.findings.filter((f) => f.action === "deny"), [], `${rel}#${i} (${name}): no deny finding`);
      }
    }
  });
}

t.test("the corpus is real", async (t) => {
  t.ok(counts.CiliumNetworkPolicy >= 40, `${counts.CiliumNetworkPolicy} CiliumNetworkPolicies`);
  t.ok(counts.CiliumClusterwideNetworkPolicy >= 3, `${counts.CiliumClusterwideNetworkPolicy} CiliumClusterwideNetworkPolicies`);
  t.ok(counts.CalicoNetworkPolicy + counts.CalicoGlobalNetworkPolicy >= 4, `${counts.CalicoNetworkPolicy} Calico NetworkPolicies, ${counts.CalicoGlobalNetworkPolicy} GlobalNetworkPolicies`);
});

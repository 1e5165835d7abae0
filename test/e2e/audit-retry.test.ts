/**
 * PolicyReport writes the apiserver refuses are retried within seconds, backing off, not left stale until the
 * next scan interval (server/controller/audit-loop.ts). The refusal is real: a ValidatingAdmissionPolicy.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { startNetguardEnv, type NetguardEnv } from "../k8s/netguard-env.js";
import { waitFor } from "../helpers/wait.js";
import { repoRoot } from "../helpers/paths.js";
import { getJson, kubectlOk, logLines } from "./controller-helpers.js";

const BLOCK_REPORTS = `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: block-policyreports}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
      - {apiGroups: [wgpolicyk8s.io], apiVersions: ["*"], operations: [CREATE, UPDATE], resources: [policyreports]}
  validations:
    - {expression: "false", message: "policy reports are blocked in this namespace"}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: block-policyreports}
spec:
  policyName: block-policyreports
  validationActions: [Deny]
  matchResources:
    namespaceSelector: {matchLabels: {block-reports: "true"}}
`;

let env: NetguardEnv;
const scratch = mkdtempSync(join(tmpdir(), "netguard-audit-retry-"));
t.before(async () => {
  const config = join(scratch, "config.yaml");
  writeFileSync(config, readFileSync(join(repoRoot, "test/fixtures/config/multicloud.yaml"), "utf8").replace(/^mode: enforce$/m, "mode: audit"));
  // A 10-minute interval: any report written within the test came from a change or a retry.
  env = await startNetguardEnv({ config, policyReportCrds: true, extraServeArgs: ["--audit-interval", "600"] });
  await kubectlOk(env, ["wait", "--for=condition=Established", "crd/policyreports.wgpolicyk8s.io", "--timeout=30s"]);
});
t.teardown(async () => {
  await env?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

t.test("a refused PolicyReport write is retried within seconds once the apiserver accepts it", async (t) => {
  await kubectlOk(env, ["apply", "-f", "-"], BLOCK_REPORTS);
  await kubectlOk(env, ["create", "namespace", "retry-a"]);
  await kubectlOk(env, ["label", "namespace", "retry-a", "block-reports=true"]);
  await kubectlOk(env, ["apply", "-n", "retry-a", "-f", join(repoRoot, "docs/examples/nat-hidden-policy.yaml")]);

  const refused = await waitFor(
    "the refused write",
    async () => logLines(env, "could not create a PolicyReport").find((l) => l.namespace === "retry-a"),
    30_000,
  );
  t.match(refused.err, "policy reports are blocked in this namespace", "the apiserver's reason is logged");
  const scan = await waitFor("the failed scan", async () => logLines(env, "audit scan").find((l) => l.reports?.failed > 0), 10_000);
  // 5 s after the first failure; 10 s if the start-up scan already failed (the apiserver answers 429 while a
  // CRD it has just established initialises its storage: the case this retry was written for).
  t.ok([5_000, 10_000].includes(scan.retryInMs), `the next scan is due in ${scan.retryInMs} ms, not at the 600 s interval`);

  const unblocked = Date.now();
  await kubectlOk(env, ["delete", "validatingadmissionpolicybinding", "block-policyreports"]);
  const report: any = await waitFor("the report once writes are accepted", async () => getJson(env, ["policyreport", "netguard", "-n", "retry-a"]), 45_000, 500);
  t.match(report.results, [{ rule: "nat-hidden-cidr", result: "fail" }], "the report holds the finding");
  t.ok(Date.now() - unblocked < 45_000, `written ${Date.now() - unblocked} ms after the block was lifted`);
  // The scan that wrote the report logs its line just after its last write.
  const scans = await waitFor("the clean scan's log line", async () => {
    const lines = logLines(env, "audit scan");
    return lines.at(-1)?.retryInMs === undefined ? lines : undefined;
  });
  const retried = scans.filter((l) => l.retryInMs !== undefined).map((l) => l.retryInMs);
  t.same(retried, [5_000, 10_000, 20_000, 40_000].slice(0, retried.length), `backing off from 5 s, doubling (${retried.join(", ")} ms), then back to the interval`);
});

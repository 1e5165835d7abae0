/**
 * Cilium and Calico policies on a real kube-apiserver with the upstream CRDs installed: netguard's schema check
 * agrees with the apiserver's, the webhook judges cilium.io/v2 policies (audit mode first, then enforce), the audit
 * scan reports them and Calico's crd.projectcalico.org/v1 policies (no Calico API server here, so no v3), and
 * `netguard audit` reports the same from outside.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { cniPolicyKindOf } from "../../policies/index.js";
import { validateCustomResource } from "../../policies/validate/custom-resource.js";
import { runCli } from "../helpers/cli.js";
import { repoRoot } from "../helpers/paths.js";
import { waitFor } from "../helpers/wait.js";
import { installCniCrds } from "../k8s/cni-crds.js";
import { editConfig, startNetguardEnv, type NetguardEnv } from "../k8s/netguard-env.js";
import { getJson, kubectlOk } from "./controller-helpers.js";

let env: NetguardEnv;
const scratch = mkdtempSync(join(tmpdir(), "netguard-cni-e2e-"));
t.before(async () => {
  const config = join(scratch, "config.yaml");
  writeFileSync(config, readFileSync(join(repoRoot, "test/fixtures/config/multicloud.yaml"), "utf8").replace(/^mode: enforce$/m, "mode: audit"));
  env = await startNetguardEnv({ config, policyReportCrds: true, extraServeArgs: ["--audit-interval", "2"] });
  await installCniCrds((args) => env.kubectl(args));
  await kubectlOk(env, ["create", "namespace", "cni-a"]);
});
t.teardown(async () => {
  await env?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const SUBJECT = { endpointSelector: { matchLabels: { app: "payments" } } };
const cnp = (name: string, spec: Record<string, unknown>) => ({ apiVersion: "cilium.io/v2", kind: "CiliumNetworkPolicy", metadata: { name, namespace: "cni-a" }, spec: { ...SUBJECT, ...spec } });
const ccnp = (name: string, spec: Record<string, unknown>) => ({ apiVersion: "cilium.io/v2", kind: "CiliumClusterwideNetworkPolicy", metadata: { name }, spec: { ...SUBJECT, ...spec } });
const calicoV1 = (name: string, kind: "NetworkPolicy" | "GlobalNetworkPolicy", spec: Record<string, unknown>) => ({
  apiVersion: "crd.projectcalico.org/v1",
  kind,
  metadata: { name, ...(kind === "NetworkPolicy" ? { namespace: "cni-a" } : {}) },
  spec: { selector: "app == 'payments'", ...spec },
});
/** aws-east's pod range: NATed, so its pod addresses never arrive (test/fixtures/config/multicloud.yaml). */
const HIDDEN = "10.100.0.0/16";

t.test("the schema check agrees with kube-apiserver on each case", async (t) => {
  const cases: [string, unknown][] = [
    ["a valid CiliumNetworkPolicy", cnp("ok", { ingress: [{ fromCIDR: ["192.0.2.0/24"] }] })],
    ["an unknown field", cnp("unknown", { ingress: [{ fromCIDRs: ["192.0.2.0/24"] }] })],
    ["endpointSelector and nodeSelector both", { ...cnp("both", {}), spec: { ...SUBJECT, nodeSelector: {}, ingress: [{}] } }],
    ["no rule list at all", cnp("none", {})],
    ["a prefix beyond /32", cnp("prefix", { egress: [{ toCIDR: ["10.0.0.0/33"] }] })],
    ["an address without a prefix (format cidr)", cnp("bare", { egress: [{ toCIDR: ["192.0.2.1"] }] })],
    ["a port that is neither a number nor a name", cnp("port", { egress: [{ toPorts: [{ ports: [{ port: "not a port!", protocol: "TCP" }] }] }] })],
    ["a protocol outside the enum", cnp("proto", { egress: [{ toPorts: [{ ports: [{ port: "443", protocol: "TCPP" }] }] }] })],
    ["a null field (pruned)", cnp("nulls", { ingress: [{ fromCIDR: ["192.0.2.0/24"], fromEndpoints: null }] })],
    ["a clusterwide policy with a namespace (cleared)", { ...ccnp("ns", { ingress: [{}] }), metadata: { name: "ns", namespace: "cni-a" } }],
    ["a valid Calico NetworkPolicy", calicoV1("c-ok", "NetworkPolicy", { ingress: [{ action: "Allow", source: { nets: ["192.0.2.0/24"] }, destination: { ports: [443, "https", "8000:8080"] } }] })],
    ["a Calico unknown field", calicoV1("c-unknown", "NetworkPolicy", { ingress: [{ action: "Allow", sources: {} }] })],
    ["a Calico order that is not a number", calicoV1("c-order", "GlobalNetworkPolicy", { order: "first" })],
    ["a Calico ports list of a map", calicoV1("c-ports", "GlobalNetworkPolicy", { egress: [{ action: "Allow", destination: { ports: [{ port: 1 }] } }] })],
  ];
  for (const [name, object] of cases) {
    const { errors } = validateCustomResource(cniPolicyKindOf(object)!, object);
    const server = await env.kubectl(["create", "--dry-run=server", "-f", "-"], JSON.stringify(object));
    t.equal(errors.length === 0, server.code === 0, `${name}: netguard ${errors.length === 0 ? "accepts" : `refuses (${JSON.stringify(errors)})`}, kube-apiserver ${server.code === 0 ? "accepts" : `refuses (${server.stderr.trim()})`}`);
  }
});

t.test("audit mode: a Cilium policy is admitted with a warning and reported; so is a Calico v1 policy, which no webhook sees", async (t) => {
  const applied = await env.kubectl(["create", "-f", "-"], JSON.stringify(cnp("from-aws-east", { ingress: [{ fromCIDR: [HIDDEN] }] })));
  t.equal(applied.code, 0, applied.stderr);
  t.match(applied.stderr, /audit, would deny: nat-hidden-cidr/);
  t.equal((await env.kubectl(["create", "-f", "-"], JSON.stringify(calicoV1("deny-aws-east", "GlobalNetworkPolicy", { ingress: [{ action: "Deny", source: { nets: [HIDDEN] } }] })))).code, 0);

  const report = await waitFor("the CiliumNetworkPolicy in cni-a's PolicyReport", async () => {
    const r = await getJson(env, ["policyreport", "netguard", "-n", "cni-a"]);
    return (r?.results ?? []).some((x: any) => x.rule === "nat-hidden-cidr") ? r : undefined;
  });
  t.match(
    report.results.find((x: any) => x.rule === "nat-hidden-cidr"),
    { result: "fail", message: /^spec\.ingress\[0\]\.fromCIDR\[0\]: fromCIDR 10\.100\.0\.0\/16 lies entirely in aws-east's pod range/, resources: [{ apiVersion: "cilium.io/v2", kind: "CiliumNetworkPolicy", name: "from-aws-east", namespace: "cni-a" }] },
  );
  const cluster = await waitFor("the Calico GlobalNetworkPolicy in the ClusterPolicyReport", async () => {
    const r = await getJson(env, ["clusterpolicyreport", "netguard"]);
    return (r?.results ?? []).some((x: any) => x.resources?.[0]?.name === "deny-aws-east") ? r : undefined;
  });
  t.match(
    cluster.results.find((x: any) => x.resources?.[0]?.name === "deny-aws-east"),
    { rule: "nat-hidden-cidr", message: /nets 10\.100\.0\.0\/16 .*Deny rule .*let through/s, resources: [{ apiVersion: "crd.projectcalico.org/v1", kind: "GlobalNetworkPolicy" }] },
    "the Deny rule that never matches is said to let traffic through",
  );

  const cli = await runCli(["audit", "--kubeconfig", env.cluster.kubeconfig, "--config", env.configPath, "--output", "json"]);
  t.equal(cli.code, 1, cli.stderr);
  const findings = JSON.parse(cli.stdout).findings as { rule: string; object: { kind: string; name: string }; path: string }[];
  t.match(findings.find((f) => f.object.name === "from-aws-east"), { rule: "nat-hidden-cidr", object: { kind: "CiliumNetworkPolicy" }, path: "spec.ingress[0].fromCIDR[0]" });
  t.match(findings.find((f) => f.object.name === "deny-aws-east"), { rule: "nat-hidden-cidr", object: { kind: "GlobalNetworkPolicy" }, path: "spec.ingress[0].source.nets[0]" });
});

t.test("enforce mode: the webhook denies Cilium policies at the field, and lets the fixed one in", async (t) => {
  await editConfig(env, (text) => text.replace(/^mode: audit$/m, "mode: enforce"));
  const denied = await env.kubectl(["create", "-f", "-"], JSON.stringify(cnp("to-aws-east", { egress: [{ toCIDRSet: [{ cidr: HIDDEN }] }] })));
  t.not(denied.code, 0);
  t.match(denied.stderr, /cnipolicies\.validate\.netguard\.dev/);
  t.match(denied.stderr, /nat-hidden-cidr at spec\.egress\[0\]\.toCIDRSet\[0\]: toCIDRSet 10\.100\.0\.0\/16/);
  t.equal((await env.kubectl(["get", "ciliumnetworkpolicy", "to-aws-east", "-n", "cni-a"])).code, 1, "nothing was stored");

  const deny = await env.kubectl(["create", "-f", "-"], JSON.stringify(ccnp("block-aws-east", { ingressDeny: [{ fromCIDR: [HIDDEN] }] })));
  t.not(deny.code, 0);
  t.match(deny.stderr, /spec\.ingressDeny\[0\]\.fromCIDR\[0\]/);
  t.match(deny.stderr, /let through/, "a Deny that never matches says what it lets through");

  const fixed = await env.kubectl(["create", "-f", "-"], JSON.stringify(cnp("from-aws-east-nat", { ingress: [{ fromCIDR: ["203.0.113.10/32"] }] })));
  t.equal(fixed.code, 0, fixed.stderr);
  // Updates are judged only for what they introduce; deleting is never judged.
  t.equal((await env.kubectl(["label", "ciliumnetworkpolicy", "from-aws-east", "-n", "cni-a", "team=payments"])).code, 0, "an update that adds no finding passes");
  t.equal((await env.kubectl(["delete", "ciliumnetworkpolicy", "from-aws-east", "-n", "cni-a"])).code, 0);
});

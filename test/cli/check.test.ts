import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { runCli } from "../helpers/cli.js";

const fx = (name: string): string => `test/fixtures/cli/${name}`;
const CONFIG = ["--config", fx("config.yaml")];

interface JsonReport {
  findings: {
    rule: string;
    action: string;
    object: { kind: string; namespace: string | null; name: string };
    path: string;
    message: string;
    fix: string;
    premises?: { id: string; status: string; statement: string; detail?: string }[];
  }[];
  summary: { objects: number; deny: number; warn: number };
}

t.test("a NAT-hidden ipBlock is denied: exit 1 and the JSON contract", async (t) => {
  const r = await runCli(["check", ...CONFIG, "--output", "json", fx("denied.yaml")]);
  t.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout) as JsonReport;
  t.same(Object.keys(report).sort(), ["findings", "summary"]);
  t.same(report.summary, { objects: 1, deny: 1, warn: 0 });
  const [finding] = report.findings;
  t.same(Object.keys(finding!).sort(), ["action", "fix", "message", "object", "path", "premises", "rule"]);
  t.same(
    finding!.premises!.map((p) => [p.id, p.status]),
    [
      ["local-pod-ranges-declared:ipv4", "holds"],
      ["local-node-ranges-declared:ipv4", "holds"],
      ["remote-nat-source-ranges-declared:aws-east:ipv4", "holds"],
    ],
    "the premises behind the denial",
  );
  t.match(finding, {
    rule: "nat-hidden-cidr",
    action: "deny",
    object: { kind: "NetworkPolicy", namespace: "payments", name: "allow-aws-east" },
    path: "spec.ingress[0].from[0].ipBlock",
  });
  t.match(finding!.message, /aws-east's pod range 10\.100\.0\.0\/16/);
  t.match(finding!.message, /No peer of spec\.ingress\[0\] can match/);
  t.match(finding!.fix, /203\.0\.113\.10\/32/);
  t.match(finding!.fix, /empty `from` allows all/);
});

t.test("without --config only generic rules apply: the same file passes", async (t) => {
  const r = await runCli(["check", "--output", "json", fx("denied.yaml")]);
  t.equal(r.code, 0, r.stderr);
  t.same((JSON.parse(r.stdout) as JsonReport).summary, { objects: 1, deny: 0, warn: 0 });
});

t.test("a selector on the cluster label: denied with a config (label premise assumed, and said so), never without one", async (t) => {
  const r = await runCli(["check", ...CONFIG, fx("cluster-selector.yaml")]);
  t.equal(r.code, 1, r.stderr);
  t.match(r.stdout, /deny\s+remote-cluster-selector\s+spec\.ingress\[1\]\.from\[0\]\.namespaceSelector/);
  t.match(r.stdout, /\nassumed, not checked against a cluster: namespaces-labelled-and-guarded \(every local namespace carries netguard\.dev\/cluster=gcp-west/);
  const json = JSON.parse((await runCli(["check", ...CONFIG, "-o", "json", fx("cluster-selector.yaml")])).stdout) as JsonReport;
  t.match(json.findings[0]!.premises, [
    { id: "cluster-name-declared", status: "holds" },
    { id: "namespaces-labelled-and-guarded", status: "assumed" },
  ]);
  const none = await runCli(["check", "-o", "json", fx("cluster-selector.yaml")]);
  t.equal(none.code, 0, "no config declares the cluster name: nothing denied");
  const report = JSON.parse(none.stdout) as JsonReport;
  t.same(report.summary, { objects: 1, deny: 0, warn: 2 });
  t.ok(report.findings.every((f) => f.premises?.some((p) => p.id === "cluster-name-declared" && p.status === "unknown")));
});

t.test("directories are walked recursively, manifests only; warnings exit 0", async (t) => {
  const r = await runCli(["check", ...CONFIG, "--output", "json", fx("tree")]);
  t.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as JsonReport;
  t.same(report.summary, { objects: 2, deny: 0, warn: 1 });
  t.equal(report.findings[0]?.rule, "ipblock-local-pods");
});

t.test("kind: List is expanded, other kinds are skipped and counted, IPv6 is checked", async (t) => {
  const r = await runCli(["check", ...CONFIG, fx("list.yaml")]);
  t.equal(r.code, 1);
  t.match(r.stdout, /NetworkPolicy payments\/to-aws-v6/);
  t.match(r.stdout, /nat-hidden-cidr\s+spec\.egress\[0\]\.to\[0\]\.ipBlock \(line 12\)/);
  t.match(r.stdout, /1 NetworkPolicy checked, 1 other object skipped \(1 v1 Service\): 1 denial, 0 warnings/);
  t.notMatch(r.stdout, /\u001b\[/, "no colour when stdout is not a terminal");
});

t.test("standard input with -", async (t) => {
  const text = await readFile(fx("denied.yaml"), "utf8");
  const r = await runCli(["check", ...CONFIG, "-o", "json", "-"], { stdin: text });
  t.equal(r.code, 1);
  t.equal((JSON.parse(r.stdout) as JsonReport).findings[0]?.rule, "nat-hidden-cidr");
});

t.test("objects the apiserver would reject are input errors with file, line and field: exit 2", async (t) => {
  const r = await runCli(["check", ...CONFIG, fx("invalid-cidr.yaml")]);
  t.equal(r.code, 2);
  t.match(r.stdout, /spec\.ingress\[0\]\.from\[0\]\.ipBlock\.except\[0\] \(line 12\): "10\.200\.0\.0\/24" must be a strict subset of cidr 10\.100\.0\.0\/16/);
  t.match(r.stdout, /spec\.ingress\[0\]\.from\[1\]\.ipBlock\.cidr \(line 14\): "10\.300\.0\.0\/16" is not a valid IPv4 or IPv6 CIDR/);
});

t.test("YAML syntax errors name the file and line: exit 2", async (t) => {
  const r = await runCli(["check", "-o", "json", fx("broken.yaml")]);
  t.equal(r.code, 2);
  t.match(r.stderr, /test\/fixtures\/cli\/broken\.yaml:7: .*Flow map/);
});

t.test("an invalid config lists every problem with its path: exit 2", async (t) => {
  const r = await runCli(["check", "--config", fx("bad-config.yaml"), fx("tree")]);
  t.equal(r.code, 2);
  t.match(r.stderr, /colour: unknown field/);
  t.match(r.stderr, /cluster\.podCIDRs\[0\]: "10\.8\.0\.0\/33" is not a valid/);
  t.match(r.stderr, /remoteClusters\[0\]\.natSourceCIDRs: only meaningful with connectivity: nat/);
  t.match(r.stderr, /rules\.ipblock-local-pods: deny is only allowed for provable rules/);
  t.equal(r.stdout, "");
});

t.test("config notes are printed to stderr and do not change the exit status", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "netguard-check-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const config = join(dir, "overlap.yaml");
  // azure-north's pod range overlaps gcp-west's: accepted, with a note. Its other ranges are declared, so the
  // premises of the NAT denial below hold.
  const text = await readFile(fx("config.yaml"), "utf8");
  await writeFile(config, `${text}  - name: azure-north\n    connectivity: routed\n    podCIDRs: [10.8.0.0/16]\n    serviceCIDRs: [10.221.0.0/20]\n    nodeCIDRs: [10.220.0.0/20]\n`);
  const r = await runCli(["check", "--config", config, "--output", "json", fx("tree")]);
  t.equal(r.code, 0, r.stderr);
  t.equal(
    r.stderr,
    "netguard: note: remoteClusters[1]: ranges of azure-north overlap local ranges (10.8.0.0/16); ipBlocks there match local traffic (rule ambiguous-remote-cidr)\n",
  );
  t.same((JSON.parse(r.stdout) as JsonReport).summary, { objects: 2, deny: 0, warn: 1 }, "stdout stays a clean report");
  const denied = await runCli(["check", "--config", config, fx("denied.yaml")]);
  t.equal(denied.code, 1, "a denial still exits 1");
  t.match(denied.stderr, /^netguard: note: remoteClusters\[1\]: /);
  const quiet = await runCli(["check", ...CONFIG, fx("tree")]);
  t.equal(quiet.stderr, "", "no notes, nothing on stderr");
});

t.test("usage errors exit 2; --help exits 0", async (t) => {
  t.equal((await runCli(["check"])).code, 2);
  t.equal((await runCli(["check", "-o", "xml", fx("tree")])).code, 2);
  t.equal((await runCli(["check", "--bogus", fx("tree")])).code, 2);
  t.equal((await runCli(["check", "test/fixtures/cli/does-not-exist.yaml"])).code, 2);
  t.equal((await runCli(["frobnicate"])).code, 2);
  const help = await runCli(["check", "--help"]);
  t.equal(help.code, 0);
  t.match(help.stdout, /usage: netguard check/);
});

t.test("SARIF 2.1.0 output for code scanning", async (t) => {
  const r = await runCli(["check", ...CONFIG, "--output", "sarif", fx("denied.yaml"), fx("tree")]);
  t.equal(r.code, 1);
  const sarif = JSON.parse(r.stdout) as {
    version: string;
    $schema: string;
    runs: { tool: { driver: { name: string; rules: { id: string; shortDescription: { text: string } }[] } }; results: Record<string, unknown>[] }[];
  };
  t.equal(sarif.version, "2.1.0");
  t.match(sarif.$schema, /sarif-2\.1\.0/);
  const run = sarif.runs[0]!;
  t.equal(run.tool.driver.name, "netguard");
  t.equal(run.tool.driver.rules.length, 10);
  t.equal(run.results.length, 2);
  const deny = run.results.find((x) => x.ruleId === "nat-hidden-cidr")!;
  const rule = run.tool.driver.rules[deny.ruleIndex as number]!;
  t.equal(rule.id, "nat-hidden-cidr", "ruleIndex points at the rule");
  t.equal(deny.level, "error");
  t.match(deny.locations, [
    { physicalLocation: { artifactLocation: { uri: "test/fixtures/cli/denied.yaml" }, region: { startLine: 13 } }, logicalLocations: [{ fullyQualifiedName: "spec.ingress[0].from[0].ipBlock" }] },
  ]);
  t.equal(run.results.find((x) => x.ruleId === "ipblock-local-pods")?.level, "warning");
  t.match(deny.properties, { premises: [{ id: "local-pod-ranges-declared:ipv4", status: "holds" }] }, "premises as result properties");
});

t.test("--exceptions: honoured, expired ones reported, invalid ones and other kinds are input errors with file and line", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "netguard-exceptions-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const day = 86_400_000;
  const at = (ms: number) => new Date(Date.now() + ms).toISOString().replace(/\.\d+Z$/, "Z");
  const exception = (name: string, expiresAt: string, rules = "[nat-hidden-cidr]") => `apiVersion: netguard.dev/v1alpha1
kind: GuardrailException
metadata:
  name: ${name}
spec:
  rules: ${rules}
  match: {namespaces: [payments]}
  reason: INC-1
  owner: platform@example.com
  expiresAt: "${expiresAt}"
`;
  const write = async (name: string, text: string) => {
    await writeFile(join(dir, name), text);
    return join(dir, name);
  };
  const inForce = await write("in-force.yaml", exception("legacy-vpn", at(7 * day)));
  const waived = await runCli(["check", ...CONFIG, "-o", "json", "--exceptions", inForce, fx("denied.yaml")]);
  t.equal(waived.code, 0, waived.stderr);
  t.match(JSON.parse(waived.stdout).findings, [{ rule: "nat-hidden-cidr", action: "warn", waivedBy: "legacy-vpn", message: /Waived by GuardrailException legacy-vpn until/ }]);

  const expired = await write("expired.yaml", exception("old-vpn", at(-day)));
  const denied = await runCli(["check", ...CONFIG, "--exceptions", expired, fx("denied.yaml")]);
  t.equal(denied.code, 1, "an expired exception waives nothing");
  t.match(denied.stdout, /GuardrailException old-vpn expired at .* and waives nothing/);
  t.match(denied.stdout, /expired-exception/, "and is reported itself");

  const bad = await write("bad.yaml", `${exception("typo", at(500 * day), "[nat-hiden-cidr]")}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n`);
  const refused = await runCli(["check", ...CONFIG, "--exceptions", bad, fx("denied.yaml")]);
  t.equal(refused.code, 2);
  t.match(refused.stdout, /spec\.rules\[0\] \(line 6\): unknown rule "nat-hiden-cidr"/);
  t.match(refused.stdout, /spec\.expiresAt \(line 10\): .* is more than 90 days ahead \(exceptions\.maxDays\)/);
  t.match(refused.stdout, /bad\.yaml:12\)\s+error\s+--exceptions takes GuardrailException objects only, not ConfigMap/);
});

t.test("a directory mixing NetworkPolicies, Cilium and Calico policies: each judged in its own fields", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "netguard-check-cni-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "np.yaml"), await readFile(fx("denied.yaml"), "utf8"));
  await writeFile(
    join(dir, "cilium.yaml"),
    `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: from-aws-east, namespace: payments}
spec:
  endpointSelector: {matchLabels: {app: api}}
  ingress:
  - fromCIDRSet:
    - cidr: 10.100.0.0/16
    toPorts:
    - ports: [{port: "8443", protocol: TCP}]
`,
  );
  await writeFile(
    join(dir, "calico.yaml"),
    `apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: block-aws-east}
spec:
  selector: app == 'api'
  ingress:
  - action: Deny
    source:
      nets: [10.100.0.0/16]
`,
  );
  const r = await runCli(["check", ...CONFIG, "--output", "json", dir]);
  t.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout) as JsonReport;
  t.same(report.summary, { objects: 3, deny: 3, warn: 0 });
  t.same(
    report.findings.map((f) => [f.object.kind, f.rule, f.path]).sort(),
    [
      ["CiliumNetworkPolicy", "nat-hidden-cidr", "spec.ingress[0].fromCIDRSet[0]"],
      ["GlobalNetworkPolicy", "nat-hidden-cidr", "spec.ingress[0].source.nets[0]"],
      ["NetworkPolicy", "nat-hidden-cidr", "spec.ingress[0].from[0].ipBlock"],
    ],
  );
  t.match(report.findings.find((f) => f.object.kind === "GlobalNetworkPolicy")!.message, /Deny rule.*let through/s, "a Deny that never matches says it lets traffic through");
  const text = await runCli(["check", ...CONFIG, dir]);
  t.match(text.stdout, /3 policies \(1 NetworkPolicy, 1 CalicoGlobalNetworkPolicy, 1 CiliumNetworkPolicy\) checked: 3 denials, 0 warnings/);

  await writeFile(join(dir, "bad.yaml"), `apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: payments}\nspec:\n  selector: app = 'api'\n`);
  const bad = await runCli(["check", ...CONFIG, dir]);
  t.equal(bad.code, 2, "an input error in any kind exits 2");
  t.match(bad.stdout + bad.stderr, /bad\.yaml.*spec\.selector.*not a valid Calico selector/s, "naming the file and the field");
});

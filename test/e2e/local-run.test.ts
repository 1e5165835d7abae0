/** `make run`'s topology examples, run as printed against the cluster it starts. */
import { dirname } from "node:path";
import t from "tap";
import { parse } from "yaml";
import { kubectlBinary } from "../k8s/kubectl.js";
import { startLocalRun, topologyExamples } from "../k8s/local-run.js";
import { spawnCollect } from "../helpers/spawn.js";
import { repoRoot } from "../helpers/paths.js";

t.test("make run: describe-cluster and the drift example work as printed", async (t) => {
  const { env, text } = await startLocalRun();
  t.teardown(() => env.stop());
  const examples = topologyExamples(env);
  t.ok(text.includes(examples.describe) && text.includes(examples.drift), "the examples are the ones printed");
  // As the printed lines run after the printed exports: KUBECONFIG, and PATH with kubectl and node.
  const path = `${dirname(await kubectlBinary())}:${dirname(process.execPath)}:${process.env.PATH}`;
  const shell = (line: string) => spawnCollect("bash", ["-euo", "pipefail", "-c", line], { cwd: repoRoot, env: { ...process.env, KUBECONFIG: env.cluster.kubeconfig, PATH: path } });

  const described = await shell(examples.describe);
  t.equal(described.code, 0, described.stderr);
  const [entry] = parse(described.stdout) as { name: string; podCIDRs: string[]; nodeCIDRs: string[] }[];
  t.equal(entry?.name, "gcp-west");
  t.same(entry?.podCIDRs, ["10.8.0.0/14", "fd00:8::/56"], "the Nodes' pod ranges lie in the declared ones");
  t.match(described.stdout, /# Not discovered/);
  t.notMatch(described.stdout, /# Drift/, "the sample config agrees with the cluster make run starts");

  const drift = await shell(examples.drift);
  t.equal(drift.code, 0, `the ClusterPolicyReport lists topology-drift: ${drift.stderr}`);
  t.match(drift.stdout, /the cluster uses 10\.8\.0\.0\/23 for pod addresses \(nodes \(spec\.podCIDRs\): node\/gcp-west-pool-1-a, node\/gcp-west-pool-1-b\), but cluster\.podCIDRs does not declare 10\.8\.1\.0\/24/, "the two Nodes' /24s, merged");
  t.match(drift.stdout, /Add 10\.8\.1\.0\/24 to cluster\.podCIDRs/);
});

import { stringify } from "yaml";
import { buildDescriptor, type ClusterDescriptor } from "../../policies/index.js";
import { apiErrorMessage } from "../../kube/client.js";
import { listAll } from "../../kube/raw.js";
import { discoverOnce } from "../topology/api-sources.js";
import { Command } from "./args.js";
import { configFromFlag } from "./check.js";
import { clusterClients } from "./cluster-access.js";

const USAGE = `usage: netguard describe-cluster [--kubeconfig FILE] [--context NAME] [--config FILE] [--name NAME] [-o yaml|json]

Prints this cluster as a ready remoteClusters[] entry for the other clusters'
configs: its pod, service and node ranges as its API shows them (ServiceCIDRs,
Node podCIDRs and addresses, Calico IPPools, CiliumNodes and CiliumPodIPPools,
where served) together with the ranges its config declares, the NAT and
exposed addresses its config declares (cluster.natSourceCIDRs,
cluster.exposedCIDRs), and its namespaces; then what could not be discovered
and why, and where the declared ranges drift from the live ones. Read-only.
netguard's leader publishes the same descriptor in ConfigMap
netguard-cluster-descriptor (docs/topology.md).

options:
  --kubeconfig FILE   cluster credentials (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --context NAME      kubeconfig context to use (default: the current one)
  --config FILE       this cluster's GuardrailConfig (declared ranges, cluster.name)
  --name NAME         the cluster's name when no config declares it
  -o, --output FMT    yaml (a remoteClusters[] entry with comments) or json (the whole descriptor); default yaml
  -h, --help          show this help

Exit status: 0 described, 2 usage, config or cluster access error.
`;

const command = new Command("describe-cluster", USAGE);

/** The entry to paste under remoteClusters:, with what to declare beside it as comments. */
export function descriptorYaml(d: ClusterDescriptor, server: string): string {
  const comment = (text: string): string => text.split("\n").map((l) => `# ${l}`.trimEnd()).join("\n");
  const [first, ...rest] = stringify([d.remoteCluster], { lineWidth: 0 }).trimEnd().split("\n");
  // Left for the importing side to declare: a guess here would turn into wrong denials there.
  const entry = [first, "  connectivity: # nat or routed: how traffic crosses from the importing cluster to this one", ...rest].join("\n");
  const lines = [
    comment(`netguard describe-cluster: ${d.remoteCluster.name}, from ${server}, at ${d.generatedAt}`),
    comment("Paste under remoteClusters: in the other clusters' configs; set connectivity to how traffic crosses to this cluster."),
    "#",
    comment("Not discovered (declare them in the importing config):"),
    ...d.undiscovered.map((u) => comment(`  ${u.field}: ${u.why}`)),
    ...(d.drift.length > 0 ? ["#", comment("Drift between this cluster's config and its API:"), ...d.drift.map((x) => comment(`  ${x.path}: ${x.message} ${x.fix}`))] : []),
    entry,
  ];
  return `${lines.join("\n")}\n`;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = command.parse({
    args: argv,
    allowPositionals: false,
    options: {
      kubeconfig: { type: "string" },
      context: { type: "string" },
      config: { type: "string", short: "c" },
      name: { type: "string" },
      output: { type: "string", short: "o", default: "yaml" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  if (values.output !== "yaml" && values.output !== "json") return command.usageError(`--output must be yaml or json, got "${values.output}"`);
  const loaded = await configFromFlag(values.config);
  if (!loaded) return 2;
  const name = values.name ?? loaded.config.cluster.name;
  if (name === undefined) return command.usageError("the cluster has no name: give --config with cluster.name, or --name");
  const clients = await clusterClients("describe-cluster", values);
  if (!clients) return 2;
  const server = clients.kc.getCurrentCluster()!.server;
  let descriptor: ClusterDescriptor;
  try {
    const [live, namespaces] = await Promise.all([discoverOnce(clients.kc), listAll<{ metadata?: { name?: string } }>(clients.kc, "/api/v1/namespaces")]);
    const named = { ...loaded, config: { ...loaded.config, cluster: { ...loaded.config.cluster, name } } };
    descriptor = buildDescriptor(named, live, namespaces.items.map((n) => n.metadata?.name ?? "").filter(Boolean), new Date());
  } catch (error) {
    process.stderr.write(`netguard describe-cluster: cannot read ${server}: ${apiErrorMessage(error)}\n`);
    return 2;
  }
  process.stdout.write(values.output === "json" ? `${JSON.stringify(descriptor, null, 2)}\n` : descriptorYaml(descriptor, server));
  return 0;
}

import { Command } from "./args.js";
import type * as k8s from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import { readPeerDescriptors } from "../../policies/index.js";
import { auditSnapshot, type ClusterSnapshot } from "../audit/scan.js";
import { discoverOnce } from "../topology/api-sources.js";
import { PEERS_CONFIGMAP } from "../topology/configmaps.js";
import { exitCodeOf } from "../audit/report.js";
import { apiErrorMessage, apiStatus } from "../../kube/client.js";
import { EXCEPTIONS_PATH } from "../controller/exceptions.js";
import { getJson, listAll } from "../../kube/raw.js";
import { listCniPolicies } from "../audit/cni-policies.js";
import { configFromFlag, parseOutput } from "./check.js";
import { clusterClients } from "./cluster-access.js";
import { OUTPUT_FORMATS, printReport } from "./output/print.js";

const USAGE = `usage: netguard audit [--kubeconfig FILE] [--context NAME] [--config FILE] [--output text|json|sarif]

Audits a live cluster from anywhere kubectl works: lists every Namespace,
NetworkPolicy and GuardrailException and runs the same rules as the admission
webhook and the controller's audit scan (exceptions honoured as they are
there), plus the namespace checks (missing or drifted baseline policy, missing
cluster label), expired or invalid exceptions, and topology drift: this
cluster's ranges as its API shows them (as \`netguard describe-cluster\`)
against the config, and the remotes' descriptors netguard imported. Read-only:
it writes nothing.

options:
  --kubeconfig FILE   cluster credentials (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --context NAME      kubeconfig context to use (default: the current one)
  --config FILE       GuardrailConfig (default: the built-in single-cluster config)
  -o, --output FMT    text, json or sarif (default text)
  --page-size N       objects per list call (default 500)
  --netguard-namespace NS
                      where netguard keeps the remotes' imported descriptors (default netguard-system)
  -h, --help          show this help

Exit status: 0 no denial, 1 at least one finding whose action is deny,
2 usage, config or cluster access error.
`;

/** Progress on stderr for people watching a terminal; silent when stderr is a file or pipe. */
class Progress {
  private readonly tty = Boolean(process.stderr.isTTY) && process.env.TERM !== "dumb";
  private last = 0;

  update(text: string, force = false): void {
    if (!this.tty) return;
    const now = Date.now();
    if (!force && now - this.last < 80) return;
    this.last = now;
    process.stderr.write(`\r\u001b[2K${text}`);
  }

  done(text?: string): void {
    if (!this.tty) return;
    process.stderr.write(`\r\u001b[2K${text ? `${text}\n` : ""}`);
  }
}


const command = new Command("audit", USAGE);

/** The live topology, listed now, and the imports netguard stored (none when it stored none or they cannot be read). */
async function readTopology(kc: KubeConfig, namespace: string, limit: number): Promise<Pick<ClusterSnapshot, "liveTopology" | "peers">> {
  const liveTopology = await discoverOnce(kc, limit);
  try {
    const cm = await getJson<{ data?: Record<string, string> }>(kc, `/api/v1/namespaces/${namespace}/configmaps/${PEERS_CONFIGMAP}`);
    const { peers, problems } = readPeerDescriptors(cm.data ?? {});
    for (const p of problems) process.stderr.write(`netguard audit: ${namespace}/${PEERS_CONFIGMAP} ${p.key}: ${p.message}\n`);
    return { liveTopology, peers: { items: peers, now: new Date() } };
  } catch (error) {
    if (apiStatus(error) !== 404) process.stderr.write(`netguard audit: cannot read the imported descriptors (${apiErrorMessage(error)}); remotes' descriptors are left out\n`);
    return { liveTopology };
  }
}

export async function run(argv: string[]): Promise<number> {
  const parsed = command.parse({
    args: argv,
    allowPositionals: false,
    options: {
      kubeconfig: { type: "string" },
      context: { type: "string" },
      config: { type: "string", short: "c" },
      output: { type: "string", short: "o" },
      "page-size": { type: "string", default: "500" },
      "netguard-namespace": { type: "string", default: "netguard-system" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  const output = parseOutput(values.output);
  if (!output) return command.usageError(`--output must be one of ${OUTPUT_FORMATS.join(", ")}`);
  const limit = Number(values["page-size"]);
  if (!Number.isInteger(limit) || limit < 1) return command.usageError(`--page-size must be a positive whole number, got "${values["page-size"]}"`);
  const loaded = await configFromFlag(values.config);
  if (!loaded) return 2;

  const clients = await clusterClients("audit", values);
  if (!clients) return 2;

  const progress = new Progress();
  const started = performance.now();
  let namespaces: k8s.V1Namespace[];
  let policies: k8s.V1NetworkPolicy[];
  let exceptions: unknown[] | undefined;
  let cniPolicies: unknown[];
  let topology: Pick<ClusterSnapshot, "liveTopology" | "peers">;
  try {
    // Plain JSON as the apiserver sends it (client-node's typed lists rename `from` to `_from`).
    const page = (what: string) => (count: number, done: boolean) => progress.update(`listing ${what}... ${count}`, done);
    namespaces = (await listAll<k8s.V1Namespace>(clients.kc, "/api/v1/namespaces", { limit, onPage: page("namespaces") })).items;
    policies = (await listAll<k8s.V1NetworkPolicy>(clients.kc, "/apis/networking.k8s.io/v1/networkpolicies", { limit, onPage: page("NetworkPolicies") })).items;
    progress.update("listing Cilium and Calico policies...", true);
    cniPolicies = await listCniPolicies(clients.kc, limit);
    exceptions = await listAll<unknown>(clients.kc, EXCEPTIONS_PATH, { limit, onPage: page("GuardrailExceptions") }).then(
      (list) => list.items,
      (error: unknown) => {
        if (apiStatus(error) === 404) return undefined; // the CRD is not installed: no exceptions
        throw error;
      },
    );
    progress.update("discovering the cluster's ranges...", true);
    topology = await readTopology(clients.kc, values["netguard-namespace"], limit);
  } catch (error) {
    progress.done();
    const server = clients.kc.getCurrentCluster()?.server ?? "the cluster";
    process.stderr.write(`netguard audit: cannot list objects from ${server}: ${apiErrorMessage(error)}\n`);
    return 2;
  }
  const cni = cniPolicies.length > 0 ? ` and ${cniPolicies.length} Cilium/Calico policies` : "";
  progress.update(`evaluating ${policies.length} NetworkPolicies${cni} in ${namespaces.length} namespaces...`, true);
  const report = auditSnapshot({ namespaces, policies, cniPolicies, ...(exceptions ? { exceptions } : {}), ...topology }, loaded);
  progress.done(`audited ${namespaces.length} namespaces and ${policies.length} NetworkPolicies${cni} in ${Math.round(performance.now() - started)} ms`);
  printReport(report, output);
  return exitCodeOf(report);
}

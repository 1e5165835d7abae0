/**
 * `make bench`: prints the figures of DESIGN.md §8 as markdown (copied into bench/RESULTS.md).
 * Parts can be picked: node --import tsx bench/run.ts [webhook] [apiserver] [engine] [baseline] [topology]
 */
import { apiserverBench } from "./apiserver.js";
import { baselineBench } from "./baseline.js";
import { engineBench } from "./engine.js";
import { topologyBench } from "./topology.js";
import { machine, section } from "./lib/report.js";
import { webhookBench } from "./webhook.js";

const parts: Record<string, { title: string; run: () => Promise<void> }> = {
  webhook: { title: "Webhook alone (HTTPS keep-alive, server in its own process)", run: webhookBench },
  apiserver: { title: "Through the real kube-apiserver: create NetworkPolicy", run: apiserverBench },
  engine: { title: "Engine: audit scaling", run: engineBench },
  topology: { title: "Topology discovery at 5,000 Nodes (real kube-apiserver, netguard serve with the controller)", run: topologyBench },
  baseline: { title: "Namespace created → baseline present (real kube-apiserver, netguard serve with the controller)", run: baselineBench },
};

const picked = process.argv.slice(2);
for (const name of picked) if (!parts[name]) throw new Error(`unknown part ${name}; choose from ${Object.keys(parts).join(", ")}`);
console.log(`# netguard benchmarks\n\n\`\`\`\n${machine()}\n\`\`\``);
for (const [name, part] of Object.entries(parts)) {
  if (picked.length === 0 || picked.includes(name)) await section(part.title, part.run);
}

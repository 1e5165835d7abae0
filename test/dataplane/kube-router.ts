/**
 * kube-router's network policy controller in the node namespace, driven by the harness apiserver. The apiserver
 * stays on the host's loopback; the node namespace reaches it through a unix socket (a file, so no link enters
 * the host's network namespace): socat listens on the socket on the host and on 127.0.0.1:PORT in the namespace.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../helpers/wait.js";
import type { Family } from "../property/fixtures/addresses.js";
import type { LocalCluster } from "../k8s/cluster.js";
import { kubectl } from "../k8s/kubectl.js";
import { inNs } from "./network.js";
import { NS } from "./layout.js";

export const NODE_NAME = "node-a";
export const POLICY_NAMESPACE = "shop";
export const TARGET_LABELS = { "netguard.dev/probe": "target" };
const SYNC_TIMEOUT_MS = 30_000;

/** kube-router refused to write a policy's rules (it logs why and keeps the previous ones). */
export class Unenforceable extends Error {}
const ABORTED_SYNC = /Aborting sync\. (.*)/;

async function apply(kubeconfig: string, args: readonly string[], stdin?: string): Promise<void> {
  const r = await kubectl(kubeconfig, args, stdin);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr.trim()}`);
}

const stop = (p: ChildProcess | undefined) =>
  p && p.exitCode === null && p.signalCode === null ? new Promise<void>((resolve) => (p.once("exit", () => resolve()), p.kill())) : Promise.resolve();

/** The API side, made once per run: the host half of the bridge, the Node object, the policy namespace. */
export class Enforcement {
  private bridge?: ChildProcess;
  private inner?: ChildProcess;
  private router?: ChildProcess;
  private pod?: string;
  /** kube-router's output since the last enforce(). */
  private output = "";
  private family: Family = 4;
  private constructor(private readonly cluster: LocalCluster, private readonly bin: string, private readonly socket: string, private readonly logDir: string) {}

  /** kube-router's logs go to `logDir`, one file per case and family. */
  static async prepare(cluster: LocalCluster, bin: string, logDir: string): Promise<Enforcement> {
    const e = new Enforcement(cluster, bin, join(cluster.dir, "api.sock"), logDir);
    const port = new URL(cluster.server).port;
    e.bridge = spawn("socat", [`UNIX-LISTEN:${e.socket},fork,unlink-early`, `TCP:127.0.0.1:${port}`], { stdio: "ignore" });
    const { kubeconfig } = cluster;
    await apply(kubeconfig, ["create", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: NODE_NAME } }));
    await apply(kubeconfig, ["create", "namespace", POLICY_NAMESPACE]);
    return e;
  }

  /**
   * For one case and address family (kube-router runs single-stack, in that family): the Node's address, the target Pod (podIP and hostIP set through the status subresource, as a
   * kubelet would), and kube-router started afresh in the new node namespace, ready once it has written the pod's
   * firewall chain.
   */
  async start(run: string, family: Family, nodeAddress: string, targetAddress: string): Promise<void> {
    this.family = family;
    const { kubeconfig } = this.cluster;
    const status = { status: { addresses: [{ type: "InternalIP", address: nodeAddress }] } };
    await apply(kubeconfig, ["patch", "node", NODE_NAME, "--subresource=status", "--type=merge", "-p", JSON.stringify(status)]);
    await apply(kubeconfig, ["delete", "networkpolicy", "--all", "-n", POLICY_NAMESPACE]);
    // A Pod's addresses are not changed once set: each case has its own.
    if (this.pod) await apply(kubeconfig, ["delete", "pod", this.pod, "-n", POLICY_NAMESPACE, "--grace-period=0", "--force", "--wait=false"]);
    this.pod = `target-${run}`;
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: this.pod, namespace: POLICY_NAMESPACE, labels: TARGET_LABELS }, spec: { nodeName: NODE_NAME, containers: [{ name: "c", image: "none" }] } };
    await apply(kubeconfig, ["create", "-f", "-"], JSON.stringify(pod));
    const podStatus = { status: { phase: "Running", hostIP: nodeAddress, hostIPs: [{ ip: nodeAddress }], podIP: targetAddress, podIPs: [{ ip: targetAddress }] } };
    await apply(kubeconfig, ["patch", "pod", this.pod, "-n", POLICY_NAMESPACE, "--subresource=status", "--type=merge", "-p", JSON.stringify(podStatus)]);
    const port = new URL(this.cluster.server).port;
    this.inner = spawn("ip", ["netns", "exec", NS.node, "socat", `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`, `UNIX-CONNECT:${this.socket}`], { stdio: "ignore" });
    const log = createWriteStream(join(this.logDir, `kube-router-${run}.log`));
    const families = [`--enable-ipv4=${family === 4}`, `--enable-ipv6=${family === 6}`, `--service-cluster-ip-range=${family === 4 ? "10.12.0.0/20" : "fd12::/112"}`];
    this.router = spawn("ip", ["netns", "exec", NS.node, this.bin, `--kubeconfig=${kubeconfig}`, "--run-firewall=true", "--run-router=false", "--run-service-proxy=false", ...families, `--hostname-override=${NODE_NAME}`, "--metrics-port=0", "--health-port=0"], { stdio: ["ignore", "pipe", "pipe"] });
    this.output = "";
    for (const stream of [this.router.stdout!, this.router.stderr!]) {
      stream.pipe(log);
      stream.on("data", (d: Buffer) => (this.output += d.toString()));
    }
    const name = this.pod;
    await waitFor(`kube-router's firewall chain for pod ${name}`, async () => (await this.rules()).includes(`POD name:${name} namespace: ${POLICY_NAMESPACE}`), SYNC_TIMEOUT_MS, 100);
  }

  private rules(): Promise<string> {
    if (this.router?.exitCode !== null) throw new Error(`kube-router exited with ${this.router?.exitCode}; see ${this.logDir}`);
    return inNs(NS.node, [this.family === 4 ? "iptables-save" : "ip6tables-save", "-t", "filter"]);
  }

  /**
   * Replaces the policies in the namespace by `policy` (or none) and waits until kube-router enforces exactly that;
   * throws Unenforceable when kube-router aborts its sync instead (with its reason).
   */
  async enforce(policy: { metadata: { name: string }; spec: unknown } | undefined, previous: string | undefined): Promise<void> {
    const { kubeconfig } = this.cluster;
    this.output = "";
    if (previous) await apply(kubeconfig, ["delete", "networkpolicy", previous, "-n", POLICY_NAMESPACE]);
    if (policy) await apply(kubeconfig, ["create", "-f", "-"], JSON.stringify({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", ...policy, metadata: { ...policy.metadata, namespace: POLICY_NAMESPACE } }));
    const wanted = policy && `run through nw policy ${policy.metadata.name}"`;
    const gone = previous && `run through nw policy ${previous}"`;
    // waitFor retries a check that throws, so an aborted sync is returned, not thrown.
    const outcome = await waitFor(`kube-router enforcing ${policy?.metadata.name ?? "no policy"}`, async () => {
      const aborted = ABORTED_SYNC.exec(this.output);
      if (aborted) return `${aborted[1]!.trim()} ${this.output.slice(aborted.index + aborted[0].length).split("\n").slice(0, 2).join(" ").trim()}`;
      const rules = await this.rules();
      return (!wanted || rules.includes(wanted)) && (!gone || !rules.includes(gone));
    }, SYNC_TIMEOUT_MS, 50);
    if (typeof outcome === "string") throw new Unenforceable(`kube-router aborted its sync for ${policy?.metadata.name ?? "no policy"}: ${outcome}`);
    // Earlier probes' connections must not be the reason a later one passes.
    await inNs(NS.node, ["conntrack", "-F", "-f", this.family === 4 ? "ipv4" : "ipv6"]).catch(() => undefined);
  }

  /** Stops kube-router and the namespace half of the bridge (the namespace itself is torn down by the caller). */
  async stopCase(): Promise<void> {
    await Promise.all([stop(this.router), stop(this.inner)]);
  }

  async close(): Promise<void> {
    await this.stopCase();
    await stop(this.bridge);
  }
}

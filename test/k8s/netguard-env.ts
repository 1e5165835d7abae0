/**
 * netguard for real on a local cluster: the Go-built kube-apiserver + etcd, `netguard serve` as a
 * separate process with the controller, and both webhook configurations registered by URL with
 * the caBundle. Used by `make run` and the end-to-end tests.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, openSync, closeSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { loopbackCerts } from "../helpers/certs.js";
import { buildWebhookConfigurations, webhookConfigurationsYaml } from "../../certs/webhook-configurations.js";
import { sleep } from "../helpers/wait.js";
import { freePort, startCluster, type LocalCluster } from "./cluster.js";
import { kubectl, type KubectlResult } from "./kubectl.js";
import { repoRoot } from "../helpers/paths.js";

const cli = join(repoRoot, "dist/server/cli/main.js");

export interface NetguardEnv {
  cluster: LocalCluster;
  /** The live config file netguard watches: edit it to reconfigure. */
  configPath: string;
  /** https://127.0.0.1:PORT, fixed for the life of the environment. */
  url: string;
  caPath: string;
  logPath: string;
  kubectl(args: readonly string[], stdin?: string): Promise<KubectlResult>;
  /** Stops the netguard process (the webhooks stay registered). */
  stopNetguard(): Promise<void>;
  startNetguard(): Promise<void>;
  /** (Re)registers the webhook configurations; `failurePolicy` overrides all three webhooks. */
  registerWebhooks(options?: { failurePolicy?: "Fail" | "Ignore" }): Promise<void>;
  stop(): Promise<void>;
}

export interface EnvOptions {
  /** GuardrailConfig copied into the environment (default: the multicloud test fixture). */
  config?: string;
  extraServeArgs?: readonly string[];
  apiserverArgs?: readonly string[];
  /** Install the PolicyReport CRDs (manifests/crds) before netguard starts, so its audit scan writes reports. */
  policyReportCrds?: boolean;
  /** netguard's port (default: a free one), for when the apiserver's configuration must name it up front. */
  port?: number;
  /** Inherit netguard's log lines on this process's stdout (make run) instead of a file only. */
  echoLogs?: boolean;
}

function healthy(url: string, ca: string): Promise<boolean> {
  return new Promise((done) => {
    const req = request(`${url}/readyz`, { ca, timeout: 1000 }, (res) => {
      res.resume();
      done(res.statusCode === 200);
    });
    req.on("error", () => done(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/** A NetworkPolicy every netguard config denies (its except covers the whole cidr): proves the webhook is live. */
const PROBE = JSON.stringify({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name: "netguard-probe", namespace: "default" },
  spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "192.0.2.0/24", except: ["192.0.2.0/25", "192.0.2.128/25"] } }] }] },
});

export async function startNetguardEnv(options: EnvOptions = {}): Promise<NetguardEnv> {
  const cluster = await startCluster({ apiserverArgs: options.apiserverArgs });
  try {
    const dir = cluster.dir;
    const configPath = join(dir, "config.yaml");
    copyFileSync(options.config ?? join(repoRoot, "test/fixtures/config/multicloud.yaml"), configPath);
    const certs = await loopbackCerts(join(dir, "netguard-certs"), "netguard-local-ca");
    const ca = certs.ca;
    const port = options.port ?? (await freePort());
    const url = `https://127.0.0.1:${port}`;
    const logPath = join(dir, "netguard.log");
    const run = (args: readonly string[], stdin?: string) => kubectl(cluster.kubeconfig, args, stdin);
    await run(["create", "namespace", "netguard-system"]);
    // netguard's own CRD is part of its base install: every replica caches GuardrailExceptions.
    const exceptionCrd = await run(["apply", "-f", join(repoRoot, "manifests/base/guardrailexception-crd.yaml")]);
    if (exceptionCrd.code !== 0) throw new Error(`installing the GuardrailException CRD failed: ${exceptionCrd.stderr}`);
    await run(["wait", "--for=condition=Established", "--timeout=30s", "crd/guardrailexceptions.netguard.dev"]);
    if (options.policyReportCrds) {
      const crds = await run(["apply", "-f", join(repoRoot, "manifests/crds/policyreports.yaml")]);
      if (crds.code !== 0) throw new Error(`installing the PolicyReport CRDs failed: ${crds.stderr}`);
    }

    let child: ChildProcess | undefined;
    const startNetguard = async (): Promise<void> => {
      const log = openSync(logPath, "a");
      child = spawn(
        process.execPath,
        [cli, "serve", "--config", configPath, "--cert", certs.certPath, "--key", certs.keyPath, "--port", String(port), "--host", "127.0.0.1",
          "--kubeconfig", cluster.kubeconfig, "--lease-namespace", "netguard-system", ...(options.extraServeArgs ?? [])],
        { stdio: ["ignore", options.echoLogs ? "inherit" : log, options.echoLogs ? "inherit" : log] },
      );
      closeSync(log);
      // Ready in 1–10 s; on a 2-core machine shared with other test runs (load ~20) it has taken 60 s.
      const deadline = Date.now() + 120_000;
      while (!(await healthy(url, ca.cert))) {
        if (child.exitCode !== null) throw new Error(`netguard serve exited with ${child.exitCode}; see ${logPath}`);
        if (Date.now() > deadline) throw new Error(`netguard not ready after 120s; see ${logPath}`);
        await sleep(100);
      }
    };
    const stopNetguard = async (): Promise<void> => {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once("exit", r));
      c.kill("SIGTERM");
      await exited;
    };
    const registerWebhooks = async (o: { failurePolicy?: "Fail" | "Ignore" } = {}): Promise<void> => {
      const configs = buildWebhookConfigurations({ caCert: ca.cert, target: { url } });
      if (o.failurePolicy) {
        for (const w of [...(configs.validating.webhooks ?? []), ...(configs.mutating.webhooks ?? [])]) w.failurePolicy = o.failurePolicy;
      }
      const applied = await run(["apply", "-f", "-"], webhookConfigurationsYaml(configs));
      if (applied.code !== 0) throw new Error(`registering webhooks failed: ${applied.stderr}`);
    };

    await startNetguard();
    await registerWebhooks();
    // The apiserver picks up webhook configurations asynchronously: wait until netguard answers.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const probe = await run(["create", "--dry-run=server", "-f", "-"], PROBE);
      if (`${probe.stderr}`.includes("empty-ipblock")) break;
      if (Date.now() > deadline) throw new Error(`webhooks not effective after 30s: ${probe.stderr}`);
      await sleep(200);
    }
    return {
      cluster,
      configPath,
      url,
      caPath: certs.caPath,
      logPath,
      kubectl: run,
      stopNetguard,
      startNetguard,
      registerWebhooks,
      stop: async () => {
        await stopNetguard();
        await cluster.stop();
      },
    };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/** Rewrites the live config with `edit` and waits until netguard has the new version in force. */
export async function editConfig(env: NetguardEnv, edit: (text: string) => string): Promise<void> {
  const before = readFileSync(env.logPath, "utf8").split("\n").length;
  writeFileSync(env.configPath, edit(readFileSync(env.configPath, "utf8")));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const lines = readFileSync(env.logPath, "utf8").split("\n").slice(before - 1);
    if (lines.some((l) => /"msg":"config (reloaded|change rejected)/.test(l))) return;
    await sleep(100);
  }
  throw new Error("netguard did not pick up the config change within 15s");
}

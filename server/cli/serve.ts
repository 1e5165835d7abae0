import { pino } from "pino";
import { hostname } from "node:os";
import type { SelfManagedCerts } from "../../certs/self-managed.js";
import type { Controller } from "../controller/index.js";
import { Command } from "./args.js";
import type { OwnIdentity } from "../../kube/identity.js";
import { StartupError, startServer } from "../start.js";

const USAGE = `usage: netguard serve [options]

Runs the admission webhook server (HTTPS). With cluster credentials (--kubeconfig,
or a pod's service account) it also runs the controller: the elected leader keeps
every namespace's baseline policy in place and writes audit PolicyReports.

options:
  --config FILE           GuardrailConfig (YAML or JSON), reloaded when it changes (default: built-in)
  --cert FILE --key FILE  serving certificate and key, reloaded when they change
                          (default: a self-signed pair for 127.0.0.1 in a temporary directory)
  --self-managed-certs    keep the CA and serving certificate in the Secret netguard-tls (in the lease
                          namespace), rotate them, and inject the caBundle into the webhooks
  --cert-dir DIR          where --self-managed-certs writes the serving pair (default /tmp/netguard-tls)
  --client-ca FILE        refuse admission requests (401) whose caller has no client certificate signed by
                          a CA in FILE: the apiserver authenticating with a webhook kubeconfig (docs/install.md)
  --port N                HTTPS port; 0 picks a free one (default 8443)
  --host ADDR             address to listen on (default 0.0.0.0)
  --kubeconfig FILE       cluster credentials; netguard's own identity there counts as privileged
                          (default: the pod's service account when running in a cluster)
  --lease-namespace NS    namespace of the leader-election Lease (default: $POD_NAMESPACE or netguard-system)
  --lease-duration SECS   leader-election lease duration: how long a dead leader blocks takeover (default 15)
  --audit-interval SECS   seconds between audit scans of the cluster (default 300)
  --descriptor-refresh SECS
                          seconds between reads of each remote's descriptor (remoteClusters[].descriptorFrom, default 60)
  --pod-guard             refuse Pods in a namespace whose baseline policy is not in place yet (with a
                          message to retry); needs the Pod webhook too (docs/controller.md)
  --privileged-user NAME  another username allowed to change reserved labels and managed policies (repeatable)
  --log-level LEVEL       trace, debug, info, warn or error (default info)
  -h, --help              show this help
`;

const options = {
  config: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  "self-managed-certs": { type: "boolean" },
  "cert-dir": { type: "string", default: "/tmp/netguard-tls" },
  "client-ca": { type: "string" },
  port: { type: "string", default: "8443" },
  host: { type: "string", default: "0.0.0.0" },
  kubeconfig: { type: "string" },
  "lease-namespace": { type: "string", default: process.env.POD_NAMESPACE ?? "netguard-system" },
  "lease-duration": { type: "string", default: "15" },
  "audit-interval": { type: "string", default: "300" },
  "descriptor-refresh": { type: "string", default: "60" },
  "privileged-user": { type: "string", multiple: true },
  "pod-guard": { type: "boolean", default: false },
  "log-level": { type: "string", default: "info" },
  help: { type: "boolean", short: "h" },
} as const;

const command = new Command("serve", USAGE);
const usageError = (message: string) => command.usageError(message);

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      resolve(signal);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}

export async function run(argv: string[]): Promise<number> {
  const parsed = command.parse({ args: argv, options, allowPositionals: false });
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) return usageError(`--port must be a number from 0 to 65535, got "${values.port}"`);
  if (Boolean(values.cert) !== Boolean(values.key)) return usageError("--cert and --key go together");
  if (values["self-managed-certs"] && values.cert) return usageError("--self-managed-certs and --cert/--key exclude each other");
  const level = values["log-level"];
  if (!["trace", "debug", "info", "warn", "error"].includes(level)) return usageError(`unknown --log-level "${level}"`);

  const auditSeconds = Number(values["audit-interval"]);
  if (!(auditSeconds > 0)) return usageError(`--audit-interval must be a positive number of seconds, got "${values["audit-interval"]}"`);
  const descriptorSeconds = Number(values["descriptor-refresh"]);
  if (!(descriptorSeconds > 0)) return usageError(`--descriptor-refresh must be a positive number of seconds, got "${values["descriptor-refresh"]}"`);

  const leaseSeconds = Number(values["lease-duration"]);
  if (!Number.isInteger(leaseSeconds) || leaseSeconds < 1) return usageError(`--lease-duration must be a whole number of seconds >= 1, got "${values["lease-duration"]}"`);

  const logger = pino({ level, base: { name: "netguard" } });
  const inCluster = Boolean(values.kubeconfig || process.env.KUBERNETES_SERVICE_HOST);
  if (values["pod-guard"] && !inCluster) return usageError("--pod-guard needs cluster access (--kubeconfig, or running in a cluster)");
  let controller: Controller | undefined;
  let launchController: (() => void) | undefined;
  // Listen for signals before starting anything: a SIGTERM during startup still shuts down cleanly.
  const signalled = untilSignal();
  let certs: SelfManagedCerts | undefined;
  let identity: OwnIdentity | undefined;
  try {
    if (inCluster) {
      // Asked until the apiserver answers; the replica is not ready before (kube/identity.ts).
      const { loadKubeConfig } = await import("../../kube/client.js");
      const { learnOwnUsername } = await import("../../kube/identity.js");
      identity = await learnOwnUsername(loadKubeConfig(values.kubeconfig), { log: logger });
    }
    if (values["self-managed-certs"]) {
      if (!inCluster) throw new StartupError("--self-managed-certs needs cluster credentials (--kubeconfig or a pod's service account)");
      const { loadKubeConfig, kubeClients } = await import("../../kube/client.js");
      const { startSelfManagedCerts } = await import("../../certs/self-managed.js");
      certs = await startSelfManagedCerts({
        clients: kubeClients(loadKubeConfig(values.kubeconfig)),
        namespace: values["lease-namespace"],
        dir: values["cert-dir"],
        log: logger.child({ component: "certs" }),
      });
    }
    const server = await startServer({
      configPath: values.config,
      certPath: certs?.certPath ?? values.cert,
      keyPath: certs?.keyPath ?? values.key,
      clientCaPath: values["client-ca"],
      port,
      host: values.host,
      logger,
      privilegedUsers: values["privileged-user"] ?? [],
      ownUsername: () => identity?.username,
      readinessChecks: [() => identity?.pending, () => certs?.pending()],
      facts: () => controller?.facts() ?? {},
      onConfigReload: () => (controller ? controller.configChanged() : launchController?.()),
      ...(values["pod-guard"] ? { podGuard: async (namespace: string | undefined) => controller?.podGuard?.(namespace) } : {}),
    });
    if (inCluster) {
      const { loadKubeConfig, kubeClients } = await import("../../kube/client.js");
      const { startController } = await import("../controller/index.js");
      // Without a valid config there is no baseline to reconcile: the controller starts with the first one.
      launchController = () => {
        controller ??= startController({
          clients: kubeClients(loadKubeConfig(values.kubeconfig)),
          config: () => server.state.config!, // launched only once a config is in force; reloads never remove it
          log: logger.child({ component: "controller" }),
          registry: server.metrics.registry,
          identity: `${hostname()}-${process.pid}`,
          leaseNamespace: values["lease-namespace"],
          leaseDurationSeconds: leaseSeconds,
          podGuard: values["pod-guard"],
          auditIntervalMs: auditSeconds * 1000,
          descriptorRefreshMs: descriptorSeconds * 1000,
        });
      };
      if (server.state.config) launchController();
      else logger.warn("the controller waits for a valid config");
    }
    const signal = await signalled;
    logger.info({ signal }, "shutting down: finishing requests in flight");
    identity?.stop();
    await controller?.stop();
    await certs?.stop();
    await server.close();
    logger.info("stopped");
    return 0;
  } catch (error) {
    identity?.stop();
    await certs?.stop();
    if (!(error instanceof StartupError)) throw error;
    process.stderr.write(`netguard serve: ${error.message}\n`);
    return 2;
  }
}

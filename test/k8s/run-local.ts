/** `make run`: a real local cluster with netguard registered as its webhook, in the foreground until Ctrl-C. */
import { startLocalRun } from "./local-run.js";

const { env, text } = await startLocalRun({ echoLogs: true });
process.stdout.write(text);

const shutdown = async (): Promise<void> => {
  process.stdout.write("\nstopping netguard, kube-controller-manager, kube-apiserver and etcd...\n");
  await env.stop();
  process.exit(0);
};
process.once("SIGINT", () => void shutdown());
process.once("SIGTERM", () => void shutdown());

/**
 * A real, local Kubernetes control plane for `make run` and the end-to-end tests: etcd,
 * kube-apiserver and kube-controller-manager built from Go modules (build.sh), started on loopback
 * with random ports, torn down with everything they wrote.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { request } from "node:https";
import { readFileSync } from "node:fs";
import { sleep } from "../helpers/wait.js";

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
/** The Go module lives in the source tree, also when this file runs compiled from dist/. */
const moduleDir = here.includes(`${join("dist", "test")}`) ? here.replace(`${join("dist", "test")}`, "test") : here;

export interface LocalCluster {
  /** https://127.0.0.1:PORT */
  server: string;
  kubeconfig: string;
  dir: string;
  caFile: string;
  logs: { etcd: string; apiserver: string; controllerManager: string };
  /** Stops kube-apiserver and starts it again on the same port (etcd keeps the data). */
  restartApiserver(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds (or reuses the cached) kube-apiserver, kube-controller-manager, etcd and kubectl; returns the bin directory. */
export async function buildBinaries(): Promise<string> {
  const { stdout } = await run("bash", [join(moduleDir, "build.sh")], { maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim().split("\n").pop()!;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function makePki(dir: string): Promise<void> {
  const sh = (script: string) => run("bash", ["-euo", "pipefail", "-c", script], { cwd: dir });
  await sh(`
    openssl req -x509 -newkey rsa:2048 -nodes -days 7 -keyout ca.key -out ca.crt -subj "/CN=netguard-test-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 7 -out apiserver.crt -extfile <(printf '%s\\n' \
      "subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.12.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc" \
      "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth") 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=netguard-admin" 2>/dev/null
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 7 -out admin.crt -extfile <(printf '%s\\n' \
      "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=clientAuth") 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout kcm.key -out kcm.csr -subj "/CN=system:kube-controller-manager" 2>/dev/null
    openssl x509 -req -in kcm.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 7 -out kcm.crt -extfile <(printf '%s\\n' \
      "subjectAltName=IP:127.0.0.1" "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth,clientAuth") 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  `);
}

const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of children) killGroup(c, "SIGKILL");
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

function startProcess(bin: string, args: string[], logFile: string): ChildProcess {
  const out = openSync(logFile, "a");
  const child = spawn(bin, args, { detached: true, stdio: ["ignore", out, out] });
  closeSync(out);
  children.add(child);
  child.on("exit", () => children.delete(child));
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  killGroup(child, "SIGTERM");
  const timer = setTimeout(() => killGroup(child, "SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

interface Tls {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** True when GET `url` answers 200 (verified against `tls.ca`). */
function answers200(url: string, tls: Tls): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { ...tls, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/** The last lines of a log, for an error message (the log goes with the cluster's directory). */
function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

async function waitUntil(what: string, ok: () => Promise<boolean>, child: ChildProcess, logFile: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}; the end of ${logFile}:\n${tail(logFile)}`);
    if (await ok()) return;
    await sleep(250);
  }
  throw new Error(`${what} not ready after ${timeoutMs / 1000}s; see ${logFile}`);
}

const adminTls = (pki: string): Tls => {
  const [ca, cert, key] = ["ca.crt", "admin.crt", "admin.key"].map((f) => readFileSync(join(pki, f)));
  return { ca: ca!, cert, key };
};

const waitApiserver = (server: string, pki: string, child: ChildProcess, logFile: string) =>
  waitUntil("kube-apiserver", () => answers200(`${server}/readyz`, adminTls(pki)), child, logFile);

/**
 * Ready when its /healthz says so (every controller started) and the serviceaccount controller has made
 * `default/default`: proof that it acts, with its own service-account identity, on this apiserver.
 */
const waitControllerManager = (server: string, healthz: string, pki: string, child: ChildProcess, logFile: string) =>
  waitUntil(
    "kube-controller-manager",
    async () =>
      (await answers200(healthz, adminTls(pki))) && (await answers200(`${server}/api/v1/namespaces/default/serviceaccounts/default`, adminTls(pki))),
    child,
    logFile,
  );

function kubeconfigYaml(server: string, pki: string, user: string, certName: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: netguard-local
  cluster: {server: "${server}", certificate-authority: "${join(pki, "ca.crt")}"}
users:
- name: ${user}
  user: {client-certificate: "${join(pki, `${certName}.crt`)}", client-key: "${join(pki, `${certName}.key`)}"}
contexts:
- name: netguard-local
  context: {cluster: netguard-local, user: ${user}}
current-context: netguard-local
`;
}

/**
 * The controllers that make namespaces finalize and clean up as in a real control plane, each acting as
 * its own `system:serviceaccount:kube-system:<controller>` (--use-service-account-credentials, as kubeadm runs it).
 */
export const CONTROLLERS = [
  "serviceaccount-token-controller",
  "serviceaccount-controller",
  "namespace-controller",
  "garbage-collector-controller",
  "root-ca-certificate-publisher-controller",
] as const;

export interface ClusterOptions {
  bin?: string;
  /** Added to kube-apiserver's command line, e.g. --admission-control-config-file. */
  apiserverArgs?: readonly string[];
}

/**
 * etcd on a free port, healthy before kube-apiserver starts (which gives up on an absent etcd after ~20 s). Its
 * port is picked again if etcd exits first: another test may take a port between freePort() and etcd's bind.
 */
async function startEtcd(bin: string, dir: string, logFile: string): Promise<{ etcd: ChildProcess; etcdUrl: string }> {
  for (let attempt = 1; ; attempt++) {
    const etcdUrl = `http://127.0.0.1:${await freePort()}`;
    const etcd = startProcess(join(bin, "etcd"), [
      `--data-dir=${join(dir, "etcd")}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      "--listen-peer-urls=http://127.0.0.1:0",
      "--unsafe-no-fsync",
      "--log-level=warn",
    ], logFile);
    const healthy = () => fetch(`${etcdUrl}/health`).then((r) => r.ok, () => false);
    try {
      await waitUntil("etcd", healthy, etcd, logFile, 60_000);
      return { etcd, etcdUrl };
    } catch (error) {
      await stopProcess(etcd);
      if (attempt >= 3) throw error;
    }
  }
}

export async function startCluster(options: ClusterOptions = {}): Promise<LocalCluster> {
  const bin = options.bin ?? (await buildBinaries());
  const dir = mkdtempSync(join(tmpdir(), "netguard-k8s-"));
  const pki = join(dir, "pki");
  rmSync(pki, { recursive: true, force: true });
  await run("mkdir", ["-p", pki]);
  await makePki(pki);
  const logs = { etcd: join(dir, "etcd.log"), apiserver: join(dir, "apiserver.log"), controllerManager: join(dir, "controller-manager.log") };
  const { etcd, etcdUrl } = await startEtcd(bin, dir, logs.etcd);
  const apiPort = await freePort();
  const server = `https://127.0.0.1:${apiPort}`;
  const apiserverArgs = [
    `--etcd-servers=${etcdUrl}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${apiPort}`,
    `--cert-dir=${join(dir, "apiserver-certs")}`,
    `--tls-cert-file=${join(pki, "apiserver.crt")}`,
    `--tls-private-key-file=${join(pki, "apiserver.key")}`,
    `--client-ca-file=${join(pki, "ca.crt")}`,
    "--authorization-mode=RBAC",
    "--service-account-issuer=https://kubernetes.default.svc",
    `--service-account-key-file=${join(pki, "sa.pub")}`,
    `--service-account-signing-key-file=${join(pki, "sa.key")}`,
    // The multicloud fixture's cluster.serviceCIDRs: the default ServiceCIDR the apiserver makes agrees with the config.
    "--service-cluster-ip-range=10.12.0.0/20",
    "--allow-privileged=true",
    "--disable-admission-plugins=ServiceAccount",
    "--endpoint-reconciler-type=none",
    "--v=1",
    ...(options.apiserverArgs ?? []),
  ];
  let apiserver = startProcess(join(bin, "kube-apiserver"), apiserverArgs, logs.apiserver);
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(kubeconfig, kubeconfigYaml(server, pki, "admin", "admin"));
  const kcmKubeconfig = join(dir, "controller-manager.kubeconfig");
  writeFileSync(kcmKubeconfig, kubeconfigYaml(server, pki, "system:kube-controller-manager", "kcm"));
  let controllerManager: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    if (controllerManager) await stopProcess(controllerManager);
    await stopProcess(apiserver);
    await stopProcess(etcd);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitApiserver(server, pki, apiserver, logs.apiserver);
    // Its port is picked only now, and picked again if another process took it meanwhile (tests start clusters in parallel).
    for (let attempt = 1; ; attempt++) {
      const kcmPort = await freePort();
      controllerManager = startProcess(join(bin, "kube-controller-manager"), [
        `--kubeconfig=${kcmKubeconfig}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${kcmPort}`,
        `--tls-cert-file=${join(pki, "kcm.crt")}`,
        `--tls-private-key-file=${join(pki, "kcm.key")}`,
        `--controllers=${CONTROLLERS.join(",")}`,
        "--use-service-account-credentials=true",
        `--service-account-private-key-file=${join(pki, "sa.key")}`,
        `--root-ca-file=${join(pki, "ca.crt")}`,
        "--leader-elect=false",
        "--v=1",
      ], logs.controllerManager);
      try {
        await waitControllerManager(server, `https://127.0.0.1:${kcmPort}/healthz`, pki, controllerManager, logs.controllerManager);
        break;
      } catch (error) {
        if (attempt >= 3 || !/address already in use/.test(readFileSync(logs.controllerManager, "utf8"))) throw error;
        writeFileSync(logs.controllerManager, "");
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    server,
    kubeconfig,
    dir,
    caFile: join(pki, "ca.crt"),
    logs,
    restartApiserver: async () => {
      await stopProcess(apiserver);
      apiserver = startProcess(join(bin, "kube-apiserver"), apiserverArgs, logs.apiserver);
      await waitApiserver(server, pki, apiserver, logs.apiserver);
    },
    stop,
  };
}

/**
 * A real, local Kubernetes control plane for `make run` and the end-to-end tests: etcd and
 * kube-apiserver built from Go modules (build.sh), started on loopback with random ports,
 * torn down with everything they wrote.
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
  logs: { etcd: string; apiserver: string };
  /** Stops kube-apiserver and starts it again on the same port (etcd keeps the data). */
  restartApiserver(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds (or reuses the cached) kube-apiserver and etcd; returns the bin directory. */
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
      "subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc" \
      "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth") 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=netguard-admin" 2>/dev/null
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 7 -out admin.crt -extfile <(printf '%s\\n' \
      "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=clientAuth") 2>/dev/null
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

function readyz(server: string, ca: Buffer, cert: Buffer, key: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${server}/readyz`, { ca, cert, key, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

async function waitReady(server: string, dir: string, child: ChildProcess, logFile: string, timeoutMs = 120_000): Promise<void> {
  const [ca, cert, key] = ["ca.crt", "admin.crt", "admin.key"].map((f) => readFileSync(join(dir, "pki", f)));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`kube-apiserver exited with ${child.exitCode}; see ${logFile}`);
    if (await readyz(server, ca!, cert!, key!)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`kube-apiserver not ready after ${timeoutMs / 1000}s; see ${logFile}`);
}

export interface ClusterOptions {
  bin?: string;
  /** Added to kube-apiserver's command line, e.g. --admission-control-config-file. */
  apiserverArgs?: readonly string[];
}

export async function startCluster(options: ClusterOptions = {}): Promise<LocalCluster> {
  const bin = options.bin ?? (await buildBinaries());
  const dir = mkdtempSync(join(tmpdir(), "netguard-k8s-"));
  const pki = join(dir, "pki");
  rmSync(pki, { recursive: true, force: true });
  await run("mkdir", ["-p", pki]);
  await makePki(pki);
  const [etcdPort, apiPort] = [await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const server = `https://127.0.0.1:${apiPort}`;
  const logs = { etcd: join(dir, "etcd.log"), apiserver: join(dir, "apiserver.log") };
  const etcd = startProcess(join(bin, "etcd"), [
    `--data-dir=${join(dir, "etcd")}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    "--listen-peer-urls=http://127.0.0.1:0",
    "--unsafe-no-fsync",
    "--log-level=warn",
  ], logs.etcd);
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
    "--service-cluster-ip-range=10.0.0.0/24",
    "--allow-privileged=true",
    "--disable-admission-plugins=ServiceAccount",
    "--endpoint-reconciler-type=none",
    "--v=1",
    ...(options.apiserverArgs ?? []),
  ];
  let apiserver = startProcess(join(bin, "kube-apiserver"), apiserverArgs, logs.apiserver);
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- name: netguard-local
  cluster: {server: "${server}", certificate-authority: "${join(pki, "ca.crt")}"}
users:
- name: admin
  user: {client-certificate: "${join(pki, "admin.crt")}", client-key: "${join(pki, "admin.key")}"}
contexts:
- name: netguard-local
  context: {cluster: netguard-local, user: admin}
current-context: netguard-local
`,
  );
  const stop = async (): Promise<void> => {
    await stopProcess(apiserver);
    await stopProcess(etcd);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(server, dir, apiserver, logs.apiserver);
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
      await waitReady(server, dir, apiserver, logs.apiserver);
    },
    stop,
  };
}

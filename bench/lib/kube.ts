/** A minimal kube-apiserver client for the benchmarks: JSON over one keep-alive HTTPS pool with the admin cert, and a watch. */
import { readFileSync } from "node:fs";
import { Agent, request, type RequestOptions } from "node:https";
import { join } from "node:path";
import type { LocalCluster } from "../../test/k8s/cluster.js";

export interface KubeResponse {
  status: number;
  body: any;
}

export interface Kube {
  call(method: string, path: string, body?: unknown): Promise<KubeResponse>;
  /** Streams watch events of `path` (a collection URL) until the returned stop() is called. */
  watch(path: string, onEvent: (type: string, object: any) => void): { stop(): void };
  close(): void;
}

export function kubeClient(cluster: LocalCluster): Kube {
  const pki = (f: string) => readFileSync(join(cluster.dir, "pki", f));
  const tls = { ca: pki("ca.crt"), cert: pki("admin.crt"), key: pki("admin.key") };
  const agent = new Agent({ keepAlive: true, maxSockets: 8, ...tls });
  const { hostname, port } = new URL(cluster.server);
  const base: RequestOptions = { host: hostname, port, agent, headers: { "content-type": "application/json", accept: "application/json" } };
  return {
    call: (method, path, body) =>
      new Promise((resolve, reject) => {
        const req = request({ ...base, method, path }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString();
            resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
          });
        });
        req.on("error", reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
      }),
    watch(path, onEvent) {
      const sep = path.includes("?") ? "&" : "?";
      const req = request({ ...base, agent: false, ...tls, method: "GET", path: `${path}${sep}watch=1` }, (res) => {
        let pending = "";
        res.on("data", (chunk: Buffer) => {
          const lines = (pending + chunk.toString()).split("\n");
          pending = lines.pop() ?? "";
          for (const line of lines.filter(Boolean)) {
            const event = JSON.parse(line) as { type: string; object: unknown };
            onEvent(event.type, event.object);
          }
        });
      });
      req.on("error", () => {});
      req.end();
      return { stop: () => req.destroy() };
    },
    close: () => agent.destroy(),
  };
}

/** Fails with the apiserver's message unless the status is one of `ok`. */
export async function expectStatus(response: Promise<KubeResponse>, what: string, ok = [200, 201]): Promise<any> {
  const r = await response;
  if (!ok.includes(r.status)) throw new Error(`${what}: HTTP ${r.status} ${r.body?.message ?? JSON.stringify(r.body)}`);
  return r.body;
}

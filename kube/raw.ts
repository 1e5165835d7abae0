import * as http from "node:http";
import * as https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";

/**
 * Plain-JSON reads from the apiserver.
 *
 * client-node's typed list calls return model classes whose fields are renamed where the JSON name
 * is a reserved word (`from` becomes `_from`, `continue` becomes `_continue`) and whose timestamps
 * are Dates, while watch events carry the JSON as sent. The engine and the controller's caches need
 * one shape, the apiserver's: these helpers return exactly what the apiserver sent.
 */

export interface ApiFailure extends Error {
  code: number;
  body: string;
}

function failure(status: number, body: string, path: string): ApiFailure {
  let reason = body.slice(0, 300);
  try {
    reason = (JSON.parse(body) as { message?: string }).message ?? reason;
  } catch {
    /* not JSON */
  }
  const error = new Error(`GET ${path}: ${status} ${reason}`) as ApiFailure;
  error.code = status;
  error.body = body;
  return error;
}

/**
 * client-node makes a new Agent (so a new TLS connection) for every request. One keep-alive agent per
 * KubeConfig and server is kept instead: the credentials in headers are still applied per request
 * (tokens rotate), the TLS identity is the kubeconfig's.
 */
const agents = new WeakMap<KubeConfig, { server: string; agent: http.Agent }>();

function sharedAgent(kc: KubeConfig, server: string, created: http.Agent | undefined): http.Agent | undefined {
  const known = agents.get(kc);
  if (known && known.server === server) return known.agent;
  if (!created) return undefined;
  const options = (created as http.Agent & { options?: https.AgentOptions }).options ?? {};
  const agent = new https.Agent({ ...options, keepAlive: true, maxSockets: 16 });
  agents.set(kc, { server, agent });
  return agent;
}

/** GET a path from the current cluster as parsed JSON; a non-2xx answer rejects with `code` and `body`. */
export async function getJson<T>(kc: KubeConfig, path: string, query: Record<string, string | number | undefined> = {}, timeoutMs = 60_000): Promise<T> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("no current cluster in the kubeconfig");
  const url = new URL(cluster.server.replace(/\/+$/, "") + path);
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") url.searchParams.set(k, String(v));
  const options: https.RequestOptions = { method: "GET", headers: { Accept: "application/json" } };
  await kc.applyToHTTPSOptions(options);
  // Only plain agents are shared; a proxy agent (kubeconfig proxy-url) is used as client-node made it.
  if (options.agent instanceof https.Agent && url.protocol === "https:") {
    options.agent = sharedAgent(kc, cluster.server, options.agent) ?? options.agent;
  }
  const send = url.protocol === "http:" ? http.request : https.request;
  return new Promise<T>((resolve, reject) => {
    const req = send(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) return reject(failure(status, body, path));
        try {
          resolve(JSON.parse(body) as T);
        } catch (error) {
          reject(new Error(`GET ${path}: the answer is not JSON: ${(error as Error).message}`));
        }
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${path}: no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

export interface RawList<T> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export interface ListOptions {
  /** Objects per page (limit/continue); the pages form one consistent snapshot. */
  limit?: number;
  labelSelector?: string;
  fieldSelector?: string;
  /** Called after every page with the number of objects so far. */
  onPage?(count: number, done: boolean): void;
}

/** A whole collection, page by page, with the snapshot's resourceVersion (what an informer resumes from). */
export async function listAll<T>(kc: KubeConfig, path: string, options: ListOptions = {}): Promise<RawList<T>> {
  const items: T[] = [];
  let token: string | undefined;
  let resourceVersion: string | undefined;
  let first: RawList<T> | undefined;
  do {
    const page = await getJson<RawList<T>>(kc, path, {
      limit: options.limit ?? 500,
      continue: token,
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
    });
    first ??= page;
    items.push(...(page.items ?? []));
    resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    token = page.metadata?.continue || undefined;
    options.onPage?.(items.length, !token);
  } while (token);
  return { apiVersion: first?.apiVersion, kind: first?.kind, metadata: { resourceVersion }, items };
}

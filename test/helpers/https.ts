import { request } from "node:https";

/** GET over HTTPS from a netguard replica (its certificate is self-signed; not what is under test here). */
export function httpsGet(url: string, ca?: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request(url, { ...(ca ? { ca } : { rejectUnauthorized: false }), timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => done({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", fail);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}

/** Whether the netguard at `url` (https://host:port) answers 200 on /readyz. */
export async function isReady(url: string, ca?: string): Promise<boolean> {
  return (await httpsGet(`${url}/readyz`, ca)).status === 200;
}

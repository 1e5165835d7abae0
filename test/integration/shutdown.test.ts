/**
 * Shutdown with kept-alive callers (server/drain.ts): a connection idle when shutdown starts still answers the
 * request its client is about to write, with `connection: close`, instead of being reset under it.
 */
import { Agent } from "node:https";
import t from "tap";
import { sleep } from "../helpers/wait.js";
import { https, ingressFrom, MULTICLOUD, networkPolicy, networkPolicyReview, startTestServer } from "./fixtures/harness.js";


t.test("a kept-alive connection idle at shutdown answers its next request, then closes", async (t) => {
  const { server, certs } = await startTestServer(t, { configPath: MULTICLOUD });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const ca = certs.ca.cert;
  const review = () => networkPolicyReview(networkPolicy("p", ingressFrom("10.100.0.0/16")));
  const first = await https({ port: server.port, ca, path: "/validate", method: "POST", body: review(), agent });
  t.equal(first.headers.connection, "keep-alive", "the connection is kept alive and now idle");

  const started = Date.now();
  const closed = server.close();
  await sleep(200);
  const next = await https({ port: server.port, ca, path: "/validate", method: "POST", body: review(), agent });
  t.equal(next.status, 200, "the request written on it after shutdown began is answered");
  t.equal(next.json.response.allowed, false, "and decided");
  t.equal(next.headers.connection, "close", "with connection: close");
  await t.rejects(https({ port: server.port, ca, path: "/healthz" }), { code: "ECONNREFUSED" }, "new connections are refused");
  await closed;
  t.ok(Date.now() - started < 3_000, `shutdown still completes promptly (${Date.now() - started} ms)`);
});

t.test("a connection that stays quiet is closed after a second, not at the grace period", async (t) => {
  const { server, certs } = await startTestServer(t, { configPath: MULTICLOUD, shutdownGraceMs: 20_000 });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  await https({ port: server.port, ca: certs.ca.cert, path: "/healthz", agent });
  const started = Date.now();
  await server.close();
  const took = Date.now() - started;
  t.ok(took >= 900 && took < 3_000, `closed after ${took} ms`);
});

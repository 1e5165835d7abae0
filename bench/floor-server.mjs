// The floor of the webhook benchmark: the least an HTTPS admission webhook can do. fastify on the same TLS
// settings as netguard (server/app.ts), the default JSON parser, no logging, and every AdmissionReview answered
// `allowed: true`. netguard's CPU per review and saturation are reported as ratios to this, run by run.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import Fastify from "fastify";

const { values } = parseArgs({ options: { port: { type: "string" }, cert: { type: "string" }, key: { type: "string" } } });
const app = Fastify({
  https: { cert: readFileSync(values.cert), key: readFileSync(values.key), minVersion: "TLSv1.2", ALPNProtocols: ["http/1.1"] },
  logger: false,
  bodyLimit: 3 * 1024 * 1024,
});
const allow = async (req) => ({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: req.body?.request?.uid ?? "", allowed: true } });
app.post("/validate", allow);
app.post("/mutate", allow);
app.get("/readyz", async () => "ok");
await app.listen({ port: Number(values.port), host: "127.0.0.1" });
process.on("SIGTERM", () => void app.close().then(() => process.exit(0)));

/**
 * The container image cannot be built here (no Docker engine), so scripts/docker-build-check.sh runs the
 * Dockerfile's steps outside Docker and starts the result the way the image would.
 */
import { join } from "node:path";
import t from "tap";
import { repoRoot } from "../helpers/paths.js";
import { run } from "./fixtures/install.js";

t.test("the Dockerfile's build steps produce a netguard that serves, as the image's user", async (t) => {
  const started = Date.now();
  const r = await run("bash", [join(repoRoot, "scripts", "docker-build-check.sh")], { timeoutMs: 110_000 });
  t.equal(r.code, 0, r.stderr.split("\n").slice(-15).join("\n"));
  t.match(r.stdout, /^ok: /m);
  t.match(r.stderr, /GET \/healthz: ok/);
  t.comment(`${Math.round((Date.now() - started) / 1000)} s; ${r.stderr.match(/runtime size: .*/)?.[0] ?? ""}`);
});

/** Source trees of Go modules, fetched through the Go module proxy into the module cache (nothing copied here). */
import { execFileSync } from "node:child_process";

/** The CNI modules whose CRDs manifests/crds/upstream vendors (SOURCES.md) and whose examples the tests read. */
export const CNI_MODULES = {
  cilium: { path: "github.com/cilium/cilium", version: "v1.19.4" },
  calico: { path: "github.com/projectcalico/calico", version: "v1.11.0-cni-plugin.0.20250813170300-a0db560f0520" },
} as const;

/** The module's directory in the Go module cache, downloading it the first time (seconds; cached after). */
export function goModuleDir(module: { path: string; version: string }): string {
  const out = execFileSync("go", ["mod", "download", "-json", `${module.path}@${module.version}`], {
    encoding: "utf8",
    env: { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod" },
    timeout: 300_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const info = JSON.parse(out) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download ${module.path}@${module.version}: ${info.Error ?? out}`);
  return info.Dir;
}

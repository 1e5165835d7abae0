import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The checkout's root, from the TypeScript sources or from their build under dist/. */
export const repoRoot = resolve(here, here.includes(join("dist", "test")) ? "../../.." : "../..");

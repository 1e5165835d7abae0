import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { repoRoot } from "./paths.js";

/** Where the team's shared material could be: $NETGUARD_SHARED_DIR, next to this checkout, or next to the checkout it was cloned from. */
function candidates(): string[] {
  const found = [process.env.NETGUARD_SHARED_DIR, resolve(repoRoot, "../shared")];
  try {
    const origin = execFileSync("git", ["-C", repoRoot, "remote", "get-url", "origin"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    if (isAbsolute(origin)) found.push(resolve(origin.replace(/\/\.git$/, ""), "../shared"));
  } catch {
    // not a clone, or no origin
  }
  return found.filter((d): d is string => Boolean(d));
}

/** A path inside ../shared (DESIGN.md), wherever this checkout is; throws with the places tried. */
export function sharedPath(...parts: string[]): string {
  const tried = candidates().map((dir) => resolve(dir, ...parts));
  const hit = tried.find((p) => existsSync(p));
  if (!hit) throw new Error(`${parts.join("/")} not found in the shared directory; tried ${tried.join(", ")} (set NETGUARD_SHARED_DIR)`);
  return hit;
}

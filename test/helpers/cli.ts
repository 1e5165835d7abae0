import { resolve } from "node:path";
import { repoRoot } from "./paths.js";
import { spawnCollect, type SpawnResult } from "./spawn.js";

export const cliPath = resolve(repoRoot, "dist/server/cli/main.js");

export type CliResult = SpawnResult;

/** Runs the built `netguard` binary (make build first), as a user or CI would. */
export function runCli(args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return spawnCollect(process.execPath, [cliPath, ...args], { cwd: repoRoot, env: { ...process.env, ...options.env }, stdin: options.stdin });
}

import type { Logger } from "pino";
import type { ConfigProblem, LoadedConfig } from "../../policies/index.js";
import type { Metrics } from "../metrics.js";
import { watchFiles, type FileWatch } from "../../kube/watch-files.js";
import { loadConfigFile } from "./file.js";

export interface ConfigReloadOptions {
  path: string;
  /** Receives each new valid config. */
  apply: (loaded: LoadedConfig) => void;
  /** Receives the problems of each version refused (the last good config, if any, stays in force). */
  reject?: (problems: readonly ConfigProblem[]) => void;
  metrics: Metrics;
  logger: Logger;
  pollMs?: number;
}

export function logConfigNotes(logger: Logger, path: string, loaded: LoadedConfig): void {
  for (const note of loaded.notes) logger.warn({ path, field: note.path }, `config note: ${note.message}`);
}

/** Reloads the config file when it changes; a bad version is refused, counted and logged, and the last good config stays in force. */
export function watchConfigFile(options: ConfigReloadOptions): Promise<FileWatch> {
  const { path, metrics, logger } = options;
  return watchFiles(
    [path],
    async () => {
      const result = await loadConfigFile(path);
      if (!result.ok) {
        metrics.configReloadFailures.inc();
        logger.error({ path, problems: result.problems }, "config change rejected; keeping the last good config");
        options.reject?.(result.problems);
        return;
      }
      options.apply(result.loaded);
      metrics.configReloads.inc();
      const { config } = result.loaded;
      logger.info({ path, mode: config.mode, cluster: config.cluster.name, remoteClusters: config.remoteClusters.length }, "config reloaded");
      logConfigNotes(logger, path, result.loaded);
    },
    { pollMs: options.pollMs, onError: (error) => logger.warn({ path, err: error }, "watching the config file failed; polling continues") },
  );
}

import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";

export type Cache<T extends k8s.KubernetesObject> = k8s.Informer<T> & k8s.ObjectCache<T>;

export interface WatchedResource<T extends k8s.KubernetesObject> {
  cache: Cache<T>;
  /** Resolves once the first list has been loaded. */
  synced: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a list+watch that never gives up: the informer re-lists on 410 Gone by itself; on any
 * other error (apiserver restarted, network) it is restarted with exponential backoff.
 */
export function watchResource<T extends k8s.KubernetesObject>(
  kc: k8s.KubeConfig,
  path: string,
  list: () => Promise<k8s.KubernetesListObject<T>>,
  log: Logger,
  options: { labelSelector?: string; onRestart?: () => void } = {},
): WatchedResource<T> {
  const cache = k8s.makeInformer<T>(kc, path, list, options.labelSelector);
  let stopped = false;
  let delay = 250;
  let timer: NodeJS.Timeout | undefined;
  let markSynced: () => void = () => {};
  const synced = new Promise<void>((resolve) => (markSynced = resolve));

  const start = (): void => {
    cache.start().then(
      () => {
        delay = 250;
        markSynced();
      },
      (error: unknown) => restart(error),
    );
  };
  const restart = (error: unknown): void => {
    if (stopped) return;
    log.warn({ path, err: error instanceof Error ? error.message : String(error), retryInMs: delay }, "watch failed; restarting");
    options.onRestart?.();
    clearTimeout(timer);
    timer = setTimeout(start, delay);
    delay = Math.min(delay * 2, 30_000);
  };
  cache.on("error", restart);
  start();
  return {
    cache,
    synced,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await cache.stop();
    },
  };
}

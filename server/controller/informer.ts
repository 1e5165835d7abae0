import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { NETGUARD_FIELD_MANAGER } from "../../policies/index.js";
import { apiStatus } from "../../kube/client.js";

export type Cache<T extends k8s.KubernetesObject> = k8s.Informer<T> & k8s.ObjectCache<T>;

export interface WatchedResource<T extends k8s.KubernetesObject> {
  cache: Cache<T>;
  /** Resolves once the first list has been loaded (never with an empty cache from a failed list). */
  synced: Promise<void>;
  stop(): Promise<void>;
}

export interface WatchOptions {
  labelSelector?: string;
  onRestart?: () => void;
  /** Called for every full list: the first, after a restart, and after a 410 Gone (a re-watch from an expired resourceVersion). */
  onList?: () => void;
}

/**
 * managedFields are most of a small object's size; netguard reads only whether its own field manager wrote
 * the object (isManagedPolicy), so only that entry's manager name is kept.
 */
function stripManagedFields(object: k8s.KubernetesObject | undefined): void {
  const metadata = object?.metadata;
  if (!metadata?.managedFields) return;
  const own = metadata.managedFields.find((entry) => entry.manager === NETGUARD_FIELD_MANAGER);
  if (own) metadata.managedFields = [{ manager: own.manager }];
  else delete metadata.managedFields;
}

/**
 * Starts a list+watch that never gives up.
 *
 * client-node's ListWatch re-lists by itself after a 410 Gone and re-watches from the last
 * resourceVersion when the server ends a watch normally. On any other error (apiserver restarted,
 * connection refused, list failed) it emits 'error' and stops for good; this restarts it with
 * exponential backoff. The backoff resets only after an attempt that listed and connected.
 *
 * ListWatch.start() resolves even when its list failed (it reports that through 'error'), so an
 * attempt counts as successful only if no error was reported while it ran; only then is the cache
 * considered synced.
 */
export function watchResource<T extends k8s.KubernetesObject>(
  kc: k8s.KubeConfig,
  path: string,
  list: () => Promise<k8s.KubernetesListObject<T>>,
  log: Logger,
  options: WatchOptions = {},
): WatchedResource<T> {
  const listed = () => {
    options.onList?.();
    return list();
  };
  const cache = k8s.makeInformer<T>(kc, path, listed, options.labelSelector);
  // The first handlers to run: ListWatch stores the listed or watched object itself and passes that same
  // object to "add" and "update", so this trims the cached copy (client-go's informers drop them too).
  cache.on("add", stripManagedFields);
  cache.on("update", stripManagedFields);
  const minDelay = 250;
  const maxDelay = 30_000;
  let stopped = false;
  let delay = minDelay;
  let timer: NodeJS.Timeout | undefined;
  let markSynced: () => void = () => {};
  const synced = new Promise<void>((resolve) => (markSynced = resolve));

  // client-node's ListWatch reports a failed list or watch through its "error" event and then
  // resolves start() anyway: only an attempt without an error counts as synced, and only such an
  // attempt resets the backoff.
  let failed = false;
  const start = (): void => {
    if (stopped) return;
    failed = false;
    cache.start().then(
      () => {
        // ListWatch.stop() aborts only a watch already open: one opened while its list was in flight
        // would outlive stop() and keep the process from exiting.
        if (stopped) return void cache.stop();
        if (failed) return;
        if (delay > minDelay) log.info({ path }, "watch re-established");
        delay = minDelay;
        markSynced();
      },
      (error: unknown) => restart(error),
    );
  };
  const restart = (error: unknown): void => {
    failed = true;
    if (stopped) return;
    log.warn({ path, err: error instanceof Error ? error.message : String(error), status: apiStatus(error), retryInMs: delay }, "watch failed; restarting");
    options.onRestart?.();
    clearTimeout(timer);
    timer = setTimeout(start, delay);
    delay = Math.min(delay * 2, maxDelay);
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

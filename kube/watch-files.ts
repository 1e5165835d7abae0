import { createHash } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";

export interface FileWatchOptions {
  /** Fallback poll period, for filesystems where change events are lost. */
  pollMs?: number;
  /** Changes closer together than this are handled once (a cert and its key are written one after the other). */
  debounceMs?: number;
  onError?: (error: unknown) => void;
}

export interface FileWatch {
  close(): void;
}

async function fingerprint(paths: readonly string[]): Promise<string> {
  const hash = createHash("sha256");
  for (const path of paths) {
    try {
      hash.update(await readFile(path));
    } catch (error) {
      hash.update(`unreadable:${(error as NodeJS.ErrnoException).code ?? "?"}`);
    }
    hash.update("\0");
  }
  return hash.digest("hex");
}

/**
 * Calls onChange whenever the content of any of `paths` changes. Watches their directories, not the files:
 * a mounted ConfigMap or Secret changes by swapping a `..data` symlink, which a watch on the file never sees.
 * A slow poll of a content hash backs the watch up. Calls never overlap.
 */
export async function watchFiles(paths: readonly string[], onChange: () => Promise<void> | void, options: FileWatchOptions = {}): Promise<FileWatch> {
  const absolute = paths.map((p) => resolve(p));
  let last = await fingerprint(absolute);
  let timer: NodeJS.Timeout | undefined;
  let running = Promise.resolve();
  let closed = false;

  const check = async () => {
    const now = await fingerprint(absolute);
    if (closed || now === last) return;
    last = now;
    await onChange();
  };
  const schedule = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      running = running.then(check).catch((error: unknown) => options.onError?.(error));
    }, options.debounceMs ?? 100);
  };

  const watchers: FSWatcher[] = [];
  for (const dir of new Set(absolute.map((p) => dirname(p)))) {
    try {
      watchers.push(watch(dir, { persistent: false }, schedule).on("error", (error) => options.onError?.(error)));
    } catch (error) {
      options.onError?.(error);
    }
  }
  const poll = setInterval(schedule, options.pollMs ?? 10_000);
  poll.unref();

  return {
    close() {
      closed = true;
      clearTimeout(timer);
      clearInterval(poll);
      for (const w of watchers) w.close();
    },
  };
}

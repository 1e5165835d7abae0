import type { Logger } from "pino";
import { watchFiles, type FileWatch } from "../kube/watch-files.js";
import { loadServingCert, type LoadedServingCert } from "./files.js";

export interface CertReloadOptions {
  certPath: string;
  keyPath: string;
  /** Installs a new pair, e.g. with tls.Server#setSecureContext: new connections get it, open ones keep theirs. */
  apply: (pair: LoadedServingCert) => void;
  onRejected: (error: unknown) => void;
  logger: Logger;
  pollMs?: number;
}

/** Reloads the serving certificate when its files change; a pair that does not load or match is refused. */
export function watchServingCert(options: CertReloadOptions): Promise<FileWatch> {
  const { certPath, keyPath, logger } = options;
  return watchFiles(
    [certPath, keyPath],
    async () => {
      let pair: LoadedServingCert;
      try {
        pair = await loadServingCert(certPath, keyPath);
      } catch (error) {
        options.onRejected(error);
        return;
      }
      options.apply(pair);
    },
    { pollMs: options.pollMs, onError: (error) => logger.warn({ certPath, err: error }, "watching the certificate files failed; polling continues") },
  );
}

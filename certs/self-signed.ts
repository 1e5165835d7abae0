import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeCertFiles } from "./files.js";
import { generateCA, generateServingCert } from "./generate.js";

export interface TemporaryCerts {
  certPath: string;
  keyPath: string;
  caPath: string;
  remove(): Promise<void>;
}

/** A throwaway CA and serving pair for localhost, 127.0.0.1 and ::1, in a new temporary directory. */
export async function temporaryLocalCerts(): Promise<TemporaryCerts> {
  const dir = await mkdtemp(join(tmpdir(), "netguard-certs-"));
  const ca = await generateCA();
  const paths = await writeCertFiles(dir, ca, await generateServingCert(ca, { dnsNames: ["localhost"], ips: ["127.0.0.1", "::1"] }));
  return { certPath: paths.cert, keyPath: paths.key, caPath: paths.caCert, remove: () => rm(dir, { recursive: true, force: true }) };
}

import { writeCertFiles } from "../../certs/files.js";
import { generateCA, generateServingCert, type CertKeyPair } from "../../certs/generate.js";

export interface LoopbackCerts {
  ca: CertKeyPair;
  certPath: string;
  keyPath: string;
  caPath: string;
  /** A fresh serving pair from the same CA (a rotation). */
  rotate(validityDays?: number): Promise<CertKeyPair>;
}

/** A new CA and a serving certificate for localhost and 127.0.0.1, written to `dir`. */
export async function loopbackCerts(dir: string, caName = "netguard-test-ca"): Promise<LoopbackCerts> {
  const ca = await generateCA(caName);
  const issue = (validityDays?: number) => generateServingCert(ca, { dnsNames: ["localhost"], ips: ["127.0.0.1"], validityDays });
  const paths = await writeCertFiles(dir, ca, await issue());
  return { ca, certPath: paths.cert, keyPath: paths.key, caPath: paths.caCert, rotate: issue };
}

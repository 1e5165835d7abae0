import { generate } from "selfsigned";

/** A PEM certificate and its PEM private key. */
export interface CertKeyPair {
  cert: string;
  key: string;
}

export interface ServingCertOptions {
  /** DNS subject alternative names, e.g. netguard.netguard-system.svc */
  dnsNames?: readonly string[];
  /** IP subject alternative names, e.g. 127.0.0.1 or ::1 */
  ips?: readonly string[];
  validityDays?: number;
}

const DAY_MS = 86_400_000;
// Certificates start an hour in the past so an apiserver with a slightly slow clock accepts them at once.
const CLOCK_SKEW_MS = 3_600_000;

function validity(days: number): { notBeforeDate: Date; notAfterDate: Date } {
  const now = Date.now();
  return { notBeforeDate: new Date(now - CLOCK_SKEW_MS), notAfterDate: new Date(now + days * DAY_MS) };
}

/** A self-signed CA (ECDSA P-256, SHA-256) that signs serving certificates. */
export async function generateCA(commonName = "netguard-webhook-ca", validityDays = 3650): Promise<CertKeyPair> {
  const pems = await generate([{ name: "commonName", value: commonName }], {
    keyType: "ec",
    algorithm: "sha256",
    ...validity(validityDays),
    extensions: [
      { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** A serving certificate signed by `ca`, valid for the given names and addresses. */
export async function generateServingCert(ca: CertKeyPair, options: ServingCertOptions): Promise<CertKeyPair> {
  const dnsNames = options.dnsNames ?? [];
  const ips = options.ips ?? [];
  if (dnsNames.length === 0 && ips.length === 0) throw new Error("a serving certificate needs at least one DNS name or IP address");
  const pems = await generate([{ name: "commonName", value: dnsNames[0] ?? ips[0] ?? "" }], {
    keyType: "ec",
    algorithm: "sha256",
    ...validity(options.validityDays ?? 365),
    ca,
    extensions: [
      { name: "basicConstraints", cA: false, critical: true },
      { name: "keyUsage", digitalSignature: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [...dnsNames.map((value) => ({ type: 2 as const, value })), ...ips.map((ip) => ({ type: 7 as const, ip }))],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/**
 * A client certificate signed by `ca` (extKeyUsage clientAuth): what the kube-apiserver presents to netguard
 * when `serve --client-ca` asks callers to authenticate (docs/install.md, "Authenticate the apiserver").
 */
export async function generateClientCert(ca: CertKeyPair, commonName: string, validityDays = 365): Promise<CertKeyPair> {
  const pems = await generate([{ name: "commonName", value: commonName }], {
    keyType: "ec",
    algorithm: "sha256",
    ...validity(validityDays),
    ca,
    extensions: [
      { name: "basicConstraints", cA: false, critical: true },
      { name: "keyUsage", digitalSignature: true, critical: true },
      { name: "extKeyUsage", clientAuth: true },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

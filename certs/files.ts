import { X509Certificate } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import type { CertKeyPair } from "./generate.js";

export interface CertificateInfo {
  serialNumber: string;
  subject: string;
  subjectAltName: string;
  notAfter: Date;
}

export interface LoadedServingCert extends CertKeyPair {
  info: CertificateInfo;
}

function certificateInfo(pem: string): CertificateInfo {
  const x509 = new X509Certificate(pem);
  return { serialNumber: x509.serialNumber, subject: x509.subject, subjectAltName: x509.subjectAltName ?? "", notAfter: new Date(x509.validTo) };
}

/** Reads a serving cert and key and checks they belong together, so a half-written rotation is refused. */
export async function loadServingCert(certPath: string, keyPath: string): Promise<LoadedServingCert> {
  const [cert, key] = await Promise.all([readFile(certPath, "utf8"), readFile(keyPath, "utf8")]);
  createSecureContext({ cert, key });
  return { cert, key, info: certificateInfo(cert) };
}

/** Each PEM certificate in `text`, one string apiece (a bundle, or a chain). */
export function pemCertificates(text: string): string[] {
  return (text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((pem) => `${pem}\n`);
}

/** A PEM bundle of CA certificates: the client CA of `serve --client-ca`. */
export interface CaBundle {
  pem: string;
  certificates: X509Certificate[];
}

/** Reads a CA bundle; refuses a file holding no certificate, or one that is not a CA. */
export async function loadCaBundle(path: string): Promise<CaBundle> {
  const pem = await readFile(path, "utf8");
  const certificates = pemCertificates(pem).map((block) => new X509Certificate(block));
  if (certificates.length === 0) throw new Error(`${path} holds no PEM certificate`);
  const leaf = certificates.find((c) => !c.ca);
  if (leaf) throw new Error(`${path}: ${leaf.subject} is not a CA certificate`);
  return { pem, certificates };
}

/** File names follow the kubernetes.io/tls Secret keys, so a mounted Secret and `netguard certs --out` look alike. */
const CERT_FILES = { caCert: "ca.crt", caKey: "ca.key", cert: "tls.crt", key: "tls.key" } as const;

async function writeAtomically(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

/** Where writeServingFiles puts the pair in `dir`. */
export const servingFilePaths = (dir: string) => ({ cert: join(dir, CERT_FILES.cert), key: join(dir, CERT_FILES.key) });

/** Writes a serving pair into `dir`, key first: a reader that sees the new cert also finds its key. */
export async function writeServingFiles(dir: string, serving: CertKeyPair): Promise<{ cert: string; key: string }> {
  await mkdir(dir, { recursive: true });
  const paths = servingFilePaths(dir);
  await writeAtomically(paths.key, serving.key, 0o600);
  await writeAtomically(paths.cert, serving.cert, 0o644);
  return paths;
}

/** Writes the CA and serving pair into `dir`; private keys are readable by the owner only. */
export async function writeCertFiles(dir: string, ca: CertKeyPair, serving: CertKeyPair): Promise<Record<keyof typeof CERT_FILES, string>> {
  await mkdir(dir, { recursive: true });
  const caCert = join(dir, CERT_FILES.caCert);
  const caKey = join(dir, CERT_FILES.caKey);
  await writeAtomically(caCert, ca.cert, 0o644);
  await writeAtomically(caKey, ca.key, 0o600);
  return { caCert, caKey, ...(await writeServingFiles(dir, serving)) };
}

/** An existing CA in `dir`, if both its files are there. */
export async function readCA(dir: string): Promise<CertKeyPair | undefined> {
  try {
    const [cert, key] = await Promise.all([readFile(join(dir, CERT_FILES.caCert), "utf8"), readFile(join(dir, CERT_FILES.caKey), "utf8")]);
    return { cert, key };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

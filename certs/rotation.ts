import { X509Certificate, createPrivateKey } from "node:crypto";
import { pemCertificates } from "./files.js";
import { generateCA, generateServingCert } from "./generate.js";

/**
 * A CA and the one serving pair it signed. Each rotation makes a new generation, so the CA key is
 * thrown away right after signing and never stored anywhere.
 */
export interface Generation {
  ca: string;
  cert: string;
  key: string;
}

export interface CertState {
  /** What every replica serves. */
  active: Generation;
  /** Issued and already trusted by the webhooks, served once the overlap has passed. */
  next?: Generation;
  /** The CA certificates the webhooks trust (caBundle): the active one, plus the next or the retiring one during a rotation. */
  bundle: string[];
  /** When the bundle or the active generation last changed, in ms since the epoch. */
  since: number;
}

export interface RotationPolicy {
  dnsNames: readonly string[];
  ips: readonly string[];
  validityMs: number;
  /** A generation whose certificate expires sooner than this is replaced. */
  renewBeforeMs: number;
  /** How long the webhooks trust a new CA before replicas serve its certificate, and trust the old CA after they stopped serving it. */
  overlapMs: number;
}

export interface Step {
  state: CertState;
  /** What changed, for the log. */
  what: string;
}

const DAY_MS = 86_400_000;

const unique = (pems: string[]) => [...new Set(pems.map((pem) => pemCertificates(pem)[0] ?? pem))];

async function issue(policy: RotationPolicy): Promise<Generation> {
  const validityDays = policy.validityMs / DAY_MS;
  const ca = await generateCA("netguard-webhook-ca", validityDays);
  const serving = await generateServingCert(ca, { dnsNames: policy.dnsNames, ips: policy.ips, validityDays });
  return { ca: unique([ca.cert])[0]!, cert: serving.cert, key: serving.key };
}

/** Not expired, the key matches, signed by its CA, and valid for every name and address the policy wants. */
function servable(g: Generation, now: number, policy: RotationPolicy): boolean {
  try {
    const cert = new X509Certificate(g.cert);
    if (Date.parse(cert.validTo) <= now) return false;
    if (!cert.checkPrivateKey(createPrivateKey(g.key)) || !cert.verify(new X509Certificate(g.ca).publicKey)) return false;
    return policy.dnsNames.every((name) => cert.checkHost(name) !== undefined) && policy.ips.every((ip) => cert.checkIP(ip) !== undefined);
  } catch {
    return false;
  }
}

const expiresAt = (g: Generation) => Date.parse(new X509Certificate(g.cert).validTo);

/**
 * The next state of the certificates, or undefined when nothing is due. A rotation takes three steps,
 * each one overlap apart, so that no caller ever meets a certificate it does not trust:
 *   trust the next CA (bundle = active + next) → serve the next pair → drop the old CA.
 * `bundleCurrent` says whether the webhooks carried `state.bundle` already; the served pair and the
 * trusted CAs only move on from a bundle the apiserver has had for a whole overlap.
 * A state that cannot be served at all (none yet, expired, wrong names) is replaced at once.
 */
export async function advance(state: CertState | undefined, now: number, policy: RotationPolicy, bundleCurrent: boolean): Promise<Step | undefined> {
  if (!state || !servable(state.active, now, policy)) {
    const fresh = await issue(policy);
    // Replicas still serving the old pair stay trusted until they switch; the old CA is dropped after an overlap.
    return { state: { active: fresh, bundle: unique([fresh.ca, ...(state?.bundle ?? [])]), since: now }, what: "issued a new CA and serving certificate" };
  }
  const { active } = state;
  if (state.next && !servable(state.next, now, policy)) {
    const next = await issue(policy);
    return { state: { active, next, bundle: unique([active.ca, next.ca]), since: now }, what: "reissued the next CA; the webhooks trust it before it is served" };
  }
  const settled = bundleCurrent && now - state.since >= policy.overlapMs;
  if (state.next) {
    if (!settled) return undefined;
    return { state: { active: state.next, bundle: state.bundle, since: now }, what: "serving the certificate of the next CA; the old CA stays trusted for one overlap" };
  }
  if (state.bundle.length !== 1 || state.bundle[0] !== active.ca) {
    if (!settled) return undefined;
    return { state: { active, bundle: [active.ca], since: now }, what: "dropped the retired CA from the caBundle" };
  }
  if (expiresAt(active) - now > policy.renewBeforeMs) return undefined;
  const next = await issue(policy);
  return { state: { active, next, bundle: unique([active.ca, next.ca]), since: now }, what: "rotation started: the webhooks trust the next CA before it is served" };
}

/** AdmissionReview bodies with a fresh uid per request, and the check that the response answers that uid as expected. */
import { admissionReview } from "./fixtures.js";

const UID = "00000000-0000-4000-8000-000000000000";

export interface ReviewCase {
  name: string;
  path: "/validate" | "/mutate";
  /** What the response must say: allowed or not, and whether a patch comes back. */
  allowed: boolean;
  patched: boolean;
  /** The body for request i, and its check. */
  request(i: number): { body: string; check(status: number, text: string): string | undefined };
}

export function reviewCase(
  name: string,
  path: "/validate" | "/mutate",
  object: Parameters<typeof admissionReview>[0],
  expect: { allowed: boolean; patched?: boolean },
): ReviewCase {
  const [head, tail] = JSON.stringify(admissionReview(object, UID)).split(UID) as [string, string];
  const patched = expect.patched ?? false;
  return {
    name,
    path,
    allowed: expect.allowed,
    patched,
    request(i) {
      const uid = `${UID.slice(0, -12)}${String(i).padStart(12, "0")}`;
      return { body: head + uid + tail, check: (status, text) => checkReview(status, text, uid, expect.allowed, patched) };
    },
  };
}

export function checkReview(status: number, text: string, uid: string, allowed: boolean, patched: boolean): string | undefined {
  if (status !== 200) return `HTTP ${status}`;
  let response: { uid?: unknown; allowed?: unknown; patch?: unknown } | undefined;
  try {
    response = (JSON.parse(text) as { response?: typeof response }).response;
  } catch {
    return "body is not JSON";
  }
  if (response?.uid !== uid) return "wrong uid";
  if (response.allowed !== allowed) return allowed ? "denied" : "allowed";
  if ((typeof response.patch === "string") !== patched) return patched ? "no patch" : "unexpected patch";
  return undefined;
}

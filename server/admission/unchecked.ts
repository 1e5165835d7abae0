import { clipWarning } from "./decide.js";
import type { AdmissionResponse } from "./review.js";

const SHOWN_PROBLEMS = 3;

/**
 * The answer while serve runs without a valid config: admitted, unchecked and unpatched (the
 * guardrails and the cluster label need the config), with warnings that say why, so that a bad
 * config never blocks the cluster behind fail-closed webhooks.
 */
export function uncheckedResponse(uid: string, problems: readonly string[]): AdmissionResponse {
  const more = problems.length > SHOWN_PROBLEMS ? [`... and ${problems.length - SHOWN_PROBLEMS} more config problems (netguard logs)`] : [];
  return {
    uid,
    allowed: true,
    warnings: ["netguard admitted this unchecked: its config is invalid; guardrails are off until it is fixed", ...problems.slice(0, SHOWN_PROBLEMS), ...more].map(clipWarning),
    auditAnnotations: { "config-invalid": "admitted unchecked: netguard's config is invalid" },
  };
}

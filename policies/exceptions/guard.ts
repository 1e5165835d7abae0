/** Who may write a GuardrailException, and what a write must hold: the webhook's check on CREATE and UPDATE. */
import type { GuardrailConfig } from "../config/types.js";
import { finishesDeletion, isPrivileged, type Deletable, type UserInfo } from "../guardrails.js";
import type { Finding } from "../types.js";
import { validateException } from "./exception.js";

export const EXCEPTION_GUARDRAIL = "guardrail-exception";

const deny = (path: string, message: string, fix: string): Finding => ({ rule: EXCEPTION_GUARDRAIL, action: "deny", certainty: "provable", path, message, fix });

/**
 * CREATE and UPDATE of a GuardrailException: only privilegedGroups (and netguard's privileged users) may write one,
 * and what they write must be valid, with an expiresAt in the future and at most exceptions.maxDays ahead (on UPDATE
 * only when it changes). Removing finalizers from an exception being deleted is always admitted.
 */
export function checkExceptionWrite(
  operation: string,
  object: unknown,
  old: unknown,
  user: UserInfo | undefined,
  config: GuardrailConfig,
  privilegedUsers: readonly string[],
  now: Date,
): Finding[] {
  if (operation !== "CREATE" && operation !== "UPDATE") return [];
  if (operation === "UPDATE" && finishesDeletion(old as Deletable, object as Deletable)) return [];
  if (!isPrivileged(user, config, privilegedUsers)) {
    return [
      deny(
        "metadata",
        `only ${config.privilegedGroups.join(", ")} may create or change a GuardrailException; ${user?.username ?? "this user"} is not among them.`,
        "Ask the platform team to review the case and create the exception; it needs a reason, an owner and an expiry.",
      ),
    ];
  }
  const stored = operation === "UPDATE" ? validateException(old).exception : undefined;
  const { problems } = validateException(object, { maxDays: config.exceptions.maxDays, now, ...(stored ? { old: stored } : {}) });
  return problems.map((p) => deny(p.path, `${p.message}.`, "Correct the field; docs/platform-teams.md describes a GuardrailException."));
}

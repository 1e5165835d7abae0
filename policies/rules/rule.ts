import type { RuleInfo } from "../config/catalog.js";
import type { PolicyContext } from "../context.js";
import type { PremiseReport } from "../types.js";

/** What a rule reports; the engine adds the rule id, the configured action and the premises' status. */
export interface RuleHit {
  path: string;
  message: string;
  fix: string;
  /** Set when the hit makes a whole peer ineffective (e.g. spec.ingress[0].from[1]). */
  peerPath?: string;
  /** The premises this hit rests on (established in premises.ts); a provable hit denies only when all hold. */
  premises?: readonly PremiseReport[];
}

export interface Rule extends RuleInfo {
  check(ctx: PolicyContext): RuleHit[];
}

import type { PolicyContext } from "../context.js";
import type { Certainty, RuleAction, RuleId } from "../types.js";

/** What a rule reports; the engine adds the rule id and the configured action. */
export interface RuleHit {
  path: string;
  message: string;
  fix: string;
  /** Set when the hit makes a whole peer ineffective (e.g. spec.ingress[0].from[1]). */
  peerPath?: string;
}

export interface Rule {
  readonly id: RuleId;
  /** One line, shown in listings and SARIF. */
  readonly title: string;
  readonly certainty: Certainty;
  readonly defaultAction: RuleAction;
  /**
   * Reasons about pod/namespace selectors across clusters, which only holds when the CNI
   * resolves selectors locally (policyScope local-only).
   */
  readonly remoteSelectorRule?: boolean;
  check(ctx: PolicyContext): RuleHit[];
}

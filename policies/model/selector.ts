/** A selector of any of the three syntaxes, as the rules reason about it: only sound questions, never its syntax. */
import { canMatchWithAll, contradictoryKeys, requiredValues, type LabelSelector, type LabelState } from "../selectors.js";

export interface PeerSelector {
  /** As written, for messages. */
  readonly text: string;
  /** False only when no object whose labels in `states` are as given (others free) can match. */
  canMatchWithAll(states: ReadonlyMap<string, LabelState>): boolean;
  /** When defined, every object it matches has `key` with one of these values. */
  requiredValues(key: string): string[] | undefined;
  /** Keys whose requirements contradict each other, so that nothing matches; empty when not proven. */
  contradictoryKeys(): string[];
  /** The values the selector names for `key`, every other value indistinguishable to it; undefined when it tells values apart otherwise. */
  mentionedValues(key: string): string[] | undefined;
}

export function labelSelectorValues(selector: LabelSelector, key: string): string[] {
  return [
    ...Object.entries(selector.matchLabels ?? {}).filter(([k]) => k === key).map(([, v]) => v),
    ...(selector.matchExpressions ?? []).filter((e) => e.key === key).flatMap((e) => e.values ?? []),
  ];
}

export function labelSelectorView(selector: LabelSelector, text?: string): PeerSelector {
  return {
    // Only messages read it: most selectors never need it.
    get text() {
      return text ?? JSON.stringify(selector);
    },
    canMatchWithAll: (states) => canMatchWithAll(selector, states),
    requiredValues: (key) => requiredValues(selector, key),
    contradictoryKeys: () => contradictoryKeys(selector),
    mentionedValues: (key) => labelSelectorValues(selector, key),
  };
}

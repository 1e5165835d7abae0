/** Reasoning about Kubernetes label selectors without enumerating objects. */

export interface LabelSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** What one selector demands of one label key. `values` undefined means "any value". */
interface KeyConstraint {
  mustExist: boolean;
  mustBeAbsent: boolean;
  values: Set<string> | undefined;
  excluded: Set<string>;
}

/** A label's state on an object: absent, or present with a value. */
export type LabelState = { present: false } | { present: true; value: string };

/** Per selector object: the rules ask the same selector many questions (validated selectors are never mutated). */
const constraintsCache = new WeakMap<LabelSelector, Map<string, KeyConstraint>>();

function constraintsOf(selector: LabelSelector): Map<string, KeyConstraint> {
  const known = constraintsCache.get(selector);
  if (known) return known;
  const byKey = computeConstraints(selector);
  constraintsCache.set(selector, byKey);
  return byKey;
}

function computeConstraints(selector: LabelSelector): Map<string, KeyConstraint> {
  const byKey = new Map<string, KeyConstraint>();
  const get = (key: string): KeyConstraint => {
    let c = byKey.get(key);
    if (!c) {
      c = { mustExist: false, mustBeAbsent: false, values: undefined, excluded: new Set() };
      byKey.set(key, c);
    }
    return c;
  };
  const restrict = (c: KeyConstraint, allowed: readonly string[]): void => {
    c.mustExist = true;
    c.values = new Set(c.values ? allowed.filter((v) => c.values!.has(v)) : allowed);
  };
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) restrict(get(key), [value]);
  for (const req of selector.matchExpressions ?? []) {
    const c = get(req.key);
    switch (req.operator) {
      case "In":
        restrict(c, req.values ?? []);
        break;
      case "NotIn":
        for (const v of req.values ?? []) c.excluded.add(v);
        break;
      case "Exists":
        c.mustExist = true;
        break;
      case "DoesNotExist":
        c.mustBeAbsent = true;
        break;
    }
  }
  return byKey;
}

function admits(c: KeyConstraint, state: LabelState): boolean {
  if (!state.present) return !c.mustExist;
  if (c.mustBeAbsent) return false;
  if (c.values && !c.values.has(state.value)) return false;
  return !c.excluded.has(state.value);
}

function satisfiable(c: KeyConstraint): boolean {
  if (c.mustExist && c.mustBeAbsent) return false;
  if (!c.mustExist) return true; // absence satisfies In-free, Exists-free constraints
  if (!c.values) return true; // infinitely many values remain after any finite NotIn
  return [...c.values].some((v) => !c.excluded.has(v));
}

/** Keys whose requirements contradict each other: the selector matches no object at all. */
export function contradictoryKeys(selector: LabelSelector): string[] {
  return [...constraintsOf(selector)].filter(([, c]) => !satisfiable(c)).map(([key]) => key);
}

/**
 * Can the selector match some object whose label `key` is in `state`
 * (other labels unconstrained)?
 */
export function canMatchWith(selector: LabelSelector, key: string, state: LabelState): boolean {
  return canMatchWithAll(selector, new Map([[key, state]]));
}

/** Can the selector match some object whose labels in `states` are as given (other labels unconstrained)? */
export function canMatchWithAll(selector: LabelSelector, states: ReadonlyMap<string, LabelState>): boolean {
  for (const [k, c] of constraintsOf(selector)) {
    const state = states.get(k);
    if (state ? !admits(c, state) : !satisfiable(c)) return false;
  }
  return true;
}

/** Does the selector match an object with exactly these labels? */
export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, c] of constraintsOf(selector)) {
    const value = Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : undefined;
    if (!admits(c, value === undefined ? { present: false } : { present: true, value })) return false;
  }
  return true;
}

/**
 * The finite set of values the selector allows for `key`, when it requires the key
 * to be present with one of a known list; undefined when any value (or absence) could match.
 */
export function requiredValues(selector: LabelSelector, key: string): string[] | undefined {
  const c = constraintsOf(selector).get(key);
  if (!c || !c.mustExist || !c.values) return undefined;
  return [...c.values].filter((v) => !c.excluded.has(v)).sort();
}

export function isEmptySelector(selector: LabelSelector | undefined): boolean {
  return !selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0);
}

import secureJson from "secure-json-parse";

/**
 * Deeper than any Kubernetes object gets (managedFields included), shallow enough that code walking the
 * parsed body recursively can never overflow the stack.
 */
export const MAX_JSON_DEPTH = 256;

/**
 * JSON values (objects, arrays, members and elements) one request body may hold. The heaviest real review,
 * an UPDATE of a NetworkPolicy with 10,000 peers (object and oldObject), holds about 240,000
 * (bench/hostile.ts); parsed, each value costs at most ~64 bytes of heap (`{}` in an array), so this caps
 * one body's parsed form at ~32 MiB however it is written.
 */
export const MAX_JSON_VALUES = 500_000;

export interface JsonCost {
  /** Deepest nesting of objects and arrays. */
  depth: number;
  /** Objects and arrays plus the separators between their members: every value but the outermost scalar. */
  values: number;
}

/**
 * What JSON text would cost to parse, counted without parsing it (brackets and commas inside strings do not
 * count). Stops counting as soon as a limit is passed, so hostile text costs one pass at most.
 */
export function jsonCost(text: string, limits: { depth?: number; values?: number } = {}): JsonCost {
  const maxDepth = limits.depth ?? Infinity;
  const maxValues = limits.values ?? Infinity;
  let depth = 0;
  let max = 0;
  let values = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      values++;
      if (++depth > max) max = depth;
      if (max > maxDepth || values > maxValues) break;
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2c && ++values > maxValues) break;
  }
  return { depth: max, values };
}

export class JsonBodyError extends Error {
  readonly statusCode = 400;
}

/**
 * JSON.parse for request bodies, as strict as fastify's own (no `__proto__` or `constructor.prototype`
 * keys), refusing absurd nesting (which would overflow the stack later) and more values than any
 * Kubernetes object has (which would take the heap past its cap) with a 400 before parsing.
 */
export function parseJsonBody(text: string): unknown {
  const cost = jsonCost(text, { depth: MAX_JSON_DEPTH, values: MAX_JSON_VALUES });
  if (cost.depth > MAX_JSON_DEPTH) {
    throw new JsonBodyError(`request body is nested deeper than ${MAX_JSON_DEPTH} levels; no Kubernetes object is`);
  }
  if (cost.values > MAX_JSON_VALUES) {
    throw new JsonBodyError(`request body holds more than ${MAX_JSON_VALUES} JSON values; no Kubernetes object does`);
  }
  try {
    return secureJson.parse(text, undefined, { protoAction: "error", constructorAction: "error" });
  } catch {
    throw new JsonBodyError("request body is not valid JSON");
  }
}

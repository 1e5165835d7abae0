import secureJson from "secure-json-parse";

/**
 * Deeper than any Kubernetes object gets (managedFields included), shallow enough that code walking the
 * parsed body recursively can never overflow the stack.
 */
export const MAX_JSON_DEPTH = 256;

/** The nesting depth of JSON text, counted without parsing it (brackets inside strings do not count). */
export function jsonDepth(text: string, stopAbove = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
      if (max > stopAbove) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

export class JsonBodyError extends Error {
  readonly statusCode = 400;
}

/**
 * JSON.parse for request bodies, as strict as fastify's own (no `__proto__` or `constructor.prototype`
 * keys), and refusing absurd nesting with a 400 instead of overflowing the stack later.
 */
export function parseJsonBody(text: string): unknown {
  if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new JsonBodyError(`request body is nested deeper than ${MAX_JSON_DEPTH} levels; no Kubernetes object is`);
  }
  try {
    return secureJson.parse(text, undefined, { protoAction: "error", constructorAction: "error" });
  } catch {
    throw new JsonBodyError("request body is not valid JSON");
  }
}

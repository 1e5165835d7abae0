import type { ErrorObject } from "ajv";
import { pointerToPath } from "./path.js";

export interface SchemaProblem {
  path: string;
  message: string;
}

/** Turns ajv errors into "path: reason" problems a person can act on. */
export function describeSchemaErrors(errors: readonly ErrorObject[] | null | undefined, root = ""): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const e of errors ?? []) {
    const base = pointerToPath(e.instancePath);
    const at = (extra?: string): string => {
      const p = extra ? (base ? `${base}.${extra}` : extra) : base;
      return root && p ? `${root}.${p}` : p || root || "(document)";
    };
    let problem: SchemaProblem;
    switch (e.keyword) {
      case "additionalProperties":
        problem = { path: at(String(e.params.additionalProperty)), message: "unknown field" };
        break;
      case "required":
        problem = { path: at(String(e.params.missingProperty)), message: "required field is missing" };
        break;
      case "enum":
        problem = { path: at(), message: `must be one of: ${(e.params.allowedValues as unknown[]).map(String).join(", ")}` };
        break;
      case "const":
        problem = { path: at(), message: `must be ${JSON.stringify(e.params.allowedValue)}` };
        break;
      case "type":
        problem = { path: at(), message: `must be ${String(e.params.type)}` };
        break;
      case "pattern":
        problem = { path: at(), message: `does not match the expected format (${String(e.params.pattern)})` };
        break;
      default:
        problem = { path: at(), message: e.message ?? e.keyword };
    }
    const key = `${problem.path}\u0000${problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(problem);
    }
  }
  return out;
}

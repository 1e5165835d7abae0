/** Field paths as kubectl prints them: spec.ingress[0].from[1].ipBlock, metadata.labels["a/b"]. */
export type PathSegment = string | number;

export function fieldPath(segments: readonly PathSegment[]): string {
  let out = "";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(s)) out += out === "" ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** Converts an ajv / RFC 6901 JSON pointer into a field path. */
export function pointerToPath(pointer: string): string {
  if (pointer === "") return "";
  const segments = pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
  return fieldPath(segments);
}

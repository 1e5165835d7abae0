import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import { fieldPath, type ConfigProblem, type PathSegment } from "../../policies/index.js";

/** An alias may expand the document to at most this many nodes: a config is far smaller, an alias bomb far larger. */
export const MAX_EXPANDED_NODES = 100_000;

/** One YAML document read without ever throwing: its value, or every problem with its line. */
export interface YamlDocument {
  /** Set when `problems` is empty. */
  value?: unknown;
  problems: ConfigProblem[];
  /** The line of the field at `segments`, or of its nearest ancestor present in the text. */
  lineOf(segments: readonly PathSegment[]): number;
}

/** The first line of a `yaml` parse error, without the position (reported separately). */
export function yamlMessage(message: string): string {
  return (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "");
}

const YAML_MESSAGES: Readonly<Record<string, string>> = {
  MULTIPLE_DOCS: "a second YAML document starts here ('---'); a GuardrailConfig is a single document",
  RESOURCE_EXHAUSTION: "is nested too deeply to read",
};

class AliasBomb extends Error {}

type Report = (at: PathSegment[], offset: number | undefined, message: string) => void;

const keyOf = (key: unknown): PathSegment => (isScalar(key) ? String(key.value) : "?");

/**
 * Checks what `toJS` would otherwise throw on or choke on, in one pass over the nodes as written:
 * aliases without an anchor before them, aliases inside the node they name (a cycle), expansion
 * beyond MAX_EXPANDED_NODES (an alias bomb: counted, never expanded), and duplicate keys.
 */
function checkNodes(doc: Document, lineAt: (offset: number | undefined) => number, report: Report): void {
  const sizes = new Map<string, number>();
  const open = new Set<string>();
  let expanded = 0;
  const walk = (node: unknown, at: PathSegment[]): number => {
    if (isAlias(node)) {
      const size = sizes.get(node.source);
      if (open.has(node.source)) report(at, node.range?.[0], `alias *${node.source} refers to a node that contains it (a cycle)`);
      else if (size === undefined) report(at, node.range?.[0], `alias *${node.source} has no anchor &${node.source} before it`);
      expanded += size ?? 1;
      if (expanded > MAX_EXPANDED_NODES) {
        report(at, node.range?.[0], `alias *${node.source} expands the document beyond ${MAX_EXPANDED_NODES} nodes (an alias bomb); netguard does not expand it`);
        throw new AliasBomb();
      }
      return size ?? 1;
    }
    expanded += 1;
    const anchor = (node as { anchor?: string } | null)?.anchor;
    if (anchor) open.add(anchor);
    let size = 1;
    if (isMap(node)) {
      const seen = new Map<string, number | undefined>();
      for (const pair of node.items) {
        const key = keyOf(pair.key);
        const offset = (pair.key as { range?: number[] } | null)?.range?.[0];
        if (seen.has(String(key))) report([...at, key], offset, `duplicate key (first at line ${lineAt(seen.get(String(key)))}); YAML keys must be unique`);
        else seen.set(String(key), offset);
        size += walk(pair.key, at) + walk(pair.value, [...at, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => (size += walk(item, [...at, i])));
    }
    if (anchor) {
      open.delete(anchor);
      sizes.set(anchor, size);
    }
    return size;
  };
  try {
    walk(doc.contents, []);
  } catch (error) {
    if (error instanceof AliasBomb) return;
    if (!(error instanceof RangeError)) throw error;
    report([], undefined, "is nested too deeply to read");
  }
}

/**
 * Reads `text` as one YAML (or JSON) document. Never throws: a syntax error, an alias without an
 * anchor, an alias bomb, a duplicate key, a second document, or text too deeply nested to read
 * are each a problem with its line (and field path where there is one).
 */
export function readYamlDocument(text: string): YamlDocument {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: false, prettyErrors: true });
  const lineAt = (offset: number | undefined): number => (offset === undefined ? 1 : counter.linePos(offset).line);
  const lineOf = (segments: readonly PathSegment[]): number => {
    for (let n = segments.length; n >= 0; n--) {
      const node = doc.getIn(segments.slice(0, n), true) as { range?: number[] } | undefined;
      if (node?.range) return lineAt(node.range[0]);
    }
    return lineAt(doc.contents?.range[0]);
  };
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const e of [...doc.errors, ...doc.warnings]) {
    const problem = { path: "", line: e.linePos?.[0].line ?? lineAt(e.pos[0]), message: YAML_MESSAGES[e.code] ?? yamlMessage(e.message) };
    // Text nested too deeply fails at every level below the limit: once is enough.
    const key = e.code === "RESOURCE_EXHAUSTION" ? e.code : `${problem.line}\u0000${problem.message}`;
    if (!seen.has(key)) problems.push(problem);
    seen.add(key);
  }
  if (problems.length === 0) {
    checkNodes(doc, lineAt, (at, offset, message) => problems.push({ path: fieldPath(at), line: lineAt(offset), message }));
  }
  if (problems.length > 0) return { problems, lineOf };
  // The checks above bound what toJS expands.
  return { value: doc.toJS({ maxAliasCount: -1 }), problems, lineOf };
}

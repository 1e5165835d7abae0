/**
 * Reads manifests the way kubectl does, so netguard judges the object kubectl would send.
 *
 * kubectl splits a stream on `---` lines itself (k8s.io/apimachinery/pkg/util/yaml), then turns each
 * document into JSON with sigs.k8s.io/yaml, which decodes with go-yaml v2: YAML 1.1 scalars
 * (`010` is 8, `0b1010` and `1_000` are numbers, `yes`/`on`/`y` are booleans), the merge key `<<`
 * applied in document order, duplicate keys last-wins, and map keys turned into strings. The
 * `yaml` package parses the text (with positions); the values are resolved here, by those rules.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, visit, type Document, type Node } from "yaml";
import { yamlMessage } from "../config/file.js";
import { formatFloat32, resolvePlain, resolveTagged, type Resolved } from "./yaml11-scalars.js";

export type PathSegment = string | number;

export interface DecodedDocument {
  value: unknown;
  /** Line of the document's first node, 1-based. */
  line: number;
  /** Line of the field at `segments` (or of its closest ancestor that exists), 1-based. */
  lineOf(segments: readonly PathSegment[]): number;
}

export interface DecodeProblem {
  line?: number;
  message: string;
}

class DecodeError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

/** go-yaml v2's guard against alias bombs ("document contains excessive aliasing"). */
function allowedAliasRatio(decodeCount: number): number {
  if (decodeCount <= 400_000) return 0.99;
  if (decodeCount >= 4_000_000) return 0.1;
  return 0.99 - 0.89 * ((decodeCount - 400_000) / 3_600_000);
}

const keyOf = (path: readonly PathSegment[]): string => JSON.stringify(path);

class Decoder {
  private readonly anchors = new Map<Node, Node | undefined>();
  private readonly expanding = new Set<Node>();
  private decodeCount = 0;
  private aliasCount = 0;
  private aliasDepth = 0;
  readonly lines = new Map<string, number>();
  /** What go-yaml's scanner refuses and the `yaml` package accepts, found before decoding. */
  readonly syntaxError?: DecodeError;

  constructor(
    doc: Document,
    private readonly lineAt: (offset: number) => number,
  ) {
    const latest = new Map<string, Node>();
    let syntaxError: DecodeError | undefined;
    visit(doc, {
      Node: (_key, node, path) => {
        if (isAlias(node)) this.anchors.set(node, latest.get(node.source));
        else if (node.anchor) latest.set(node.anchor, node);
        // go-yaml (like libyaml) starts no plain scalar with ':' inside [ ] or { }.
        const inFlow = path.some((p) => (isMap(p) || isSeq(p)) && p.flow);
        if (!syntaxError && inFlow && isScalar(node) && node.type === "PLAIN" && String(node.value).startsWith(":")) {
          syntaxError = new DecodeError(`did not find expected node content: quote ${String(node.value)} (inside [ ] or { } a plain value cannot start with ':')`, this.line(node));
        }
      },
    });
    this.syntaxError = syntaxError;
  }

  private line(node: Node | null | undefined): number | undefined {
    return node?.range ? this.lineAt(node.range[0]) : undefined;
  }

  decode(node: Node | null | undefined, path: PathSegment[], at: number | undefined): unknown {
    this.decodeCount++;
    if (this.aliasDepth > 0) this.aliasCount++;
    if (this.aliasCount > 100 && this.decodeCount > 1000 && this.aliasCount / this.decodeCount > allowedAliasRatio(this.decodeCount)) {
      throw new DecodeError("document contains excessive aliasing", this.line(node));
    }
    const line = this.line(node) ?? at;
    if (line !== undefined) this.lines.set(keyOf(path), line);
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return this.withAlias(node, (target) => this.decode(target, path, line));
    if (isScalar(node)) return this.scalar(node, line);
    if (isSeq(node)) return node.items.map((item, i) => this.decode(item as Node | null, [...path, i], line));
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      this.mapInto(node, out, path);
      return out;
    }
    throw new DecodeError("unsupported YAML node", line);
  }

  private withAlias<T>(alias: Node & { source: string }, body: (target: Node) => T): T {
    const target = this.anchors.get(alias);
    if (!target) throw new DecodeError(`unknown anchor '${alias.source}' referenced`, this.line(alias));
    if (this.expanding.has(alias)) throw new DecodeError(`anchor '${alias.source}' value contains itself`, this.line(alias));
    this.expanding.add(alias);
    this.aliasDepth++;
    try {
      return body(target);
    } finally {
      this.aliasDepth--;
      this.expanding.delete(alias);
    }
  }

  private resolve(node: Node & { value: unknown; type?: string; tag?: string }, line: number | undefined): Resolved {
    const text = String(node.value ?? "");
    try {
      if (node.tag && node.tag !== "!") return resolveTagged(node.tag, text);
      return node.type === "PLAIN" && !node.tag ? resolvePlain(text) : { kind: "str", value: text };
    } catch (error) {
      throw new DecodeError((error as Error).message, line);
    }
  }

  private scalar(node: Node & { value: unknown }, line: number | undefined): unknown {
    const resolved = this.resolve(node, line);
    if (resolved.kind === "float" && !Number.isFinite(resolved.value)) {
      throw new DecodeError(`${String(node.value)} cannot be represented in JSON (json: unsupported value)`, line);
    }
    return resolved.value;
  }

  private isMergeKey(key: unknown): boolean {
    return isScalar(key) && key.value === "<<" && ((key.type === "PLAIN" && !key.tag) || key.tag === "tag:yaml.org,2002:merge");
  }

  /** The JSON key sigs.k8s.io/yaml makes of a YAML map key. */
  private keyString(key: Node | null, line: number | undefined): string {
    const target = key && isAlias(key) ? this.withAlias(key, (t) => t) : key;
    if (target && (isMap(target) || isSeq(target))) throw new DecodeError("invalid map key: a map key must be a scalar", line);
    const resolved: Resolved = target && isScalar(target) ? this.resolve(target, line) : { kind: "null", value: null };
    switch (resolved.kind) {
      case "str":
        return resolved.value;
      case "bool":
        return String(resolved.value);
      case "int":
        return resolved.exact.toString();
      case "float":
        return formatFloat32(resolved.value);
      default:
        throw new DecodeError(`unsupported map key of type ${resolved.kind === "null" ? "<nil>" : "uint64"}`, line);
    }
  }

  private mapInto(node: Node, out: Record<string, unknown>, path: PathSegment[]): void {
    if (!isMap(node)) throw new DecodeError("map merge requires map or sequence of maps as the value", this.line(node));
    for (const pair of node.items) {
      const key = pair.key as Node | null;
      const value = pair.value as Node | null;
      const keyLine = this.line(key) ?? this.line(value);
      if (this.isMergeKey(key)) {
        this.merge(value, out, path, keyLine);
        continue;
      }
      const name = this.keyString(key, keyLine);
      // A field's line is its value's (its key's when the value is empty); the last duplicate wins.
      out[name] = this.decode(value, [...path, name], keyLine);
    }
  }

  private merge(value: Node | null, out: Record<string, unknown>, path: PathSegment[], line: number | undefined): void {
    const mapOf = (node: Node | null): Node => {
      const target = node && isAlias(node) ? this.anchors.get(node) : node;
      if (!target || !isMap(target)) throw new DecodeError("map merge requires map or sequence of maps as the value", this.line(node) ?? line);
      return target;
    };
    if (value && isSeq(value)) {
      // go-yaml v2 steps backwards, so earlier maps in the list take precedence.
      for (const item of [...value.items].reverse()) {
        const node = item as Node | null;
        if (node && isAlias(node)) this.withAlias(node, (t) => this.mapInto(mapOf(t), out, path));
        else this.mapInto(mapOf(node), out, path);
      }
    } else if (value && isAlias(value)) {
      this.withAlias(value, (t) => this.mapInto(mapOf(t), out, path));
    } else {
      this.mapInto(mapOf(value), out, path);
    }
  }
}

/** Splits a stream into documents on `---` lines, as kubectl's YAMLReader does. */
function splitDocuments(text: string): { chunks: { text: string; firstLine: number }[]; problem?: DecodeProblem } {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const chunks: { text: string; firstLine: number }[] = [];
  let buffer: string[] = [];
  let firstLine = 1;
  for (const [i, raw] of lines.entries()) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.startsWith("---")) {
      const rest = line.slice(3).trim();
      if (rest.length > 0 && !rest.startsWith("#")) {
        if (buffer.length > 0) chunks.push({ text: buffer.join(""), firstLine });
        return { chunks, problem: { line: i + 1, message: `invalid document separator: "${line}" (kubectl accepts only a comment after ---)` } };
      }
      if (buffer.length > 0) chunks.push({ text: buffer.join(""), firstLine });
      buffer = [];
      firstLine = i + 2;
      continue;
    }
    buffer.push(`${line}\n`);
  }
  if (buffer.length > 0) chunks.push({ text: buffer.join(""), firstLine });
  return { chunks };
}

/** kubectl reads a stream that starts with `{` as JSON objects, without splitting on `---`. */
function looksLikeJson(text: string): boolean {
  if (!text.trimStart().startsWith("{")) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function decodeChunk(chunk: { text: string; firstLine: number }): { document?: DecodedDocument; problems: DecodeProblem[] } {
  const counter = new LineCounter();
  const offset = chunk.firstLine - 1;
  const lineAt = (position: number): number => counter.linePos(position).line + offset;
  const parsed = parseAllDocuments(chunk.text, { version: "1.1", schema: "failsafe", merge: false, uniqueKeys: false, lineCounter: counter });
  // go-yaml v2 reads one document per `---` chunk.
  const doc = (Array.isArray(parsed) ? parsed : [parsed])[0] as Document | undefined;
  if (!doc) return { problems: [] };
  if (doc.errors.length > 0) {
    return { problems: doc.errors.map((e) => ({ line: e.linePos ? e.linePos[0].line + offset : undefined, message: yamlMessage(e.message) })) };
  }
  const decoder = new Decoder(doc, lineAt);
  if (decoder.syntaxError) return { problems: [{ line: decoder.syntaxError.line, message: decoder.syntaxError.message }] };
  try {
    const value = decoder.decode(doc.contents as Node | null, [], undefined);
    if (value === null) return { problems: [] };
    const line = doc.contents?.range ? lineAt(doc.contents.range[0]) : chunk.firstLine;
    const lineOf = (segments: readonly PathSegment[]): number => {
      for (let n = segments.length; n >= 0; n--) {
        const found = decoder.lines.get(keyOf(segments.slice(0, n)));
        if (found !== undefined) return found;
      }
      return line;
    };
    return { document: { value, line, lineOf }, problems: [] };
  } catch (error) {
    if (error instanceof DecodeError) return { problems: [{ line: error.line, message: error.message }] };
    throw error;
  }
}

/** Every document of a YAML or JSON stream as kubectl would send it (empty documents dropped). */
export function decodeManifests(text: string): { documents: DecodedDocument[]; problems: DecodeProblem[] } {
  const source = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const { chunks, problem } = looksLikeJson(source) ? { chunks: [{ text: source, firstLine: 1 }] } : splitDocuments(source);
  const documents: DecodedDocument[] = [];
  const problems: DecodeProblem[] = [];
  for (const chunk of chunks) {
    const result = decodeChunk(chunk);
    if (result.document) documents.push(result.document);
    problems.push(...result.problems);
  }
  if (problem) problems.push(problem);
  return { documents, problems };
}

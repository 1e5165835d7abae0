import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { LineCounter, parseAllDocuments, type Document } from "yaml";
import { parsePath } from "../../policies/index.js";
import { yamlMessage } from "../config/file.js";

/** One Kubernetes object read from a file, with a way to find the line of any of its fields. */
export interface SourceObject {
  source: string;
  line: number;
  object: unknown;
  /** Line of a field path inside this object (closest existing ancestor), 1-based. */
  lineOf(path: string): number;
}

export interface ReadProblem {
  source: string;
  line?: number;
  message: string;
}

const MANIFEST = /\.(ya?ml|json)$/i;

/** Expands files and directories (recursively, manifests only, sorted); "-" is standard input. */
export async function expandPaths(paths: readonly string[]): Promise<{ files: string[]; problems: ReadProblem[] }> {
  const files: string[] = [];
  const problems: ReadProblem[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (MANIFEST.test(entry.name)) files.push(full);
    }
  };
  for (const path of paths) {
    if (path === "-") {
      files.push(path);
      continue;
    }
    try {
      if ((await stat(path)).isDirectory()) await walk(path);
      else files.push(path);
    } catch (error) {
      problems.push({ source: path, message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}` });
    }
  }
  return { files, problems };
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on("data", (c: Buffer) => chunks.push(c));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

function objectsOf(doc: Document, source: string, counter: LineCounter): SourceObject[] {
  const lineAt = (segments: (string | number)[]): number => {
    for (let n = segments.length; n >= 0; n--) {
      const node = doc.getIn(segments.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return counter.linePos(node.range[0]).line;
    }
    return 1;
  };
  const make = (object: unknown, prefix: (string | number)[]): SourceObject => ({
    source,
    line: lineAt(prefix),
    object,
    lineOf: (path) => lineAt([...prefix, ...parsePath(path)]),
  });
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return [];
  const list = value as { kind?: unknown; items?: unknown };
  if (typeof list === "object" && typeof list.kind === "string" && list.kind.endsWith("List") && Array.isArray(list.items)) {
    return list.items.map((item, i) => make(item, ["items", i]));
  }
  return [make(value, [])];
}

/** Parses YAML or JSON text (multi-document, `kind: List` expanded). */
export function parseObjects(text: string, source: string): { objects: SourceObject[]; problems: ReadProblem[] } {
  const counter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: counter, uniqueKeys: true, prettyErrors: true });
  const objects: SourceObject[] = [];
  const problems: ReadProblem[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const errors = "errors" in doc ? doc.errors : [];
    if (errors.length > 0) {
      for (const e of errors) problems.push({ source, line: e.linePos?.[0].line, message: yamlMessage(e.message) });
      continue;
    }
    objects.push(...objectsOf(doc as Document, source, counter));
  }
  return { objects, problems };
}

export async function readObjects(file: string): Promise<{ objects: SourceObject[]; problems: ReadProblem[] }> {
  try {
    const text = file === "-" ? await readStdin() : await readFile(file, "utf8");
    return parseObjects(text, file === "-" ? "<stdin>" : file);
  } catch (error) {
    return { objects: [], problems: [{ source: file, message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }] };
  }
}

import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { parsePath } from "../../policies/index.js";
import { decodeManifests, type DecodedDocument } from "./kube-yaml.js";

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

const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function objectsOf(doc: DecodedDocument, source: string): { objects: SourceObject[]; problems: ReadProblem[] } {
  const make = (object: unknown, prefix: (string | number)[]): SourceObject => ({
    source,
    line: doc.lineOf(prefix),
    object,
    lineOf: (path) => doc.lineOf([...prefix, ...parsePath(path)]),
  });
  const { value } = doc;
  if (!isMapping(value)) {
    const what = Array.isArray(value) ? "a list" : `a ${typeof value === "string" ? "string" : typeof value}`;
    return { objects: [], problems: [{ source, line: doc.line, message: `this document is ${what}, not a Kubernetes object (kubectl refuses it)` }] };
  }
  if (typeof value.kind === "string" && value.kind.endsWith("List") && Array.isArray(value.items)) {
    const objects: SourceObject[] = [];
    const problems: ReadProblem[] = [];
    value.items.forEach((item, i) => {
      if (isMapping(item)) objects.push(make(item, ["items", i]));
      else problems.push({ source, line: doc.lineOf(["items", i]), message: `items[${i}] is not a Kubernetes object` });
    });
    return { objects, problems };
  }
  return { objects: [make(value, [])], problems: [] };
}

/** Parses YAML or JSON text (multi-document, `kind: List` expanded) as kubectl reads it. */
export function parseObjects(text: string, source: string): { objects: SourceObject[]; problems: ReadProblem[] } {
  const decoded = decodeManifests(text);
  const objects: SourceObject[] = [];
  const problems: ReadProblem[] = decoded.problems.map((p) => ({ source, line: p.line, message: p.message }));
  for (const doc of decoded.documents) {
    const read = objectsOf(doc, source);
    objects.push(...read.objects);
    problems.push(...read.problems);
  }
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
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

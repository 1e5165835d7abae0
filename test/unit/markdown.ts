/** Reading the docs' Markdown: fenced blocks, one-document YAML, and quoted findings (```text finding). */
import { parseAllDocuments } from "yaml";
import { decodeManifests } from "../../server/cli/kube-yaml.js";

export interface Block {
  /** The info string after the opening fence, e.g. "yaml fires". */
  info: string;
  body: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** Fenced code blocks of a Markdown file (``` fences only, which is all the docs use). */
export function fencedBlocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`unclosed code fence at line ${start + 1}`);
    blocks.push({ info: open[1]!.trim(), body: body.join("\n") + "\n", line: start + 1 });
  }
  return blocks;
}

/** Parses exactly one YAML document (a GuardrailConfig: netguard reads its config as YAML 1.2), failing loudly on syntax errors. */
export function parseOne(text: string, where: string): unknown {
  const documents = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false });
  const list = Array.isArray(documents) ? documents : [documents];
  if (list.length !== 1) throw new Error(`${where}: expected one YAML document, found ${list.length}`);
  const doc = list[0]!;
  if (doc.errors.length > 0) throw new Error(`${where}: ${doc.errors.map((e) => e.message).join("; ")}`);
  return doc.toJS();
}

export interface QuotedFinding {
  rule: string;
  action: string;
  path: string;
  message: string;
  fix: string;
}

export function parseQuotedFinding(block: Block): QuotedFinding {
  const fields = new Map<string, string>();
  for (const line of block.body.split("\n")) {
    const m = /^(rule|path|message|fix):\s+(.*)$/.exec(line);
    if (m) fields.set(m[1]!, m[2]!.trimEnd());
  }
  const rule = /^(\S+) \((deny|warn)\)$/.exec(fields.get("rule") ?? "");
  return {
    rule: rule?.[1] ?? "",
    action: rule?.[2] ?? "",
    path: fields.get("path") ?? "",
    message: fields.get("message") ?? "",
    fix: fields.get("fix") ?? "",
  };
}

/** Kubernetes manifests (one or more documents) read as kubectl reads them, as `netguard check` does; fails loudly. */
export function parseManifests(text: string, where: string): unknown[] {
  const { documents, problems } = decodeManifests(text);
  if (problems.length > 0) throw new Error(`${where}: ${problems.map((p) => `line ${p.line}: ${p.message}`).join("; ")}`);
  return documents.map((d) => d.value);
}

/** Exactly one manifest, read as kubectl reads it. */
export function parseManifest(text: string, where: string): unknown {
  const objects = parseManifests(text, where);
  if (objects.length !== 1) throw new Error(`${where}: expected one manifest, found ${objects.length}`);
  return objects[0];
}

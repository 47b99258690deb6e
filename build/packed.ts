/**
 * esbuild plugin: what the bundle carries as text travels in ONE brotli-compressed blob, decoded once when the
 * bundle loads (docs/building.md#the-packed-blob):
 * - the host scripts (src/host/*.sh) without their full-line comments (build/strip-comments.mjs, as tests load
 *   them); each `.sh` import becomes its entry of the blob;
 * - the JSON Schemas `unidesk-ci schema` prints, pre-generated (src/cli/schema.ts);
 * - the long string literals of src/ (help texts, hints, messages): each literal of at least {@link MIN_TEXT}
 *   characters is read from the blob's text table, so the source keeps its texts where they are used.
 * The bundle stays plain JavaScript: only data is decoded, no code is evaluated from the blob.
 * Two builds: the first marks every long literal and learns which of them the bundle keeps (tree shaking drops
 * some), the second packs only those.
 */
import { readdir, readFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { brotliCompressSync, constants } from "node:zlib";
import type { Plugin } from "esbuild";
import ts from "typescript";
import { stripComments } from "./strip-comments.mjs";

/** The module the bundle decodes the blob in; from sources it packs nothing. */
export const PACKED_MODULE = "src/packed.ts";

/** Shorter literals stay where they are: a table entry costs a few bytes of index wherever it is used. */
export const MIN_TEXT = 16;

/** Name of the text table inside a rewritten module (no src/ identifier starts with it). */
const TABLE = "__unideskCiTexts";

/** A literal of the first build: found again in its output when the code that holds it was kept. */
const marker = (i: number) => `@uci-text-${i}@`;
const MARKERS = /@uci-text-(\d+)@/g;

/**
 * The source of one src/ module with its long literals replaced by `refer(text)`: plain strings and untagged
 * template parts wherever an expression may stand, and the parts of Optique's message`…` templates (passed as the
 * strings array, the only thing message() reads of it). Property names, types, import specifiers and directives
 * keep theirs.
 */
export function extractTexts(source: string, fileName: string, refer: (text: string) => string, minText = MIN_TEXT): string {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const edits: { start: number; end: number; text: string }[] = [];
  const long = (text: string) => text.length >= minText;
  const optiqueMessage = messageTagName(file);

  const visit = (node: ts.Node): void => {
    if (ts.isTypeNode(node) || ts.isImportDeclaration(node) || ts.isExportDeclaration(node) || ts.isModuleDeclaration(node)) return;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      if (long(node.text) && mayBeExpression(node)) edits.push({ start: node.getStart(), end: node.getEnd(), text: refer(node.text) });
      return;
    }
    if (ts.isTemplateExpression(node)) {
      // `a${x}b` → `${T[i]}${x}b`: still a template, so every value is converted to text exactly as before.
      for (const part of [node.head, ...node.templateSpans.map((s) => s.literal)]) {
        if (!long(part.text)) continue;
        const close = ts.isTemplateTail(part) ? 1 : 2; // the closing ` or ${
        edits.push({ start: part.getStart() + 1, end: part.getEnd() - close, text: `\${${refer(part.text)}}` });
      }
      node.templateSpans.forEach((s) => visit(s.expression));
      return;
    }
    if (ts.isTaggedTemplateExpression(node) && ts.isIdentifier(node.tag) && node.tag.text === optiqueMessage) {
      const template = node.template;
      const parts = ts.isNoSubstitutionTemplateLiteral(template) ? [template] : [template.head, ...template.templateSpans.map((s) => s.literal)];
      if (parts.some((p) => long(p.text))) {
        // message`a${x}b` ≡ message(["a", "b"], x): Optique's message() reads the strings by index.
        const strings = parts.map((p) => (long(p.text) ? refer(p.text) : JSON.stringify(p.text)));
        const values = ts.isNoSubstitutionTemplateLiteral(template) ? [] : template.templateSpans.map((s) => extractTexts(`(${s.expression.getText()})`, fileName, refer, minText));
        edits.push({ start: node.getStart(), end: node.getEnd(), text: `${optiqueMessage}([${strings.join(", ")}]${values.map((v) => `, ${v}`).join("")})` });
        return;
      }
    }
    if (ts.isTaggedTemplateExpression(node)) {
      // Any other tag gets its strings (and their raw text) as written: only the values may move.
      visit(node.tag);
      if (ts.isTemplateExpression(node.template)) node.template.templateSpans.forEach((s) => visit(s.expression));
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  let out = source;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** The local name of @optique/core's `message` in this module, if it imports it. */
function messageTagName(file: ts.SourceFile): string | undefined {
  for (const s of file.statements) {
    if (!ts.isImportDeclaration(s) || !ts.isStringLiteral(s.moduleSpecifier) || s.moduleSpecifier.text !== "@optique/core") continue;
    const named = s.importClause?.namedBindings;
    if (named && ts.isNamedImports(named)) for (const e of named.elements) if ((e.propertyName ?? e.name).text === "message" && !e.isTypeOnly) return e.name.text;
  }
  return undefined;
}

/** Whether a string literal stands where any expression could (not a property name, directive or specifier). */
function mayBeExpression(node: ts.StringLiteral | ts.NoSubstitutionTemplateLiteral): boolean {
  const p = node.parent;
  if (ts.isTaggedTemplateExpression(p) || ts.isExpressionStatement(p)) return false; // a tag's template; a directive
  if (ts.isCallExpression(p) && p.expression.kind === ts.SyntaxKind.ImportKeyword) return false;
  if (ts.isBindingElement(p) && p.propertyName === node) return false;
  const named = ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p) || ts.isMethodDeclaration(p) || ts.isEnumMember(p) || ts.isGetAccessor(p) || ts.isSetAccessor(p);
  return !(named && p.name === node);
}

/**
 * The packed blob: JSON, brotli-compressed, in base64. The texts go first: brotli then finds the scripts' and
 * schemas' words in them, ≈ 170 bytes smaller than scripts first (2026-12-06).
 */
export function packBlob(content: { scripts: Record<string, string>; schemas: string; texts: string[] }): string {
  const json = JSON.stringify({ t: content.texts, s: content.scripts, j: content.schemas });
  return brotliCompressSync(json, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT, [constants.BROTLI_PARAM_SIZE_HINT]: json.length } }).toString("base64");
}

/** A host script's marker in the first build: found again in its output when code that reads the script was kept. */
const scriptMarker = (name: string) => `@uci-script-${name}@`;

/** The host scripts (file names) a first build's output still reads. */
export function keptScripts(output: string, names: readonly string[]): string[] {
  return names.filter((n) => output.includes(scriptMarker(n)));
}

/** The texts a first build's output kept (its markers), in order of first use. */
export function keptTexts(output: string, marked: readonly string[]): string[] {
  const kept = new Set<number>();
  for (const m of output.matchAll(MARKERS)) kept.add(Number(m[1]));
  return [...kept].map((i) => marked[i]!);
}

/**
 * The plugin. `texts: "mark"` (first build): long literals become markers, collected into `marked`;
 * `texts: string[]` (second build): those literals are read from the table, every other one stays.
 */
export function packed(options: {
  schemas: string;
  texts: "mark" | readonly string[];
  marked?: string[];
  /** Second build: the host scripts the first build's output kept ({@link keptScripts}), each prepared by `prepare`. */
  scripts?: { kept: readonly string[]; prepare: (template: string, name: string) => string };
  hostDir?: string;
  srcDir?: string;
}): Plugin {
  const hostDir = resolve(options.hostDir ?? "src/host");
  const srcDir = resolve(options.srcDir ?? "src");
  const packedModule = resolve(PACKED_MODULE);
  const marked = options.marked ?? [];
  const markIndex = new Map<string, number>();
  const table = new Map(options.texts === "mark" ? [] : options.texts.map((t, i) => [t, i]));
  const refer = (text: string): string => {
    if (options.texts === "mark") {
      let i = markIndex.get(text);
      if (i === undefined) markIndex.set(text, (i = marked.push(text) - 1));
      return JSON.stringify(marker(i));
    }
    const i = table.get(text);
    return i === undefined ? JSON.stringify(text) : `${TABLE}[${i}]`;
  };
  return {
    name: "packed",
    setup(build) {
      build.onResolve({ filter: /\.sh$/ }, (args) => {
        const path = resolve(args.resolveDir, args.path);
        return dirname(path) === hostDir ? { path, namespace: "packed-script" } : undefined;
      });
      build.onLoad({ filter: /.*/, namespace: "packed-script" }, (args) => ({
        // First build: a marker, so that its output tells which scripts the kept code still reads.
        // Second build: a script the kept code does not read (an include, already in the prepared scripts) is empty.
        contents: options.texts === "mark"
          ? `export default ${JSON.stringify(scriptMarker(basename(args.path)))};`
          : options.scripts && !options.scripts.kept.includes(basename(args.path))
            ? `export default "";`
            : `import { scripts } from ${JSON.stringify(packedModule)}; export default scripts[${JSON.stringify(basename(args.path))}];`,
        loader: "js",
        resolveDir: hostDir,
      }));
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (args.path === packedModule) {
          if (options.texts === "mark") return { contents: "export const scripts = {}, schemas = '', texts = [];", loader: "js" };
          // Only the scripts the kept code reads (the shared includes are in them already), each prepared: its
          // includes, contract words and rules put in here, not at every run (src/host/template.ts prepareScript).
          const names = (await readdir(hostDir)).filter((n) => n.endsWith(".sh") && (!options.scripts || options.scripts.kept.includes(n))).sort();
          const prepare = options.scripts?.prepare ?? ((text: string) => text);
          const scripts = Object.fromEntries(await Promise.all(names.map(async (n) => [n, prepare(stripComments(await readFile(`${hostDir}/${n}`, "utf8")), n)] as const)));
          const blob = packBlob({ scripts, schemas: options.schemas, texts: [...options.texts] });
          return {
            // Buffer.from: native base64 (Uint8Array.from(atob(…)) took ~8 ms of every start on node 20).
            contents: `import { Buffer } from "node:buffer"; import { brotliDecompressSync } from "node:zlib"; const blob = JSON.parse(new TextDecoder().decode(brotliDecompressSync(Buffer.from(${JSON.stringify(blob)}, "base64")))); export const scripts = blob.s, schemas = blob.j, texts = blob.t;`,
            loader: "js",
          };
        }
        if (!args.path.startsWith(`${srcDir}/`)) return undefined;
        const source = await readFile(args.path, "utf8");
        const out = extractTexts(source, args.path, refer);
        const uses = out !== source && options.texts !== "mark";
        return { contents: uses ? `import { texts as ${TABLE} } from ${JSON.stringify(packedModule)};\n${out}` : out, loader: "ts" };
      });
    },
  };
}

/**
 * The one writer of `--json` (docs/json.md): every document the CLI prints, success or failure, is serialized
 * here, typed by its schema in io/json-schemas.ts. One document, one line, on stdout; no color, no progress.
 */
import type { Writer } from "../env.ts";
import type { Failure } from "../errors.ts";
import type { ErrorDocument, JsonDocument } from "./json-schemas.ts";
import { BIDI_CHARS, HIDDEN_CHARS, TAG_CHAR } from "./terminal.ts";

/**
 * DEL, C1 controls, bidi controls and line/paragraph separators, which JSON.stringify leaves raw: written as
 * `\uXXXX` escapes (the same data for every parser; harmless when the document is shown on a terminal).
 */
const JSON_UNSAFE = new RegExp(`[\\x7f-\\x9f\\u2028\\u2029${BIDI_CHARS}${HIDDEN_CHARS}]|${TAG_CHAR}`, "g");

/** JSON text with no raw control, C1 or bidi character: JSON.stringify escapes C0, this the rest (docs/json.md). */
export function stringifyJson(value: unknown, space?: number): string {
  // Each UTF-16 unit of a match as its own escape (a tag character is two).
  return JSON.stringify(value, null, space).replace(JSON_UNSAFE, (m) => m.replace(/[^]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
}

/** A document as the one line of text `--json` prints. */
export function formatJson(doc: JsonDocument): string {
  return stringifyJson(doc) + "\n";
}

/** Prints a document on stdout. */
export function writeJson(env: { stdout: Writer }, doc: JsonDocument): void {
  env.stdout.write(formatJson(doc));
}

/** Prints a JSON Schema (`schema NAME`): not an envelope but the document a caller hands its validator; one line, or indented for people. */
export function writeJsonSchema(env: { stdout: Writer }, schema: Record<string, unknown>, opts: { oneLine: boolean }): void {
  env.stdout.write(stringifyJson(schema, opts.oneLine ? undefined : 2) + "\n");
}

/** The failure document: `{ ok: false, …context, error: { code, message, hint?, exitCode } }`. */
export function errorDocument(failure: Failure): ErrorDocument {
  // A context can never replace the envelope's own two fields.
  const { ok: _ok, error: _error, ...context } = failure.context;
  const error = { code: failure.code, message: failure.message, ...(failure.hint ? { hint: failure.hint } : {}), exitCode: failure.exitCode };
  return { ok: false, ...context, error };
}

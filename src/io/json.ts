/**
 * The one writer of `--json` (docs/json.md): every document the CLI prints, success or failure, is serialized
 * here, typed by its schema in io/json-schemas.ts. One document, one line, on stdout; no color, no progress.
 */
import type { Writer } from "../env.ts";
import type { Failure } from "../errors.ts";
import type { ErrorDocument, JsonDocument } from "./json-schemas.ts";

/** A document as the one line of text `--json` prints. */
export function formatJson(doc: JsonDocument): string {
  return JSON.stringify(doc) + "\n";
}

/** Prints a document on stdout. */
export function writeJson(env: { stdout: Writer }, doc: JsonDocument): void {
  env.stdout.write(formatJson(doc));
}

/** Prints a JSON Schema (`schema NAME`): not an envelope but the document a caller hands its validator; one line, or indented for people. */
export function writeJsonSchema(env: { stdout: Writer }, schema: Record<string, unknown>, opts: { oneLine: boolean }): void {
  env.stdout.write((opts.oneLine ? JSON.stringify(schema) : JSON.stringify(schema, null, 2)) + "\n");
}

/** The failure document: `{ ok: false, …context, error: { code, message, hint?, exitCode } }`. */
export function errorDocument(failure: Failure): ErrorDocument {
  // A context can never replace the envelope's own two fields.
  const { ok: _ok, error: _error, ...context } = failure.context;
  const error = { code: failure.code, message: failure.message, ...(failure.hint ? { hint: failure.hint } : {}), exitCode: failure.exitCode };
  return { ok: false, ...context, error };
}

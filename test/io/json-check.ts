/**
 * The check every `--json` run goes through (the e2e helpers and the in-process command tests call it): stdout is
 * exactly one JSON document, valid under the schema of its command (src/io/json-schemas.ts) with no undocumented
 * field, and its `ok` / `error.exitCode` agree with the process's exit code.
 */
import assert from "node:assert/strict";
import { documentSchemas } from "../../src/io/json-schemas.ts";

/** What a finished CLI run left (the exit code is null when a signal killed it). */
export interface JsonRun {
  code: number | null;
  stdout: string;
}

/** The schema name of the document `args` prints with --json; `jsonSchema` for `schema NAME` (a JSON Schema); undefined without --json. */
export function documentName(args: readonly string[]): string | undefined {
  const before = args.includes("--") ? args.slice(0, args.indexOf("--")) : args;
  if (!before.includes("--json")) return undefined;
  const [first] = before;
  if (first === "--version" || first === "-V") return "version";
  if (first === "help" || before.includes("--help") || before.includes("-h")) return "help";
  if (first === "completions") return before.includes("--complete") ? undefined : "completions";
  if (first === "schema") return before.includes("--list") ? "schema" : "jsonSchema";
  return first !== undefined && Object.hasOwn(documentSchemas(), first) && first !== "errorBody" ? first : "error";
}

/** Fails unless a `--json` run printed one document its schema accepts (no-op without --json or after a kill). */
export function checkJsonRun(args: readonly string[], run: JsonRun): void {
  const name = documentName(args);
  if (name === undefined || run.code === null) return;
  const where = `${args.join(" ")} (exit ${run.code})`;
  assert.ok(run.stdout.endsWith("\n") && run.stdout.indexOf("\n") === run.stdout.length - 1, `--json must print one line, ${where}:\n${run.stdout}`);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(run.stdout) as Record<string, unknown>;
  } catch {
    assert.fail(`--json stdout is not JSON, ${where}:\n${run.stdout}`);
  }
  const schemas = documentSchemas();
  if (doc.ok === false) {
    const error = schemas.error.safeParse(doc);
    assert.ok(error.success, `not a valid error document, ${where}: ${error.error?.message}\n${run.stdout}`);
    assert.equal((doc.error as { exitCode: number }).exitCode, run.code, `error.exitCode is not the exit code, ${where}`);
  } else {
    assert.equal(run.code, 0, `ok is not false but the exit code is ${run.code}, ${where}`);
  }
  if (name === "jsonSchema") {
    if (doc.ok !== false) assert.equal(typeof doc.$schema, "string", `schema NAME --json printed no JSON Schema, ${where}`);
    return;
  }
  const schema = schemas[name as Exclude<keyof typeof schemas, "errorBody">];
  const parsed = schema.safeParse(doc);
  assert.ok(parsed.success, `the ${name} document does not match its schema (unidesk-ci schema ${name}), ${where}: ${parsed.error?.message}\n${run.stdout}`);
  // The schemas' objects drop unknown keys when parsing, so a difference here is a field docs/json.md does not list.
  assert.deepEqual(parsed.data, doc, `the ${name} document has a field its schema does not list, ${where}`);
}

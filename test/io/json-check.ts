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

/** The schema name of the document `args` prints with --json; `jsonSchema` for `schema NAME` (a JSON Schema); `follow` for NDJSON (`--follow`); undefined without --json. */
export function documentName(args: readonly string[]): string | undefined {
  const before = args.includes("--") ? args.slice(0, args.indexOf("--")) : args;
  if (!before.includes("--json")) return undefined;
  const [first] = before;
  if (first === "--version" || first === "-V") return "version";
  if (first === "help" || before.includes("--help") || before.includes("-h")) return "help";
  if (first === "completions") return before.includes("--complete") ? undefined : "completions";
  if (first === "schema") return before.includes("--list") ? "schema" : "jsonSchema";
  if ((first === "logs" || first === "run-dev-e2e") && (before.includes("--follow") || before.includes("-f"))) return "follow";
  return first !== undefined && Object.hasOwn(documentSchemas(), first) && first !== "errorBody" ? first : "error";
}

/** Fails unless a `--json` run printed one document its schema accepts — or, with `--follow`, one event per line (no-op without --json or after a kill). */
export function checkJsonRun(args: readonly string[], run: JsonRun): void {
  const name = documentName(args);
  if (name === undefined || run.code === null) return;
  const where = `${args.join(" ")} (exit ${run.code})`;
  if (name === "follow") {
    // NDJSON: every line an event of the follow schema; only the last carries `ok`, and it agrees with the exit code.
    assert.ok(run.stdout.endsWith("\n"), `--follow --json must end with a newline, ${where}:\n${run.stdout}`);
    const lines = run.stdout.slice(0, -1).split("\n");
    lines.forEach((line, i) => {
      const doc = parseLine(line, where);
      assert.equal("ok" in doc, i === lines.length - 1, `only the last line carries ok, ${where}: line ${i + 1}: ${line}`);
      checkDocument(name, doc, "ok" in doc ? run.code! : 0, where);
    });
    return;
  }
  assert.ok(run.stdout.endsWith("\n") && run.stdout.indexOf("\n") === run.stdout.length - 1, `--json must print one line, ${where}:\n${run.stdout}`);
  checkDocument(name, parseLine(run.stdout, where), run.code, where);
}

function parseLine(line: string, where: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    assert.fail(`--json stdout is not JSON, ${where}:\n${line}`);
  }
}

/** One document against the schema `name`: an error document when `ok` is false (its exitCode the exit code), no undocumented field. */
function checkDocument(name: string, doc: Record<string, unknown>, code: number, where: string): void {
  const schemas = documentSchemas();
  const text = JSON.stringify(doc);
  if (doc.ok === false) {
    const error = schemas.error.safeParse(doc);
    assert.ok(error.success, `not a valid error document, ${where}: ${error.error?.message}\n${text}`);
    assert.equal((doc.error as { exitCode: number }).exitCode, code, `error.exitCode is not the exit code, ${where}`);
  } else if (doc.ok === true) {
    assert.equal(code, 0, `ok is not false but the exit code is ${code}, ${where}`);
  }
  if (name === "jsonSchema") {
    if (doc.ok !== false) assert.equal(typeof doc.$schema, "string", `schema NAME --json printed no JSON Schema, ${where}`);
    return;
  }
  const schema = schemas[name as Exclude<keyof typeof schemas, "errorBody">];
  const parsed = schema.safeParse(doc);
  assert.ok(parsed.success, `the ${name} document does not match its schema (unidesk-ci schema ${name}), ${where}: ${parsed.error?.message}\n${text}`);
  // The schemas' objects drop unknown keys when parsing, so a difference here is a field docs/json.md does not list.
  assert.deepEqual(parsed.data, doc, `the ${name} document has a field its schema does not list, ${where}`);
}

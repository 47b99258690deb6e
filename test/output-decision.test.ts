// One output decision per command (docs/commands.md#output-modes): src/io/output.ts picks json, ndjson, tty or
// plain once; no file of src/cli or src/runs branches on `--json` (or on stderr being a terminal) itself, or
// writes a JSON document past the output object.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SCANNED = ["src/cli", "src/runs"];

/** What a second output decision looks like. */
const BRANCHES: [RegExp, string][] = [
  [/\b(?:opts|req|options|flags|args)\.json\b/, "reads the --json flag"],
  [/\bjson\s*\?(?![?:.])/, "a ternary on json"],
  [/!\s*json\b/, "a test of !json"],
  [/\bif\s*\(\s*json\b/, "if (json"],
  [/\bjson\s*(?:&&|\|\|)|(?:&&|\|\|)\s*json\b/, "json in a condition"],
  [/\bisStderrTTY\b|\bisStdoutTTY\b/, "a terminal test (the tty mode is the output module's)"],
  [/\bwriteJson\s*\(/, "a JSON document written past the output object"],
];

/** The lines of `text` (comments blanked) that decide the output themselves, as `line: why`; the call of outputFor is the one decision. */
export function strayDecisions(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " ")).replace(/(^|[^:])\/\/.*$/gm, "$1");
  const found: string[] = [];
  code.split("\n").forEach((line, i) => {
    if (/\boutputFor\(/.test(line)) return;
    for (const [re, why] of BRANCHES) if (re.test(line)) found.push(`${i + 1}: ${why}: ${line.trim()}`);
  });
  return found;
}

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

describe("one output decision per command", () => {
  it("the guard sees the branches it forbids (and not their words in comments or types)", () => {
    assert.equal(strayDecisions('if (opts.json) writeJson(env, doc);\nelse env.stdout.write("x");').length, 2);
    assert.deepEqual(strayDecisions("const x = json ? a : b;").map((l) => l.split(":")[1]!.trim()), ["a ternary on json"]);
    assert.equal(strayDecisions("if (!json && failure.silent) return;").length, 2);
    assert.equal(strayDecisions("const tty = env.isStderrTTY && !follow;").length, 1);
    assert.deepEqual(strayDecisions("const out = req.output ?? outputFor(env, { json: req.json ?? false, follow });"), []);
    assert.deepEqual(strayDecisions("/** with --json: one document */\n// if (opts.json)\n  json?: boolean;\nconst out = outputFor(env, opts);\nwriteJsonSchema(env, doc, { oneLine: !out.human });"), []);
  });

  it("src/cli and src/runs leave the decision to src/io/output.ts", () => {
    const scanned = SCANNED.flatMap(files);
    assert.ok(scanned.length >= 20, `scanned ${scanned.length} files`);
    const stray = scanned.flatMap((f) => strayDecisions(readFileSync(join(ROOT, f), "utf8")).map((l) => `${relative(ROOT, join(ROOT, f))}:${l}`));
    assert.deepEqual(stray, []);
  });
});

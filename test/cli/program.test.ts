import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fakeEnv } from "../../src/env.ts";
import { CliError, DispatchError, ManifestError, UsageError } from "../../src/errors.ts";
import { COMPLETION_SHELLS, completionScript } from "../../src/cli/completions.ts";
import { COMMANDS, HELP_WIDTH, helpText, parseArgs, reportError, runCli } from "../../src/cli/program.ts";
import { jsonSchemas } from "../../src/cli/schema.ts";
import { documentSchemas } from "../../src/io/json-schemas.ts";
import { runMainChecked } from "./helpers.ts";

/** Runs like main.ts: the exit code, stdout, stderr; a --json run's document is checked against its schema. */
async function main(args: string[], options: Parameters<typeof fakeEnv>[0] = {}) {
  const env = fakeEnv(options);
  const code = await runMainChecked(args, env);
  return { code, out: env.out(), err: env.err() };
}

async function cli(args: string[], options: Parameters<typeof fakeEnv>[0] = {}) {
  const env = fakeEnv(options);
  let error: unknown;
  try {
    await runCli(args, env);
  } catch (e) {
    error = e;
  }
  return { out: env.out(), err: env.err(), error };
}

describe("parser", () => {
  it("parses run-dev-e2e flags into typed options", () => {
    const parsed = parseArgs(["run-dev-e2e", "--dry-run", "--keep-namespace", "--run-id", "demo-1", "--repo-dir", "/r", "--json"], fakeEnv());
    assert.equal(parsed.kind, "run");
    if (parsed.kind !== "run" || parsed.options.command !== "run-dev-e2e") throw new Error("not run-dev-e2e");
    assert.equal(parsed.options.dryRun, true);
    assert.equal(parsed.options.keepNamespace, true);
    assert.equal(parsed.options.runId, "demo-1");
    assert.equal(parsed.options.repoDir, "/r");
    assert.equal(parsed.options.json, true);
    assert.equal(parsed.options.deadlineMs, undefined);
  });

  it("logs --task is repeatable and takes a comma list; repeats fold into one list, nothing after --", () => {
    const tasksOf = (args: string[]) => {
      const parsed = parseArgs(args, fakeEnv());
      assert.equal(parsed.kind, "run");
      return parsed.kind === "run" && parsed.options.command === "logs" ? parsed.options.task : "not logs";
    };
    assert.deepEqual(tasksOf(["logs", "r-1", "--task", "build", "--task=deploy-dev", "--json", "--task", "smoke,build"]), ["build", "deploy-dev", "smoke"]);
    assert.equal(tasksOf(["logs", "r-1"]), undefined);
    assert.throws(() => parseArgs(["logs", "r-1", "--task", "Build"], fakeEnv()), (e: unknown) => e instanceof UsageError && /Build.*is not a pipeline task name/.test(e.message));
    assert.throws(() => parseArgs(["logs", "r-1", "--task", "a,,b"], fakeEnv()), UsageError);
    assert.throws(() => parseArgs(["logs", "r-1", "--task", "a", "--", "--task", "b"], fakeEnv()), UsageError);
  });

  it("runs --status takes one of the listed statuses and nothing else", () => {
    const parsed = parseArgs(["runs", "--status", "failed"], fakeEnv());
    assert.ok(parsed.kind === "run" && parsed.options.command === "runs" && parsed.options.status === "failed");
    assert.throws(() => parseArgs(["runs", "--status", "green"], fakeEnv()), (e: unknown) => e instanceof UsageError && /"green" is not one of running, succeeded, failed/.test(e.message));
  });

  it("parses --wait-ms as an integer", () => {
    const parsed = parseArgs(["run-dev-e2e", "--wait-ms", "600000"], fakeEnv());
    assert.ok(parsed.kind === "run" && parsed.options.command === "run-dev-e2e" && parsed.options.deadlineMs === 600000);
  });

  const bad: { name: string; args: string[]; mentions: RegExp }[] = [
    { name: "unknown command", args: ["run-dev-e2"], mentions: /run-dev-e2e/ },
    { name: "negative wait", args: ["run-dev-e2e", "--wait-ms", "-5"], mentions: /wait-ms|-5/ },
    { name: "non-numeric wait", args: ["run-dev-e2e", "--wait-ms", "soon"], mentions: /soon|integer/i },
    { name: "run id with capitals", args: ["run-dev-e2e", "--run-id", "Bad_ID"], mentions: /Bad_ID.*DNS-safe/ },
    { name: "run id too long", args: ["run-dev-e2e", "--run-id", "a".repeat(41)], mentions: /longer than 40/ },
    { name: "unknown flag", args: ["logs", "abc", "--frobnicate"], mentions: /frobnicate/ },
    { name: "logs without run id", args: ["logs"], mentions: /RUN_ID|run/i },
    { name: "bad backend url", args: ["run-dev-e2e", "--backend-url", "not a url"], mentions: /not a url|URL/i },
  ];
  for (const c of bad) {
    it(`rejects ${c.name} with a usage error`, async () => {
      const { error, err } = await cli(c.args);
      assert.ok(error instanceof UsageError, String(error));
      assert.equal(error.exitCode, 2);
      assert.match(error.message + err, c.mentions);
    });
  }

  it("with --json a parse error is not silent and stderr stays quiet", async () => {
    const { error, err, out } = await cli(["run-dev-e2e", "--wait-ms", "x", "--json"]);
    assert.ok(error instanceof UsageError && !error.silent);
    assert.equal(err, "");
    assert.equal(out, "");
  });
});

describe("every help page, plain and colored, at the width it is rendered", () => {
  const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");
  for (const command of [undefined, ...COMMANDS]) {
    for (const color of [false, true]) {
      it(`${command ?? "(overview)"}${color ? " colored" : ""}: no trailing space, every usage line whole bracketed terms within ${HELP_WIDTH} columns`, () => {
        const lines = helpText(command, color).split("\n").map(plain);
        assert.deepEqual(lines.filter((l) => /\s$/.test(l)), [], "lines ending in a space");
        const start = lines.findIndex((l) => l.startsWith("Usage: "));
        if (command === undefined) return;
        assert.ok(start >= 0, "no usage line");
        let end = start + 1;
        while (lines[end]?.startsWith("       ") && lines[end]!.trim()) end++;
        for (const line of lines.slice(start, end)) {
          assert.ok(line.length <= HELP_WIDTH, `usage line longer than ${HELP_WIDTH}: ${line}`);
          let depth = 0;
          for (const c of line) {
            depth += c === "[" ? 1 : c === "]" ? -1 : 0;
            assert.ok(depth >= 0, `a usage line starting inside a bracket: ${line}`);
          }
          assert.equal(depth, 0, `a usage line broken inside a bracket: ${line}`);
        }
      });
    }
  }
  it("completions --help: no trailing space", async () => {
    const { out } = await cli(["completions", "--help"]);
    assert.deepEqual(out.split("\n").filter((l) => /\s$/.test(l)), []);
  });
});

describe("help, version, completions", () => {
  it("--help shows commands, examples and exit codes on stdout", async () => {
    const { out, error } = await cli(["--help"]);
    assert.equal(error, undefined);
    for (const s of ["run-dev-e2e", "logs", "validate", "schema", "completions", "--wait-ms 600000", "Exit codes", "130"]) assert.ok(out.includes(s), `help lacks ${s}\n${out}`);
  });

  it("run-dev-e2e --help documents its flags", async () => {
    const { out } = await cli(["run-dev-e2e", "--help"]);
    for (const s of ["--dry-run", "--wait-ms", "--keep-namespace", "--repo-dir", "--run-id", "--json"]) assert.ok(out.includes(s), s);
  });

  it("--version prints version and commit", async () => {
    const { out } = await cli(["--version"]);
    assert.match(out, /\d+\.\d+\.\d+.*commit/);
  });

  for (const shell of COMPLETION_SHELLS) {
    it(`completions ${shell} prints a script naming the program`, async () => {
      const { out, error } = await cli(["completions", shell]);
      assert.equal(error, undefined);
      assert.equal(out, completionScript(shell, "unidesk-ci"), "exactly the shell's script for the program");
      assert.ok(out.includes("unidesk-ci completions"));
    });
  }

  it("completions --complete suggests commands and flags from the parser", async () => {
    assert.equal((await cli(["completions", "bash", "--complete", "--", "run-"])).out, "run-dev-e2e\n");
    assert.match((await cli(["completions", "bash", "--complete", "--", "run-dev-e2e", "--d"])).out, /^--dry-run$/m);
    assert.match((await cli(["completions", "fish", "--complete", "--", "lo"])).out, /^logs\tShow a run/m);
    assert.match((await cli(["completions", "zsh", "--complete", "--", "sch"])).out, /^schema:Print/m);
  });

  it("completions --json wraps the script in one document", async () => {
    const doc = JSON.parse((await cli(["completions", "fish", "--json"])).out);
    assert.deepEqual([doc.ok, doc.shell], [true, "fish"]);
    assert.match(doc.script, /^complete -c unidesk-ci/m);
  });

  const helpCases: { args: string[]; command: string | null }[] = [
    { args: ["--help", "--json"], command: null },
    { args: ["help", "--json"], command: null },
    { args: ["run-dev-e2e", "--help", "--json"], command: "run-dev-e2e" },
    { args: ["help", "logs", "--json"], command: "logs" },
    { args: ["completions", "--help", "--json"], command: "completions" },
  ];
  for (const c of helpCases) {
    it(`${c.args.join(" ")} prints { ok, command, help } with the text --help prints`, async () => {
      const { code, out } = await main(c.args);
      assert.equal(code, 0);
      const doc = JSON.parse(out);
      assert.deepEqual([doc.ok, doc.command], [true, c.command]);
      const text = (await cli(c.args.filter((a) => a !== "--json"))).out;
      assert.equal(doc.help, text);
      if (c.command !== "completions") assert.equal(doc.help, helpText(c.command ?? undefined, false));
    });
  }

  it("--help --json of an unknown command is the usage error document (exit 2)", async () => {
    const { code, out } = await main(["frobnicate", "--help", "--json"]);
    assert.equal(code, 2);
    assert.deepEqual([JSON.parse(out).error.code, JSON.parse(out).error.exitCode], ["usage", 2]);
  });

  it("--version --json goes through the writer: { ok, version, line }", async () => {
    const doc = JSON.parse((await main(["--version", "--json"])).out);
    assert.equal(doc.ok, true);
    assert.match(doc.line, new RegExp(`^unidesk-ci ${doc.version.replace(/\./g, "\\.")} `));
  });

  it("rejects an unknown shell", async () => {
    const { error } = await cli(["completions", "tcsh"]);
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /tcsh/);
  });
});

describe("schema", () => {
  it("prints the JSON Schema with the manifest's required fields", async () => {
    const { out } = await cli(["schema"]);
    const doc = JSON.parse(out);
    assert.equal(doc.type, "object");
    assert.deepEqual(doc.properties.environments.properties.dev.properties.ci.required, ["repo", "scriptPath", "timeoutMs"]);
    assert.equal(doc.properties.schemaVersion.const, 2);
  });

  it("--json prints it on one line", async () => {
    const { out } = await cli(["schema", "--json"]);
    assert.equal(out.trim().split("\n").length, 1);
  });

  it("schema deploy is the default", async () => {
    assert.equal((await cli(["schema", "deploy"])).out, (await cli(["schema"])).out);
  });

  it("has a JSON Schema for deploy, result, error and every document (each a draft 2020-12 schema with its $id and title)", async () => {
    const names = Object.keys(await jsonSchemas());
    const documents = Object.keys(documentSchemas()).filter((n) => n !== "errorBody");
    assert.deepEqual(names.sort(), ["deploy", "result", ...documents].sort());
    for (const name of ["deploy", "result", "error", "run-dev-e2e", "logs", "cancel", "validate"]) assert.ok(names.includes(name), name);
    for (const name of names) {
      const doc = JSON.parse((await main(["schema", name, "--json"])).out);
      assert.equal(doc.$schema, "https://json-schema.org/draft/2020-12/schema", name);
      assert.match(doc.$id, /\.schema\.json$/, name);
      assert.ok(typeof doc.title === "string" && doc.title.length > 5, name);
    }
  });

  it("schema result requires the fields of result.json", async () => {
    const doc = JSON.parse((await cli(["schema", "result"])).out);
    assert.deepEqual(doc.$defs.result.required, ["ok", "status", "runId", "manifestCommit", "pipelineRun", "temporaryNamespace", "finishedAt"]);
  });

  it("schema error describes { ok: false, error: { code, message, hint?, exitCode } } with every error code", async () => {
    const doc = JSON.parse((await cli(["schema", "error"])).out);
    assert.deepEqual(doc.required, ["ok", "error"]);
    const body = doc.$defs.error;
    assert.deepEqual(body.required, ["code", "message", "exitCode"]);
    assert.ok(body.properties.code.enum.includes("run_failed") && body.properties.code.enum.includes("internal"));
  });

  it("--list names every schema with its title; --list --json as a document", async () => {
    const names = Object.keys(await jsonSchemas());
    const text = (await cli(["schema", "--list"])).out;
    assert.deepEqual(text.trimEnd().split("\n").map((l) => l.split(/\s+/)[0]), names);
    const doc = JSON.parse((await main(["schema", "--list", "--json"])).out);
    assert.deepEqual(doc.schemas.map((s: { name: string }) => s.name), names);
  });

  it("an unknown name is a usage error (exit 2) naming the valid ones", async () => {
    const { code, out, err } = await main(["schema", "nope"]);
    assert.equal(code, 2);
    assert.equal(out, "");
    assert.match(err, /^error: unknown schema 'nope'; the names are: deploy, result, error, run-dev-e2e, logs, follow, cancel, doctor, runs, report, validate, /m);
    const json = await main(["schema", "nope", "--json"]);
    assert.deepEqual([json.code, JSON.parse(json.out).error.exitCode], [2, 2]);
  });
});

describe("errors as documents (the one writer)", () => {
  it("every error document carries error.exitCode equal to the exit code, and its context beside it", async () => {
    const env = fakeEnv();
    const code = reportError(new DispatchError("no answer", { hint: "try later", context: { runId: "r-1", resultDir: "/runs/r-1", runMayHaveStarted: true, ok: "overridden?", error: "overridden?" } }), env, true);
    assert.equal(code, 5);
    assert.deepEqual(JSON.parse(env.out()), { ok: false, runId: "r-1", resultDir: "/runs/r-1", runMayHaveStarted: true, error: { code: "dispatch", message: "no answer", hint: "try later", exitCode: 5 } });
    assert.equal(env.err(), "");
  });

  it("an unexpected bug: a valid error document (code internal, exit 1) on stdout, its stack on stderr", async () => {
    const env = fakeEnv();
    const code = reportError(new TypeError("cannot read properties of undefined"), env, true);
    assert.equal(code, 1);
    const doc = JSON.parse(env.out());
    assert.ok(documentSchemas().error.safeParse(doc).success);
    assert.deepEqual([doc.error.code, doc.error.exitCode], ["internal", 1]);
    assert.match(doc.error.message, /a bug in unidesk-ci.*cannot read properties of undefined/);
    assert.match(doc.error.hint, /report it/);
    assert.match(env.err(), /^error: unexpected failure \(a bug in unidesk-ci\): TypeError: cannot read properties of undefined\n\s+at /);
  });

  it("a thrown non-Error after Ctrl-C is reported as interrupted (exit 130)", async () => {
    const controller = new AbortController();
    controller.abort();
    const env = fakeEnv({ signal: controller.signal });
    assert.equal(reportError("aborted", env, true), 130);
    assert.deepEqual(JSON.parse(env.out()).error, { code: "interrupted", message: "interrupted", exitCode: 130 });
  });

  it("a usage error with --json: the document on stdout, nothing on stderr", async () => {
    const { code, out, err } = await main(["logs", "BAD", "--json"]);
    assert.equal(code, 2);
    assert.equal(JSON.parse(out).error.code, "usage");
    assert.equal(err, "");
  });
});

describe("validate FILE", () => {
  const good = JSON.stringify({ schemaVersion: 2, environments: { dev: { ci: { repo: "https://github.com/pikasTech/unidesk", scriptPath: "scripts/ci/dev-e2e.sh", timeoutMs: 1800000 }, services: [] } } });
  const bad = JSON.stringify({ schemaVersion: 2, environments: { dev: { ci: { repo: "https://github.com/pikasTech/unidesk", scriptPath: "../evil.sh", timeoutMs: 5 }, services: [] } } });

  it("reports ok for a good manifest", async () => {
    const { out, error } = await cli(["validate", "/d.json"], { files: { "/d.json": good } });
    assert.equal(error, undefined);
    assert.match(out, /^ok: \/d\.json/);
  });

  it("lists every issue as path: message and exits 2", async () => {
    const { out, error } = await cli(["validate", "/d.json"], { files: { "/d.json": bad } });
    assert.ok(error instanceof ManifestError);
    assert.equal((error as CliError).exitCode, 2);
    assert.match(out, /^environments\.dev\.ci\.scriptPath: /m);
    assert.match(out, /^environments\.dev\.ci\.timeoutMs: /m);
  });

  it("--json prints one document with the issues, the error and its exitCode 2, and nothing on stderr", async () => {
    const { code, out, err } = await main(["validate", "/d.json", "--json"], { files: { "/d.json": bad } });
    assert.equal(code, 2);
    const doc = JSON.parse(out);
    assert.equal(doc.ok, false);
    assert.equal(doc.source, "/d.json");
    assert.ok(doc.issues.some((i: { path: string }) => i.path === "environments.dev.ci.scriptPath"));
    assert.deepEqual([doc.error.code, doc.error.exitCode], ["manifest", 2]);
    assert.equal(err, "");
  });

  it("--json of a good manifest: the report document", async () => {
    const { code, out } = await main(["validate", "/d.json", "--json"], { files: { "/d.json": good } });
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(out).services, []);
  });

  it("a missing file is a usage error naming it", async () => {
    const { error } = await cli(["validate", "/nope.json"]);
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /\/nope\.json/);
  });
});

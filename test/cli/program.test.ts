import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fakeEnv } from "../../src/env.ts";
import { CliError, ManifestError, UsageError } from "../../src/errors.ts";
import { parseArgs, runCli } from "../../src/cli/program.ts";

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
    assert.equal(parsed.options.waitMs, undefined);
  });

  it("parses --wait-ms as an integer", () => {
    const parsed = parseArgs(["run-dev-e2e", "--wait-ms", "600000"], fakeEnv());
    assert.ok(parsed.kind === "run" && parsed.options.command === "run-dev-e2e" && parsed.options.waitMs === 600000);
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

  for (const shell of ["bash", "zsh", "fish"]) {
    it(`completions ${shell} prints a script naming the program`, async () => {
      const { out, error } = await cli(["completions", shell]);
      assert.equal(error, undefined);
      assert.ok(out.length > 200);
      assert.ok(out.includes("unidesk-ci"));
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

  it("--json prints one document with the issues and stays silent otherwise", async () => {
    const { out, error } = await cli(["validate", "/d.json", "--json"], { files: { "/d.json": bad } });
    assert.ok(error instanceof ManifestError && error.silent);
    const doc = JSON.parse(out);
    assert.equal(doc.ok, false);
    assert.ok(doc.issues.some((i: { path: string }) => i.path === "environments.dev.ci.scriptPath"));
    assert.equal(doc.error.code, "manifest");
  });

  it("a missing file is a usage error naming it", async () => {
    const { error } = await cli(["validate", "/nope.json"]);
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /\/nope\.json/);
  });
});

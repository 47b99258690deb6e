import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BUNDLE_MAX_BYTES } from "../../build/bundle-size.ts";
import { fakeEnv } from "../../src/env.ts";
import { COMMANDS, runMain } from "../../src/cli/program.ts";
import { jsonSchemas } from "../../src/cli/schema.ts";
import { realSpawn } from "../cli/helpers.ts";
import { BUNDLE, runProcess } from "./helpers.ts";

// The bundle reads the host scripts, the JSON Schemas and src/'s long literals from its packed blob
// (build/packed.ts, docs/building.md#the-packed-blob): what it prints must be what the sources print.
describe("the built bundle", () => {
  it(`is at most ${BUNDLE_MAX_BYTES} bytes (issue 14)`, () => {
    const bytes = statSync(BUNDLE).size;
    assert.ok(bytes <= BUNDLE_MAX_BYTES, `dist/unidesk-ci.mjs is ${bytes} bytes; UNIDESK_CI_METAFILE=1 npm run build shows where they come from`);
  });

  it("carries its texts packed: no long help text or host script in the clear", () => {
    const text = readFileSync(BUNDLE, "utf8");
    assert.match(text, /brotliDecompressSync/);
    for (const clear of ["Check the laptop and D601 before a first run", "Exit codes:", "unidesk-ci-launcher", "UniDesk deploy.json (dev CI runner view)"]) {
      assert.ok(!text.includes(clear), `found in the clear: ${clear}`);
    }
  });

  let dir: string;
  let vars: Record<string, string>;
  const files: Record<string, string> = {};
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "unidesk-ci-bundle-"));
    // NO_COLOR empty: runProcess sets it to 1 unless told otherwise, and a colored case must be able to color.
    vars = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, NO_COLOR: "" };
    const manifests: Record<string, unknown> = {
      "bad.json": { schemaVersion: 2, environments: { dev: { ci: { repo: "http://user:pw@example.com/x/.git", scriptPath: "a/b.sh", timeoutMs: -1, run: "x" }, services: [{ name: "A B", commit: "abc" }] } } },
      "old.json": { schemaVersion: 1 },
      "broken.json": "{nope",
    };
    for (const [name, content] of Object.entries(manifests)) {
      files[join(dir, name)] = typeof content === "string" ? content : JSON.stringify(content);
      writeFileSync(join(dir, name), files[join(dir, name)]!);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The same argv through the bundle (node, a pipe for stdout) and through the sources in process. */
  async function same(args: string[], extra: Record<string, string> = {}): Promise<void> {
    const env = { ...vars, ...extra };
    const bundled = await runProcess([process.execPath, BUNDLE, ...args], { cwd: dir, env });
    const sources = fakeEnv({ vars: env, cwd: dir, files, spawn: realSpawn });
    const code = await runMain(args, sources);
    const label = `unidesk-ci ${args.join(" ")}`;
    assert.equal(bundled.stdout, sources.out(), `${label}: stdout`);
    assert.equal(bundled.stderr, sources.err(), `${label}: stderr`);
    assert.equal(bundled.code, code, `${label}: exit code`);
  }

  it("prints every help page as the sources do, plain and colored", async () => {
    for (const extra of [{ NO_COLOR: "1" }, { CLICOLOR_FORCE: "1" }] as Record<string, string>[]) {
      await same(["--help"], extra);
      for (const command of [...COMMANDS, "completions"]) await same([command, "--help"], extra);
    }
    await same(["--help", "--json"]);
    await same(["help", "logs", "--json"]);
  });

  it("prints every JSON Schema and the completion scripts as the sources do", async () => {
    await same(["schema", "--list"]);
    for (const name of Object.keys(await jsonSchemas())) await same(["schema", name]);
    for (const shell of ["bash", "zsh", "fish"]) await same(["completions", shell]);
    await same(["completions", "bash", "--complete", "--", "run-dev-e2e", "--"]);
  });

  it("reports usage errors, bad manifests and doctor's findings as the sources do", async () => {
    for (const args of [["bogus"], ["logs", "BAD"], ["logs", "BAD", "--json"], ["run-dev-e2e", "--frobnicate"], ["runs", "--limit", "abc"], ["schema", "nope"], ["completions", "tcsh"]]) await same(args);
    for (const name of ["bad.json", "old.json", "broken.json"]) {
      await same(["validate", join(dir, name)]);
      await same(["validate", join(dir, name), "--json"]);
    }
    await same(["doctor"], { NO_COLOR: "1" });
  });
});

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeOperatorRepo } from "../../build/bench-fixture.ts";
import { LINK, availableRuntimes, runCli, runProcess } from "./helpers.ts";

// The same bundle must behave identically on Node, Deno and Bun.
describe("the bundle on node, deno and bun", () => {
  let dir: string;
  let repo: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "unidesk-ci-runtimes-"));
    repo = makeOperatorRepo(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("has all three runtimes installed", () => {
    assert.deepEqual(availableRuntimes(), ["node", "deno", "bun"]);
  });

  const cases: { name: string; args: string[]; inRepo?: boolean; code: number; check?: (stdout: string) => void }[] = [
    { name: "--help", args: ["--help"], code: 0, check: (o) => assert.match(o, /run-dev-e2e/) },
    { name: "--version", args: ["--version"], code: 0, check: (o) => assert.match(o, /commit [0-9a-f]{7,}/) },
    { name: "schema", args: ["schema"], code: 0, check: (o) => assert.equal(JSON.parse(o).type, "object") },
    { name: "completions zsh", args: ["completions", "zsh"], code: 0, check: (o) => assert.match(o, /compdef/) },
    { name: "dry run", args: ["run-dev-e2e", "--dry-run", "--run-id", "rt-1"], inRepo: true, code: 0, check: (o) => assert.match(o, /^#!\/usr\/bin\/env bash/) },
    { name: "dry run --json", args: ["run-dev-e2e", "--dry-run", "--json", "--run-id", "rt-1"], inRepo: true, code: 0, check: (o) => assert.equal(JSON.parse(o).runId, "rt-1") },
    { name: "validate origin/master", args: ["validate"], inRepo: true, code: 0, check: (o) => assert.match(o, /^ok: origin\/master/) },
    { name: "usage error --json", args: ["logs", "BAD", "--json"], code: 2, check: (o) => assert.equal(JSON.parse(o).error.code, "usage") },
  ];
  for (const c of cases) {
    it(`${c.name}: same exit code and stdout everywhere`, async () => {
      const outputs: Record<string, string> = {};
      for (const runtime of availableRuntimes()) {
        const r = await runCli(runtime, c.args, { cwd: c.inRepo ? repo : dir, env: { HOME: dir } });
        assert.equal(r.code, c.code, `${runtime}: exit ${r.code}\n${r.stderr}`);
        c.check?.(r.stdout);
        outputs[runtime] = r.stdout;
      }
      for (const [runtime, out] of Object.entries(outputs)) assert.equal(out, outputs.node, `${runtime} differs from node`);
    });
  }

  it("the extensionless dist/unidesk-ci link runs directly", async () => {
    const r = await runProcess([LINK, "--version"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^unidesk-ci /);
  });
});

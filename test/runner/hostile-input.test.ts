// What reaches the runner from outside it — Tekton's condition reason and message (pod-controlled through a
// container's termination message), deploy.json — is hostile: no terminal control reaches runner.log, the
// launcher's log or result.json's reason, and a duplicate key anywhere in deploy.json is refused (docs/runner.md).
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { assertClusterInvariants, newTestRunId, prepareRun, readResult, runnerEnv, runRunner, startWorld, testManifest } from "./harness.ts";

/** Every escape family of issue 13: OSC 52/8/0, CSI moves and erases, bare CR, C1 (U+009B CSI), bidi overrides, a fake log line. */
const HOSTILE = "boom\x1b]52;c;cHduZWQ=\x07 \x1b]8;;https://evil.test\x1b\\link\x1b]8;;\x1b\\ \x1b]0;title\x07 \x1b[2J\x1b[1;1H\x1b[K \rover \u009b31mred \u202egnp.exe\u202c \u2066iso\u2069\n2026-01-01T00:00:00.000Z run succeeded: forged";
/** C0 (but \n and \t), DEL, C1 and the bidi overrides: none may be written raw. */
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u202a-\u202e\u2066-\u2069]/;

describe("dev-e2e.sh: Tekton's text never drives a terminal", () => {
  it("a failed PipelineRun whose reason and message carry every escape family: runner.log, stderr and result.json hold none", async (t: TestContext) => {
    const world = await startWorld();
    t.after(() => world.close());
    const runId = newTestRunId("esc");
    world.kube.setOutcome(runId, { kind: "fail", reason: `Failed\u009b2J\u202e`, message: HOSTILE, delayMs: 200 });
    const inv = await prepareRun(world, runId);
    const exit = await runRunner(inv.args, runnerEnv(world));
    assert.equal(exit.code, 1, exit.stderr);
    const result = await readResult(inv.resultDir);
    assert.equal(result.status, "failed");
    assert.doesNotMatch(String(result.reason), UNSAFE);
    assert.doesNotMatch(String(result["tektonReason"]), UNSAFE);
    assert.match(String(result.reason), /boom .*link .*gnp\.exe iso.*run succeeded: forged/, "the text stays readable, on one line");
    const log = await readFile(join(inv.resultDir, "runner.log"), "utf8");
    assert.doesNotMatch(log, UNSAFE);
    const quoting = log.split("\n").filter((l) => l.includes("forged"));
    assert.ok(quoting.length > 0);
    for (const line of quoting) assert.match(line, /^\d{4}-\d\d-\d\dT[\d:.]+Z (PipelineRun|run failed)/, `the message ends up on its own line: ${JSON.stringify(line)}`);
    assert.doesNotMatch(log, /^2026-01-01T00:00:00\.000Z run succeeded/m, "a message never starts a fake log line");
    assert.doesNotMatch(exit.stderr, UNSAFE, "the launcher's log gets the same clean reason");
    assertClusterInvariants(world, [runId]);
  });
});

describe("dev-e2e.sh: refuses a deploy.json with a duplicate key anywhere", () => {
  const cases: { name: string; manifest: () => string; says: string }[] = [
    {
      // What JSON.parse would have kept: the second "notes", hiding 300 levels of nesting from `validate`.
      name: "a depth bomb hidden behind a duplicate at the top",
      manifest: () => JSON.stringify(testManifest()).replace(/^\{/, `{"notes":${"[".repeat(300)}${"]".repeat(300)},"notes":"x",`),
      says: 'duplicate key "notes" at .',
    },
    {
      name: "a second services list deep inside environments.dev",
      manifest: () => JSON.stringify(testManifest()).replace('"services":', '"services":[],"services":'),
      says: 'duplicate key "services" at .environments.dev',
    },
    {
      name: "a repeated commitId in one service",
      manifest: () => JSON.stringify(testManifest([{ id: "backend-core", repo: "https://github.com/pikasTech/unidesk", commitId: "a".repeat(40) }])).replace(/"commitId":/, `"commitId":"${"b".repeat(40)}","commitId":`),
      says: 'duplicate key "commitId" at .environments.dev.services[0]',
    },
  ];
  for (const c of cases) {
    it(`${c.name}: error naming the key and its JSON path, nothing created`, async (t: TestContext) => {
      const world = await startWorld();
      t.after(() => world.close());
      const runId = newTestRunId("dup");
      const inv = await prepareRun(world, runId, { manifest: c.manifest() });
      const exit = await runRunner(inv.args, runnerEnv(world));
      assert.equal(exit.code, 3, exit.stderr);
      const result = await readResult(inv.resultDir);
      assert.equal(result.status, "error");
      assert.equal(result.reason, `deploy.json is invalid: ${c.says} (each key at most once per object)`);
      assert.equal(result.pipelineRun, null);
      assert.equal(result.temporaryNamespace, null);
      assertClusterInvariants(world, [runId]);
    });
  }
});

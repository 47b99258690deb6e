import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, readdir, readFile, utimes, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { assertClusterInvariants, newTestRunId, prepareRun, readResult, runnerEnv, runRunner, SHA, startWorld, type World } from "./harness.ts";

/** `count` finished run dirs `old-<i>`, finishedAt one minute apart (old-0 the oldest), written as the runner does. */
async function oldRuns(world: World, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `old-${String(i).padStart(3, "0")}`;
    const dir = join(world.dir, "runs", id);
    await mkdir(join(dir, "pods"), { recursive: true });
    const finishedAt = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
    await writeFile(join(dir, "result.json"), `${JSON.stringify({ ok: true, status: "succeeded", runId: id, manifestCommit: SHA, pipelineRun: `e2e-${id}`, temporaryNamespace: `unidesk-ci-${id}`, keepNamespace: false, namespaceDeleted: true, finishedAt, writer: "runner" }, null, 2)}\n`);
    await writeFile(join(dir, "runner.log"), "…\n");
    ids.push(id);
  }
  return ids;
}

/** Run ids with a directory in the runs root. */
async function runDirs(world: World): Promise<string[]> {
  return (await readdir(join(world.dir, "runs"))).sort();
}

describe("dev-e2e.sh: retention of the runs root", () => {
  it("prunes 120 old finished runs to the newest 100; a running one among the old ones survives", async (t: TestContext) => {
    const world = await startWorld({ defaultOutcome: { kind: "succeed", delayMs: 100 } });
    t.after(() => world.close());
    const old = await oldRuns(world, 120);
    // An old run that is still running: its launcher's command line names its result dir.
    const running = join(world.dir, "runs", "old-running");
    await mkdir(running);
    const launcher = spawn("bash", ["-c", "sleep 300; exit 0", "launcher-stand-in", running], { stdio: "ignore", detached: true });
    // Its own process group, killed whole: a SIGKILL to bash alone would leave its sleep running.
    t.after(() => process.kill(-launcher.pid!, "SIGKILL"));
    await writeFile(join(running, "launcher.pid"), `${launcher.pid}\n`);
    const longAgo = new Date(Date.UTC(2025, 0, 1));
    await utimes(running, longAgo, longAgo);
    // A result.json without a readable finishedAt cannot be ordered, so it is kept.
    const corrupt = join(world.dir, "runs", "old-corrupt");
    await mkdir(corrupt);
    await writeFile(join(corrupt, "result.json"), "{ not json");

    const inv = await prepareRun(world, newTestRunId("prune"));
    const exit = await runRunner(inv.args, runnerEnv(world));
    assert.equal(exit.code, 0, exit.stderr);
    assert.equal((await readResult(inv.resultDir)).status, "succeeded");
    const left = await runDirs(world);
    assert.deepEqual(left.filter((d) => old.includes(d)), old.slice(20), "the newest 100 by finishedAt stay");
    assert.ok(left.includes("old-running"), "a running run is never removed");
    assert.ok(!existsSync(join(running, "result.json")), "and is not swept");
    assert.ok(left.includes("old-corrupt"));
    assert.ok(left.includes(inv.runId));
    assert.match(await readFile(join(inv.resultDir, "runner.log"), "utf8"), /retention: 120 finished runs in .*, keeping the newest 100, removed 20/);
    assertClusterInvariants(world, [inv.runId]);
  });

  it("UNIDESK_CI_KEEP_RUNS sets the number; a lost run just swept counts as finished now; unproven leftovers keep their run", async (t: TestContext) => {
    const world = await startWorld({ defaultOutcome: { kind: "succeed", delayMs: 100 } });
    t.after(() => world.close());
    const old = await oldRuns(world, 5);
    const dead = join(world.dir, "runs", "dead-one");
    await mkdir(dead);
    await writeFile(join(dead, "runner.log"), `2026-01-01T00:00:00.000Z runner started: pid 1, run dead-one, manifest commit ${SHA}\n`);
    await writeFile(join(dead, "runner.pid"), "999999999\n");
    // The oldest run: a launcher-written result (no keepNamespace) and a namespace without the keep annotation.
    const legacy = join(world.dir, "runs", "legacy");
    await mkdir(legacy);
    await writeFile(join(legacy, "result.json"), JSON.stringify({ ok: false, status: "error", runId: "legacy", manifestCommit: SHA, pipelineRun: null, temporaryNamespace: null, finishedAt: "2025-01-01T00:00:00.000Z", writer: "launcher" }));
    const legacyNs = world.kube.createObject({ apiVersion: "v1", kind: "Namespace", metadata: { name: "unidesk-ci-legacy", labels: { "app.kubernetes.io/managed-by": "unidesk-ci", "unidesk.ci/run-id": "legacy" } } });
    const inv = await prepareRun(world, newTestRunId("keep2"));
    const exit = await runRunner(inv.args, runnerEnv(world, { UNIDESK_CI_KEEP_RUNS: "2" }));
    assert.equal(exit.code, 0, exit.stderr);
    assert.deepEqual(await runDirs(world), ["dead-one", "legacy", old[4]!, inv.runId].sort());
    assert.equal(world.kube.getObject("v1", "namespaces", undefined, "unidesk-ci-legacy")?.metadata.resourceVersion, legacyNs.metadata.resourceVersion, "nothing says it may go");
    assert.equal((await readResult(dead)).status, "lost");
  });

  for (const value of ["0", "lots", "-1", "100001"]) {
    it(`refuses UNIDESK_CI_KEEP_RUNS=${value} before touching anything`, async (t: TestContext) => {
      const world = await startWorld();
      t.after(() => world.close());
      const old = await oldRuns(world, 3);
      const inv = await prepareRun(world, newTestRunId("badkeep"));
      const exit = await runRunner(inv.args, runnerEnv(world, { UNIDESK_CI_KEEP_RUNS: value }));
      assert.equal(exit.code, 2);
      assert.match(exit.stderr, new RegExp(`UNIDESK_CI_KEEP_RUNS '${value}' must be an integer between 1 and 100000`));
      assert.deepEqual(await runDirs(world), [...old, inv.runId].sort());
      assert.equal(world.kube.writes().length, 0);
    });
  }
});

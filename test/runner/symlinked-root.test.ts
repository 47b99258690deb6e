// A run dispatched through a symlinked runs root (one spelling) must look live to every reader and to another
// run's sweep that use the other spelling: roots are compared by their canonical paths (docs/readers.md#liveness).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, symlink } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { renderLauncher } from "../../src/host/launcher.ts";
import { parseWatchOutput, renderWatchReader } from "../../src/host/watch-reader.ts";
import { parseRunsOutput, renderRunsLister } from "../../src/host/runs-lister.ts";
import { FIXTURE_REPO, isAlive, launcherEnv, makeOrigin, rewriteToLocal, runBash, STARTED_RUNNER, waitFor } from "../host/helpers.ts";
import { newTestRunId, prepareRun, readResult, runnerEnv, runRunner, startWorld } from "./harness.ts";

describe("a symlinked runs root with a live run", () => {
  it("is live to the watch reader, the runs lister and another run's sweep, by either spelling; the sweep leaves it alone", async (t: TestContext) => {
    const world = await startWorld();
    const pids: number[] = [];
    t.after(async () => {
      for (const pid of pids) if (isAlive(pid)) process.kill(pid, "SIGKILL");
      await world.close();
    });
    const { bare, commit } = await makeOrigin(join(world.dir, "origin"), { "dev-e2e.sh": STARTED_RUNNER });
    const real = join(world.dir, "runs");
    const link = join(world.dir, "runs-link");
    await mkdir(real, { recursive: true, mode: 0o700 });
    await symlink(real, link);

    // Run A: dispatched with the symlink's spelling; its runner waits (a live run).
    const a = newTestRunId("linked");
    const launcher = renderLauncher({
      repo: FIXTURE_REPO, manifestCommit: commit, scriptPath: "scripts/ci/dev-e2e.sh", runId: a, environment: "dev", timeoutMs: 60_000,
      keepNamespace: false, workRoot: join(world.dir, "work-a"), runsRoot: link, egressProxy: "http://127.0.0.1:9",
    });
    const d = await runBash(launcher, launcherEnv(world.dir, rewriteToLocal(bare)));
    assert.equal(d.code, 0, d.stderr);
    const dirA = join(real, a);
    await waitFor("run A's runner", () => (existsSync(join(dirA, "runner.pid")) ? true : undefined));
    for (const f of ["launcher.pid", "runner.pid"]) pids.push(Number((await readFile(join(dirA, f), "utf8")).trim()));

    for (const runsRoot of [link, real]) {
      const status = parseWatchOutput((await runBash(renderWatchReader({ runsRoot, runId: a, answerWaitMs: 0 }), launcherEnv(world.dir))).stdout);
      assert.equal(status.liveness.live, true, `${runsRoot}: ${status.liveness.why}`);
      assert.equal(status.runner.alive, true);
      const listed = parseRunsOutput((await runBash(renderRunsLister({ runsRoot }), launcherEnv(world.dir))).stdout);
      assert.ok(listed.runs.some((r) => r.runId === a), `${runsRoot}: the lister sees run A`);
    }

    // Run B: the real runner, given the real spelling; its sweep must call A live.
    const b = await prepareRun(world, newTestRunId("sweeper"));
    const exit = await runRunner(b.args, runnerEnv(world));
    assert.equal(exit.code, 0, exit.stderr);
    assert.equal((await readResult(b.resultDir)).status, "succeeded");
    const logB = await readFile(join(b.resultDir, "runner.log"), "utf8");
    assert.match(logB, /sweep: 1 other runs in .*, 0 lost/);
    assert.equal(existsSync(join(dirA, "result.json")), false, "A was not swept as lost");
    assert.ok(pids.every(isAlive), "A's launcher and runner still run");
    assert.equal(JSON.parse(d.stdout).resultDir, dirA, "the launcher answers the canonical result dir");
  });
});

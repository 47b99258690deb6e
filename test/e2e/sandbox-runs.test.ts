import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { cli, cliCounted, jsonOf, runDirs, show, withE2e, type E2e } from "./sandbox-helpers.ts";

/**
 * Run identity across dispatches: a repeated runId starts one run; parallel submits start distinct runs.
 * Each case has its own sandbox (dispatch counts stay exact) and they run at once.
 */
describe("e2e: duplicate run ids and parallel submits", { concurrency: true }, () => {
  /** PipelineRuns of a run in the fake cluster, and how many times one was created through the API. */
  const pipelineRuns = (e2e: E2e, runId: string) => ({
    objects: e2e.sb.kube!.listObjects("tekton.dev/v1", "pipelineruns", "unidesk-ci", `unidesk.ci/run-id=${runId}`).map((o) => o.metadata.name),
    creates: e2e.sb.kube!.writes().filter((w) => w.method === "POST" && w.resource === "pipelineruns" && w.name === `e2e-${runId}` && w.code === 201).length,
  });

  it("the same --run-id dispatched twice (and a third time with --json): one run, the others say duplicate", () => withE2e(async (e2e) => {
    const runId = "e2e-dup-1";
    const first = await cliCounted(e2e, ["run-dev-e2e", "--run-id", runId]);
    assert.equal(first.code, 0, show(first));
    assert.equal(first.calls, 1);
    assert.match(first.stdout, /^state:\s+started$/m);

    const second = await cliCounted(e2e, ["run-dev-e2e", "--run-id", runId]);
    assert.equal(second.code, 0, show(second));
    assert.equal(second.calls, 1);
    assert.match(second.stdout, /^state:\s+already existed \(nothing new started\)$/m);
    assert.match(second.stderr, /warning: run e2e-dup-1 already existed on D601; nothing new was started/);

    const third = await cliCounted(e2e, ["run-dev-e2e", "--run-id", runId, "--json"]);
    assert.equal(third.code, 0, show(third));
    assert.equal(jsonOf(third).state, "duplicate");

    assert.equal((await e2e.sb.waitForResult(runId)).status, "succeeded");
    assert.deepEqual(pipelineRuns(e2e, runId), { objects: [`e2e-${runId}`], creates: 1 });
    const launcherLog = await readFile(join(e2e.sb.runsRoot, runId, "launcher.log"), "utf8");
    assert.equal(launcherLog.match(/launcher accepted run/g)?.length, 1, launcherLog);
    assert.equal(launcherLog.match(/starting runner/g)?.length, 1, launcherLog);
  }));

  it("the same --run-id dispatched twice at once: exactly one started", () => withE2e(async (e2e) => {
    const runId = "e2e-dup-2";
    const [a, b] = await Promise.all([cli(e2e, ["run-dev-e2e", "--run-id", runId, "--json"]), cli(e2e, ["run-dev-e2e", "--run-id", runId, "--json"])]);
    assert.equal(a.code, 0, show(a));
    assert.equal(b.code, 0, show(b));
    assert.deepEqual([jsonOf(a).state, jsonOf(b).state].sort(), ["duplicate", "started"]);
    assert.equal((await e2e.sb.waitForResult(runId)).status, "succeeded");
    assert.deepEqual(pipelineRuns(e2e, runId), { objects: [`e2e-${runId}`], creates: 1 });
  }));

  it("five submits in parallel: five distinct runs, five dispatch calls, all succeed", () => withE2e(async (e2e) => {
    const before = e2e.sb.backend.callCount();
    const dirsBefore = await runDirs(e2e.sb);
    const runs = await Promise.all(Array.from({ length: 5 }, () => cli(e2e, ["run-dev-e2e", "--json"])));
    for (const r of runs) assert.equal(r.code, 0, show(r));
    await e2e.sb.backend.idle();
    assert.equal(e2e.sb.backend.callCount() - before, 5);
    const ids = runs.map((r) => jsonOf(r).runId as string);
    assert.equal(new Set(ids).size, 5, ids.join(", "));
    assert.ok(runs.every((r) => jsonOf(r).state === "started"));
    assert.deepEqual((await runDirs(e2e.sb)).filter((d) => !dirsBefore.includes(d)), [...ids].sort());

    const results = await Promise.all(ids.map((id) => e2e.sb.waitForResult(id)));
    assert.deepEqual(results.map((r) => r.status), Array(5).fill("succeeded"), JSON.stringify(results));
    assert.deepEqual(results.map((r) => r.runId), ids);
    for (const id of ids) assert.deepEqual(pipelineRuns(e2e, id), { objects: [`e2e-${id}`], creates: 1 });
  }));
});

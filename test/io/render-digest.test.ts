// The failure digest: one render for run-dev-e2e --wait-ms/--follow, logs and logs --follow (golden file).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderChanges, renderDigest } from "../../src/io/render-digest.ts";
import { digestOf, failureFromTask } from "../../src/runs/digest.ts";
import type { RunResult } from "../../src/host/result.ts";
import type { TaskState } from "../../src/runs/tasks.ts";
import { assertGolden } from "../golden/golden.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);
const C = "c".repeat(40);
const result = (over: Partial<RunResult> = {}): RunResult => ({
  ok: false, status: "failed", runId: "r-2", manifestCommit: C, pipelineRun: "e2e-r-2", temporaryNamespace: null,
  startedAt: "2026-11-27T16:26:00.000Z", finishedAt: "2026-11-27T16:30:00.000Z", ...over,
});
const task = (name: string, state: TaskState["state"], over: Partial<TaskState> = {}): TaskState => ({
  task: name, state, reason: null, message: null, startTime: "2026-11-27T16:27:00.000Z", completionTime: null, ...over,
});
const failure = { task: "deploy-dev", step: "deploy", exitCode: 1, reason: "Failed", message: '"step-deploy" exited with code 1', log: "pods/e2e-r-2-deploy-dev-pod_step-deploy.log", tail: ["applying api", "error: image api:bbbbbbb not found"] };
const changes = {
  since: { runId: "r-1", manifestCommit: A },
  services: { added: [{ id: "db", commitId: B }], removed: [{ id: "old", commitId: A }], changed: [{ id: "api", from: A, to: B }] },
  commits: [{ sha: B, subject: "dev: api to bbbbbbb" }],
};

describe("the failure digest", () => {
  it("failed steps with their last lines, then what changed since the last green run (golden)", async () => {
    const d = digestOf({ result: result({ failures: [failure] }), tasks: [], changes, now: new Date() });
    await assertGolden("digest.txt", renderDigest(d, { color: false }));
  });

  it("without result.json's failures: the failed TaskRun's message gives the step and the exit code", () => {
    const t = task("deploy-dev", "failed", { reason: "Failed", message: '"step-deploy" exited with code 2' });
    assert.deepEqual(failureFromTask(t), { task: "deploy-dev", step: "deploy", exitCode: 2, reason: "Failed", message: '"step-deploy" exited with code 2', log: null, tail: [] });
    const d = digestOf({ result: result(), tasks: [t, task("e2e", "succeeded")], changes: null, now: new Date() });
    assert.equal(renderDigest(d, { color: false }), '✗ deploy-dev/deploy exited 2: "step-deploy" exited with code 2\n');
  });

  it("a timeout says which tasks were still running and for how long: open phases first, else running TaskRuns", () => {
    const phases = [{ name: "task:e2e", startedAt: "2026-11-27T16:28:00.000Z", finishedAt: null }, { name: "task:check", startedAt: "2026-11-27T16:27:00.000Z", finishedAt: "2026-11-27T16:27:30.000Z" }];
    const fromPhases = digestOf({ result: result({ status: "timeout", phases }), tasks: [], changes: null, now: new Date() });
    assert.deepEqual(fromPhases.running, [{ task: "e2e", forMs: 120_000 }]);
    const waiting = digestOf({ result: null, tasks: [task("e2e", "running"), task("report", "pending")], changes: null, now: new Date("2026-11-27T16:31:00.000Z") });
    assert.equal(renderDigest(waiting, { color: false, ended: "timeout" }), "● e2e still running after 4m00s\n");
    const cancelled = digestOf({ result: result({ status: "cancelled" }), tasks: [task("e2e", "cancelled", { completionTime: "2026-11-27T16:29:00.000Z" })], changes: null, now: new Date() });
    assert.equal(renderDigest(cancelled, { color: false, ended: "cancelled" }), "● e2e was still running when the run ended (after 2m00s)\n");
  });

  it("says nothing for a run that succeeded; no earlier green run is said once", () => {
    assert.equal(renderDigest(digestOf({ result: result({ ok: true, status: "succeeded", failures: [failure] }), tasks: [], changes, now: new Date() }), { color: false }), "");
    assert.equal(renderChanges({ since: null, services: { added: [], removed: [], changed: [] }, commits: null }, { color: false }), "since the last green run: no earlier run succeeded\n");
  });
});

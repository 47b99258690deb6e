import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { until, RUN_END_WAIT_MS } from "../support/until.ts";
import { cli, cliCounted, dispatchKinds, jsonOf, show, sharedE2e } from "./sandbox-helpers.ts";

/** `cancel` through the whole sandbox: the built bundle, backend-core, D601 over SSH, the real runner and the fake cluster. */
describe("e2e: cancelling a run", () => {
  const e2e = sharedE2e();

  it("a hanging run: cancel --wait-ms signals its runner, which cancels the PipelineRun, cleans up and ends cancelled", async () => {
    const { sb } = e2e();
    const runId = "e2e-cancel-1";
    sb.kube!.setOutcome(runId, { kind: "hang" });
    const submit = await cli(e2e(), ["run-dev-e2e", "--run-id", runId]);
    assert.equal(submit.code, 0, show(submit));
    await until("the runner to create the PipelineRun", () => existsSync(join(sb.runsRoot, runId, "pipelinerun.txt")));

    const from = sb.backend.requests.length;
    const r = await cliCounted(e2e(), ["cancel", runId, "--wait-ms", RUN_END_WAIT_MS]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, new RegExp(`^cancel requested: signalled the runner \\(pid \\d+\\) of run ${runId}$`, "m"));
    assert.match(r.stdout, /^status:\s+cancelled$/m);
    const kinds = dispatchKinds(sb, from);
    assert.deepEqual(kinds, ["cancel", ...kinds.slice(1).map(() => "watch")], "1 cancel, then 1 watch reader per answer");
    assert.equal(r.calls, kinds.length);

    const result = await sb.waitForResult(runId);
    assert.deepEqual([result["status"], result["writer"], result["namespaceDeleted"]], ["cancelled", "runner", true]);
    const pr = sb.kube!.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", `e2e-${runId}`);
    assert.equal(pr?.spec?.["status"], "Cancelled");
    assert.equal(sb.kube!.getObject("v1", "namespaces", undefined, `unidesk-ci-${runId}`), undefined, "temporary namespace deleted");

    const again = await cliCounted(e2e(), ["cancel", runId]);
    assert.equal(again.code, 0, show(again));
    assert.equal(again.calls, 1);
    assert.equal(again.stdout, `run ${runId} already finished (status: cancelled); nothing to cancel\n`);
  });

  it("a finished run: exit 0, already finished, nothing signalled", async () => {
    const runId = "e2e-cancel-done";
    const done = await cli(e2e(), ["run-dev-e2e", "--run-id", runId, "--wait-ms", RUN_END_WAIT_MS]);
    assert.equal(done.code, 0, show(done));
    const r = await cliCounted(e2e(), ["cancel", runId, "--json"]);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.calls, 1);
    assert.deepEqual(jsonOf(r), { ok: true, runId, reference: null, outcome: "finished", process: null, pid: null, status: "succeeded", problem: null });
  });

  it("an unknown run id: exit 2, one read-only dispatch", async () => {
    const r = await cliCounted(e2e(), ["cancel", "e2e-cancel-none", "--json"]);
    assert.equal(r.code, 2, show(r));
    assert.equal(r.calls, 1);
    assert.equal(jsonOf(r).error.code, "usage");
  });
});

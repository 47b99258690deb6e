import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { scriptedTasks } from "../kube/fake-tekton.ts";
import { cli, jsonOf, show, withE2e } from "./sandbox-helpers.ts";
import { RUN_END_WAIT_MS } from "../support/until.ts";

/** result.json's `failures` and `phases` through the real launcher and runner (docs/runner.md#failures, #phases). */
describe("e2e: a failed run records its failed step and its phases", () => {
  it("the failed step with its message and last lines; fetch timed from the launcher's first line to the runner's start", () => withE2e(async (e2e) => {
    const runId = "e2e-failures-1";
    const failSteps = [{ name: "deploy-dev", exitCode: 1, chunks: ["Error from server: deployments.apps \"backend-core\" not found\n"] }];
    e2e.sb.kube!.setOutcome(runId, { kind: "tasks", tasks: scriptedTasks({ lines: 3, intervalMs: 20, failTask: "smoke-namespace", failSteps }) });
    const r = await cli(e2e, ["run-dev-e2e", "--run-id", runId, "--wait-ms", RUN_END_WAIT_MS, "--json"]);
    assert.equal(r.code, 1, show(r));
    const result = jsonOf(r)["result"];
    const log = `pods/e2e-${runId}-smoke-namespace-pod_step-deploy-dev.log`;
    assert.deepEqual(result.failures, [{
      task: "smoke-namespace", step: "deploy-dev", exitCode: 1, reason: "Error", message: '"step-deploy-dev" exited with code 1', log,
      tail: [
        `[smoke-namespace/deploy-dev] started for ${runId} at ${result.manifestCommit}`,
        "[smoke-namespace] line 1 of 3", "[smoke-namespace] line 2 of 3", "[smoke-namespace] line 3 of 3",
        'Error from server: deployments.apps "backend-core" not found',
        "[smoke-namespace/deploy-dev] FAILED: assertion failed",
      ],
    }]);
    assert.equal((await readFile(join(e2e.sb.runsRoot, runId, log), "utf8")).split("\n").at(-2), "[smoke-namespace/deploy-dev] FAILED: assertion failed");
    const accepted = (await readFile(join(e2e.sb.runsRoot, runId, "launcher.log"), "utf8")).split(" ")[0];
    assert.deepEqual(result.phases.map((p: { name: string }) => p.name), ["fetch", "namespace", "pipelinerun", "task:check-inputs", "task:smoke-namespace", "logs"]);
    assert.deepEqual(result.phases[0], { name: "fetch", startedAt: accepted, finishedAt: result.startedAt });
  }));
});

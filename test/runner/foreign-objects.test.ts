// The verdict is the status of the PipelineRun this run created, by its uid (docs/security.md): attacks by another
// cluster user on the runner's objects, against the fake API with the real kubectl. Found by a review on 2026-12-06.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { launchRunner, newTestRunId, prepareRun, readResult, runnerEnv, SHA, startWorld, untilWaiting, type World } from "./harness.ts";

/** Another cluster user's request (client "intruder"), straight to the API. */
async function intruder(world: World, method: string, path: string, body?: object): Promise<number> {
  const res = await fetch(`${world.kube.serverUrl("intruder")}${path}`, { method, headers: { "content-type": "application/json" }, body: body ? JSON.stringify(body) : undefined });
  await res.text();
  return res.status;
}

describe("dev-e2e.sh: only the PipelineRun it created gives the verdict", () => {
  let world: World;
  before(async () => {
    world = await startWorld({ defaultOutcome: { kind: "hang" } });
  });
  after(() => world.close());

  it("a PipelineRun put in its place under the same name and labels, for another commit, succeeding: error at once, never succeeded", async () => {
    const runId = newTestRunId("swap");
    const inv = await prepareRun(world, runId);
    const launched = launchRunner(inv, runnerEnv(world));
    await untilWaiting(inv);
    // The run's own PipelineRun hangs; another user deletes it and creates theirs (no services, another commit).
    world.kube.setOutcome(runId, { kind: "succeed", delayMs: 100 });
    const path = "/apis/tekton.dev/v1/namespaces/unidesk-ci/pipelineruns";
    assert.equal(await intruder(world, "DELETE", `${path}/e2e-${runId}`), 200);
    const labels = { "app.kubernetes.io/managed-by": "unidesk-ci", "unidesk.ci/run-id": runId, "unidesk.ci/manifest-commit": "f".repeat(40) };
    const theirs = {
      apiVersion: "tekton.dev/v1", kind: "PipelineRun", metadata: { name: `e2e-${runId}`, namespace: "unidesk-ci", labels },
      spec: { pipelineRef: { name: "unidesk-dev-namespace-e2e" }, params: [{ name: "run-id", value: runId }, { name: "manifest-commit", value: "f".repeat(40) }, { name: "dev-services", value: "[]" }] },
    };
    assert.equal(await intruder(world, "POST", path, theirs), 201);
    const exit = await launched.exited;
    const result = await readResult(inv.resultDir);
    assert.equal(result.status, "error", `exit ${exit.code}: ${result.reason}`);
    assert.equal(result.manifestCommit, SHA);
    assert.match(result.reason ?? "", new RegExp(`^PipelineRun unidesk-ci/e2e-${runId} is not the one this run created \\(uid [0-9a-f-]+\\): another was put in its place`));
    assert.match(await readFile(join(inv.resultDir, "runner.log"), "utf8"), new RegExp(`created PipelineRun unidesk-ci/e2e-${runId} \\(uid [0-9a-f-]+\\)`));
  });
});

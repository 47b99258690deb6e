import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { launch } from "./launch.ts";
import { newRunId } from "../../src/runs/run-id.ts";
import { REPO_RUNNER_DIR, startSandbox, type Sandbox } from "./sandbox.ts";

const hasRunner = existsSync(join(REPO_RUNNER_DIR, "dev-e2e.sh"));

/** The repo's real runner in the sandbox, against the fake cluster (skipped until scripts/ci/dev-e2e.sh exists). */
describe("startSandbox with the repo's runner and the fake cluster", { skip: hasRunner ? false : "scripts/ci/dev-e2e.sh not written yet" }, () => {
  let sb: Sandbox;
  let production: Record<string, string>;
  before(async () => {
    sb = await startSandbox();
    production = sb.kube!.snapshot(["unidesk", "unidesk-dev"]);
  });
  after(async () => {
    await sb?.stop();
  });

  const launchOk = async (runId: string) => {
    const { body } = await launch(sb, runId, sb.initialCommit);
    assert.equal(body.exitCode, 0, body.stderr);
  };

  it("a succeeding PipelineRun ends in result.json succeeded, with the PipelineRun name and no production change", async () => {
    const runId = newRunId(new Date());
    await launchOk(runId);
    const result = await sb.waitForResult(runId);
    const runnerLog = await readFile(join(sb.runsRoot, runId, "runner.log"), "utf8").catch(() => "");
    assert.equal(result.status, "succeeded", `${JSON.stringify(result)}\n${runnerLog}`);
    assert.equal((await readFile(join(sb.runsRoot, runId, "pipelinerun.txt"), "utf8")).trim(), result.pipelineRun);
    assert.deepEqual(sb.kube!.snapshot(["unidesk", "unidesk-dev"]), production);
    assert.deepEqual(sb.requestsBypassingProxy(), []);
  });

  it("a failing PipelineRun ends in result.json failed", async () => {
    const runId = newRunId(new Date());
    sb.kube!.setOutcome(runId, { kind: "fail", message: "e2e assertion failed" });
    await launchOk(runId);
    const result = await sb.waitForResult(runId);
    assert.equal(result.status, "failed", JSON.stringify(result));
    assert.deepEqual(sb.kube!.snapshot(["unidesk", "unidesk-dev"]), production);
  });
});

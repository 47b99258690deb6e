import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { execFile } from "node:child_process";
import { assertClusterInvariants, fastClockEnv, hasFile, newTestRunId, prepareRun, readResult, runnerEnv, runRunner, startWorld, until } from "./harness.ts";

describe("dev-e2e.sh: PipelineRuns that do not succeed", () => {
  it("failed: exit 1, status failed with Tekton's reason, the failed pod's logs saved", async (t: TestContext) => {
    const world = await startWorld();
    t.after(() => world.close());
    const runId = newTestRunId("fail");
    world.kube.setOutcome(runId, { kind: "fail", task: "smoke-namespace", message: "e2e assertion failed: /health returned 500", delayMs: 200 });
    const inv = await prepareRun(world, runId);
    const exit = await runRunner(inv.args, runnerEnv(world));
    assert.equal(exit.code, 1, exit.stderr);
    const result = await readResult(inv.resultDir);
    assert.equal(result.ok, false);
    assert.equal(result.status, "failed");
    assert.match(result.reason ?? "", /e2e assertion failed: \/health returned 500/);
    assert.equal(result.pipelineRun, `e2e-${runId}`);
    const failedLog = await readFile(join(inv.resultDir, "pods", `e2e-${runId}-smoke-namespace-pod_step-smoke-namespace.log`), "utf8");
    assert.match(failedLog, /FAILED: e2e assertion failed/);
    const trs = JSON.parse(await readFile(join(inv.resultDir, "taskruns.json"), "utf8"));
    assert.ok(trs.items.some((tr: { status: { conditions: { reason: string }[] } }) => tr.status.conditions[0]?.reason === "Failed"));
    assertClusterInvariants(world, [runId]);
  });

  it("pipeline missing: status error naming the Pipeline, nothing left behind", async (t: TestContext) => {
    const world = await startWorld({ defaultOutcome: { kind: "pipeline-missing" } });
    t.after(() => world.close());
    const runId = newTestRunId("nopipe");
    const inv = await prepareRun(world, runId);
    const exit = await runRunner(inv.args, runnerEnv(world));
    assert.equal(exit.code, 3, exit.stderr);
    const result = await readResult(inv.resultDir);
    assert.equal(result.status, "error");
    assert.match(result.reason ?? "", /pipeline\/unidesk-dev-namespace-e2e is missing in namespace unidesk-ci/);
    assert.equal(result["tektonReason"], "CouldntGetPipeline");
    const pr = JSON.parse(await readFile(join(inv.resultDir, "pipelinerun.json"), "utf8"));
    assert.equal(pr.status.conditions[0].reason, "CouldntGetPipeline");
    assert.deepEqual(JSON.parse(await readFile(join(inv.resultDir, "taskruns.json"), "utf8")).items, []);
    assertClusterInvariants(world, [runId]);
  });

  it("pipeline deleted from the cluster: the same visible error", async (t: TestContext) => {
    const world = await startWorld();
    t.after(() => world.close());
    assert.ok(world.kube.deleteObject("tekton.dev/v1", "pipelines", "unidesk-ci", "unidesk-dev-namespace-e2e"));
    const runId = newTestRunId("gone");
    const inv = await prepareRun(world, runId);
    const exit = await runRunner(inv.args, runnerEnv(world));
    assert.equal(exit.code, 3, exit.stderr);
    const result = await readResult(inv.resultDir);
    assert.equal(result.status, "error");
    assert.match(result.reason ?? "", /is missing in namespace unidesk-ci .*pipelines.tekton.dev "unidesk-dev-namespace-e2e" not found/);
    assertClusterInvariants(world, [runId]);
  });

  it("timeout: the PipelineRun is cancelled, logs collected, status timeout, namespace gone", async (t: TestContext) => {
    const world = await startWorld({ defaultOutcome: { kind: "hang" } });
    t.after(() => world.close());
    const runId = newTestRunId("slow");
    const inv = await prepareRun(world, runId, { timeoutMs: 60_000 });
    // A clock 30 times faster: the one-minute deadline passes in about 2 s (a hanging PipelineRun never ends, so
    // the runner's exit 4 and status timeout prove it stopped waiting at its deadline).
    const exit = await runRunner(inv.args, await fastClockEnv(world, 30));
    assert.equal(exit.code, 4, exit.stderr);
    const result = await readResult(inv.resultDir);
    assert.equal(result.status, "timeout");
    assert.match(result.reason ?? "", /did not finish within 60000ms; it was cancelled/);
    const pr = world.kube.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", `e2e-${runId}`)!;
    assert.equal(pr.spec?.["status"], "Cancelled");
    assert.equal((pr.status?.["conditions"] as { reason: string }[])[0]?.reason, "Cancelled");
    const cancelPatch = world.kube.writes({ client: world.client }).find((w) => w.method === "PATCH" && w.resource === "pipelineruns");
    assert.equal(cancelPatch?.name, `e2e-${runId}`);
    const saved = JSON.parse(await readFile(join(inv.resultDir, "pipelinerun.json"), "utf8"));
    assert.equal(saved.status.conditions[0].reason, "Cancelled", "collected after Tekton confirmed the cancel");
    const pods = await readdir(join(inv.resultDir, "pods"));
    assert.equal(pods.filter((p) => p.endsWith(".log")).length, 7, pods.join(","));
    assertClusterInvariants(world, [runId]);
  });

  it("cancelled by someone else: status cancelled, logs collected, namespace gone", async (t: TestContext) => {
    const world = await startWorld({ defaultOutcome: { kind: "hang" } });
    t.after(() => world.close());
    const runId = newTestRunId("extcancel");
    const inv = await prepareRun(world, runId, { timeoutMs: 60_000 });
    const operator = await world.kube.writeKubeconfig(join(world.dir, "operator-kubeconfig"), "operator");
    const exit = await runRunner(inv.args, runnerEnv(world), () => {
      void until(() => hasFile(inv.resultDir, "pipelinerun.txt"), "pipelinerun.txt").then(() => {
        execFile("kubectl", ["-n", "unidesk-ci", "patch", "pipelinerun", `e2e-${runId}`, "--type", "merge", "-p", '{"spec":{"status":"Cancelled"}}'], {
          env: { ...runnerEnv(world), KUBECONFIG: operator },
        });
      });
    });
    assert.equal(exit.code, 130, exit.stderr);
    const result = await readResult(inv.resultDir);
    assert.equal(result.status, "cancelled");
    assert.match(result.reason ?? "", /was cancelled outside the runner/);
    assert.ok(hasFile(inv.resultDir, "pipelinerun.json"));
    assertClusterInvariants(world, [runId]);
  });
});

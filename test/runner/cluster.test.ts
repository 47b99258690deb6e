import assert from "node:assert/strict";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { assertClusterInvariants, hasFile, newTestRunId, prepareRun, readResult, runnerEnv, runRunner, startWorld, until } from "./harness.ts";

describe("dev-e2e.sh: cluster problems and repeated run ids", () => {
  it("API server down: status error with kubectl's reason, nothing created", async (t: TestContext) => {
    const world = await startWorld();
    t.after(() => world.close());
    await world.kube.stop();
    const runId = newTestRunId("down");
    const inv = await prepareRun(world, runId);
    const exit = await runRunner(inv.args, runnerEnv(world));
    assert.equal(exit.code, 3, exit.stderr);
    const result = await readResult(inv.resultDir);
    assert.equal(result.status, "error");
    assert.match(result.reason ?? "", /cannot use the cluster \(KUBECONFIG=.*\): .*(refused|connect)/);
    assert.equal(result.pipelineRun, null);
    assert.equal(result.temporaryNamespace, null);
    assert.match(exit.stderr, /error: cannot use the cluster/);
  });

  it("API server lost mid-run: status error after repeated kubectl failures", async (t: TestContext) => {
    const world = await startWorld({ defaultOutcome: { kind: "hang" } });
    t.after(() => world.close());
    const runId = newTestRunId("lost");
    const inv = await prepareRun(world, runId);
    const exit = await runRunner(inv.args, runnerEnv(world), () => {
      void until(() => hasFile(inv.resultDir, "pipelinerun.txt"), "pipelinerun.txt").then(() => world.kube.stop());
    });
    assert.equal(exit.code, 3, exit.stderr);
    const result = await readResult(inv.resultDir);
    assert.equal(result.status, "error");
    assert.match(result.reason ?? "", /lost the cluster while waiting/);
    assert.equal(result.pipelineRun, `e2e-${runId}`);
    assert.match(await readFile(join(inv.resultDir, "runner.log"), "utf8"), /could not save pipelinerun.json/);
  });

  it("a namespace with the run's name that the runner did not create is refused and left untouched", async (t: TestContext) => {
    const world = await startWorld();
    t.after(() => world.close());
    const runId = newTestRunId("squat");
    const squatter = world.kube.createObject({ apiVersion: "v1", kind: "Namespace", metadata: { name: `unidesk-ci-${runId}`, labels: { team: "someone-else" } } });
    const inv = await prepareRun(world, runId);
    const exit = await runRunner(inv.args, runnerEnv(world));
    assert.equal(exit.code, 3, exit.stderr);
    const result = await readResult(inv.resultDir);
    assert.equal(result.status, "error");
    assert.match(result.reason ?? "", /already exists and is not this run's; it was left untouched/);
    const after = world.kube.getObject("v1", "namespaces", undefined, `unidesk-ci-${runId}`);
    assert.equal(after?.metadata.resourceVersion, squatter.metadata.resourceVersion);
    assert.equal(world.kube.writes({ client: world.client }).filter((w) => w.method === "DELETE").length, 0);
    assert.equal(world.kube.listObjects("tekton.dev/v1", "pipelineruns", "unidesk-ci").length, 0);
    assertClusterInvariants(world, [runId], { kept: [runId] });
  });

  it("the same run id twice: one PipelineRun; the second run refuses with a clear reason", async (t: TestContext) => {
    const world = await startWorld();
    t.after(() => world.close());
    const runId = newTestRunId("twice");
    const first = await prepareRun(world, runId);
    assert.equal((await runRunner(first.args, runnerEnv(world))).code, 0);

    // Same result dir: refused before touching anything, the first result stays.
    const firstResult = await readFile(join(first.resultDir, "result.json"), "utf8");
    const again = await runRunner(first.args, runnerEnv(world));
    assert.equal(again.code, 3);
    assert.match(again.stderr, /result.json already exists/);
    assert.equal(await readFile(join(first.resultDir, "result.json"), "utf8"), firstResult);

    // A fresh result dir for the same id: the cluster refuses a second PipelineRun.
    await rm(first.resultDir, { recursive: true });
    const second = await prepareRun(world, runId);
    const exit = await runRunner(second.args, runnerEnv(world));
    assert.equal(exit.code, 3, exit.stderr);
    const result = await readResult(second.resultDir);
    assert.equal(result.status, "error");
    assert.match(result.reason ?? "", /PipelineRun unidesk-ci\/e2e-.* already exists: run id .* was already used/);
    assert.equal(world.kube.listObjects("tekton.dev/v1", "pipelineruns", "unidesk-ci", `unidesk.ci/run-id=${runId}`).length, 1);
    assert.equal(world.kube.writes({ client: world.client }).filter((w) => w.method === "POST" && w.resource === "pipelineruns").length, 1);
    assertClusterInvariants(world, [runId]);
  });

  it("a runner.pid already in the result dir (another runner) is refused", async (t: TestContext) => {
    const world = await startWorld();
    t.after(() => world.close());
    const runId = newTestRunId("locked");
    const inv = await prepareRun(world, runId);
    const { writeFile } = await import("node:fs/promises");
    await writeFile(join(inv.resultDir, "runner.pid"), "424242\n");
    const exit = await runRunner(inv.args, runnerEnv(world));
    assert.equal(exit.code, 3);
    assert.match(exit.stderr, /runner.pid exists: another runner \(pid 424242/);
    assert.equal(world.kube.writes({ client: world.client }).length, 0);
  });

  it("two runs in parallel: two namespaces, two PipelineRuns, both succeed and clean up", async (t: TestContext) => {
    const world = await startWorld({ defaultOutcome: { kind: "succeed", delayMs: 500 } });
    t.after(() => world.close());
    const ids = [newTestRunId("par-a"), newTestRunId("par-b")];
    world.kube.setOutcome(ids[1]!, { kind: "fail", delayMs: 300, message: "b fails" });
    const invs = await Promise.all(ids.map((id) => prepareRun(world, id)));
    const exits = await Promise.all(invs.map((inv) => runRunner(inv.args, runnerEnv(world))));
    assert.deepEqual(exits.map((e) => e.code), [0, 1]);
    const results = await Promise.all(invs.map((inv) => readResult(inv.resultDir)));
    assert.deepEqual(results.map((r) => [r.runId, r.status]), [[ids[0], "succeeded"], [ids[1], "failed"]]);
    assert.equal(world.kube.listObjects("tekton.dev/v1", "pipelineruns", "unidesk-ci").length, 2);
    assertClusterInvariants(world, ids);
  });
});

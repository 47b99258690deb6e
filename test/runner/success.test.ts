import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { paramOf } from "../kube/fake-tekton.ts";
import { assertClusterInvariants, newTestRunId, prepareRun, readResult, runnerEnv, runRunner, SERVICES, SHA, startWorld } from "./harness.ts";

describe("dev-e2e.sh: a succeeding PipelineRun", () => {
  it("creates the labelled namespace and PipelineRun, saves everything, cleans up, exits 0", async (t: TestContext) => {
    const world = await startWorld({ defaultOutcome: { kind: "succeed", delayMs: 300 } });
    t.after(() => world.close());
    const runId = newTestRunId("ok");
    const inv = await prepareRun(world, runId);
    const exit = await runRunner(inv.args, runnerEnv(world));
    const log = await readFile(join(inv.resultDir, "runner.log"), "utf8");
    assert.equal(exit.code, 0, `${exit.stderr}\n${log}`);
    assert.match(exit.stderr, /succeeded/);

    const result = await readResult(inv.resultDir);
    assert.equal(result.ok, true);
    assert.equal(result.status, "succeeded");
    assert.equal(result.runId, runId);
    assert.equal(result.manifestCommit, SHA);
    assert.equal(result.pipelineRun, `e2e-${runId}`);
    assert.equal(result.temporaryNamespace, `unidesk-ci-${runId}`);
    assert.equal(result["writer"], "runner");
    assert.ok((result.durationMs ?? -1) >= 0);

    assert.equal(await readFile(join(inv.resultDir, "pipelinerun.txt"), "utf8"), `e2e-${runId}\n`);
    assert.equal((await readFile(join(inv.resultDir, "runner.pid"), "utf8")).trim().length > 0, true);
    const pr = JSON.parse(await readFile(join(inv.resultDir, "pipelinerun.json"), "utf8"));
    assert.equal(pr.metadata.name, `e2e-${runId}`);
    assert.equal(pr.status.conditions[0].reason, "Succeeded");
    const trs = JSON.parse(await readFile(join(inv.resultDir, "taskruns.json"), "utf8"));
    assert.equal(trs.items.length, 3);
    const pods = await readdir(join(inv.resultDir, "pods"));
    assert.ok(pods.includes(`e2e-${runId}-report-pod_step-report.log`), pods.join(","));
    assert.ok(pods.includes(`e2e-${runId}-report-pod_prepare.log`), "init containers are saved too");
    assert.ok(pods.includes("e2e-smoke_smoke.log"), "pods of the temporary namespace are saved");
    assert.match(await readFile(join(inv.resultDir, "pods", `e2e-${runId}-report-pod_step-report.log`), "utf8"), /\[report\] ok/);
    assert.deepEqual((await readdir(inv.resultDir)).filter((f) => f.startsWith(".result.json")), [], "no temp file left");

    // kubectl reads the API's discovery once (its cache, KUBECACHEDIR, serves every later call): dozens of calls a
    // run, one `/apis` (resource names that kubectl misreads first would drop the cache at every call).
    const requests = world.kube.requests();
    const kubectlCalls = requests.filter((r) => /\/(pipelineruns|taskruns|pods|namespaces)(\/|\?|$)/.test(r.path)).length;
    assert.ok(kubectlCalls >= 10, `${kubectlCalls} calls`);
    assert.equal(requests.filter((r) => r.path === "/apis").length, 1, requests.map((r) => `${r.method} ${r.path}`).join("\n"));

    // Timestamped steps in runner.log.
    assert.match(log, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z runner started/m);
    assert.match(log, /wrote result.json/);

    // The PipelineRun as Tekton receives it.
    const stored = world.kube.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", `e2e-${runId}`)!;
    assert.deepEqual(stored.spec?.["pipelineRef"], { name: "unidesk-dev-namespace-e2e" });
    assert.deepEqual(stored.spec?.["timeouts"], { pipeline: "60000ms" });
    assert.equal(stored.metadata.labels?.["unidesk.ci/run-id"], runId);
    assert.equal(stored.metadata.labels?.["unidesk.ci/manifest-commit"], SHA);
    assert.equal(stored.metadata.labels?.["app.kubernetes.io/managed-by"], "unidesk-ci");
    assert.equal(paramOf(stored, "run-id"), runId);
    assert.equal(paramOf(stored, "manifest-commit"), SHA);
    assert.equal(paramOf(stored, "temporary-namespace"), `unidesk-ci-${runId}`);
    assert.equal(paramOf(stored, "keep-namespace"), "false");
    assert.deepEqual(JSON.parse(paramOf(stored, "dev-services")!), SERVICES);
    assert.equal(paramOf(stored, "service-backend-core-commit"), "a".repeat(40));
    assert.equal(paramOf(stored, "service-frontend-commit"), "b".repeat(40));

    // The namespace was created with the run's labels, then deleted.
    const nsCreate = world.kube.writes({ client: world.client }).find((w) => w.method === "POST" && w.resource === "namespaces");
    assert.equal(nsCreate?.code, 201);
    assertClusterInvariants(world, [runId]);
  });

  it("keeps the namespace with --keep-namespace and says so", async (t: TestContext) => {
    const world = await startWorld({ defaultOutcome: { kind: "succeed", delayMs: 300 } });
    t.after(() => world.close());
    const runId = newTestRunId("keep");
    const inv = await prepareRun(world, runId, { keep: true });
    const exit = await runRunner(inv.args, runnerEnv(world));
    assert.equal(exit.code, 0, exit.stderr);
    const result = await readResult(inv.resultDir);
    assert.equal(result.status, "succeeded");
    assert.equal(result.temporaryNamespace, `unidesk-ci-${runId}`);
    assert.equal(result["keepNamespace"], true);
    assert.equal(result["namespaceDeleted"], false);
    const ns = world.kube.getObject("v1", "namespaces", undefined, `unidesk-ci-${runId}`)!;
    assert.equal(ns.metadata.labels?.["unidesk.ci/run-id"], runId);
    assert.equal(ns.metadata.labels?.["unidesk.ci/manifest-commit"], SHA);
    assert.equal(ns.metadata.labels?.["app.kubernetes.io/managed-by"], "unidesk-ci");
    const pr = world.kube.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", `e2e-${runId}`)!;
    assert.equal(paramOf(pr, "keep-namespace"), "true");
    assertClusterInvariants(world, [runId], { kept: [runId] });
  });

  it("runs with no dev services (one empty JSON param, no per-service params)", async (t: TestContext) => {
    const world = await startWorld({ defaultOutcome: { kind: "succeed", delayMs: 300 } });
    t.after(() => world.close());
    const runId = newTestRunId("nosvc");
    const inv = await prepareRun(world, runId, { manifest: { schemaVersion: 2, environments: { dev: { ci: {}, services: [] } } } });
    const exit = await runRunner(inv.args, runnerEnv(world));
    assert.equal(exit.code, 0, exit.stderr);
    const pr = world.kube.getObject("tekton.dev/v1", "pipelineruns", "unidesk-ci", `e2e-${runId}`)!;
    assert.equal(paramOf(pr, "dev-services"), "[]");
    assert.deepEqual(((pr.spec?.["params"] ?? []) as { name: string }[]).map((p) => p.name), ["run-id", "manifest-commit", "temporary-namespace", "keep-namespace", "dev-services"]);
    await readResult(inv.resultDir);
    assertClusterInvariants(world, [runId]);
  });
});

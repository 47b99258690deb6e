// result.json's `failures` and `phases` (docs/runner.md#failures, #phases), written by the real runner against the
// fake API and its fake Tekton, whose TaskRuns carry Tekton's step states.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { scriptedTasks, type StepScript } from "../kube/fake-api.ts";
import { FAILURE_LINE_MAX_CHARS, FAILURE_TAIL_LINES, FAILURES_MAX, RESULT_MAX_BYTES } from "../../src/rules.ts";
import type { RunFailure, RunPhase } from "../../src/host/result.ts";
import { assertClusterInvariants, fastClockEnv, hasFile, newTestRunId, prepareRun, readResult, runnerEnv, runRunner, SHA, startWorld, until, type Invocation } from "./harness.ts";

/** result.json read as bytes: valid UTF-8, at most RESULT_MAX_BYTES, and valid against resultSchema (readResult). */
async function checkedResult(inv: Invocation) {
  const bytes = await readFile(join(inv.resultDir, "result.json"));
  assert.ok(bytes.length <= RESULT_MAX_BYTES, `result.json is ${bytes.length} bytes, more than ${RESULT_MAX_BYTES}`);
  new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  const result = await readResult(inv.resultDir);
  assert.ok(Array.isArray(result.failures), "failures is always written by the runner");
  assert.ok(Array.isArray(result.phases), "phases is always written by the runner");
  return { result, failures: result.failures!, phases: result.phases!, bytes: bytes.length };
}

/** The last FAILURE_TAIL_LINES lines of a saved log, as the runner records them (text logs). */
async function lastLines(inv: Invocation, log: string): Promise<string[]> {
  const lines = (await readFile(join(inv.resultDir, log), "utf8")).split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.slice(-FAILURE_TAIL_LINES);
}

function phase(phases: RunPhase[], name: string): RunPhase {
  const p = phases.find((x) => x.name === name);
  assert.ok(p, `phase ${name} in ${JSON.stringify(phases)}`);
  return p;
}

/** A launcher.log as the launcher starts it, so the runner can time the fetch. */
async function launcherLog(inv: Invocation, at: Date): Promise<string> {
  const iso = at.toISOString();
  await writeFile(join(inv.resultDir, "launcher.log"), `${iso} launcher accepted run ${inv.runId}: commit ${SHA}\n${iso} fetching ${SHA}\n`);
  return iso;
}

describe("dev-e2e.sh: failures in result.json", () => {
  it("a failed step: task, step, exit code, Tekton's message, the pods/ log that exists and its real last lines; phases timed", async (t: TestContext) => {
    const world = await startWorld();
    t.after(() => world.close());
    const runId = newTestRunId("fstep");
    world.kube.setOutcome(runId, { kind: "tasks", tasks: scriptedTasks({ lines: 30, intervalMs: 10, failTask: "smoke-namespace" }) });
    const inv = await prepareRun(world, runId);
    const accepted = await launcherLog(inv, new Date(Date.now() - 2000));
    const exit = await runRunner(inv.args, runnerEnv(world));
    assert.equal(exit.code, 1, exit.stderr);
    const { result, failures, phases } = await checkedResult(inv);
    assert.equal(result.status, "failed");
    const log = `pods/e2e-${runId}-smoke-namespace-pod_step-smoke-namespace.log`;
    assert.ok(existsSync(join(inv.resultDir, log)));
    const tail = await lastLines(inv, log);
    assert.equal(tail.length, FAILURE_TAIL_LINES);
    assert.equal(tail.at(-1), "[smoke-namespace] FAILED: assertion failed");
    assert.deepEqual(failures, [
      { task: "smoke-namespace", step: "smoke-namespace", exitCode: 1, reason: "Error", message: '"step-smoke-namespace" exited with code 1', log, tail },
    ] satisfies RunFailure[]);

    assert.deepEqual(phases.map((p) => p.name), ["fetch", "namespace", "pipelinerun", "task:check-inputs", "task:smoke-namespace", "logs"]);
    assert.deepEqual(phase(phases, "fetch"), { name: "fetch", startedAt: accepted, finishedAt: result.startedAt });
    for (const p of phases) {
      assert.ok(p.finishedAt !== null, `${p.name} ended`);
      assert.ok(Date.parse(p.startedAt) <= Date.parse(p.finishedAt!) + 999, `${p.name} ends after it starts (second-precise Tekton times)`);
    }
    const trs = JSON.parse(await readFile(join(inv.resultDir, "taskruns.json"), "utf8")) as { items: { metadata: { labels: Record<string, string> }; status: { startTime: string; completionTime: string } }[] };
    const smoke = trs.items.find((x) => x.metadata.labels["tekton.dev/pipelineTask"] === "smoke-namespace")!;
    assert.deepEqual(phase(phases, "task:smoke-namespace"), { name: "task:smoke-namespace", startedAt: smoke.status.startTime, finishedAt: smoke.status.completionTime });
    assert.ok(Date.parse(phase(phases, "logs").startedAt) >= Date.parse(phase(phases, "namespace").finishedAt!));
    assertClusterInvariants(world, [runId]);
  });

  it("several failed steps: a step that failed with onError continue and the one that failed the task; a skipped step is none", async (t: TestContext) => {
    const world = await startWorld();
    t.after(() => world.close());
    const runId = newTestRunId("fsteps");
    const failSteps: StepScript[] = [
      { name: "lint", exitCode: 3, onError: "continue", chunks: ["lint: 2 problems\n"] },
      { name: "deploy-dev", exitCode: 2, chunks: ["kubectl apply: error: the server rejected deployment/backend-core\n"] },
      { name: "verify" },
    ];
    world.kube.setOutcome(runId, { kind: "tasks", tasks: scriptedTasks({ lines: 2, intervalMs: 10, failTask: "smoke-namespace", failSteps }) });
    const inv = await prepareRun(world, runId);
    const exit = await runRunner(inv.args, runnerEnv(world));
    assert.equal(exit.code, 1, exit.stderr);
    const { failures } = await checkedResult(inv);
    const pod = `e2e-${runId}-smoke-namespace-pod`;
    assert.deepEqual(failures.map((f) => [f.task, f.step, f.exitCode, f.reason, f.message, f.log]), [
      ["smoke-namespace", "lint", 3, "Error", '"step-lint" exited with code 3', `pods/${pod}_step-lint.log`],
      ["smoke-namespace", "deploy-dev", 2, "Error", '"step-deploy-dev" exited with code 2', `pods/${pod}_step-deploy-dev.log`],
    ]);
    for (const f of failures) assert.deepEqual(f.tail, await lastLines(inv, f.log!));
    assert.deepEqual(failures[1]!.tail.slice(-2), ["kubectl apply: error: the server rejected deployment/backend-core", "[smoke-namespace/deploy-dev] FAILED: assertion failed"]);
    assertClusterInvariants(world, [runId]);
  });

  it(`more than FAILURES_MAX failed steps with huge, binary, invalid UTF-8 logs: ${FAILURES_MAX} recorded, the rest counted in runner.log, result.json within RESULT_MAX_BYTES`, async (t: TestContext) => {
    const world = await startWorld();
    t.after(() => world.close());
    const runId = newTestRunId("fhuge");
    // Each step prints 30 lines of 3000 control and invalid bytes (JSON-escaped, each would take 6 bytes).
    const noisy = Buffer.alloc(3000);
    for (let i = 0; i < noisy.length; i++) noisy[i] = [0x00, 0x01, 0x1b, 0xff, 0xc3, 0x80, 0x22, 0x5c][i % 8]!;
    const lines = Buffer.concat(Array.from({ length: 30 }, () => Buffer.concat([noisy, Buffer.from("\n")])));
    const steps: StepScript[] = Array.from({ length: 25 }, (_, i) => ({ name: `check-${i}`, exitCode: 7, onError: "continue" as const, chunks: [lines] }));
    // The failing step ends on a 3 MB line without a newline.
    steps.push({ name: "deploy-dev", exitCode: 1, chunks: ["last words before the flood\n", "x".repeat(3_000_000)] });
    world.kube.setOutcome(runId, { kind: "tasks", tasks: scriptedTasks({ names: ["check-inputs", "deploy"], lines: 1, intervalMs: 10, failTask: "deploy", failSteps: steps }) });
    const inv = await prepareRun(world, runId);
    const exit = await runRunner(inv.args, runnerEnv(world));
    assert.equal(exit.code, 1, exit.stderr);
    const { failures, bytes } = await checkedResult(inv);
    assert.ok(bytes > 100_000, `the tails fill the room there is (${bytes} bytes)`);
    assert.equal(failures.length, FAILURES_MAX);
    assert.deepEqual(failures.map((f) => f.step), Array.from({ length: FAILURES_MAX }, (_, i) => `check-${i}`));
    assert.match(await readFile(join(inv.resultDir, "runner.log"), "utf8"), /failures: 6 more failed steps than the 20 recorded in result\.json/);
    for (const f of failures) {
      assert.ok(f.tail.length > 1 && f.tail.length <= FAILURE_TAIL_LINES, `${f.step}: ${f.tail.length} tail lines`);
      assert.equal(f.tail.at(-1), `[deploy/${f.step}] FAILED: assertion failed`, "the last line is always kept");
      for (const line of f.tail.slice(0, -1)) {
        assert.equal([...line].length, FAILURE_LINE_MAX_CHARS, "a long line is cut to FAILURE_LINE_MAX_CHARS characters");
        assert.ok(line.endsWith("\u2026"), "a cut line says so");
        // NUL and controls kept (JSON-escaped), 0xff a replacement character, 0xc3 0x80 the "À" it encodes.
        assert.ok(line.startsWith('\u0000\u0001\u001b\ufffd\u00c0"\\'), JSON.stringify(line.slice(0, 10)));
      }
    }
    assert.ok(existsSync(join(inv.resultDir, failures[0]!.log!)));
    assertClusterInvariants(world, [runId]);
  });

  it("a huge last line: the tail keeps its first characters, cut, and the lines before it", async (t: TestContext) => {
    const world = await startWorld();
    t.after(() => world.close());
    const runId = newTestRunId("fline");
    const steps: StepScript[] = [{ name: "deploy-dev", exitCode: 1, chunks: ["before\n", "y".repeat(5_000_000)] }];
    world.kube.setOutcome(runId, { kind: "tasks", tasks: scriptedTasks({ names: ["deploy"], lines: 1, intervalMs: 10, failTask: "deploy", failSteps: steps }) });
    const inv = await prepareRun(world, runId);
    const exit = await runRunner(inv.args, runnerEnv(world));
    assert.equal(exit.code, 1, exit.stderr);
    const { failures } = await checkedResult(inv);
    assert.equal(failures.length, 1);
    assert.deepEqual(failures[0]!.tail, [
      `[deploy/deploy-dev] started for ${runId} at ${SHA}`,
      "[deploy] line 1 of 1",
      "before",
      `${"y".repeat(FAILURE_LINE_MAX_CHARS - 1)}\u2026`,
    ]);
    assertClusterInvariants(world, [runId]);
  });
});

describe("dev-e2e.sh: phases of runs that did not end by themselves", () => {
  it("timeout: the task still running and the PipelineRun have finishedAt null; no failures", async (t: TestContext) => {
    const world = await startWorld();
    t.after(() => world.close());
    const runId = newTestRunId("ftime");
    world.kube.setOutcome(runId, { kind: "tasks", tasks: scriptedTasks({ lines: 1, intervalMs: 10 }), hang: true });
    const inv = await prepareRun(world, runId, { timeoutMs: 60_000 });
    const exit = await runRunner(inv.args, await fastClockEnv(world, 30));
    assert.equal(exit.code, 4, exit.stderr);
    const { result, failures, phases } = await checkedResult(inv);
    assert.equal(result.status, "timeout");
    assert.deepEqual(failures, []);
    assert.deepEqual(phases.map((p) => [p.name, p.finishedAt === null]), [
      ["namespace", false], ["pipelinerun", true], ["task:check-inputs", false], ["task:smoke-namespace", false], ["task:report", true], ["logs", false],
    ]);
    assertClusterInvariants(world, [runId]);
  });

  it("SIGTERM: the running task has finishedAt null; no failures", async (t: TestContext) => {
    const world = await startWorld();
    t.after(() => world.close());
    const runId = newTestRunId("fterm");
    world.kube.setOutcome(runId, { kind: "tasks", tasks: scriptedTasks({ lines: 1, intervalMs: 10, names: ["check-inputs", "deploy-dev"] }), hang: true });
    const inv = await prepareRun(world, runId, { timeoutMs: 60_000 });
    const exit = await runRunner(inv.args, runnerEnv(world), (pid) => {
      void until(async () => /"pipelineTask": *"deploy-dev"/.test(await readFile(join(inv.resultDir, "progress.json"), "utf8").catch(() => "")), "deploy-dev running").then(() => process.kill(pid, "SIGTERM"));
    });
    assert.equal(exit.code, 143, exit.stderr);
    const { result, failures, phases } = await checkedResult(inv);
    assert.equal(result.status, "cancelled");
    assert.deepEqual(failures, []);
    assert.equal(phase(phases, "task:deploy-dev").finishedAt, null);
    assert.notEqual(phase(phases, "task:check-inputs").finishedAt, null);
    assert.equal(phase(phases, "pipelinerun").finishedAt, null);
    assert.notEqual(phase(phases, "logs").finishedAt, null);
    assertClusterInvariants(world, [runId]);
  });

  it("success: failures [] and every phase ended", async (t: TestContext) => {
    const world = await startWorld();
    t.after(() => world.close());
    const runId = newTestRunId("fok");
    world.kube.setOutcome(runId, { kind: "tasks", tasks: scriptedTasks({ lines: 2, intervalMs: 10 }) });
    const inv = await prepareRun(world, runId);
    const exit = await runRunner(inv.args, runnerEnv(world));
    assert.equal(exit.code, 0, exit.stderr);
    const { result, failures, phases } = await checkedResult(inv);
    assert.equal(result.status, "succeeded");
    assert.deepEqual(failures, []);
    assert.deepEqual(phases.map((p) => p.name), ["namespace", "pipelinerun", "task:check-inputs", "task:smoke-namespace", "task:report", "logs"]);
    assert.ok(phases.every((p) => p.finishedAt !== null));
    assertClusterInvariants(world, [runId]);
  });

  it("an error before the cluster (invalid deploy.json): failures [], the fetch phase only; no pods/ needed", async (t: TestContext) => {
    const world = await startWorld();
    t.after(() => world.close());
    const runId = newTestRunId("ferr");
    const inv = await prepareRun(world, runId, { manifest: "{ not json" });
    await launcherLog(inv, new Date(Date.now() - 1000));
    const exit = await runRunner(inv.args, runnerEnv(world));
    assert.equal(exit.code, 3, exit.stderr);
    const { result, failures, phases } = await checkedResult(inv);
    assert.equal(result.status, "error");
    assert.deepEqual(failures, []);
    assert.deepEqual(phases.map((p) => p.name), ["fetch"]);
    assert.ok(!hasFile(inv.resultDir, "taskruns.json"));
    await stat(join(inv.resultDir, "result.json"));
  });
});

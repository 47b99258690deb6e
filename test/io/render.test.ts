import { guardTerminalText } from "../../src/io/terminal.ts";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RunResult } from "../../src/host/result.ts";
import type { RunLogFile, RunLogs } from "../../src/host/logs-reader.ts";
import { formatDuration, renderChangeLine, renderRunSummary } from "../../src/io/render-run.ts";
import { lineText, renderTaskChange, renderTaskTable, renderWaitBlock } from "../../src/io/render-follow.ts";
import { taskStates, taskSourceFromTaskRuns } from "../../src/runs/tasks.ts";
import { testProgress } from "../host/answers.ts";
import { renderSubmitted } from "../../src/io/render-submit.ts";
import { logsJson, renderLogs } from "../../src/io/render-logs.ts";
import { renderValidation } from "../../src/io/render-validate.ts";
import { helpText } from "../../src/cli/program.ts";
import { assertGolden } from "../golden/golden.ts";

const testResult = (over: Partial<RunResult> = {}): RunResult => ({
  ok: false,
  status: "failed",
  runId: "dev-20261127-162626-k3x9a2",
  manifestCommit: "5a31b71c36f5840de90f6e62232e854c6634cbc8",
  pipelineRun: "e2e-dev-20261127-162626-k3x9a2",
  temporaryNamespace: "unidesk-ci-dev-20261127-162626-k3x9a2",
  startedAt: "2026-11-27T16:26:27.000Z",
  finishedAt: "2026-11-27T16:28:32.000Z",
  durationMs: 125_000,
  reason: "PipelineRun e2e-dev-20261127-162626-k3x9a2 failed: task smoke-namespace failed",
  ...over,
});

const testFile = (over: Partial<RunLogFile>): RunLogFile => ({ path: "runner.log", sizeBytes: 12, keptBytes: 12, truncated: false, unreadable: false, content: "step 1 done\n", ...over });

type FoundLogs = Extract<RunLogs, { found: true }>;
const RUN = "dev-20261127-162626-k3x9a2";
const NOW = new Date("2026-11-27T16:30:00Z");
const testLogs = (over: Partial<FoundLogs> = {}): FoundLogs => ({
  runId: "dev-20261127-162626-k3x9a2",
  found: true,
  resultState: "valid",
  result: testResult(),
  resultProblem: null,
  liveness: { live: false, why: "launcher.pid 4242 is gone" },
  files: [
    testFile({ path: "pipelinerun.txt", sizeBytes: 31, keptBytes: 31, content: "e2e-dev-20261127-162626-k3x9a2\n" }),
    testFile({ path: "launcher.log", sizeBytes: 300_000, keptBytes: 24, truncated: true, content: "…fetched\nlauncher done\n" }),
    testFile({}),
    testFile({ path: "pods/e2e-x-pod_step.log", sizeBytes: 9, keptBytes: 9, content: new Uint8Array([0x62, 0, 1, 0x5c, 255, 10, 0x6f, 0x6b, 10]) }),
    testFile({ path: `pods/e2e-${RUN}-smoke-namespace-pod_step-smoke-namespace.log`, sizeBytes: 35, keptBytes: 35, content: "[smoke-namespace] FAILED: no pods\n" }),
    testFile({ path: `pods/e2e-${RUN}-check-inputs-pod_step-check-inputs.log`, sizeBytes: 22, keptBytes: 22, content: "[check-inputs] inputs ok\n" }),
    testFile({ path: "progress.json", sizeBytes: 900, keptBytes: 900, content: JSON.stringify(testProgress(RUN, ["check-inputs", "smoke-namespace", "report"], [["check-inputs", "True", "Succeeded"], ["smoke-namespace", "False", "Failed"]], "False")) }),
    testFile({ path: "taskruns.json", sizeBytes: 9_000_000, keptBytes: 0, truncated: true, content: "" }),
    testFile({ path: "runner.pid", unreadable: true, content: "" }),
  ],
  omittedFiles: 19_804,
  omittedAtLeast: false,
  keptBytes: 71,
  fileCapBytes: 262_144,
  totalCapBytes: 2_097_152,
  maxFiles: 200,
  ...over,
} as FoundLogs);

describe("render functions (pure, golden files)", () => {
  it("durations", () => {
    assert.deepEqual([0, 999, 59_400, 60_000, 125_000, 3_600_000, 5_430_000].map(formatDuration), ["0s", "1s", "59s", "1m00s", "2m05s", "1h00m", "1h30m"]);
  });

  it("run summary", async () => {
    await assertGolden("run-summary.txt", renderRunSummary(testResult(), { color: false }));
  });

  it("run summary in color wraps only the status", () => {
    const colored = guardTerminalText(renderRunSummary(testResult(), { color: true }));
    assert.equal(colored.replace(/\x1b\[\d+m/g, ""), renderRunSummary(testResult(), { color: false }));
    assert.match(colored, /\x1b\[31mfailed\x1b\[39m/);
  });

  it("submitted run", async () => {
    const summary = { runId: "dev-20261127-162626-k3x9a2", manifestCommit: "5a31b71c36f5840de90f6e62232e854c6634cbc8", resultDir: "/home/ubuntu/.unidesk/runs/dev-20261127-162626-k3x9a2", providerId: "D601", state: "started" as const };
    await assertGolden("submitted.txt", renderSubmitted(summary, ["unidesk-ci logs dev-20261127-162626-k3x9a2"], { color: false }));
  });

  it("logs like tkn pr logs: summary, task table, logs by source in pipeline order (binary escaped), other files listed, markers", async () => {
    await assertGolden("logs.txt", renderLogs(testLogs(), { color: false, now: NOW }));
  });

  it("logs of a corrupt result.json: status corrupt with the problem, never a status read from it", () => {
    const text = renderLogs(testLogs({ resultState: "corrupt", result: null, resultProblem: "result.json is not valid JSON", omittedFiles: 0 }), { color: false, now: NOW });
    assert.match(text, /^status: +corrupt\nproblem: +result\.json is not valid JSON\nrunId: +dev-20261127-162626-k3x9a2\n/);
    assert.doesNotMatch(text, /omitted/);
    const doc = logsJson(testLogs({ resultState: "mismatch", result: null, resultProblem: "result.json names run \"x\"" }));
    assert.deepEqual([doc.status, doc.result, doc.resultProblem], ["mismatch", null, 'result.json names run "x"']);
  });

  it("logs of a lost run (no result.json, nothing alive): status lost, why, and what the next sweep does", () => {
    const problem = "no launcher or runner process of it is alive and it wrote no result.json (launcher.pid 4242 is gone)";
    const lost = testLogs({ resultState: "lost", result: null, resultProblem: problem });
    assert.match(renderLogs(lost, { color: false, now: NOW }), new RegExp(`^status: +lost\nproblem: +${problem.replace(/[().]/g, "\\$&")}; the next run's sweep records it \\(result\\.json status lost\\) and cleans up its PipelineRun and namespace\nrunId: +dev-`));
    const doc = logsJson(lost);
    assert.deepEqual([doc.status, doc.result, doc.resultProblem], ["lost", null, problem]);
  });

  it("a lost run's wait line", () => {
    const snapshot = { phase: "lost" as const, problem: "no launcher or runner process of it is alive and it wrote no result.json (runner.pid 7 is gone)" };
    assert.equal(renderChangeLine(snapshot, 0), "[0s] lost: no launcher or runner process of it is alive and it wrote no result.json (runner.pid 7 is gone)\n");
  });

  it("logs --json carries binary content as base64", () => {
    const doc = logsJson(testLogs()) as { files: { path: string; encoding: string; content: string }[] };
    const pod = doc.files.find((f) => f.path === "pods/e2e-x-pod_step.log")!;
    assert.deepEqual([pod.encoding, Buffer.from(pod.content, "base64")], ["base64", Buffer.from([0x62, 0, 1, 0x5c, 255, 10, 0x6f, 0x6b, 10])]);
  });

  it("wait progress: one line per state or task change; on a TTY a block with the task table", () => {
    const snapshot = { phase: "running" as const, pipelineRun: "e2e-x" };
    assert.equal(renderChangeLine(snapshot, 14_000), "[14s] running e2e-x\n");
    const tasks = taskStates(testProgress(RUN, ["check-inputs", "smoke-namespace", "report"], [["check-inputs", "True", "Succeeded"], ["smoke-namespace", "Unknown", "Running"]]) as never);
    assert.deepEqual(tasks.map((t) => t.state), ["succeeded", "running", "pending"]);
    assert.equal(renderTaskChange(tasks[0]!, 14_000, NOW), "[14s] task check-inputs succeeded (2s)\n");
    assert.equal(renderTaskChange({ ...tasks[1]!, state: "failed", reason: "TaskRunTimeout", completionTime: "2026-11-27T16:27:36Z" }, 65_000, NOW), "[1m05s] task smoke-namespace failed: TaskRunTimeout (1m00s)\n");
    assert.equal(
      renderWaitBlock({ snapshot, tasks, elapsedMs: 14_000, answers: 3 }, { color: false, deadlineMs: 600_000, now: new Date("2026-11-27T16:26:50Z") }),
      "\\ 14s/10m00s running e2e-x\n  ✓ check-inputs     succeeded  2s\n  ● smoke-namespace  running    14s\n  · report           pending\n",
    );
    assert.equal(renderTaskTable([], { color: false, now: NOW }).split("\n")[0], "TASK  STATUS     DURATION");
  });

  it("tasks: skipped after the end; rebuilt from taskruns.json for runs without progress.json", () => {
    const over = taskStates(testProgress(RUN, ["a", "b"], [["a", "False", "TaskRunCancelled"]], "False") as never);
    assert.deepEqual(over.map((t) => t.state), ["cancelled", "skipped"]);
    const list = { items: [{ metadata: { name: "tr-b", labels: { "tekton.dev/pipelineTask": "b" } }, status: { startTime: "2026-01-01T00:00:02Z", podName: "p-b", conditions: [{ type: "Succeeded", status: "Unknown", reason: "Running" }] } }, { metadata: { name: "tr-a", labels: { "tekton.dev/pipelineTask": "a" } }, status: { startTime: "2026-01-01T00:00:01Z", conditions: [{ type: "Succeeded", status: "True", reason: "Succeeded" }] } }] };
    assert.deepEqual(taskStates(taskSourceFromTaskRuns(JSON.stringify(list))!).map((t) => `${t.task} ${t.state}`), ["a succeeded", "b running"]);
    assert.equal(taskSourceFromTaskRuns("not json"), null);
  });

  it("a log line that is not UTF-8 text is escaped, never raw", () => {
    assert.equal(lineText(new TextEncoder().encode("plain ü \x1b[1m")), "plain ü \x1b[1m");
    assert.equal(lineText(Uint8Array.from([0x62, 0, 0x5c, 0xff, 0x0d, 0x20])), "b\\x00\\\\\\xff\\x0d ");
  });

  it("validation report", async () => {
    const bad = renderValidation({ ok: false, source: "deploy.json", issues: [{ path: "environments.dev.ci.scriptPath", message: "must be scripts/ci/<name>.sh" }] });
    assert.equal(bad, "environments.dev.ci.scriptPath: must be scripts/ci/<name>.sh\n");
  });

  it("--help overview", async () => {
    await assertGolden("help.txt", helpText(undefined, false));
  });
});

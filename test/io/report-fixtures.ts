/** Fixed runs for the report tests: a failed run (hostile text everywhere), a succeeded one, a running one. */
import type { RunLogs } from "../../src/host/logs-reader.ts";
import type { RunResult } from "../../src/host/result.ts";
import { buildReportModel, type ReportModel } from "../../src/io/report-model.ts";
import type { RunChanges } from "../../src/runs/changes.ts";
import { testProgress, testResult } from "../host/answers.ts";

/** Text meant to break XML, Markdown and HTML: CDATA end, markup, an onerror image, a link, a pipe, backticks, C0 and bidi controls, a lone surrogate. */
export const HOSTILE = 'x]]></failure><script>alert(1)</script>"><img src=x onerror=alert(2)> [link](https://evil.example) | ``` ~~~ \u0001\u001b[31m\u202eRTL\ud800 &amp;';

type Found = Extract<RunLogs, { found: true }>;
const file = (path: string, content: string) => ({ path, sizeBytes: Buffer.byteLength(content), keptBytes: Buffer.byteLength(content), truncated: false, unreadable: false, content });

/** A logs-reader answer of run `runId`, with these tasks (`[task, status, reason]`) and pod logs. */
export function testLogs(runId: string, opts: { result?: RunResult; tasks: string[]; runs: [string, string, string][]; pods?: Record<string, string>; prStatus?: string }): Found {
  const progress = testProgress(runId, opts.tasks, opts.runs, opts.prStatus ?? (opts.result ? "False" : "Unknown")) as { taskRuns: { pipelineTask: string; status: string; message: string | null }[] };
  for (const tr of progress.taskRuns) if (tr.status === "False") tr.message = `"step-${tr.pipelineTask}" exited with code 2`;
  const files = [file("launcher.log", "launcher accepted run\n"), file("runner.log", "runner up\n"), file("progress.json", JSON.stringify(progress)), ...Object.entries(opts.pods ?? {}).map(([p, c]) => file(p, c))];
  return {
    runId,
    found: true,
    files,
    omittedFiles: 0,
    omittedAtLeast: false,
    liveness: { live: !opts.result, why: "test" },
    keptBytes: 0,
    fileCapBytes: 1,
    totalCapBytes: 1,
    maxFiles: 200,
    ...(opts.result ? { resultState: "valid", result: opts.result, resultProblem: null } : { resultState: "none", result: null, resultProblem: null }),
  } as Found;
}

/** Changes of a failed run against its last green one. */
export const CHANGES: RunChanges = {
  since: { runId: "dev-20261126-101010-aaaaaa", manifestCommit: "1111111111111111111111111111111111111111" },
  services: { added: [{ id: "new-svc", commitId: "2222222222222222222222222222222222222222" }], removed: [], changed: [{ id: `api${HOSTILE}`, from: "3333333333333333333333333333333333333333", to: "4444444444444444444444444444444444444444" }] },
  commits: [{ sha: "5555555555555555555555555555555555555555", subject: `bump api ${HOSTILE}` }],
};

const RUN = "dev-20261127-162626-k3x9a2";
const NOW = new Date("2026-11-27T16:30:00.000Z");
const POD = (task: string) => `pods/e2e-${RUN}-${task}-pod_step-${task}.log`;

/** A failed run: check-inputs succeeded, a task with a hostile name failed (failures and phases recorded), report skipped. */
export function failedModel(): ReportModel {
  const bad = `deploy<script>`;
  const result = testResult(RUN, {
    status: "failed",
    startedAt: "2026-11-27T16:26:26.000Z",
    durationMs: 126_000,
    reason: `PipelineRun e2e-${RUN} failed (Failed): ${HOSTILE}`,
    failures: [{ task: bad, step: "deploy", exitCode: 1, reason: "Failed", message: `"step-deploy" exited with code 1 ${HOSTILE}`, log: POD("deploy"), tail: ["applying manifests", HOSTILE, "\u0007bell"] }],
    phases: [
      { name: "fetch", startedAt: "2026-11-27T16:26:26.000Z", finishedAt: "2026-11-27T16:26:28.000Z" },
      { name: "namespace", startedAt: "2026-11-27T16:26:28.000Z", finishedAt: "2026-11-27T16:26:29.000Z" },
      { name: "pipelinerun", startedAt: "2026-11-27T16:26:30.000Z", finishedAt: "2026-11-27T16:28:20.000Z" },
      { name: "logs", startedAt: "2026-11-27T16:28:20.000Z", finishedAt: "2026-11-27T16:28:32.000Z" },
    ],
  });
  const logs = testLogs(RUN, { result, tasks: ["check-inputs", bad, "report"], runs: [["check-inputs", "True", "Succeeded"], [bad, "False", "Failed"]], pods: { [POD("check-inputs")]: "inputs ok\n", "pods/e2e-x-deploy-pod_step-deploy.log": `applying manifests\r\n${HOSTILE}\n` } });
  return buildReportModel(logs, { now: NOW, changes: CHANGES });
}

/** A succeeded run without failures or phases in its result (rebuilt from progress.json). */
export function succeededModel(): ReportModel {
  const result = testResult(RUN, { startedAt: "2026-11-27T16:26:26.000Z", durationMs: 30_000 });
  const logs = testLogs(RUN, { result, tasks: ["check-inputs", "report"], runs: [["check-inputs", "True", "Succeeded"], ["report", "True", "Succeeded"]], prStatus: "True" });
  return buildReportModel(logs, { now: NOW, changes: null });
}

/** A run still running: one task done, one running, one pending. */
export function runningModel(): ReportModel {
  const logs = testLogs(RUN, { tasks: ["check-inputs", "smoke", "report"], runs: [["check-inputs", "True", "Succeeded"], ["smoke", "Unknown", "Running"]] });
  return buildReportModel(logs, { now: NOW });
}

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkJsonRun } from "../io/json-check.ts";
import { ownVerdictProblems } from "./own-verdict.ts";

const COMMIT = "a3c9963bdf4a8903bd5a2d55d95ff122afb39626";
const OTHER = "0123456789abcdef0123456789abcdef01234567";
const ARGS = ["run-dev-e2e", "--run-id", "soak-7h-10", "--wait-ms", "100000", "--json"];

/** What `run-dev-e2e --wait-ms --json` printed for run soak-7h-10 of seed 269 (paths and the failure shortened). */
function run10Document() {
  const failure = { task: "report", step: "report", exitCode: 1, reason: "Error", message: '"step-report" exited with code 1', log: "pods/e2e-soak-7h-10-report-pod_step-report.log", tail: ["[report] FAILED: soak: scripted failure"] };
  return {
    ok: false,
    runId: "soak-7h-10",
    resultDir: "/tmp/sb/d601/home/.unidesk/runs/soak-7h-10",
    runMayHaveStarted: true,
    manifestCommit: COMMIT,
    providerId: "D601",
    scriptPath: "scripts/ci/dev-e2e.sh",
    timeoutMs: 60000,
    state: "started",
    result: {
      ok: false,
      status: "failed",
      runId: "soak-7h-10",
      manifestCommit: COMMIT,
      pipelineRun: "e2e-soak-7h-10",
      temporaryNamespace: "unidesk-ci-soak-7h-10",
      finishedAt: "2026-12-05T05:10:19.296Z",
      startedAt: "2026-12-05T05:10:12.038Z",
      durationMs: 7259,
      reason: "PipelineRun e2e-soak-7h-10 failed (Failed): soak: scripted failure",
      failures: [failure],
      phases: [{ name: "fetch", startedAt: "2026-12-05T05:10:10.828Z", finishedAt: "2026-12-05T05:10:12.038Z" }],
      keepNamespace: false,
      namespaceDeleted: true,
      tektonReason: "Failed",
      writer: "runner",
    },
    waitedMs: 8870,
    polls: 3,
    failures: [failure],
    running: [],
    changes: { since: { runId: "soak-7h-8", manifestCommit: COMMIT }, services: { added: [], removed: [], changed: [] }, commits: null },
    error: { code: "run_failed", message: "run soak-7h-10 failed", hint: "see its logs with: unidesk-ci logs soak-7h-10", exitCode: 1 },
  };
}

const line = (doc: unknown) => `${JSON.stringify(doc)}\n`;
const judge = (args: string[], stdout: string, succeeded: string[] = ["soak-7h-8"], ids = ["soak-7h-10", "soak-7h-10b"]) =>
  ownVerdictProblems(args, stdout, { ids, commit: COMMIT, succeeded: (id) => succeeded.includes(id) });

describe("soak own-verdict: the CLI's documents name only their own run and commit", () => {
  it("soak seed 269 run 10 / kube-drop-watch: a failed wait's digest names the last green run in changes.since, which is no other run's verdict", () => {
    const doc = run10Document();
    // The fixture is a real document: valid under the run-dev-e2e schema, error.exitCode = the exit code.
    checkJsonRun(ARGS, { code: 1, stdout: line(doc) });
    assert.deepEqual(judge(ARGS, line(doc)), []);
  });

  it("changes.since must name a run the soak saw succeed, and never the run itself", () => {
    const doc = run10Document();
    assert.deepEqual(judge(ARGS, line(doc), []), [`${ARGS.join(" ")}: changes.since names soak-7h-8, a run the soak did not see succeed`]);
    doc.changes.since.runId = "soak-7h-10";
    assert.deepEqual(judge(ARGS, line(doc), ["soak-7h-10"]), [`${ARGS.join(" ")}: changes.since of soak-7h-10 names the run itself`]);
  });

  it("a document, or its result, naming another run or commit is a violation (the check keeps its teeth)", () => {
    const a = run10Document();
    a.result.runId = "soak-7h-8";
    assert.deepEqual(judge(ARGS, line(a)), [`${ARGS.join(" ")} named run soak-7h-8`]);
    const b = run10Document();
    b.runId = "soak-7h-9";
    assert.deepEqual(judge(ARGS, line(b)), [`${ARGS.join(" ")} named run soak-7h-9`]);
    const c = run10Document();
    c.result.manifestCommit = OTHER;
    assert.deepEqual(judge(ARGS, line(c)), [`${ARGS.join(" ")} named commit ${OTHER}`]);
    // A pair's sibling is this run's own.
    const d = run10Document();
    d.result.runId = "soak-7h-10b";
    assert.deepEqual(judge(ARGS, line(d)), []);
  });

  it("--follow --json: every NDJSON line is judged; text output names no document", () => {
    const args = ["logs", "soak-7h-10", "--follow", "--wait-ms", "100000", "--json"];
    const events = [{ event: "status", phase: "running", pipelineRun: null, alive: true, elapsedMs: 1 }, { ok: true, event: "result", runId: "soak-7h-3" }];
    assert.deepEqual(judge(args, events.map(line).join("")), [`${args.join(" ")} named run soak-7h-3`]);
    assert.deepEqual(judge(["logs", "soak-7h-10"], "== runner.log ==\nrun soak-7h-8 succeeded\n"), []);
  });

  it("runs --json lists every run: its rows and their changes.since (the run before, whatever its end) name other runs", () => {
    const row = (runId: string, since: string | null) => ({ runId, status: "failed", manifestCommit: COMMIT, changes: since ? { since: { runId: since, manifestCommit: COMMIT }, services: { added: [], removed: [], changed: [] }, commits: null } : null });
    const doc = { ok: true, runs: [row("soak-7h-9", "soak-7h-8"), row("soak-7h-8", null)], total: 2 };
    assert.deepEqual(judge(["runs", "--json"], line(doc), []), []);
    doc.runs[0]!.manifestCommit = OTHER;
    assert.deepEqual(judge(["runs", "--json"], line(doc), []), [`runs --json named commit ${OTHER}`]);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkJsonRun, documentName } from "./json-check.ts";

/** The hook every --json run of the e2e suite goes through: it must catch each way a document can be wrong. */
describe("the --json check of the e2e helpers", () => {
  const sha = "a".repeat(40);
  const result = { ok: false, status: "failed", runId: "r-1", manifestCommit: sha, pipelineRun: null, temporaryNamespace: null, finishedAt: "2026-01-01T00:00:00Z" };
  const plan = { runId: "r-1", manifestCommit: sha, resultDir: "/runs/r-1", providerId: "D601", scriptPath: "scripts/ci/dev-e2e.sh", timeoutMs: 1800000 };
  const line = (doc: unknown) => JSON.stringify(doc) + "\n";

  it("maps argv to the document's schema", () => {
    assert.equal(documentName(["logs", "r-1"]), undefined);
    assert.equal(documentName(["logs", "r-1", "--json"]), "logs");
    assert.equal(documentName(["run-dev-e2e", "--", "--json"]), undefined);
    assert.equal(documentName(["--version", "--json"]), "version");
    assert.equal(documentName(["cancel", "--help", "--json"]), "help");
    assert.equal(documentName(["schema", "--list", "--json"]), "schema");
    assert.equal(documentName(["schema", "result", "--json"]), "jsonSchema");
    assert.equal(documentName(["nope", "--json"]), "error");
    assert.equal(documentName(["logs", "r-1", "-f", "--json"]), "follow");
    assert.equal(documentName(["run-dev-e2e", "--follow", "--json"]), "follow");
  });

  // Found by the soak (seed 2, run 5, proxy-refusing + cancel): the schema's plain cancel member swallowed the
  // --wait-ms fields, so every cancel --wait-ms --json document failed the check.
  it("soak cancel --wait-ms --json: the answer with its result, waitedMs and polls is a valid cancel document", () => {
    const answer = { runId: "r-1", reference: null, outcome: "signalled", process: "runner", pid: 42, status: null, problem: null };
    checkJsonRun(["cancel", "r-1", "--wait-ms", "9", "--json"], { code: 0, stdout: line({ ok: true, ...answer, result: { ...result, status: "cancelled" }, waitedMs: 5, polls: 1 }) });
    checkJsonRun(["cancel", "r-1", "--json"], { code: 0, stdout: line({ ok: true, ...answer }) });
    assert.throws(() => checkJsonRun(["cancel", "r-1", "--json"], { code: 0, stdout: line({ ok: true, ...answer, waitedMs: 5 }) }), /does not list|does not match/);
  });

  const events = [
    { event: "submitted", ...plan, state: "started" },
    { event: "status", phase: "running", pipelineRun: "e2e-r-1", alive: true, elapsedMs: 10 },
    { event: "task", task: "report", state: "running", reason: "Running", startTime: "2026-01-01T00:00:00Z", completionTime: null, elapsedMs: 12 },
    { event: "line", source: "report/report", path: "pods/p_step-report.log", encoding: "utf8", content: "hello", eol: true },
  ];
  it("accepts NDJSON follow events ending with the result event or a failure document", () => {
    checkJsonRun(["run-dev-e2e", "--follow", "--json"], { code: 0, stdout: [...events, { ok: true, event: "result", runId: "r-1", state: "started", result: { ...result, ok: true, status: "succeeded" }, waitedMs: 5, polls: 3 }].map(line).join("") });
    checkJsonRun(["logs", "r-1", "--follow", "--json"], { code: 3, stdout: [...events.slice(1), { ok: false, event: "result", runId: "r-1", phase: "running", pipelineRun: null, waitedMs: 9, polls: 2, error: { code: "wait_timeout", message: "gave up", exitCode: 3 } }].map(line).join("") });
    checkJsonRun(["logs", "r-1", "-f", "--json"], { code: 2, stdout: line({ ok: false, error: { code: "usage", message: "no run", exitCode: 2 } }) });
  });

  const badNdjson: { name: string; stdout: string; code: number; mentions: RegExp }[] = [
    { name: "an event with a field its schema does not list", code: 0, stdout: line({ ...events[3], extra: 1 }) + line({ ok: true, event: "result", runId: "r-1", result: { ...result, ok: true, status: "succeeded" }, waitedMs: 1, polls: 1 }), mentions: /does not list/ },
    { name: "an unknown event", code: 0, stdout: line({ event: "tick" }) + line({ ok: true, event: "result", runId: "r-1", result: { ...result, ok: true, status: "succeeded" }, waitedMs: 1, polls: 1 }), mentions: /does not match its schema/ },
    { name: "a stream that does not end with the result", code: 0, stdout: events.slice(1).map(line).join(""), mentions: /only the last line carries ok/ },
    { name: "a result before the end", code: 0, stdout: line({ ok: true, event: "result", runId: "r-1", result: { ...result, ok: true, status: "succeeded" }, waitedMs: 1, polls: 1 }) + line(events[1]), mentions: /only the last line carries ok/ },
    { name: "a failure whose exitCode is not the exit code", code: 1, stdout: line({ ok: false, event: "result", error: { code: "wait_timeout", message: "x", exitCode: 3 } }), mentions: /not the exit code/ },
  ];
  for (const c of badNdjson) {
    it(`rejects NDJSON with ${c.name}`, () => {
      assert.throws(() => checkJsonRun(["logs", "r-1", "--follow", "--json"], { code: c.code, stdout: c.stdout }), (e: Error) => c.mentions.test(e.message));
    });
  }

  it("accepts a valid document, success or failure", () => {
    checkJsonRun(["run-dev-e2e", "--wait-ms", "1", "--json"], { code: 1, stdout: line({ ok: false, ...plan, state: "started", runMayHaveStarted: true, result, waitedMs: 5, polls: 1, error: { code: "run_failed", message: "run r-1 failed", exitCode: 1 } }) });
    checkJsonRun(["run-dev-e2e", "--json"], { code: 0, stdout: line({ ok: true, ...plan, state: "started", next: ["unidesk-ci logs r-1"] }) });
  });

  const bad: { name: string; args: string[]; code: number; stdout: string; mentions: RegExp }[] = [
    { name: "two documents", args: ["logs", "r-1", "--json"], code: 2, stdout: line({ ok: false }) + line({ ok: false }), mentions: /one line/ },
    { name: "text instead of JSON (--help --json before)", args: ["--help", "--json"], code: 0, stdout: "Usage: unidesk-ci\n", mentions: /not JSON/ },
    { name: "an error without exitCode (validate --json before)", args: ["validate", "x", "--json"], code: 2, stdout: line({ ok: false, source: "x", issues: [], error: { code: "manifest", message: "bad" } }), mentions: /not a valid error document/ },
    { name: "ok: false with no error (a failed run under --wait-ms --json before)", args: ["run-dev-e2e", "--wait-ms", "1", "--json"], code: 1, stdout: line({ ok: false, ...plan, state: "started", result, waitedMs: 5, polls: 1 }), mentions: /not a valid error document/ },
    { name: "an exitCode that is not the exit code", args: ["logs", "r-1", "--json"], code: 5, stdout: line({ ok: false, error: { code: "usage", message: "x", exitCode: 2 } }), mentions: /not the exit code/ },
    { name: "ok: true with a failing exit code", args: ["logs", "r-1", "--json"], code: 1, stdout: line({ ok: true }), mentions: /exit code is 1/ },
    { name: "a field the schema does not list", args: ["--version", "--json"], code: 0, stdout: line({ ok: true, version: "1", line: "x 1", extra: 1 }), mentions: /does not list/ },
    { name: "a wrong type", args: ["cancel", "r-1", "--json"], code: 0, stdout: line({ ok: true, runId: "r-1", outcome: "signalled", process: "runner", pid: "12", status: null }), mentions: /does not match its schema/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => {
      assert.throws(() => checkJsonRun(c.args, { code: c.code, stdout: c.stdout }), (e: Error) => c.mentions.test(e.message));
    });
  }
});

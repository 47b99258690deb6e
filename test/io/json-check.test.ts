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
  });

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

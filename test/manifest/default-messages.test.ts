// Runs in its own process (node --test isolates files): nothing here may import classic "zod", whose import
// alone registers English and would hide a missing src/zod-locale.ts import.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { checkResultJson, resultSchema } from "../../src/host/result.ts";
import { dispatchSuccessSchema } from "../../src/dispatch/wire.ts";

describe("zod/mini default messages", () => {
  it("are English, as with classic zod", () => {
    const parsed = resultSchema.safeParse({ ok: "yes", status: "weird", runId: 1, manifestCommit: "abc", pipelineRun: null, temporaryNamespace: null, finishedAt: "yesterday", durationMs: -1 });
    assert.equal(parsed.success, false);
    assert.deepEqual(
      parsed.error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`),
      [
        "ok: Invalid input: expected boolean, received string",
        'status: Invalid option: expected one of "succeeded"|"failed"|"timeout"|"cancelled"|"error"|"lost"',
        "runId: Invalid input: expected string, received number",
        "manifestCommit: Invalid string: must match pattern /^[0-9a-f]{40}$/",
        "finishedAt: Invalid ISO datetime",
        "durationMs: Too small: expected number to be >=0",
      ],
    );
  });

  it("reach the result problem text", () => {
    const { result, resultProblem } = checkResultJson("{}");
    assert.equal(result, null);
    assert.match(resultProblem ?? "", /^result\.json does not match the result schema: ok: Invalid input: expected boolean, received undefined; /);
  });

  it("cover the dispatch answer schemas", () => {
    const parsed = dispatchSuccessSchema.safeParse({ ok: true, exitCode: 0.5, stdout: "", stderr: "", durationMs: 1 });
    assert.equal(parsed.error?.issues[0]?.message, "Invalid input: expected int, received number");
  });
});

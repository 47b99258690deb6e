import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { availableRuntimes } from "./helpers.ts";
import { cliCounted, jsonOf, runIdOf, show, withE2e } from "./sandbox-helpers.ts";
import { RUN_END_WAIT_MS } from "../support/until.ts";

/** The same submit → wait → logs success under deno and bun, each against its own sandbox, at once. */
describe("e2e: a succeeding run under deno and bun", { concurrency: true }, () => {
  for (const runtime of ["deno", "bun"]) {
    const skip = availableRuntimes().includes(runtime) ? false : `${runtime} not installed`;
    it(`run-dev-e2e --wait-ms then logs --json under ${runtime}`, { skip }, () =>
      withE2e(async (e2e) => {
        const r = await cliCounted(e2e, ["run-dev-e2e", "--wait-ms", RUN_END_WAIT_MS], { runtime });
        assert.equal(r.code, 0, show(r));
        assert.match(r.stdout, /^status:\s+succeeded$/m);
        const runId = runIdOf(r);
        const logs = await cliCounted(e2e, ["logs", runId, "--json"], { runtime });
        assert.equal(logs.code, 0, show(logs));
        assert.equal(logs.calls, 1);
        const doc = jsonOf(logs);
        assert.equal(doc.status, "succeeded");
        assert.equal(doc.result.pipelineRun, `e2e-${runId}`);
        assert.ok((doc.files as { path: string }[]).some((f) => f.path.startsWith("pods/")), "pod logs");
      }));
  }
});

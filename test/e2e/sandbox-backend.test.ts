import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BackendFailure } from "../sandbox/backend-core.ts";
import { assertSandboxClean, cliCounted, jsonOf, openE2e, runDirs, show, type E2e } from "./sandbox-helpers.ts";
import { RUN_END_WAIT_MS } from "../support/until.ts";

/**
 * backend-core failing in each documented way: the CLI's exit code, and nothing started on D601. Each case has
 * its own sandbox (a switch breaks the whole backend), so the cases run at once: three of them wait out retries.
 */
describe("e2e: backend-core failure switches", { concurrency: true }, () => {
  /** Submits with a failure switch on; checks the exit code, the dispatch attempts and that D601 ran nothing. */
  const submitWith = async (failure: BackendFailure | null, expected: { code: number; calls: number; stderr?: RegExp; json?: string }, env?: (e2e: E2e) => Record<string, string>) => {
    const e2e = await openE2e();
    try {
      await e2e.sb.backend.setFailure(failure);
      const args = ["run-dev-e2e", "--wait-ms", RUN_END_WAIT_MS, ...(expected.json ? ["--json"] : [])];
      const r = await cliCounted(e2e, args, { env: env?.(e2e) });
      assert.equal(r.code, expected.code, show(r));
      assert.equal(r.calls, expected.calls, `dispatch attempts\n${show(r)}`);
      if (expected.stderr) assert.match(r.stderr, expected.stderr);
      if (expected.json) {
        const doc = jsonOf(r);
        assert.equal(doc.ok, false);
        assert.deepEqual([doc.error.code, doc.error.exitCode], [expected.json, expected.code]);
        assert.equal(r.stderr, "");
      } else {
        assert.equal(r.stdout, "");
      }
      assert.equal(e2e.sb.backend.executionCount(), 0, "a command reached D601");
      assert.deepEqual(e2e.sb.d601.execs, [], "D601 ran a command");
      assert.deepEqual(await runDirs(e2e.sb), [], "a run directory was created on D601");

      // The same backend with the switch off works (a read-only logs call: unknown run, exit 2).
      await e2e.sb.backend.setFailure(null);
      const logs = await cliCounted(e2e, ["logs", "e2e-never-ran"]);
      assert.equal(logs.code, 2, show(logs));
      assert.equal(logs.calls, 1);
      assert.match(logs.stderr, /no run e2e-never-ran on D601/);
      await assertSandboxClean(e2e);
    } finally {
      await e2e.sb.stop();
    }
  };

  // Connection refused is retried twice (1 s, 3 s); nothing reaches the closed port.
  it("backend down: exit 5 (connection refused), nothing started", () => submitWith({ mode: "down" }, { code: 5, calls: 0, stderr: /cannot connect to http:\/\/127\.0\.0\.1:\d+\/api\/dispatch \(connection refused\), 3 attempts/ }));

  it("401: exit 4 (token rejected), nothing started", () => submitWith({ mode: "unauthorized" }, { code: 4, calls: 1, stderr: /token rejected by .* \(HTTP 401 unauthorized/ }));

  it("401 with --json: one document, error code auth", () => submitWith({ mode: "unauthorized" }, { code: 4, calls: 1, json: "auth" }));

  it("403 (a token not allowed for D601): exit 4, nothing started", () => submitWith(null, { code: 4, calls: 1, stderr: /forbidden: this token may not use host\.ssh on provider D601/ }, (e2e) => ({ UNIDESK_TOKEN: e2e.sb.forbiddenToken })));

  // 5xx is retried twice (1 s, 3 s): three attempts in all.
  it("500: exit 5 after 3 attempts, nothing started", () => submitWith({ mode: "server_error" }, { code: 5, calls: 3, stderr: /HTTP 500 internal: .*3 attempts/ }));

  it("garbage (200 with HTML): exit 5 (malformed answer), nothing started", () => submitWith({ mode: "garbage" }, { code: 5, calls: 1, stderr: /malformed answer from .* \(HTTP 200\): not JSON/ }));

  it("garbage with --json: one document, error code dispatch", () => submitWith({ mode: "garbage" }, { code: 5, calls: 1, json: "dispatch" }));

  it("D601 unreachable (503 provider_unavailable): exit 5 after 3 attempts, nothing started", () => submitWith({ mode: "host_unreachable" }, { code: 5, calls: 3, stderr: /HTTP 503 provider_unavailable/ }));
});

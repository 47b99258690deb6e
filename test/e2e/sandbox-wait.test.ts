import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { until, RUN_END_WAIT_MS } from "../support/until.ts";
import { cli, cliCounted, dispatchKinds, jsonOf, show, startCli, withE2e } from "./sandbox-helpers.ts";

/**
 * How a wait ends when the run does not simply succeed: failure, wait running out, the CLI killed. Each case
 * has its own sandbox (dispatch counts stay exact) and they run at once: most of it is waiting.
 */
describe("e2e: waiting for runs that fail, outlast the wait, or outlive the CLI", { concurrency: true }, () => {
  it("a failing PipelineRun: exit 1, status failed; logs shows the failed pod's log", () => withE2e(async (e2e) => {
    const runId = "e2e-fail-1";
    e2e.sb.kube!.setOutcome(runId, { kind: "fail", message: "e2e assertion failed" });
    const r = await cli(e2e, ["run-dev-e2e", "--run-id", runId, "--wait-ms", RUN_END_WAIT_MS]);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout, /^status:\s+failed$/m);
    assert.match(r.stdout, /^reason:\s+PipelineRun e2e-e2e-fail-1 failed \(Failed\): e2e assertion failed$/m);
    assert.match(r.stderr, /run e2e-fail-1 failed; the failed steps' logs: unidesk-ci logs e2e-fail-1 --failed/);

    const logs = await cliCounted(e2e, ["logs", runId]);
    assert.equal(logs.code, 0, show(logs));
    assert.equal(logs.calls, 1);
    assert.match(logs.stdout, /^status:\s+failed$/m);
    assert.match(logs.stdout, /^\[report\/report\] \[report\] started for e2e-fail-1 at [0-9a-f]{40}\n\[report\/report\] \[report\] FAILED: e2e assertion failed$/m);
    assert.match(logs.stdout, /^\[e2e-smoke\/smoke\] smoke check failed$/m);
    assert.match(logs.stdout, /^report +failed +\d+s$/m);
  }));

  it("the wait runs out: exit 3 saying the run goes on; the run completes and logs later shows succeeded", () => withE2e(async (e2e) => {
    const runId = "e2e-slow-1";
    e2e.sb.kube!.setOutcome(runId, { kind: "succeed", delayMs: 5000 });
    const from = e2e.sb.backend.requests.length;
    const r = await cliCounted(e2e, ["run-dev-e2e", "--run-id", runId, "--wait-ms", "1500"]);
    assert.equal(r.code, 3, show(r));
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /gave up waiting after \S+; run e2e-slow-1 was not cancelled and goes on/);
    assert.match(r.stderr, /unidesk-ci logs e2e-slow-1/);
    const kinds = dispatchKinds(e2e.sb, from);
    assert.equal(r.calls, kinds.length);
    assert.deepEqual(kinds, ["launcher", ...kinds.slice(1).map(() => "watch")], "1 submit, then 1 watch reader per answer");
    assert.ok(kinds.length >= 2);

    const running = await cli(e2e, ["logs", runId, "--json"]);
    assert.equal(running.code, 0, show(running));
    assert.equal(jsonOf(running).status, "running");

    assert.equal((await e2e.sb.waitForResult(runId)).status, "succeeded");
    const logs = await cli(e2e, ["logs", runId]);
    assert.equal(logs.code, 0, show(logs));
    assert.match(logs.stdout, /^status:\s+succeeded$/m);
  }));

  it("the wait running out with --json: one document with the wait_timeout error, exit 3", () => withE2e(async (e2e) => {
    const runId = "e2e-slow-2";
    e2e.sb.kube!.setOutcome(runId, { kind: "succeed", delayMs: 3000 });
    const r = await cliCounted(e2e, ["run-dev-e2e", "--run-id", runId, "--wait-ms", "1000", "--json"]);
    assert.equal(r.code, 3, show(r));
    const doc = jsonOf(r);
    assert.equal(doc.ok, false);
    assert.equal(doc.runId, runId);
    assert.equal(doc.error.code, "wait_timeout");
    assert.equal(doc.error.exitCode, 3);
    assert.equal(r.calls, 1 + doc.polls);
  }));

  it("the CLI killed with SIGKILL mid-wait: the run finishes and logs recovers its final status", () => withE2e(async (e2e) => {
    const runId = "e2e-killed-1";
    e2e.sb.kube!.setOutcome(runId, { kind: "succeed", delayMs: 3000 });
    const live = startCli(e2e, ["run-dev-e2e", "--run-id", runId, "--wait-ms", RUN_END_WAIT_MS]);
    // The first poll's change line shows the CLI is waiting; the run still has seconds to go.
    await until("the CLI's first change line", () => /^\[\d+s\] (starting|running)/m.test(live.stderr()) || live.child.exitCode !== null);
    assert.match(live.stderr(), /^\[\d+s\] (starting|running)/m, "the CLI is waiting");
    live.child.kill("SIGKILL");
    const r = await live.done;
    assert.equal(r.signal, "SIGKILL", show(r));
    assert.doesNotMatch(r.stdout, /^status:/m);

    assert.equal((await e2e.sb.waitForResult(runId)).status, "succeeded");
    const logs = await cliCounted(e2e, ["logs", runId]);
    assert.equal(logs.code, 0, show(logs));
    assert.equal(logs.calls, 1);
    assert.match(logs.stdout, /^status:\s+succeeded$/m);
    assert.match(logs.stdout, /^pipelineRun:\s+e2e-e2e-killed-1$/m);
  }));
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { until, RUN_END_WAIT_MS } from "../support/until.ts";
import { cli, dispatchKinds, jsonOf, runDirs, show, startCli, withE2e, type E2e } from "./sandbox-helpers.ts";


/** Whether the backend has answered the launcher dispatch (so the run exists on D601). */
const launcherAnswered = (e2e: E2e) => dispatchKinds(e2e.sb, 0).some((kind, i) => kind === "launcher" && e2e.sb.backend.requests[i]!.status === 200);

/**
 * A run nobody can find: when a submit or a wait fails after the launcher may have reached D601, the failure must
 * name the run (runId, resultDir, runMayHaveStarted) so a calling script can follow or cancel it. Each case has
 * its own sandbox (a failure switch breaks the whole backend); they run at once.
 */
describe("e2e: a run nobody can find", { concurrency: true }, () => {
  it("Ctrl-C during a slow submit (--json): exit 130 naming the run it may have started; logs then tells", () => withE2e(async (e2e) => {
    const runId = "e2e-lost-sigint";
    await e2e.sb.backend.setFailure({ mode: "slow", delayMs: 1500 });
    const live = startCli(e2e, ["run-dev-e2e", "--run-id", runId, "--json"]);
    await until("the submit to reach the backend", () => e2e.sb.backend.requests.length > 0);
    live.child.kill("SIGINT");
    const r = await live.done;
    assert.equal(r.code, 130, show(r));
    const doc = jsonOf(r);
    assert.deepEqual([doc.error.code, doc.error.exitCode], ["interrupted", 130]);
    assert.deepEqual([doc.runId, doc.resultDir, doc.runMayHaveStarted], [runId, `${e2e.sb.runsRoot}/${runId}`, true]);

    // The CLI cannot know whether the backend went on; the run id it named settles it. This backend drops a
    // request whose client went away, so: no run.
    await e2e.sb.backend.setFailure(null);
    await e2e.sb.backend.idle();
    const logs = await cli(e2e, ["logs", doc.runId, "--json"]);
    assert.equal(logs.code, 2, show(logs));
    assert.match(jsonOf(logs).error.message, new RegExp(`^no run ${runId} on D601`));
  }));

  it("Ctrl-C mid-wait (--json): exit 130 naming the run, which goes on and succeeds", () => withE2e(async (e2e) => {
    const runId = "e2e-lost-sigint-wait";
    e2e.sb.kube!.setOutcome(runId, { kind: "succeed", delayMs: 2000 });
    const live = startCli(e2e, ["run-dev-e2e", "--run-id", runId, "--wait-ms", RUN_END_WAIT_MS, "--json"]);
    await until("the launcher to answer", () => launcherAnswered(e2e));
    live.child.kill("SIGINT");
    const r = await live.done;
    assert.equal(r.code, 130, show(r));
    const doc = jsonOf(r);
    assert.deepEqual([doc.error.code, doc.runId, doc.resultDir, doc.runMayHaveStarted, doc.state], ["interrupted", runId, `${e2e.sb.runsRoot}/${runId}`, true, "started"]);
    assert.equal((await e2e.sb.waitForResult(runId)).status, "succeeded");
  }));

  it("401 mid-wait (--json): exit 4 naming the run that goes on; after the token is fixed, logs follows it", () => withE2e(async (e2e) => {
    const runId = "e2e-lost-401";
    e2e.sb.kube!.setOutcome(runId, { kind: "succeed", delayMs: 2000 });
    const live = startCli(e2e, ["run-dev-e2e", "--run-id", runId, "--wait-ms", RUN_END_WAIT_MS, "--json"]);
    await until("the launcher to answer", () => launcherAnswered(e2e));
    await e2e.sb.backend.setFailure({ mode: "unauthorized" });
    const r = await live.done;
    assert.equal(r.code, 4, show(r));
    const doc = jsonOf(r);
    assert.deepEqual([doc.error.code, doc.error.exitCode], ["auth", 4]);
    assert.deepEqual([doc.runId, doc.resultDir, doc.runMayHaveStarted, doc.state], [runId, `${e2e.sb.runsRoot}/${runId}`, true, "started"]);
    assert.equal(r.stderr, "");

    await e2e.sb.backend.setFailure(null);
    assert.equal((await e2e.sb.waitForResult(runId)).status, "succeeded");
    const logs = await cli(e2e, ["logs", doc.runId]);
    assert.equal(logs.code, 0, show(logs));
    assert.match(logs.stdout, /^status:\s+succeeded$/m);
  }));

  it("garbage mid-wait (human output): exit 5, and stderr says how to follow and cancel the run", () => withE2e(async (e2e) => {
    const runId = "e2e-lost-garbage";
    e2e.sb.kube!.setOutcome(runId, { kind: "succeed", delayMs: 2000 });
    const live = startCli(e2e, ["run-dev-e2e", "--run-id", runId, "--wait-ms", RUN_END_WAIT_MS]);
    await until("the launcher to answer", () => launcherAnswered(e2e));
    await e2e.sb.backend.setFailure({ mode: "garbage" });
    const r = await live.done;
    assert.equal(r.code, 5, show(r));
    assert.match(r.stderr, /^error: malformed answer from /m);
    assert.match(r.stderr, new RegExp(`^follow it with: unidesk-ci logs ${runId}$`, "m"));
    assert.match(r.stderr, new RegExp(`^cancel it with: unidesk-ci cancel ${runId}$`, "m"));
    await e2e.sb.backend.setFailure(null);
  }));

  it("backend down at the submit (--json): exit 5 naming the run id, which was not started", () => withE2e(async (e2e) => {
    await e2e.sb.backend.setFailure({ mode: "down" });
    const r = await cli(e2e, ["run-dev-e2e", "--json"]);
    assert.equal(r.code, 5, show(r));
    const doc = jsonOf(r);
    assert.equal(doc.error.code, "dispatch");
    assert.match(doc.runId, /^dev-\d{8}-\d{6}-[a-z0-9]{6}$/);
    assert.deepEqual([doc.resultDir, doc.runMayHaveStarted], [`${e2e.sb.runsRoot}/${doc.runId}`, false]);
    await e2e.sb.backend.setFailure(null);
    assert.deepEqual(await runDirs(e2e.sb), []);
  }));
});

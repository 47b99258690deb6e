import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cli, jsonOf, show, sharedE2e } from "./sandbox-helpers.ts";
import { RUN_END_WAIT_MS } from "../support/until.ts";

/** D601 reaches git only through the egress proxy: without it the run fails visibly and nothing bypasses it. */
describe("e2e: the egress proxy", () => {
  const e2e = sharedE2e();

  /** Git requests that did not come from the operator clone: D601's fetches. */
  const hostGitRequests = () => e2e().sb.git.requests.filter((r) => r.client !== "operator");
  const fetchFailure = /git fetch of commit [0-9a-f]{40} from https:\/\/127\.0\.0\.1:\d+\/pikasTech\/unidesk\.git through egress proxy http:\/\/127\.0\.0\.1:\d+ failed \(exit \d+\); no direct fallback/;

  it("proxy stopped before submit: the run fails with the launcher's reason, and no git request bypassed the proxy", async () => {
    await e2e().sb.proxy.stop();
    const runId = "e2e-noproxy-1";
    const r = await cli(e2e(), ["run-dev-e2e", "--run-id", runId, "--wait-ms", RUN_END_WAIT_MS]);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout, /^status:\s+error$/m);
    assert.match(r.stdout, fetchFailure);

    const result = await e2e().sb.waitForResult(runId);
    assert.equal(result.writer, "launcher");
    assert.equal(result.pipelineRun, null);

    const logs = await cli(e2e(), ["logs", runId, "--json"]);
    assert.equal(logs.code, 0, show(logs));
    const doc = jsonOf(logs);
    assert.equal(doc.status, "error");
    const launcherLog = (doc.files as { path: string; content: string }[]).find((f) => f.path === "launcher.log")!.content;
    assert.match(launcherLog, /fetching [0-9a-f]{40} from https:\S+ through egress proxy http:\/\/127\.0\.0\.1:\d+/);
    assert.match(launcherLog, new RegExp(`FAILED \\(error\\): ${fetchFailure.source}`));
    assert.match(launcherLog, /fatal: unable to access '[^']+': .*(Failed to connect|Could not connect|Connection refused)/i);
    assert.ok(!(doc.files as { path: string }[]).some((f) => f.path === "runner.log"), "the runner never started");

    assert.deepEqual(hostGitRequests(), [], "D601 reached the git server while the proxy was down");
    assert.deepEqual(e2e().sb.requestsBypassingProxy(), []);
    assert.deepEqual(e2e().sb.kube!.writes(), [], "the cluster was written to");
  });

  it("proxy refusing (403 to CONNECT): the run fails the same way, the git server sees nothing", async () => {
    await e2e().sb.proxy.start();
    e2e().sb.proxy.setRefusing(true);
    const runId = "e2e-refused-1";
    const r = await cli(e2e(), ["run-dev-e2e", "--run-id", runId, "--wait-ms", RUN_END_WAIT_MS, "--json"]);
    assert.equal(r.code, 1, show(r));
    const doc = jsonOf(r);
    assert.equal(doc.result.status, "error");
    assert.match(doc.result.reason, fetchFailure);
    assert.deepEqual(e2e().sb.proxy.requests.map((q) => [q.method, q.outcome]), [["CONNECT", "refused"]]);
    assert.deepEqual(hostGitRequests(), []);
    assert.deepEqual(e2e().sb.requestsBypassingProxy(), []);
  });

  it("proxy back: the run fetches through a CONNECT tunnel and succeeds; still nothing bypassed it", async () => {
    e2e().sb.proxy.setRefusing(false);
    const r = await cli(e2e(), ["run-dev-e2e", "--run-id", "e2e-proxied-1", "--wait-ms", RUN_END_WAIT_MS]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^status:\s+succeeded$/m);
    const tunnels = e2e().sb.proxy.requests.filter((q) => q.outcome === "tunnel");
    // Two fetches: the commit and its trees, then the runner's and deploy.json's blobs (docs/launcher.md).
    assert.deepEqual(tunnels.map((t) => t.target), Array(2).fill(new URL(e2e().sb.originUrl).host));
    assert.ok(hostGitRequests().length > 0, "the fetch arrived at the git server");
    assert.deepEqual(e2e().sb.requestsBypassingProxy(), []);
  });
});

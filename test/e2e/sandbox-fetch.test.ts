import assert from "node:assert/strict";
import { execFile as execFileCb } from "node:child_process";
import { existsSync } from "node:fs";
import { lstat, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { promisify } from "node:util";
import { commitBulkBlobs, fetchByHand, fetchPhaseMs, markTraffic, trafficSince, type BulkBlobs } from "../sandbox/fetch-traffic.ts";
import { until, RUN_END_WAIT_MS } from "../support/until.ts";
import { cli, jsonOf, show, sharedE2e, walkFiles } from "./sandbox-helpers.ts";

const execFile = promisify(execFileCb);
const KiB = 1024;
const MiB = 1024 * KiB;

/** Waits for the detached launcher to end: its EXIT trap removes the run's work dir. */
async function waitForWorkDirGone(dir: string): Promise<void> {
  await until(`${dir} to be removed`, () => !existsSync(dir));
}

/** Total size of the regular files below `dir`. */
async function treeBytes(dir: string): Promise<number> {
  let n = 0;
  for (const f of await walkFiles(dir)) n += (await lstat(f)).size;
  return n;
}

/** Issue 9: a run of a repo with 20 MiB of other blobs moves only the commit, its trees and two blobs. */
describe("e2e: the launcher fetches only what a run needs", () => {
  const e2e = sharedE2e();
  let bulk: BulkBlobs;

  before(async () => {
    bulk = await commitBulkBlobs(e2e().sb);
  });

  it("one run-dev-e2e --wait-ms: succeeds, ≤ 64 KiB through the proxy in 2 tunnels, ≤ 256 KiB left in the work root, deploy.json kept", async () => {
    const { sb } = e2e();
    const runId = "e2e-fetch-1";
    const mark = markTraffic(sb);
    const r = await cli(e2e(), ["run-dev-e2e", "--run-id", runId, "--wait-ms", RUN_END_WAIT_MS, "--json"]);
    assert.equal(r.code, 0, show(r));
    const doc = jsonOf(r);
    assert.equal(doc.result.status, "succeeded");
    assert.equal(doc.result.manifestCommit, bulk.commit);

    const workDir = join(sb.workRoot, runId);
    await waitForWorkDirGone(workDir);
    const traffic = trafficSince(sb, mark);
    assert.ok(traffic.bytes > 0 && traffic.bytes <= 64 * KiB, `${traffic.bytes} bytes through the proxy: ${JSON.stringify(traffic)}`);
    assert.equal(traffic.tunnels, 2, `the commit with its trees, then two blobs: ${JSON.stringify(traffic)}`);
    assert.equal(traffic.proxyRequests, 2);
    assert.ok(traffic.gitRequests >= 2 && traffic.gitRequests <= 4, `git requests through the tunnels: ${traffic.gitRequests}`);
    assert.deepEqual(sb.requestsBypassingProxy(), []);

    const left = await treeBytes(sb.workRoot);
    assert.ok(left <= 256 * KiB, `${left} bytes left in the work root`);
    const log = await readFile(join(sb.runsRoot, runId, "launcher.log"), "utf8");
    assert.match(log, /extracted runner\.sh and deploy\.json; clone removed$/m);
    assert.match(log, /launcher done$/m);
    assert.ok(fetchPhaseMs(log)! >= 0, "the fetch phase is timed in launcher.log");

    const kept = await readFile(join(sb.runsRoot, runId, "deploy.json"));
    const atCommit = (await execFile("git", ["show", `${bulk.commit}:deploy.json`], { cwd: sb.operatorRepoDir, encoding: "buffer" })).stdout;
    assert.ok(kept.equals(atCommit), "deploy.json in the result dir is the commit's");
  });

  it("the same proxy counts the old full-blob fetch of that commit at ≥ 20 MiB: the figure above is not a counting gap", async () => {
    const { sb } = e2e();
    const dir = join(sb.root, "old-fetch");
    const mark = markTraffic(sb);
    await fetchByHand(sb, "old", bulk.commit, dir);
    const traffic = trafficSince(sb, mark);
    await rm(dir, { recursive: true, force: true });
    assert.ok(traffic.bytesFromTarget >= bulk.totalBytes, `${traffic.bytesFromTarget} bytes for ${bulk.totalBytes} of blobs`);
    assert.equal(bulk.totalBytes, 20 * MiB);
    assert.equal(traffic.tunnels, 1);
  });

  it("proxy stopped: the run fails, and no byte, no tunnel and no git request of D601 got anywhere", async () => {
    const { sb } = e2e();
    await sb.proxy.stop();
    const mark = markTraffic(sb);
    const runId = "e2e-fetch-noproxy";
    const r = await cli(e2e(), ["run-dev-e2e", "--run-id", runId, "--wait-ms", RUN_END_WAIT_MS, "--json"]);
    assert.equal(r.code, 1, show(r));
    assert.equal(jsonOf(r).result.status, "error");
    await waitForWorkDirGone(join(sb.workRoot, runId));
    assert.deepEqual(trafficSince(sb, mark), { bytes: 0, bytesToTarget: 0, bytesFromTarget: 0, proxyRequests: 0, tunnels: 0, gitRequests: 0 });
    const direct = sb.git.requests.slice(mark.gitRequests).filter((q) => q.client !== "operator");
    assert.deepEqual(direct, [], "D601 reached the git server without the proxy");
    assert.ok(!existsSync(join(sb.runsRoot, runId, "deploy.json")), "nothing was extracted");
    await sb.proxy.start();
  });
});

// @latest / @latest-failed and the last green run, resolved by the host scripts themselves (run-ref.sh) in real
// bash against a runs dir built here: the logs reader, the watch reader and the cancel script each in one dispatch.
import assert from "node:assert/strict";
import { mkdir, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { UsageError } from "../../src/errors.ts";
import { parseCancelOutput, renderCancel } from "../../src/host/cancel.ts";
import { parseLogsOutput, renderLogsReader } from "../../src/host/logs-reader.ts";
import { parseWatchOutput, renderWatchReader } from "../../src/host/watch-reader.ts";
import { launcherEnv, runBash, tempDir } from "./helpers.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);
const C = "c".repeat(40);
let root = "";
let runsRoot = "";
let cleanup = async () => {};

const result = (runId: string, status: string, commit: string) =>
  `{\n  "ok": ${status === "succeeded"},\n  "status": "${status}",\n  "runId": "${runId}",\n  "manifestCommit": "${commit}",\n  "pipelineRun": null,\n  "temporaryNamespace": null,\n  "finishedAt": "2026-11-27T16:30:00Z"\n}\n`;
const deploy = (api: string) => JSON.stringify({ schemaVersion: 2, environments: { dev: { services: [{ id: "api", repo: "https://x/y", commitId: api }, { id: "web", repo: "https://x/y", commitId: A }] } } });

/** A run dir whose launcher started at `startedS` (launcher.pid's mtime, the order `runs` lists by). */
async function run(runId: string, startedS: number, files: Record<string, string>): Promise<void> {
  const dir = join(runsRoot, runId);
  await mkdir(dir, { recursive: true });
  for (const [rel, data] of Object.entries({ "launcher.pid": "999999999\n", ...files })) await writeFile(join(dir, rel), data);
  await utimes(join(dir, "launcher.pid"), startedS, startedS);
}

async function logs(runId: string, where = runsRoot) {
  const r = await runBash(renderLogsReader({ runsRoot: where, runId }), launcherEnv(root));
  assert.equal(r.code, 0, r.stderr);
  return parseLogsOutput(r.stdout);
}

before(async () => {
  const t = await tempDir("uci-ref-");
  root = t.dir;
  runsRoot = join(root, "runs");
  cleanup = t.cleanup;
  const base = 1_764_000_000;
  await run("r-green-old", base + 10, { "result.json": result("r-green-old", "succeeded", A), "deploy.json": deploy(A) });
  await run("r-green", base + 20, { "result.json": result("r-green", "succeeded", B), "deploy.json": deploy(A) });
  await run("r-red", base + 30, { "result.json": result("r-red", "failed", C), "deploy.json": deploy(B) });
  // Newest: finished, but its result.json says succeeded only inside a string (never a key): it did not succeed.
  await run("r-newest", base + 40, { "result.json": result("r-newest", "cancelled", C).replace('"pipelineRun": null', '"pipelineRun": "x\\"status\\": \\"succeeded\\""'), "deploy.json": deploy(B) });
});
after(() => cleanup());

describe("run references in the host scripts", () => {
  it("logs reader: @latest is the newest run dir, and the answer names it", async () => {
    const got = await logs("@latest");
    assert.ok(got.found);
    assert.deepEqual([got.runId, got.reference], ["r-newest", "@latest"]);
  });

  it("logs reader: @latest-failed is the newest run whose result.json does not say succeeded", async () => {
    await writeFile(join(runsRoot, "r-newest", "result.json"), result("r-newest", "succeeded", C));
    try {
      const got = await logs("@latest-failed");
      assert.ok(got.found);
      assert.deepEqual([got.runId, got.reference, got.resultState, got.result?.status], ["r-red", "@latest-failed", "valid", "failed"]);
    } finally {
      await writeFile(join(runsRoot, "r-newest", "result.json"), result("r-newest", "cancelled", C));
    }
  });

  it("logs reader: the newest earlier green run, its commit and the services changed, in the same answer", async () => {
    const got = await logs("r-red");
    assert.ok(got.found);
    assert.deepEqual(got.changes, { since: { runId: "r-green", manifestCommit: B }, services: { added: [], removed: [], changed: [{ id: "api", from: A, to: B }] }, commits: null });
    const green = await logs("r-green");
    assert.ok(green.found);
    assert.equal(green.changes, null, "a run that succeeded has no changes record");
  });

  it("a reference no run matches: absent, naming the reference", async () => {
    const empty = join(root, "empty-runs");
    await mkdir(empty, { recursive: true });
    assert.deepEqual(await logs("@latest", empty), { runId: "@latest", found: false, reference: "@latest" });
  });

  it("watch reader: resolves on the first answer and judges the resolved run's result.json", async () => {
    const r = await runBash(renderWatchReader({ runsRoot, runId: "@latest", answerWaitMs: 0 }), launcherEnv(root));
    assert.equal(r.code, 0, r.stderr);
    const answer = parseWatchOutput(r.stdout, { runId: "@latest" });
    assert.deepEqual([answer.runId, answer.reference, answer.resultState, answer.result?.status], ["r-newest", "@latest", "valid", "cancelled"]);
    assert.equal(answer.changes?.since?.runId, "r-green");
  });

  it("cancel script: @latest-failed resolves, and a finished run is reported, nothing signalled", async () => {
    const r = await runBash(renderCancel({ runsRoot, runId: "@latest-failed" }), launcherEnv(root));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(parseCancelOutput(r.stdout), { runId: "r-newest", reference: "@latest-failed", outcome: "finished", process: null, pid: null, status: "cancelled", problem: null });
  });

  it("only the scripts that resolve references take them; other words are refused", () => {
    assert.throws(() => renderLogsReader({ runsRoot, runId: "@newest" }), UsageError);
    assert.throws(() => renderLogsReader({ runsRoot, runId: "@latest;id" }), UsageError);
  });
});

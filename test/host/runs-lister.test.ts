// The fixed runs lister, run with real bash against run dirs built here, its parser and the `runs` table.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DispatchError, UsageError } from "../../src/errors.ts";
import { parseRunsOutput, renderRunsLister, type ListedStatus, type RunListing } from "../../src/host/runs-lister.ts";
import { renderRuns } from "../../src/io/render-runs.ts";
import { RUNS_LIMIT_MAX, RUNS_RESULT_CAP_BYTES } from "../../src/rules.ts";
import { assertGolden } from "../golden/golden.ts";
import { bashSyntax, launcherEnv, runBash, shellcheck, tempDir } from "./helpers.ts";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const OTHER = "89abcdef0123456789abcdef0123456789abcdef";

let root = "";
let runsRoot = "";
let cleanup = async () => {};
let deadPid = 0;
let standIn: ReturnType<typeof spawn> | undefined;

function result(runId: string, status: string, over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    ok: status === "succeeded", status, runId, manifestCommit: COMMIT, pipelineRun: `e2e-${runId}`, temporaryNamespace: null,
    startedAt: "2026-11-27T16:26:26.000Z", finishedAt: "2026-11-27T16:30:00.000Z", durationMs: 214_000, reason: `run ${status}`, writer: "runner", ...over,
  });
}

/** A run dir whose launcher started at `startedS` (epoch seconds, launcher.pid's mtime). */
async function run(runId: string, startedS: number, files: Record<string, string>): Promise<void> {
  const dir = join(runsRoot, runId);
  await mkdir(dir, { recursive: true });
  for (const [rel, data] of Object.entries(files)) await writeFile(join(dir, rel), data);
  if (files["launcher.pid"] !== undefined) await utimes(join(dir, "launcher.pid"), startedS, startedS);
  await utimes(dir, startedS, startedS);
}

const SHA_A = "a".repeat(40);
const SHA_B = "b".repeat(40);
/** A deploy.json holding these services (id → commitId). */
const deploy = (services: Record<string, string>) =>
  JSON.stringify({ schemaVersion: 2, environments: { dev: { services: Object.entries(services).map(([id, commitId]) => ({ id, repo: "https://x/y", commitId })) } } });

const launcherLog = (runId: string, sha = OTHER) => `2026-11-27T16:26:26.000Z launcher accepted run ${runId}: repo https://x/y commit ${sha} script scripts/ci/dev-e2e.sh\n`;

before(async () => {
  const t = await tempDir("uci-runs-");
  root = t.dir;
  runsRoot = join(root, "runs");
  cleanup = t.cleanup;
  const child = spawn("true");
  deadPid = child.pid!;
  await new Promise((r) => child.on("exit", r));
  const base = 1_764_000_000;
  await run("r-ok", base + 10, { "launcher.pid": `${deadPid}\n`, "result.json": result("r-ok", "succeeded"), "pipelinerun.txt": "e2e-r-ok\n", "deploy.json": deploy({ api: SHA_A, web: SHA_A }) });
  await run("r-failed", base + 20, { "launcher.pid": `${deadPid}\n`, "result.json": result("r-failed", "failed"), "deploy.json": deploy({ api: SHA_B, web: SHA_A }) });
  await run("r-lost", base + 30, { "launcher.pid": `${deadPid}\n`, "result.json": result("r-lost", "lost", { reason: "runner died; swept" }), "deploy.json": deploy({ api: SHA_B, web: SHA_A, db: SHA_A }) });
  // A live launcher stand-in whose command line names its result dir, as the real one's does (the liveness rule);
  // in its own process group, killed whole after the tests.
  standIn = spawn("bash", ["-c", "sleep 120; exit 0", "launcher-stand-in", join(runsRoot, "r-running")], { stdio: "ignore", detached: true });
  await run("r-running", base + 40, { "launcher.pid": `${standIn.pid}\n`, "launcher.log": launcherLog("r-running"), "pipelinerun.txt": "e2e-r-running\n" });
  // A live process that is not this run's (a reused pid): the run is lost all the same.
  // Its launcher died before launcher.log: the commit comes from its owner record.
  await run("r-reused", base + 45, { "launcher.pid": `${process.pid}\n`, "manifest-commit": `${SHA_A}\n` });
  await run("r-killed", base + 50, { "launcher.pid": `${deadPid}\n`, "runner.pid": `${deadPid}\n`, "launcher.log": launcherLog("r-killed") });
  await run("r-garbage", base + 60, { "launcher.pid": `${deadPid}\n`, "result.json": "{not json" });
  await run("r-notaresult", base + 70, { "launcher.pid": `${deadPid}\n`, "result.json": "{\"status\":\"exploded\"}" });
  await run("r-huge", base + 80, { "launcher.pid": `${deadPid}\n`, "result.json": result("r-huge", "failed", { reason: "x".repeat(RUNS_RESULT_CAP_BYTES) }) });
  await run("r-nopid", base + 5, {});
  await mkdir(join(runsRoot, "Not_A_Run"), { recursive: true });
  await writeFile(join(runsRoot, "stray-file"), "x");
});
after(async () => {
  if (standIn?.pid) process.kill(-standIn.pid, "SIGKILL");
  await cleanup();
});

async function list(limit?: number, where = runsRoot, status?: ListedStatus): Promise<{ listing: RunListing; bytes: number }> {
  const r = await runBash(renderRunsLister({ runsRoot: where, limit, status }), launcherEnv(root));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  return { listing: parseRunsOutput(r.stdout, status), bytes: r.stdout.length };
}

describe("runs lister", () => {
  it("lists run dirs newest first with their status, and knows died and unreadable runs", async () => {
    const { listing } = await list();
    assert.equal(listing.rootExists, true);
    assert.equal(listing.total, 10, "every run dir, not the stray file or a non-run-id dir");
    assert.deepEqual(listing.runs.map((r) => [r.runId, r.status]), [
      ["r-huge", "corrupt"],
      ["r-notaresult", "corrupt"],
      ["r-garbage", "corrupt"],
      ["r-killed", "lost"],
      ["r-reused", "lost"],
      ["r-running", "running"],
      ["r-lost", "lost"],
      ["r-failed", "failed"],
      ["r-ok", "succeeded"],
      ["r-nopid", "lost"],
    ]);
    const ok = listing.runs.find((r) => r.runId === "r-ok")!;
    assert.deepEqual(ok, { runId: "r-ok", status: "succeeded", manifestCommit: COMMIT, startedAt: "2026-11-27T16:26:26.000Z", finishedAt: "2026-11-27T16:30:00.000Z", durationMs: 214_000, pipelineRun: "e2e-r-ok", reason: "run succeeded", changes: null });
    const running = listing.runs.find((r) => r.runId === "r-running")!;
    assert.deepEqual([running.manifestCommit, running.pipelineRun, running.startedAt, running.durationMs], [OTHER, "e2e-r-running", new Date((1_764_000_040) * 1000).toISOString(), null]);
    assert.equal(listing.runs.find((r) => r.runId === "r-reused")!.manifestCommit, SHA_A, "from manifest-commit");
    assert.equal(listing.runs.find((r) => r.runId === "r-nopid")!.manifestCommit, null);
    assert.match(listing.runs.find((r) => r.runId === "r-huge")!.reason!, /bytes, more than the 8192 a result may have/);
  });

  it("diffs each run's services against the run before it (the changed column)", async () => {
    const { listing } = await list();
    const changes = (id: string) => listing.runs.find((r) => r.runId === id)!.changes;
    assert.deepEqual(changes("r-failed"), { since: { runId: "r-ok", manifestCommit: COMMIT }, services: { added: [], removed: [], changed: [{ id: "api", from: SHA_A, to: SHA_B }] }, commits: null });
    assert.deepEqual(changes("r-lost")!.services, { added: [{ id: "db", commitId: SHA_A }], removed: [], changed: [] });
    assert.equal(changes("r-ok"), null, "r-nopid before it has no deploy.json");
    // The last listed run still gets the run before it.
    const { listing: two } = await list(8);
    assert.equal(two.runs.at(-1)!.runId, "r-failed");
    assert.equal(two.runs.at(-1)!.changes!.services.changed[0]!.id, "api");
  });

  it("--status lists only the newest runs of that status, still diffed against the run before", async () => {
    const { listing } = await list(20, runsRoot, "failed");
    assert.deepEqual(listing.runs.map((r) => r.runId), ["r-failed"], "r-huge says failed, but is too large: corrupt");
    assert.equal(listing.runs[0]!.changes!.since!.runId, "r-ok");
    const { listing: lost } = await list(2, runsRoot, "lost");
    assert.deepEqual(lost.runs.map((r) => r.runId), ["r-killed", "r-reused"]);
    assert.equal(lost.total, 10);
    assert.throws(() => renderRunsLister({ runsRoot, status: "green" as ListedStatus }), UsageError);
  });

  it("bounds the listing by --limit and says how many exist", async () => {
    const { listing, bytes } = await list(3);
    assert.deepEqual(listing.runs.map((r) => r.runId), ["r-huge", "r-notaresult", "r-garbage"]);
    assert.equal(listing.total, 10);
    assert.ok(bytes < 3 * (RUNS_RESULT_CAP_BYTES * 1.4 + 300));
  });

  it("answers for a missing runs root", async () => {
    const { listing } = await list(20, join(root, "nowhere"));
    assert.deepEqual(listing, { rootExists: false, runs: [], total: 0 });
  });

  it("renders the table (golden) and a note when more runs exist", async () => {
    const { listing } = await list();
    const now = new Date("2026-11-27T16:40:00.000Z");
    const fixed: RunListing = { ...listing, runs: listing.runs.map((r) => (r.runId === "r-running" ? { ...r, startedAt: "2026-11-27T16:35:30.000Z" } : r)) };
    await assertGolden("runs.txt", renderRuns(fixed, { color: false, now, limit: 20 }));
    assert.match(renderRuns({ ...fixed, total: 40 }, { color: false, now, limit: 20 }), /\(10 of 40 runs; --limit N shows more, up to 500\)\n$/);
    assert.equal(renderRuns({ rootExists: true, runs: [], total: 0 }, { color: false, now, limit: 20 }), "no runs yet\n");
  });
});

describe("runs lister rendering", () => {
  it("matches its golden file and passes bash -n and shellcheck", async () => {
    const script = renderRunsLister({ runsRoot: "/home/ubuntu/.unidesk/runs", limit: 20 });
    await assertGolden("runs-lister.sh", script);
    assert.deepEqual(bashSyntax(script), { code: 0, report: "" });
    assert.deepEqual(shellcheck(script), { code: 0, report: "" });
  });

  for (const [name, settings] of [["limit 0", { limit: 0 }], ["limit over the max", { limit: RUNS_LIMIT_MAX + 1 }], ["a relative runs root", { runsRoot: "runs" }]] as const) {
    it(`refuses ${name} with a UsageError`, () => {
      assert.throws(() => renderRunsLister({ runsRoot: "/r", ...settings }), UsageError);
    });
  }

  it("turns malformed answers into a DispatchError", () => {
    for (const out of ["nope\n", "unidesk-ci-runs\t1\nroot\tpresent\n", "unidesk-ci-runs\t1\nroot\tpresent\nend\t1\t1\n", "unidesk-ci-runs\t1\nroot\tpresent\nrun\t../x\t1\t-\tnone\t-\tnone\t-\t0\t-\t-\nend\t1\t1\n"]) {
      assert.throws(() => parseRunsOutput(out), (e: unknown) => e instanceof DispatchError);
    }
  });
});

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fakeEnv } from "../../src/env.ts";
import { RunFailedError, UsageError, WaitTimeoutError } from "../../src/errors.ts";
import { helpText, runCli } from "../../src/cli/program.ts";
import { CANCELLABLE_RUNNER, isAlive, waitFor } from "../host/helpers.ts";
import { fakeBackend } from "./helpers.ts";

const TOKEN = "tok-cancel-5c1e";
const COMMIT = "c".repeat(40);

describe("cancel, in process (the cancel script runs in real bash)", () => {
  let dir: string;
  let runsRoot: string;
  const children: ChildProcess[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "unidesk-ci-cancel-"));
    runsRoot = join(dir, "runs");
    mkdirSync(runsRoot);
  });
  after(() => {
    // Each runner leads its own process group: this also ends the sleep a TERM-ignoring runner started.
    for (const c of children) {
      try {
        process.kill(-c.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const env = (backend: ReturnType<typeof fakeBackend>) =>
    backend.tie(fakeEnv({ vars: { HOME: dir, UNIDESK_BACKEND_URL: "https://backend.test", UNIDESK_TOKEN: TOKEN, UNIDESK_CI_RUNS_ROOT: runsRoot }, fetch: backend.fetch, cwd: dir }));
  const result = (runId: string, status: string) =>
    JSON.stringify({ ok: status === "succeeded", status, runId, manifestCommit: COMMIT, pipelineRun: `e2e-${runId}`, temporaryNamespace: null, finishedAt: "2026-01-01T00:02:05Z", writer: "runner" });
  const runDir = (runId: string) => {
    const d = join(runsRoot, runId);
    mkdirSync(d, { recursive: true });
    return d;
  };

  /** A live runner of `runId` (bash <work>/runner.sh --run-id <runId> …), waiting until it owns runner.pid. */
  async function startRunner(runId: string, body = CANCELLABLE_RUNNER): Promise<ChildProcess> {
    const d = runDir(runId);
    const work = join(dir, "work", runId);
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, "runner.sh"), body);
    const child = spawn("bash", [join(work, "runner.sh"), "--run-id", runId, "--manifest-commit", COMMIT, "--result-dir", d], { stdio: "ignore", detached: true });
    children.push(child);
    await waitFor("runner.log", () => (existsSync(join(d, "runner.log")) ? true : undefined));
    return child;
  }
  /** A runner that ignores SIGTERM (it is busy), so the test decides how the run ends. */
  const STUBBORN_RUNNER = CANCELLABLE_RUNNER.replace(/^trap .*$/m, "trap '' TERM");

  it("signals the run's runner in one dispatch and says how to follow it", async () => {
    const runner = await startRunner("cx-signal");
    const backend = fakeBackend({ token: TOKEN });
    const e = env(backend);
    await runCli(["cancel", "cx-signal"], e);
    assert.deepEqual(backend.received.map((r) => [r.kind, r.providerId, r.capability]), [["cancel", "D601", "host.ssh"]]);
    assert.equal(e.out(), `cancel requested: signalled the runner (pid ${runner.pid}) of run cx-signal\n`);
    assert.equal(e.err(), "follow it with: unidesk-ci logs cx-signal --follow\n");
    await waitFor("the runner to exit", () => (isAlive(runner.pid!) ? undefined : true));
    assert.ok(!(e.out() + e.err() + backend.received[0]!.command).includes(TOKEN));
  });

  it("@latest names the newest run: the host resolves it in the same dispatch and the output names the run", async () => {
    const runner = await startRunner("cx-latest");
    const backend = fakeBackend({ token: TOKEN });
    const e = env(backend);
    await runCli(["cancel", "@latest"], e);
    assert.equal(backend.received.length, 1);
    assert.equal(e.out(), `cancel requested: signalled the runner (pid ${runner.pid}) of run cx-latest\n`);
    assert.equal(e.err(), "@latest is run cx-latest\nfollow it with: unidesk-ci logs cx-latest --follow\n");
    await waitFor("the runner to exit", () => (isAlive(runner.pid!) ? undefined : true));
  });

  it("--json prints one document", async () => {
    const runner = await startRunner("cx-json");
    const backend = fakeBackend({ token: TOKEN });
    const e = env(backend);
    await runCli(["cancel", "cx-json", "--json"], e);
    assert.deepEqual(JSON.parse(e.out()), { ok: true, runId: "cx-json", reference: null, outcome: "signalled", process: "runner", pid: runner.pid, status: null, problem: null });
    assert.equal(e.err(), "");
  });

  it("an already finished run: exit 0, nothing sent, its status shown", async () => {
    writeFileSync(join(runDir("cx-done"), "result.json"), result("cx-done", "failed"));
    const backend = fakeBackend({ token: TOKEN });
    const e = env(backend);
    await runCli(["cancel", "cx-done", "--wait-ms", "60000"], e);
    assert.equal(e.out(), "run cx-done already finished (status: failed); nothing to cancel\n");
    assert.deepEqual(backend.received.map((r) => r.kind), ["cancel"]);
    const j = env(backend);
    await runCli(["cancel", "cx-done", "--json"], j);
    assert.deepEqual(JSON.parse(j.out()), { ok: true, runId: "cx-done", reference: null, outcome: "finished", process: null, pid: null, status: "failed", problem: null });
  });

  it("an unknown run id is a usage error (exit 2) naming where it looked", async () => {
    const backend = fakeBackend({ token: TOKEN });
    await assert.rejects(runCli(["cancel", "cx-nope"], env(backend)), (err) => err instanceof UsageError && err.exitCode === 2 && err.message.includes(`${runsRoot}/cx-nope`));
  });

  it("a lost run (no result, nothing alive) is exit 1 naming why, with the sweep and logs as the hint", async () => {
    const d = runDir("cx-lost");
    writeFileSync(join(d, "launcher.log"), "killed -9\n");
    writeFileSync(join(d, "launcher.pid"), "999999999\n");
    const backend = fakeBackend({ token: TOKEN });
    await assert.rejects(runCli(["cancel", "cx-lost"], env(backend)), (err) =>
      err instanceof RunFailedError && err.exitCode === 1 && !err.silent &&
      err.message === "run cx-lost is lost: no launcher or runner process of it is alive and it wrote no result.json (launcher.pid 999999999 is gone); nothing to cancel" &&
      /the next run's sweep records it .*; see: unidesk-ci logs cx-lost$/.test(err.hint ?? ""));
  });

  it("a run dir without pid files is lost only after the young-dir grace; before, nothing is signalled (exit 1, retry)", async () => {
    const d = runDir("cx-young");
    const backend = fakeBackend({ token: TOKEN });
    await assert.rejects(runCli(["cancel", "cx-young"], env(backend)), (err) => err instanceof RunFailedError && /^run cx-young: no process of it is proven its own, so nothing was signalled \(started \d+s ago/.test(err.message) && /retry in a few seconds/.test(err.hint ?? ""));
    utimesSync(d, new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000));
    await assert.rejects(runCli(["cancel", "cx-young"], env(backend)), (err) => err instanceof RunFailedError && /is lost: .*\(no launcher\.pid or runner\.pid after 60s\)/.test(err.message));
  });

  it("--wait-ms waits for the cancelled result.json: exit 0, run summary on stdout", async () => {
    await startRunner("cx-wait");
    const backend = fakeBackend({ token: TOKEN });
    const e = env(backend);
    await runCli(["cancel", "cx-wait", "--wait-ms", "3600000"], e);
    const kinds = backend.received.map((r) => r.kind);
    assert.deepEqual(kinds, ["cancel", ...kinds.slice(1).map(() => "watch")]);
    assert.match(e.err(), /^cancel requested: signalled the runner \(pid \d+\) of run cx-wait$/m);
    assert.match(e.out(), /^status: +cancelled$/m);
  });

  it("--wait-ms --json: one document with the cancel answer and the result", async () => {
    await startRunner("cx-wait-json");
    const backend = fakeBackend({ token: TOKEN });
    const e = env(backend);
    await runCli(["cancel", "cx-wait-json", "--wait-ms", "3600000", "--json"], e);
    const doc = JSON.parse(e.out());
    assert.deepEqual([doc.ok, doc.runId, doc.outcome, doc.process, doc.result.status], [true, "cx-wait-json", "signalled", "runner", "cancelled"]);
    assert.equal(e.err(), "");
  });

  it("--wait-ms: a run that ends otherwise is reported like run-dev-e2e --wait-ms (exit 1)", async () => {
    await startRunner("cx-late", STUBBORN_RUNNER);
    const d = join(runsRoot, "cx-late");
    const backend = fakeBackend({ token: TOKEN, beforeAnswer: (n) => n === 2 && writeFileSync(join(d, "result.json"), result("cx-late", "succeeded")) });
    const e = env(backend);
    await assert.rejects(runCli(["cancel", "cx-late", "--wait-ms", "60000"], e), (err) => err instanceof RunFailedError && err.silent);
    assert.match(e.out(), /^status: +succeeded$/m);
    assert.match(e.err(), /run cx-late succeeded; see its logs with: unidesk-ci logs cx-late/);
  });

  it("--wait-ms running out: exit 3, the run has not finished cancelling", async () => {
    await startRunner("cx-slow", STUBBORN_RUNNER);
    const backend = fakeBackend({ token: TOKEN });
    await assert.rejects(runCli(["cancel", "cx-slow", "--wait-ms", "3000"], env(backend)), (err) => err instanceof WaitTimeoutError && /has not finished cancelling/.test(err.message));
  });

  it("parses like the other commands: a run id is required and validated, help lists the flags", async () => {
    const e = fakeEnv();
    await assert.rejects(runCli(["cancel"], e), UsageError);
    await assert.rejects(runCli(["cancel", "Bad_Id"], e), UsageError);
    await assert.rejects(runCli(["cancel", "x", "--wait-ms", "soon"], e), UsageError);
    const help = helpText("cancel", false);
    for (const flag of ["--wait-ms", "--json", "--backend-url", "--provider", "--token-file"]) assert.ok(help.includes(flag), flag);
    assert.match(helpText(undefined, false), /^ {2}cancel RUN_ID /m);
  });
});

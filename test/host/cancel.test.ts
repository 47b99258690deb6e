// The fixed cancel script: rendering, golden file, lint, and real bash against run dirs with real processes,
// including the real launcher's detached process and a runner it started.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DispatchError, UsageError } from "../../src/errors.ts";
import { parseCancelOutput, renderCancel } from "../../src/host/cancel.ts";
import { renderLauncher, type LauncherSettings } from "../../src/host/launcher.ts";
import { resultSchema } from "../../src/host/result.ts";
import { assertGolden } from "../golden/golden.ts";
import { bashSyntax, CANCELLABLE_RUNNER, FIXTURE_REPO, isAlive, launcherEnv, makeOrigin, rewriteToLocal, runBash, shellcheck, tempDir, waitFor, waitForLauncherExit, waitForResult } from "./helpers.ts";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";

let root = "";
let runsRoot = "";
let cleanup = async () => {};
const children: ChildProcess[] = [];
const launched: string[] = [];
const sockets: Socket[] = [];
let proxy: Server | undefined;

before(async () => {
  const t = await tempDir("uci-cancel-");
  root = t.dir;
  cleanup = t.cleanup;
  runsRoot = join(root, "runs");
  await mkdir(runsRoot);
});

after(async () => {
  for (const c of children) killGroup(c);
  for (const s of sockets) s.destroy();
  await new Promise((r) => (proxy ? proxy.close(r) : r(undefined)));
  await Promise.all(launched.map(waitForLauncherExit));
  await cleanup();
});

async function runDir(runId: string, files: Record<string, string> = {}): Promise<string> {
  const dir = join(runsRoot, runId);
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

/** Makes a run dir older than the liveness rule's young-dir grace (RUN_YOUNG_GRACE_S). */
async function age(dir: string): Promise<void> {
  const t = new Date(Date.now() - 3600_000);
  await utimes(dir, t, t);
}

async function cancel(runId: string) {
  const run = await runBash(renderCancel({ runsRoot, runId }), launcherEnv(root));
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, "");
  return parseCancelOutput(run.stdout);
}

/** Kills a started process with everything it started (its own process group). */
function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Starts a process that stays alive until killed, in its own process group; resolves once it runs. */
async function startProcess(cmd: string, args: string[]): Promise<ChildProcess> {
  const child = spawn(cmd, args, { stdio: "ignore", detached: true });
  children.push(child);
  await new Promise((resolve, reject) => child.once("spawn", resolve).once("error", reject));
  return child;
}

const exited = (child: ChildProcess) => new Promise<NodeJS.Signals | number | null>((r) => (child.exitCode !== null || child.signalCode !== null ? r(child.signalCode ?? child.exitCode) : child.once("exit", (code, signal) => r(signal ?? code))));

/** Every file of a dir with its size and mtime: what "writes nothing" compares. */
async function listing(dir: string): Promise<string[]> {
  return Promise.all((await readdir(dir)).sort().map(async (f) => `${f} ${(await stat(join(dir, f))).size} ${(await stat(join(dir, f))).mtimeMs}`));
}

describe("cancel script: render", () => {
  const script = renderCancel({ runsRoot: "/home/ubuntu/.unidesk/runs", runId: "dev-20261127-162626-k3x9a2" });

  it("matches its golden file and passes bash -n and shellcheck", async () => {
    await assertGolden("cancel.sh", script);
    assert.deepEqual(bashSyntax(script), { code: 0, report: "" });
    const sc = shellcheck(script);
    assert.equal(sc.code, 0, sc.report);
    assert.match(script, /^UCI_RUNS_ROOT='\/home\/ubuntu\/\.unidesk\/runs'$/m);
    assert.match(script, /^UCI_RUN_ID='dev-20261127-162626-k3x9a2'$/m);
  });

  it("writes nothing: no redirection into a file, no rm/mv/mkdir/touch; its only signal is TERM", () => {
    const code = script.split("\n").filter((l) => !l.startsWith("#")).join("\n");
    assert.doesNotMatch(code.replace(/2>\/dev\/null/g, ""), /[^<]>\s*["$\w/]/);
    assert.doesNotMatch(code, /\b(rm|mv|mkdir|touch|cp|tee|ln|chmod)\s/);
    assert.deepEqual(code.match(/\bkill\b[^\n]*/g), ['kill -TERM "$pid" 2>/dev/null && printf \'outcome\\tsignalled\\t%s\\t%s\\n\' "$1" "$pid"']);
  });

  for (const [field, settings] of [
    ["runId", { runsRoot: "/r", runId: "../etc" }],
    ["runId", { runsRoot: "/r", runId: "a'b" }],
    ["runsRoot", { runsRoot: "r", runId: "a" }],
    ["runsRoot", { runsRoot: "/r/$(id)", runId: "a" }],
  ] as const) {
    it(`rejects a bad ${field} (${settings[field]}) with a UsageError naming it`, () => {
      assert.throws(() => renderCancel(settings), (e) => e instanceof UsageError && e.message.startsWith(field));
    });
  }
});

describe("cancel script: real runs", () => {
  it("absent: an unknown run id", async () => {
    assert.deepEqual(await cancel("no-such-run"), { runId: "no-such-run", reference: null, outcome: "absent", process: null, pid: null, status: null, problem: null });
  });

  it("finished: sends nothing and reports result.json's status (runner and launcher styles)", async () => {
    const victim = await startProcess("sleep", ["60"]);
    const runnerStyle = (runId: string) => `{\n  "ok": false,\n  "status": "failed",\n  "runId": "${runId}",\n  "manifestCommit": "${COMMIT}",\n  "pipelineRun": "e2e-${runId}",\n  "temporaryNamespace": null,\n  "finishedAt": "2026-11-27T16:30:00Z"\n}\n`;
    await runDir("done-runner", { "result.json": runnerStyle("done-runner"), "runner.pid": `${victim.pid}\n` });
    await runDir("done-launcher", { "result.json": `{"ok":false,"status":"error","runId":"done-launcher","manifestCommit":"${COMMIT}","pipelineRun":null,"temporaryNamespace":null,"finishedAt":"2026-11-27T16:30:00.000Z","writer":"launcher"}\n` });
    assert.deepEqual(await cancel("done-runner"), { runId: "done-runner", reference: null, outcome: "finished", process: null, pid: null, status: "failed", problem: null });
    assert.equal((await cancel("done-launcher")).status, "error");
    assert.ok(isAlive(victim.pid!));
  });

  it("an ended run waited on: a corrupt result.json is finished (corrupt), never a status grepped out of it; nothing is signalled", async () => {
    const victim = await startProcess("sleep", ["60"]);
    await runDir("done-garbage", { "result.json": '{"status": "succeeded", not json', "runner.pid": `${victim.pid}\n` });
    await runDir("done-other", { "result.json": `{"ok":true,"status":"succeeded","runId":"someone-else","manifestCommit":"${COMMIT}","pipelineRun":null,"temporaryNamespace":null,"finishedAt":"2026-11-27T16:30:00Z"}` });
    assert.deepEqual(await cancel("done-garbage"), { runId: "done-garbage", reference: null, outcome: "finished", process: null, pid: null, status: "corrupt", problem: "result.json is not valid JSON" });
    assert.deepEqual(await cancel("done-other"), { runId: "done-other", reference: null, outcome: "finished", process: null, pid: null, status: "mismatch", problem: 'result.json names run "someone-else", not done-other' });
    assert.ok(isAlive(victim.pid!));
  });

  it("lost: no result, and no pid files for over a minute, or dead pids (the liveness rule's words)", async () => {
    const dead = spawn("true");
    await new Promise((r) => dead.on("exit", r));
    await age(await runDir("empty"));
    await age(await runDir("dead", { "runner.pid": `${dead.pid}\n`, "launcher.pid": "garbage\n" }));
    assert.deepEqual(await cancel("empty"), {
      runId: "empty", reference: null, outcome: "lost", process: null, pid: null, status: "lost",
      problem: "no launcher or runner process of it is alive and it wrote no result.json (no launcher.pid or runner.pid after 60s)",
    });
    const lost = await cancel("dead");
    assert.deepEqual([lost.outcome, lost.status], ["lost", "lost"]);
    assert.match(lost.problem ?? "", new RegExp(`\\(launcher\\.pid \\? is gone, runner\\.pid ${dead.pid} is gone\\)$`));
  });

  it("unproven: a dir younger than the grace without pid files (a launcher before launcher.pid) is not lost; nothing is signalled", async () => {
    await runDir("young");
    const answer = await cancel("young");
    assert.deepEqual([answer.outcome, answer.status, answer.process], ["unproven", "running", null]);
    assert.match(answer.problem ?? "", /^no process of it is proven its own, so nothing was signalled \(started \d+s ago, no launcher\.pid or runner\.pid yet\)$/);
  });

  it("never signals a reused pid: an unrelated process, or another run's runner, is left alone and nothing is written", async () => {
    const unrelated = await startProcess("sleep", ["60"]);
    const otherDir = join(root, "work", "other-run");
    await mkdir(otherDir, { recursive: true });
    await writeFile(join(otherDir, "runner.sh"), "sleep 60\n");
    const otherRunner = await startProcess("bash", [join(otherDir, "runner.sh"), "--run-id", "other-run", "--result-dir", join(runsRoot, "other-run")]);
    const dir = await runDir("reused", { "runner.pid": `${otherRunner.pid}\n`, "launcher.pid": `${unrelated.pid}\n` });
    const before = await listing(dir);
    const answer = await cancel("reused");
    assert.equal(answer.outcome, "lost");
    assert.match(answer.problem ?? "", new RegExp(`launcher\\.pid ${unrelated.pid} is another program, runner\\.pid ${otherRunner.pid} is another program`));
    assert.ok(isAlive(unrelated.pid!) && isAlive(otherRunner.pid!));
    assert.deepEqual(await listing(dir), before);
  });

  it("signalled runner: TERM reaches the run's own runner (bash runner.sh --run-id <id>), which ends the run", async () => {
    const workDir = join(root, "work", "own-runner");
    await mkdir(workDir, { recursive: true });
    await writeFile(join(workDir, "runner.sh"), CANCELLABLE_RUNNER);
    const dir = await runDir("own-runner");
    const runner = await startProcess("bash", [join(workDir, "runner.sh"), "--run-id", "own-runner", "--manifest-commit", COMMIT, "--result-dir", dir]);
    await waitFor("runner.pid", () => (existsSync(join(dir, "runner.log")) ? true : undefined));
    const answer = await cancel("own-runner");
    assert.deepEqual(answer, { runId: "own-runner", reference: null, outcome: "signalled", process: "runner", pid: runner.pid, status: null, problem: null });
    assert.equal(await exited(runner), 143);
    assert.equal((await waitForResult(dir)).status, "cancelled");
    assert.deepEqual([(await cancel("own-runner")).outcome, (await cancel("own-runner")).status], ["finished", "cancelled"]);
  });
});

describe("cancel script: against the real launcher", () => {
  let commit = "";
  let bare = "";
  before(async () => {
    ({ bare, commit } = await makeOrigin(join(root, "origin"), { "dev-e2e.sh": CANCELLABLE_RUNNER }));
  });

  const settings = (runId: string, over: Partial<LauncherSettings> = {}): LauncherSettings => ({
    repo: FIXTURE_REPO, manifestCommit: commit, scriptPath: "scripts/ci/dev-e2e.sh", runId, environment: "dev", timeoutMs: 60_000,
    keepNamespace: false, workRoot: join(root, "work"), runsRoot, egressProxy: "http://127.0.0.1:9", ...over,
  });

  async function launch(s: LauncherSettings, extraEnv: Record<string, string>): Promise<string> {
    const dir = join(s.runsRoot, s.runId);
    launched.push(dir);
    const run = await runBash(renderLauncher(s), launcherEnv(root, extraEnv));
    assert.match(run.stdout, /"state":"started"/, run.stderr);
    return dir;
  }

  it("signals the runner the launcher started; the runner's cancelled result stands", async () => {
    const dir = await launch(settings("real-runner"), rewriteToLocal(bare));
    await waitFor("the runner", () => (existsSync(join(dir, "runner.log")) ? true : undefined));
    const runnerPid = Number((await readFile(join(dir, "runner.pid"), "utf8")).trim());
    const answer = await cancel("real-runner");
    assert.deepEqual([answer.outcome, answer.process, answer.pid], ["signalled", "runner", runnerPid]);
    const result = await waitForResult(dir);
    assert.equal(resultSchema.parse(result).status, "cancelled");
    assert.equal(result["writer"], "runner");
    await waitForLauncherExit(dir);
  });

  it("signals the detached launcher before the runner started; it writes a cancelled result itself", async () => {
    proxy = createServer();
    proxy.on("connect", (_req, socket: Socket) => void sockets.push(socket)); // hold the fetch forever
    await new Promise<void>((r) => proxy!.listen(0, "127.0.0.1", r));
    const port = (proxy.address() as AddressInfo).port;
    const dir = await launch(settings("real-launcher", { egressProxy: `http://127.0.0.1:${port}` }), {});
    await waitFor("the fetch to start", async () => ((await readFile(join(dir, "launcher.log"), "utf8")).includes("fetching") ? true : undefined));
    const launcherPid = Number((await readFile(join(dir, "launcher.pid"), "utf8")).trim());
    const answer = await cancel("real-launcher");
    assert.deepEqual([answer.outcome, answer.process, answer.pid], ["signalled", "launcher", launcherPid]);
    const result = await waitForResult(dir);
    assert.equal(result["status"], "cancelled");
    assert.match(String(result["reason"]), /received SIGTERM before the runner started \(during fetch\)/);
    await waitFor("the launcher to exit", () => (isAlive(launcherPid) ? undefined : true));
  });
});

describe("cancel script: parsing", () => {
  for (const [name, out] of [
    ["no header", "outcome\tlost\tx\nend\n"],
    ["cut short", "unidesk-ci-cancel\t1\nrunid\tx\noutcome\tlost\tx\n"],
    ["stale, the old word for lost", "unidesk-ci-cancel\t1\nrunid\tx\noutcome\tstale\nend\n"],
    ["unknown outcome", "unidesk-ci-cancel\t1\nrunid\tx\noutcome\tkilled\nend\n"],
    ["signalled without pid", "unidesk-ci-cancel\t1\nrunid\tx\noutcome\tsignalled\trunner\nend\n"],
    ["signalled something else", "unidesk-ci-cancel\t1\nrunid\tx\noutcome\tsignalled\tinit\t1\nend\n"],
    ["no run id", "unidesk-ci-cancel\t1\noutcome\tabsent\nend\n"],
    ["finished without its result record", "unidesk-ci-cancel\t1\nrunid\tx\noutcome\tfinished\nend\n"],
  ]) {
    it(`rejects a malformed answer (${name}) with a DispatchError`, () => {
      assert.throws(() => parseCancelOutput(out!), DispatchError);
    });
  }

  it("ignores what a login shell prints before the header", () => {
    assert.equal(parseCancelOutput("motd\nunidesk-ci-cancel\t1\nrunid\tx\noutcome\tsignalled\tlauncher\t42\nend\n").pid, 42);
  });
});

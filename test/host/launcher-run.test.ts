// Runs the rendered launcher for real with bash against local git (docs/launcher.md). The egress-proxy path
// with real HTTPS is proven end to end by the sandbox; here the repo is rewritten to a local bare repo.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseLogsOutput, renderLogsReader } from "../../src/host/logs-reader.ts";
import { type LauncherSettings, renderLauncher } from "../../src/host/launcher.ts";
import { parseWatchOutput, renderWatchReader } from "../../src/host/watch-reader.ts";
import { UsageError } from "../../src/errors.ts";
import { ABSOLUTE_PATH_MAX } from "../../src/rules.ts";
import { fakeEnv } from "../../src/env.ts";
import { resultSchema } from "../../src/host/result.ts";
import { submitLauncher } from "../../src/runs/submit.ts";
import { shellQuote } from "../../src/host/shell-quote.ts";
import { runProcess } from "../support/spawn.ts";
import {
  addCommit,
  FIXTURE_REPO,
  FIXTURE_SCRIPTS,
  isAlive,
  launcherEnv,
  makeOrigin,
  rewriteToLocal,
  runBash,
  tempDir,
  treeBytes,
  waitFor,
  waitForLauncherExit,
  waitForResult,
} from "./helpers.ts";

let root = "";
let commit = "";
let bare = "";
let cleanup = async () => {};
const sockets = new Set<Socket>();
const servers: Array<Server | HttpServer> = [];
const resultDirs: string[] = [];
/** Per scriptPath, the commit whose deploy.json names it; per run id, the commit its settings dispatch. */
const scriptCommits = new Map<string, string>();
const commitOfRun = new Map<string, string>();

before(async () => {
  const t = await tempDir("uci-launcher-");
  root = t.dir;
  cleanup = t.cleanup;
  ({ bare, commit } = await makeOrigin(root));
  // The launcher runs only the scriptPath deploy.json names: one commit per other fixture script, then master
  // back to the fixture's deploy.json.
  const manifest = JSON.parse(await readFile(join(root, "src", "deploy.json"), "utf8"));
  for (const name of [...Object.keys(FIXTURE_SCRIPTS).filter((n) => n !== "dev-e2e.sh"), "missing.sh"]) {
    manifest.environments.dev.ci.scriptPath = `scripts/ci/${name}`;
    scriptCommits.set(`scripts/ci/${name}`, await addCommit(root, { "deploy.json": JSON.stringify(manifest) }));
  }
  manifest.environments.dev.ci.scriptPath = "scripts/ci/dev-e2e.sh";
  await addCommit(root, { "deploy.json": JSON.stringify(manifest) });
});

after(async () => {
  // Every detached launcher must be gone before its dirs are removed.
  await Promise.all(resultDirs.map(waitForLauncherExit));
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await cleanup();
});

function settings(runId: string, over: Partial<LauncherSettings> = {}): LauncherSettings {
  const scriptPath = over.scriptPath ?? "scripts/ci/dev-e2e.sh";
  const manifestCommit = over.manifestCommit ?? scriptCommits.get(scriptPath) ?? commit;
  if (!commitOfRun.has(runId)) commitOfRun.set(runId, manifestCommit);
  return {
    repo: FIXTURE_REPO,
    runId,
    environment: "dev",
    timeoutMs: 60_000,
    keepNamespace: false,
    workRoot: join(root, "work"),
    runsRoot: join(root, "runs"),
    // Never reached: the local rewrite bypasses HTTP entirely.
    egressProxy: "http://127.0.0.1:9",
    ...over,
    manifestCommit,
    scriptPath,
  };
}

/** Dispatches a launcher the way D601 runs it, and remembers its result dir for cleanup. */
async function dispatch(s: LauncherSettings, extraEnv: Record<string, string> = rewriteToLocal(bare)) {
  resultDirs.push(join(s.runsRoot, s.runId));
  const run = await runBash(renderLauncher(s), launcherEnv(root, extraEnv));
  const lines = run.stdout.trimEnd().split("\n");
  return { ...run, state: JSON.parse(lines.at(-1) ?? "null") as { runId: string; state: string; resultDir: string; manifestCommit?: string }, lines };
}

function listen<T extends Server | HttpServer>(server: T): Promise<number> {
  servers.push(server);
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

async function closedPort(): Promise<number> {
  const s = createTcpServer();
  const port = await new Promise<number>((resolve) => s.listen(0, "127.0.0.1", () => resolve((s.address() as AddressInfo).port)));
  await new Promise((r) => s.close(r));
  return port;
}

function assertLauncherFailure(result: Record<string, unknown>, runId: string, status: string, reason: RegExp): void {
  assert.equal(resultSchema.safeParse(result).success, true, JSON.stringify(result));
  assert.equal(result.writer, "launcher");
  assert.equal(result.ok, false);
  assert.equal(result.status, status);
  assert.equal(result.runId, runId);
  assert.equal(result.manifestCommit, commitOfRun.get(runId) ?? commit);
  assert.match(String(result.reason), reason);
}

describe("launcher run against local git", () => {
  it("succeeds: detaches fast, fetches the commit, runs the runner with the runner contract", async () => {
    const s = settings("run-ok", { keepNamespace: true });
    const d = await dispatch(s);
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(d.lines.length, 1);
    assert.deepEqual(d.state, { runId: "run-ok", state: "started", resultDir: join(s.runsRoot, "run-ok") });
    const result = await waitForResult(d.state.resultDir);
    assert.equal(resultSchema.safeParse(result).success, true);
    assert.equal(result.writer, "runner");
    assert.equal(result.status, "succeeded");
    const workDir = join(s.workRoot, "run-ok");
    const args = (await readFile(join(d.state.resultDir, "runner-args.txt"), "utf8")).trimEnd().split("\n");
    assert.deepEqual(args, [
      "--run-id", "run-ok", "--repo-url", FIXTURE_REPO, "--desired-ref", "master", "--manifest-commit", commit,
      "--manifest-file", join(workDir, "deploy.json"), "--environment", "dev", "--result-dir", d.state.resultDir,
      "--timeout-ms", "60000", "--keep-namespace",
    ]);
    // The runner ran with cwd = work dir, holding the commit's runner.sh and deploy.json and no clone.
    const runnerLog = await readFile(join(d.state.resultDir, "runner.log"), "utf8");
    assert.ok(runnerLog.includes(`runner started in ${workDir}\n`), runnerLog);
    assert.deepEqual((await readFile(join(d.state.resultDir, "work-dir-files.txt"), "utf8")).trimEnd().split("\n").sort(), ["deploy.json", "runner-args.txt", "runner.sh"]);
    await waitForLauncherExit(d.state.resultDir);
    const log = await readFile(join(d.state.resultDir, "launcher.log"), "utf8");
    for (const step of ["launcher accepted run run-ok: commit", `verified commit ${commit}`, "extracted runner.sh", "runner exited with code 0", "launcher done"]) {
      assert.ok(log.includes(step), `launcher.log lacks '${step}':\n${log}`);
    }
    assert.match(log, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /m);

    // The fixed readers see the finished run.
    const status = parseWatchOutput((await runBash(renderWatchReader({ runsRoot: s.runsRoot, runId: "run-ok", answerWaitMs: 0 }), launcherEnv(root))).stdout);
    assert.equal(status.exists, true);
    assert.equal(status.result?.status, "succeeded");
    assert.equal(status.launcher.alive, false);
    const logText = (path: string) => Buffer.from(status.chunks.find((c) => c.path === path)?.bytes ?? []).toString("utf8");
    assert.match(logText("launcher.log"), /launcher done\n$/);
    assert.match(logText("runner.log"), /(^|\n)runner done\n$/);
    const logs = parseLogsOutput((await runBash(renderLogsReader({ runsRoot: s.runsRoot, runId: "run-ok" }), launcherEnv(root))).stdout);
    assert.ok(logs.found);
    assert.equal(logs.result?.writer, "runner");
    assert.deepEqual(logs.files.slice(0, 3).map((f) => f.path), ["result.json", "launcher.log", "runner.log"]);
  });

  it("leaves out --keep-namespace unless asked", async () => {
    const d = await dispatch(settings("run-nokeep"));
    await waitForResult(d.state.resultDir);
    const args = await readFile(join(d.state.resultDir, "runner-args.txt"), "utf8");
    assert.doesNotMatch(args, /keep-namespace/);
    assert.match(args, /--timeout-ms\n60000\n$/);
  });

  it("writes a failed result.json itself when the commit does not exist", async () => {
    const missing = "0123456789abcdef0123456789abcdef01234567";
    const d = await dispatch(settings("run-no-commit", { manifestCommit: missing }));
    assert.equal(d.state.state, "started");
    const result = await waitForResult(d.state.resultDir);
    assertLauncherFailure(result, "run-no-commit", "error", /git fetch of commit 0123456789abcdef\S+ .* failed .*no direct fallback/);
    assert.equal(result.manifestCommit, missing);
    assert.equal(existsSync(join(d.state.resultDir, "runner-runs.txt")), false);
  });

  it("writes a failed result.json when scriptPath does not exist at the commit", async () => {
    const d = await dispatch(settings("run-no-script", { scriptPath: "scripts/ci/missing.sh" }));
    const result = await waitForResult(d.state.resultDir);
    assertLauncherFailure(result, "run-no-script", "error", /scripts\/ci\/missing\.sh or deploy\.json is not a file at commit/);
  });

  it("writes a failed result.json when the runner exits without one", async () => {
    const d = await dispatch(settings("run-crash", { scriptPath: "scripts/ci/crash.sh" }));
    const result = await waitForResult(d.state.resultDir);
    assertLauncherFailure(result, "run-crash", "error", /runner exited with code 3 without writing result\.json/);
    await waitForLauncherExit(d.state.resultDir);
    assert.match(await readFile(join(d.state.resultDir, "launcher.log"), "utf8"), /about to crash/);
  });

  it("fails without fallback when the egress proxy is unreachable (nothing reaches the repo host directly)", async () => {
    let direct = 0;
    const repoPort = await listen(createTcpServer((s) => {
      direct++;
      s.destroy();
    }));
    const proxyPort = await closedPort();
    const s = settings("run-no-proxy", { repo: `https://127.0.0.1:${repoPort}/org/unidesk`, egressProxy: `http://127.0.0.1:${proxyPort}` });
    // A caller's no_proxy must not open a bypass.
    const d = await dispatch(s, { NO_PROXY: "127.0.0.1,localhost", no_proxy: "*" });
    const result = await waitForResult(d.state.resultDir);
    assertLauncherFailure(result, "run-no-proxy", "error", new RegExp(`through egress proxy http://127\\.0\\.0\\.1:${proxyPort} failed .*no direct fallback`));
    assert.equal(direct, 0, "git must not connect to the repo host directly");
  });

  it("sends the fetch through the egress proxy (CONNECT), even with no_proxy set", async () => {
    const connects: string[] = [];
    let direct = 0;
    const repoPort = await listen(createTcpServer((s) => {
      direct++;
      s.destroy();
    }));
    const proxy = createHttpServer();
    proxy.on("connect", (req, socket: Socket) => {
      connects.push(req.url ?? "");
      socket.end("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
    });
    const proxyPort = await listen(proxy);
    const s = settings("run-via-proxy", { repo: `https://127.0.0.1:${repoPort}/org/unidesk`, egressProxy: `http://127.0.0.1:${proxyPort}` });
    const d = await dispatch(s, { NO_PROXY: "127.0.0.1,localhost", no_proxy: "*" });
    const result = await waitForResult(d.state.resultDir);
    assertLauncherFailure(result, "run-via-proxy", "error", /git fetch .* failed/);
    assert.ok(connects.length >= 1 && connects.every((c) => c === `127.0.0.1:${repoPort}`), JSON.stringify(connects));
    assert.equal(direct, 0);
  });

  it("writes a cancelled result.json when killed with SIGTERM before the runner starts", async () => {
    const proxy = createHttpServer();
    proxy.on("connect", () => {}); // hold the fetch forever
    const proxyPort = await listen(proxy);
    const s = settings("run-sigterm", { repo: "https://git.example.test/org/unidesk", egressProxy: `http://127.0.0.1:${proxyPort}` });
    const d = await dispatch(s, {});
    const log = join(d.state.resultDir, "launcher.log");
    await waitFor("the fetch to start", async () => ((await readFile(log, "utf8")).includes("fetching") ? true : undefined));
    const pid = Number((await readFile(join(d.state.resultDir, "launcher.pid"), "utf8")).trim());
    process.kill(pid, "SIGTERM");
    const result = await waitForResult(d.state.resultDir);
    assertLauncherFailure(result, "run-sigterm", "cancelled", /received SIGTERM before the runner started \(during fetch\)/);
    await waitFor("the launcher to exit", () => (isAlive(pid) ? undefined : true));
  });

  it("forwards SIGTERM to the runner and writes a cancelled result.json when the runner wrote none", async () => {
    const d = await dispatch(settings("run-sigterm-runner", { scriptPath: "scripts/ci/sleepy.sh" }));
    const runnerLog = join(d.state.resultDir, "runner.log");
    await waitFor("the runner to start", () => (existsSync(runnerLog) ? true : undefined));
    const pid = Number((await readFile(join(d.state.resultDir, "launcher.pid"), "utf8")).trim());
    const runnerPid = Number((await readFile(join(d.state.resultDir, "runner.pid"), "utf8")).trim());
    process.kill(pid, "SIGTERM");
    const result = await waitForResult(d.state.resultDir);
    assertLauncherFailure(result, "run-sigterm-runner", "cancelled", /received SIGTERM while the runner ran/);
    await waitFor("launcher and runner to exit", () => (isAlive(pid) || isAlive(runnerPid) ? undefined : true));
  });

  it("never starts a second run for the same runId (sequential and concurrent dispatches)", async () => {
    const first = await dispatch(settings("run-dup"));
    await waitForResult(first.state.resultDir);
    const second = await dispatch(settings("run-dup"));
    assert.equal(second.code, 0);
    assert.deepEqual(second.state, { runId: "run-dup", state: "duplicate", resultDir: first.state.resultDir });

    const racing = await Promise.all([1, 2, 3, 4].map(() => dispatch(settings("run-race"))));
    assert.deepEqual(racing.map((r) => r.state.state).sort(), ["duplicate", "duplicate", "duplicate", "started"]);
    await waitForResult(racing[0]!.state.resultDir);
    for (const dir of [first.state.resultDir, racing[0]!.state.resultDir]) {
      await waitForLauncherExit(dir);
      assert.equal(await readFile(join(dir, "runner-runs.txt"), "utf8"), "ran\n", "the runner ran exactly once");
    }
  });

  it("runs parallel runIds independently", async () => {
    const ids = ["run-par-1", "run-par-2", "run-par-3"];
    const dispatched = await Promise.all(ids.map((id) => dispatch(settings(id))));
    for (const d of dispatched) assert.equal(d.state.state, "started");
    const results = await Promise.all(dispatched.map((d) => waitForResult(d.state.resultDir)));
    assert.deepEqual(results.map((r) => [r.runId, r.status, r.writer]), ids.map((id) => [id, "succeeded", "runner"]));
  });

  it("refuses an invalid hand-edited value on the host before creating anything", async () => {
    const script = renderLauncher(settings("run-bad")).replace("UCI_RUN_ID='run-bad'", "UCI_RUN_ID='../x'");
    const run = await runBash(script, launcherEnv(root));
    assert.equal(run.code, 2);
    assert.match(run.stderr, /invalid run id/);
    assert.equal(run.stdout, "");
    assert.equal(existsSync(join(root, "runs", "..", "x")), false);
  });

  /** The rendered launcher with one assignment hand-edited, the way an operator could edit a --dry-run. */
  function handEdited(s: LauncherSettings, name: string, value: string): string {
    const line = new RegExp(`^UCI_${name}=.*$`, "m");
    const script = renderLauncher(s);
    assert.match(script, line);
    return script.replace(line, `UCI_${name}=${shellQuote(value)}`);
  }

  const refusedOnHost: Array<[string, string, RegExp]> = [
    ["TIMEOUT_MS", "59999", /invalid timeout/],
    ["TIMEOUT_MS", "1000", /invalid timeout/],
    ["TIMEOUT_MS", "21600001", /invalid timeout/],
    ["TIMEOUT_MS", "0600000", /invalid timeout/],
    ["PROXY", "http://127.0.0.1:70000", /invalid egress proxy/],
    ["PROXY", "http://127.0.0.1:0", /invalid egress proxy/],
    ["PROXY", "http://127.0.0.1:1/x", /invalid egress proxy/],
    ["REPO", "https://git.example.test:70000/org/unidesk", /invalid repo/],
    ["REPO", "https://git.example.test:0/org/unidesk", /invalid repo/],
    ["WORK_ROOT", `/${"a".repeat(200)}`, /invalid workspace path/],
    ["RUNS_ROOT", "/tmp/../etc", /invalid workspace path/],
    ["RUN_ID", "a".repeat(41), /invalid run id/],
    ["SCRIPT", "scripts/ci/../x.sh", /invalid script path/],
    ["COMMIT", "0123456789ABCDEF0123456789ABCDEF01234567", /invalid manifest commit/],
  ];
  for (const [name, value, message] of refusedOnHost) {
    it(`refuses a hand-edited UCI_${name}=${value.slice(0, 40)} on the host with the CLI's rule, creating nothing`, async () => {
      const s = settings("run-edit", { runsRoot: join(root, "runs-edited") });
      const run = await runBash(handEdited(s, name, value), launcherEnv(root));
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, "");
      assert.equal(existsSync(s.runsRoot), false);
    });
  }

  it("accepts the rules' boundary values on the host (it gets as far as the runs root)", async () => {
    const s = settings("b", { runsRoot: "/proc/uci-cannot-exist", workRoot: `/${"w".repeat(ABSOLUTE_PATH_MAX - 1)}` });
    for (const [name, value] of [["TIMEOUT_MS", "60000"], ["TIMEOUT_MS", "21600000"], ["PROXY", "http://h.local:65535/"], ["REPO", "https://h:1/a"], ["RUN_ID", "a".repeat(40)]]) {
      const run = await runBash(handEdited(s, name!, value!), launcherEnv(root));
      assert.equal(run.code, 4, `${name}=${value}: ${run.stderr}`);
      assert.match(run.stderr, /unsafe runs root \/proc\/uci-cannot-exist: \/proc\/uci-cannot-exist is missing; make it yours/);
    }
  });

  it("a runs root that cannot be created: refused (exit 4) with mkdir's reason and the fix, no state line", async () => {
    const s = settings("run-unwritable", { runsRoot: "/proc/uci-cannot-exist" });
    const run = await runBash(renderLauncher(s), launcherEnv(root));
    assert.equal(run.code, 4);
    assert.match(run.stderr, /^mkdir: cannot create directory .*\/proc\/uci-cannot-exist.*\nunidesk-ci launcher: unsafe runs root \/proc\/uci-cannot-exist: \/proc\/uci-cannot-exist is missing; make it yours \(uid 0\), mode 700, or set another runsRoot\n$/);
    assert.equal(run.stdout, "");
  });

  it("fails visibly, without a state line, when the result dir cannot be created", async () => {
    const s = settings("run-unwritable", { runsRoot: join(root, "runs-blocked") });
    await mkdir(s.runsRoot, { recursive: true, mode: 0o700 });
    await writeFile(join(s.runsRoot, s.runId), "a file where the result dir goes\n");
    const run = await runBash(renderLauncher(s), launcherEnv(root));
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cannot create result dir \/\S+\/runs-blocked\/run-unwritable/);
    assert.equal(run.stdout, "");
  });
});

describe("launcher: a full runs root", () => {
  // Found by the soak (seed 1, run 2, disk-full): the launcher said "nothing was started" but left an empty run
  // dir that no sweep can ever record (no commit, no pid) and that holds the run id forever.
  it("soak disk-full: cannot write the owner record → exit 1, and the run dir it created is gone (run id free)", async () => {
    const runsRoot = join(root, "full-runs");
    await mkdir(runsRoot, { recursive: true });
    // A root only we can write (docs/security.md), on a tiny tmpfs filled up.
    const mounted = await runProcess("mount", ["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", runsRoot]);
    assert.equal(mounted.code, 0, mounted.stderr);
    try {
      await runProcess("dd", ["if=/dev/zero", `of=${join(runsRoot, "fill")}`, "bs=4k"]);
      const s = settings("run-disk-full", { runsRoot });
      const run = await runBash(renderLauncher(s), launcherEnv(root));
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /cannot write to .*run-disk-full/);
      assert.equal(run.stdout, "");
      assert.equal(existsSync(join(runsRoot, "run-disk-full")), false, "the half-made run dir is removed");
    } finally {
      await runProcess("umount", ["-l", runsRoot]);
    }
  });
});

/** Submits a rendered launcher through the real submit code, with a dispatch that runs it in bash. */
function submitThroughBash(s: LauncherSettings, extraEnv: Record<string, string>) {
  resultDirs.push(join(s.runsRoot, s.runId));
  const env = fakeEnv({
    fetch: async (_url, init) => {
      const { command } = JSON.parse(String(init?.body)) as { command: string };
      const run = await runBash(command, launcherEnv(root, extraEnv));
      return Response.json({ ok: true, exitCode: run.code, stdout: run.stdout, stderr: run.stderr, durationMs: 1 });
    },
  });
  return submitLauncher({ backendUrl: "http://backend.test", token: "t", providerId: "D601" }, renderLauncher(s), s.runId, env, s.manifestCommit);
}

describe("a run id belongs to one manifest commit", () => {
  it("another commit's verdict: the run id of a finished run is refused for a newer commit, on the host and by the CLI (exit 2)", async () => {
    const first = await dispatch(settings("run-owned"));
    const dir = first.state.resultDir;
    const before = await waitForResult(dir);
    await waitForLauncherExit(dir);
    const newer = await addCommit(root, { "notes.txt": "origin/master moved\n" });

    const again = await dispatch(settings("run-owned", { manifestCommit: newer }));
    assert.equal(again.code, 3, again.stderr);
    assert.deepEqual(again.state, { runId: "run-owned", state: "conflict", resultDir: dir, manifestCommit: commit });
    assert.match(again.stderr, new RegExp(`run id taken by commit ${commit}`));
    await assert.rejects(submitThroughBash(settings("run-owned", { manifestCommit: newer }), rewriteToLocal(bare)), (e: unknown) =>
      e instanceof UsageError && e.exitCode === 2 && e.message.includes(`belongs to manifest commit ${commit}, not ${newer}`) && e.message.includes("nothing was started"));

    // Nothing started: the old verdict stands, for its own commit only.
    assert.deepEqual(JSON.parse(await readFile(join(dir, "result.json"), "utf8")), before);
    assert.equal(await readFile(join(dir, "runner-runs.txt"), "utf8"), "ran\n");
    assert.equal((await readFile(join(dir, "manifest-commit"), "utf8")).trim(), commit);
    assert.equal((await submitThroughBash(settings("run-owned"), rewriteToLocal(bare))).state, "duplicate");
  });

  it("racing dispatches of one run id for two commits: one starts, the other is refused naming the winner's commit", async () => {
    const other = "1111111111111111111111111111111111111111";
    const racing = await Promise.all([commit, other, commit, other].map((c) => dispatch(settings("run-race-2", { manifestCommit: c }))));
    const winner = racing.find((r) => r.state.state === "started")!;
    assert.equal(racing.filter((r) => r.state.state === "started").length, 1);
    const owner = racing[0] === winner || racing[2] === winner ? commit : other;
    for (const r of racing.filter((x) => x !== winner)) {
      const own = (r === racing[0] || r === racing[2] ? commit : other) === owner;
      assert.deepEqual([r.code, r.state.state, r.state.manifestCommit], own ? [0, "duplicate", undefined] : [3, "conflict", owner], "every loser read the whole record");
    }
    await waitForResult(winner.state.resultDir);
  });

  it("a result dir left by an older launcher: its launcher.log names the commit; without it the id is refused as unknown", async () => {
    const runsRoot = join(root, "runs-old");
    const old = join(runsRoot, "run-old");
    await mkdir(old, { recursive: true });
    await writeFile(join(old, "launcher.log"), `2026-01-01T00:00:00.000Z launcher accepted run run-old: repo ${FIXTURE_REPO} commit ${commit} script scripts/ci/dev-e2e.sh environment dev timeoutMs 60000 keepNamespace false\n`);
    const same = await dispatch(settings("run-old", { runsRoot }));
    assert.deepEqual([same.code, same.state.state], [0, "duplicate"]);
    const other = await dispatch(settings("run-old", { runsRoot, manifestCommit: "2222222222222222222222222222222222222222" }));
    assert.deepEqual([other.code, other.state.state, other.state.manifestCommit], [3, "conflict", commit]);

    await mkdir(join(runsRoot, "run-empty"));
    const unknown = await dispatch(settings("run-empty", { runsRoot }));
    assert.deepEqual([unknown.code, unknown.state.state, unknown.state.manifestCommit], [3, "conflict", ""]);
    assert.match(unknown.stderr, /run id taken by commit unknown/);
    await assert.rejects(submitThroughBash(settings("run-empty", { runsRoot }), {}), (e: unknown) => e instanceof UsageError && /belongs to manifest commit an unknown commit/.test(e.message));
  });
});

describe("launcher: host hygiene and definite ends", () => {
  it("fetches only what the run needs: a 2 MiB blob never crosses, the clone goes, deploy.json stays in the result dir", async () => {
    const t = await tempDir("uci-launcher-big-");
    try {
      const big = await makeOrigin(t.dir, undefined, { "big.bin": randomBytes(2 * 1024 * 1024) });
      const trace = join(t.dir, "packs.trace");
      const s = { ...settings("run-small"), manifestCommit: big.commit, workRoot: join(t.dir, "work"), runsRoot: join(t.dir, "runs") };
      const d = await dispatch(s, { ...rewriteToLocal(big.bare), GIT_TRACE_PACKFILE: trace });
      assert.equal((await waitForResult(d.state.resultDir)).status, "succeeded");
      await waitForLauncherExit(d.state.resultDir);
      const packBytes = (await readFile(trace)).length;
      assert.ok(packBytes > 0 && packBytes < 64 * 1024, `${packBytes} bytes of packs fetched`);
      assert.equal(existsSync(join(s.workRoot, "run-small")), false, "the work dir of a finished run is removed");
      assert.ok((await treeBytes(s.workRoot)) <= 256 * 1024);
      const kept = JSON.parse(await readFile(join(d.state.resultDir, "deploy.json"), "utf8"));
      assert.equal(kept.environments.dev.ci.scriptPath, "scripts/ci/dev-e2e.sh");
      assert.match(await readFile(join(d.state.resultDir, "launcher.log"), "utf8"), /clone removed/);
    } finally {
      await t.cleanup();
    }
  });

  it("a failed run leaves no work dir either", async () => {
    const d = await dispatch(settings("run-gone", { scriptPath: "scripts/ci/crash.sh" }));
    await waitForResult(d.state.resultDir);
    await waitForLauncherExit(d.state.resultDir);
    assert.equal(existsSync(join(root, "work", "run-gone")), false);
  });

  it("a runner SIGKILLed alone is error (killed by signal 9), not timeout, with the PipelineRun and namespace it created", async () => {
    const d = await dispatch(settings("run-oom", { scriptPath: "scripts/ci/started.sh" }));
    const pidFile = join(d.state.resultDir, "runner.pid");
    await waitFor("the runner", () => (existsSync(join(d.state.resultDir, "runner.log")) ? true : undefined));
    process.kill(Number((await readFile(pidFile, "utf8")).trim()), "SIGKILL");
    const result = await waitForResult(d.state.resultDir);
    assertLauncherFailure(result, "run-oom", "error", /^runner killed by signal 9 without writing result\.json$/);
    assert.equal(result.pipelineRun, "e2e-run-oom");
    assert.equal(result.temporaryNamespace, "unidesk-ci-run-oom");
  });

  it("a runner exiting 124 by itself is error: only the watchdog firing is timeout", async () => {
    const d = await dispatch(settings("run-124", { scriptPath: "scripts/ci/exit124.sh" }));
    assertLauncherFailure(await waitForResult(d.state.resultDir), "run-124", "error", /^runner exited with code 124 without writing result\.json$/);
  });

  it("the launcher's own watchdog firing is timeout, also when the runner ignores TERM and takes the KILL", async () => {
    const s = settings("run-watchdog", { scriptPath: "scripts/ci/stubborn.sh" });
    const script = renderLauncher(s);
    const watchdog = "s=$(((UCI_TIMEOUT_MS+999)/1000+600))";
    const killAfter = "uci_child 120 $s";
    assert.ok(script.includes(watchdog) && script.includes(killAfter));
    resultDirs.push(join(s.runsRoot, s.runId));
    const run = await runBash(script.replace(watchdog, "s=2").replace(killAfter, "uci_child 1 $s"), launcherEnv(root, rewriteToLocal(bare)));
    assert.equal(run.code, 0, run.stderr);
    const result = await waitForResult(join(s.runsRoot, s.runId));
    assertLauncherFailure(result, "run-watchdog", "timeout", /^runner exceeded the launcher watchdog of 2s, no result\.json$/);
    assert.equal(result.pipelineRun, null, "no pipelinerun.txt: nothing proven");
    assert.equal(result.temporaryNamespace, null);
    await waitForLauncherExit(join(s.runsRoot, s.runId));
    assert.match(await readFile(join(s.runsRoot, s.runId, "launcher.log"), "utf8"), /runner exited with code 137/);
  });
});

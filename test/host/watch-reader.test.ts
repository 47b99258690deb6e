// The fixed watch reader, run with real bash against run dirs built here, and its parser.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { appendFile, mkdir, readFile, rename, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DispatchError, UsageError } from "../../src/errors.ts";
import { WATCH_FILES_MAX, WATCH_POLL_MS, WATCH_WAIT_MS, WATCH_WAIT_MS_MAX } from "../../src/rules.ts";
import { advanceOffsets, formatOffsets, nextProgressVersion, parseWatchOutput, renderWatchReader, type WatchAnswer, type WatchReaderSettings } from "../../src/host/watch-reader.ts";
import { assertGolden } from "../golden/golden.ts";
import { bashSyntax, launcherEnv, launcherStandIn, loggingShims, runBash, shellcheck, stopStandIns, tempDir } from "./helpers.ts";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const binary = Uint8Array.from([0, 1, 2, 255, 254, 0, 10, 13, 0x80, 0xc3, ...randomBytes(300)]);

let root = "";
let runsRoot = "";
let cleanup = async () => {};

function progress(runId: string, status: string): string {
  return JSON.stringify({
    updatedAt: new Date().toISOString(), runId, manifestCommit: COMMIT, startedAt: "2026-11-27T16:26:26.000Z",
    pipelineRun: { name: `e2e-${runId}`, status, reason: status === "Unknown" ? "Running" : "Succeeded", message: "", startTime: "2026-11-27T16:26:27Z", completionTime: null },
    tasks: ["check-inputs", "report"],
    taskRuns: [{ name: `e2e-${runId}-check-inputs`, pipelineTask: "check-inputs", status, reason: "Running", message: null, startTime: "2026-11-27T16:26:28Z", completionTime: null, pod: `e2e-${runId}-check-inputs-pod` }],
    pods: [],
  });
}

async function runDir(runId: string, content: Record<string, string | Uint8Array>): Promise<string> {
  const dir = join(runsRoot, runId);
  await mkdir(join(dir, "pods"), { recursive: true });
  for (const [rel, data] of Object.entries(content)) await writeFile(join(dir, rel), data);
  return dir;
}

/** A live run: its launcher.pid names a stand-in whose command line names the result dir (alive by the liveness rule). */
function liveRun(runId: string, extra: Record<string, string | Uint8Array> = {}): Promise<string> {
  return runDir(runId, {
    "launcher.pid": `${launcherStandIn(join(runsRoot, runId))}\n`,
    "launcher.log": "launcher accepted\n",
    "runner.log": "runner started\n",
    "pipelinerun.txt": `e2e-${runId}\n`,
    "progress.json": progress(runId, "Unknown"),
    ...extra,
  });
}

async function watch(settings: Omit<WatchReaderSettings, "runsRoot">): Promise<{ answer: WatchAnswer; bytes: number }> {
  const run = await runBash(renderWatchReader({ runsRoot, ...settings }), launcherEnv(root));
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, "");
  return { answer: parseWatchOutput(run.stdout), bytes: Buffer.byteLength(run.stdout) };
}

/**
 * "Answered at once" without a clock: asked to wait the longest a request may (WATCH_WAIT_MS_MAX), the reader
 * answered before that budget ran out, i.e. on news rather than at the end of the wait.
 */
function answeredOnNews(answer: WatchAnswer): boolean {
  return answer.waitedMs < WATCH_WAIT_MS_MAX;
}

const text = (a: WatchAnswer, path: string) => Buffer.from(a.chunks.find((c) => c.path === path)?.bytes ?? []).toString("utf8");

before(async () => {
  const t = await tempDir("uci-watch-");
  root = t.dir;
  runsRoot = join(root, "runs");
  cleanup = t.cleanup;
});
after(async () => {
  stopStandIns();
  await cleanup();
});

describe("watch reader", () => {
  it("answers everything from offset 0: status, progress, each log (binary-exact), logs first then pods/ in order", async () => {
    await liveRun("w-all", { "pods/b_step.log": binary, "pods/a_step.log": "a line\n", "pipelinerun.json": "{}", ".progress.json.123": "tmp" });
    const { answer } = await watch({ runId: "w-all", answerWaitMs: 0 });
    assert.equal(answer.exists, true);
    assert.equal(answer.launcher.alive, true);
    assert.equal(answer.pipelineRun, "e2e-w-all");
    assert.equal(answer.result, null);
    assert.equal(answer.progress.state, "changed");
    assert.ok(answer.progress.state === "changed" && answer.progress.progress?.taskRuns[0]?.pipelineTask === "check-inputs");
    assert.deepEqual(answer.chunks.map((c) => c.path), ["launcher.log", "runner.log", "pods/a_step.log", "pods/b_step.log"], "only watched files, in order");
    assert.deepEqual(answer.chunks.find((c) => c.path === "pods/b_step.log")?.bytes, binary);
    assert.equal(text(answer, "runner.log"), "runner started\n");
    assert.equal(answer.more, false);
    assert.equal(answer.keptBytes, 18 + 15 + 7 + binary.length);
  });

  it("respects offsets and the progress version: only new bytes, progress not resent; a quiet answer is small", async () => {
    const dir = await liveRun("w-offs", { "pods/a_step.log": "one\ntwo\n" });
    const first = (await watch({ runId: "w-offs", answerWaitMs: 0 })).answer;
    let offsets = advanceOffsets(new Map(), first);
    const version = nextProgressVersion(null, first);
    assert.deepEqual([...offsets], [["launcher.log", 18], ["runner.log", 15], ["pods/a_step.log", 8]]);
    await appendFile(join(dir, "pods/a_step.log"), "three\n");
    const second = (await watch({ runId: "w-offs", offsets, progressVersion: version, answerWaitMs: 0 })).answer;
    assert.deepEqual(second.chunks.map((c) => [c.path, c.offset, Buffer.from(c.bytes!).toString()]), [["pods/a_step.log", 8, "three\n"]]);
    assert.deepEqual(second.progress, { state: "same", version });
    offsets = advanceOffsets(offsets, second);
    const quiet = await watch({ runId: "w-offs", offsets, progressVersion: version, answerWaitMs: 600 });
    assert.deepEqual(quiet.answer.chunks, []);
    assert.ok(quiet.answer.waitedMs >= 600, `waited ${quiet.answer.waitedMs} ms`);
    assert.ok(quiet.bytes <= 1024, `a quiet answer is ${quiet.bytes} bytes`);
    // A rewritten progress.json (temp file + mv, as the runner does) is sent again.
    await writeFile(join(dir, ".p"), progress("w-offs", "True"));
    await rename(join(dir, ".p"), join(dir, "progress.json"));
    const changed = (await watch({ runId: "w-offs", offsets, progressVersion: version, answerWaitMs: WATCH_WAIT_MS_MAX })).answer;
    assert.ok(changed.progress.state === "changed" && changed.progress.progress?.pipelineRun?.status === "True");
    assert.ok(answeredOnNews(changed), "answered on the news");
  });

  it("waits on the host when nothing is new, then answers soon after a change, with the burst gathered", async () => {
    const dir = await liveRun("w-wait");
    const first = (await watch({ runId: "w-wait", answerWaitMs: 0 })).answer;
    const offsets = advanceOffsets(new Map(), first);
    const pending = watch({ runId: "w-wait", offsets, progressVersion: nextProgressVersion(null, first), answerWaitMs: WATCH_WAIT_MS_MAX });
    await new Promise((r) => setTimeout(r, 800));
    await appendFile(join(dir, "runner.log"), "line 1\n");
    await new Promise((r) => setTimeout(r, 60));
    await appendFile(join(dir, "runner.log"), "line 2\n");
    const { answer } = await pending;
    assert.equal(text(answer, "runner.log"), "line 1\nline 2\n", "both lines of the burst in one answer");
    // It waited for the first line (written after 800 ms: a lower bound, which load only raises), and answered on it.
    assert.ok(answer.waitedMs >= 700, `waited ${answer.waitedMs} ms`);
    assert.ok(answeredOnNews(answer), `answered after ${answer.waitedMs} ms, at the end of the wait budget`);
  });

  it("a quiet wait starts no process to nap or to prove the run alive: one find a look, nothing else", async () => {
    await liveRun("w-quiet");
    const first = (await watch({ runId: "w-quiet", answerWaitMs: 0 })).answer;
    // Every program the reader might start for a nap, a liveness check or a clock read is logged by a shim.
    const spawned = join(root, "quiet-spawned.txt");
    const shims = await loggingShims(join(root, "quiet-shims"), spawned, ["sleep", "tr", "cat", "date", "stat", "find"]);
    const ask = async (answerWaitMs: number) => {
      await writeFile(spawned, "");
      const script = renderWatchReader({ runsRoot, runId: "w-quiet", offsets: advanceOffsets(new Map(), first), progressVersion: nextProgressVersion(null, first), answerWaitMs });
      const run = await runBash(script, launcherEnv(root, { PATH: `${shims}:${process.env["PATH"]}` }));
      assert.equal(run.code, 0, run.stderr);
      return { answer: parseWatchOutput(run.stdout), calls: (await readFile(spawned, "utf8")).split("\n").filter(Boolean) };
    };
    // What any answer starts (the runs root's proof: one stat a pass, a find for foreign runs; the first look).
    const once = await ask(0);
    const waitMs = 5 * WATCH_POLL_MS;
    const { answer, calls } = await ask(waitMs);
    assert.deepEqual(answer.chunks, []);
    assert.ok(answer.waitedMs >= waitMs, `waited ${answer.waitedMs} ms: the naps are real waits`);
    assert.deepEqual(calls.slice(0, once.calls.length), once.calls);
    // Each nap adds one find (the next look) and nothing else: no sleep, no tr for the pid's command line.
    const naps = calls.slice(once.calls.length);
    assert.deepEqual([...new Set(naps)], ["find"], calls.join(" "));
    assert.ok(naps.length >= 1 && naps.length <= waitMs / WATCH_POLL_MS, `${naps.length} looks after naps`);
  });

  it("a file with news costs one dd and one base64, whatever its offset: no tail | head pipeline a file", async () => {
    await liveRun("w-procs", { "pods/a_step.log": "a1\n", "pods/b_step.log": binary });
    const first = (await watch({ runId: "w-procs", answerWaitMs: 0 })).answer;
    await appendFile(join(runsRoot, "w-procs", "runner.log"), "runner 2\n");
    await appendFile(join(runsRoot, "w-procs", "pods", "a_step.log"), "a2\n");
    const spawned = join(root, "procs-spawned.txt");
    await writeFile(spawned, "");
    const shims = await loggingShims(join(root, "procs-shims"), spawned, ["dd", "tail", "head", "base64"]);
    const script = renderWatchReader({ runsRoot, runId: "w-procs", offsets: advanceOffsets(new Map(), first), progressVersion: nextProgressVersion(null, first), answerWaitMs: 0 });
    const run = await runBash(script, launcherEnv(root, { PATH: `${shims}:${process.env["PATH"]}` }));
    assert.equal(run.code, 0, run.stderr);
    const answer = parseWatchOutput(run.stdout);
    assert.deepEqual(answer.chunks.map((c) => [c.path, Buffer.from(c.bytes ?? []).toString("utf8")]), [["runner.log", "runner 2\n"], ["pods/a_step.log", "a2\n"]]);
    const calls = (await readFile(spawned, "utf8")).split("\n").filter(Boolean);
    assert.equal(calls.filter((c) => c === "dd").length, 2, calls.join(" "));
    assert.ok(!calls.includes("tail"), calls.join(" "));
  });

  it("a clock set back while it waits does not make it wait for ever: the wait also ends by its count of naps", async () => {
    await liveRun("w-clock");
    const first = (await watch({ runId: "w-clock", answerWaitMs: 0 })).answer;
    // A `date` that goes back an hour at every call (the reader's clock when bash has no EPOCHREALTIME).
    const shims = join(root, "clock-shims");
    await mkdir(shims, { recursive: true });
    const count = join(shims, "count");
    await writeFile(count, "0");
    const real = (await runBash("command -v date", launcherEnv(root))).stdout.trim();
    await writeFile(join(shims, "date"), `#!/bin/bash\nn=$(<${count}); echo $((n + 1)) > ${count}\n[[ $1 == +%s%3N ]] && { echo $((2000000000000 - n * 3600000)); exit; }\nexec ${real} "$@"\n`, { mode: 0o755 });
    const script = `unset EPOCHREALTIME\n${renderWatchReader({ runsRoot, runId: "w-clock", offsets: advanceOffsets(new Map(), first), progressVersion: nextProgressVersion(null, first), answerWaitMs: 2000 })}`;
    const run = await runBash(script, launcherEnv(root, { PATH: `${shims}:${process.env["PATH"]}` }));
    assert.equal(run.code, 0, run.stderr);
    const answer = parseWatchOutput(run.stdout);
    assert.equal(answer.waitedMs, 0, "a negative wait is answered as 0");
    // About 2000 / WATCH_POLL_MS naps (one date each, and one each for the start and the end), not an endless loop.
    const calls = Number(await readFile(count, "utf8"));
    assert.ok(calls >= 5 && calls <= 20, `${calls} clock reads`);
  });

  it("a run that ends while the answer is being written: the answer that carries its failed result carries its changes too", async () => {
    const dir = await liveRun("w-ending");
    const first = (await watch({ runId: "w-ending", answerWaitMs: 0 })).answer;
    // result.json appears after the reader's scan, just before it reads the result (when it reads pipelinerun.txt):
    // the answer ends the follow, so what changed since the last green run must be in it, not in a next answer.
    const shims = join(root, "ending-shims");
    await mkdir(shims, { recursive: true });
    const real = (await runBash("command -v head", launcherEnv(root))).stdout.trim();
    const result = JSON.stringify({ ok: false, status: "failed", runId: "w-ending", manifestCommit: COMMIT, pipelineRun: "e2e-w-ending", temporaryNamespace: null, finishedAt: "2026-11-27T16:30:00.000Z" });
    await writeFile(join(shims, "result.json"), result);
    await writeFile(join(shims, "head"), `#!/bin/bash
[[ \${@: -1} == */pipelinerun.txt && ! -e ${dir}/result.json ]] && cp ${join(shims, "result.json")} ${dir}/result.json
exec ${real} "$@"
`, { mode: 0o755 });
    const script = renderWatchReader({ runsRoot, runId: "w-ending", offsets: advanceOffsets(new Map(), first), progressVersion: nextProgressVersion(null, first), answerWaitMs: 0 });
    const run = await runBash(script, launcherEnv(root, { PATH: `${shims}:${process.env["PATH"]}` }));
    assert.equal(run.code, 0, run.stderr);
    const answer = parseWatchOutput(run.stdout);
    assert.equal(answer.result?.status, "failed", "the result written during the answer is in it");
    assert.notEqual(answer.changes, null, "and so are its changes");
  });

  it("returns at once when result.json exists, and when nothing is alive (stale)", async () => {
    const result = JSON.stringify({ ok: true, status: "succeeded", runId: "w-done", manifestCommit: COMMIT, pipelineRun: "e2e-w-done", temporaryNamespace: null, finishedAt: "2026-11-27T16:30:00.000Z" });
    await liveRun("w-done", { "result.json": result });
    const done = await watch({ runId: "w-done", offsets: new Map([["launcher.log", 18], ["runner.log", 15]]), answerWaitMs: WATCH_WAIT_MS_MAX });
    assert.equal(done.answer.result?.status, "succeeded");
    assert.ok(answeredOnNews(done.answer), `${done.answer.waitedMs} ms on the host`);
    await runDir("w-stale", { "launcher.pid": "999999999\n", "runner.log": "x\n" });
    const stale = await watch({ runId: "w-stale", offsets: new Map([["runner.log", 2]]), answerWaitMs: WATCH_WAIT_MS_MAX });
    assert.deepEqual([stale.answer.launcher.alive, stale.answer.runner.pid, stale.answer.result, stale.answer.resultState], [false, null, null, "lost"], "dead by the runner's liveness rule: lost");
    assert.match(stale.answer.resultProblem ?? "", /launcher\.pid 999999999 is gone/);
    assert.ok(answeredOnNews(stale.answer));
  });

  it("loses and repeats no byte across answers while a log is appended, through a small cap", async () => {
    const dir = await liveRun("w-race");
    const file = join(dir, "pods/p_step.log");
    await writeFile(file, "early ".repeat(500));
    // A fixed number of appends, 3 ms apart, while the reader follows: it keeps reading until the writer is done.
    let stop = false;
    const writer = (async () => {
      for (let i = 0; i < 600; i++) {
        await appendFile(file, i % 7 === 3 ? Buffer.concat([Buffer.from(`bin ${i} `), binary.subarray(0, 40), Buffer.from("\n")]) : `line ${i} ${"x".repeat(i % 50)}\n`);
        await new Promise((r) => setTimeout(r, 3));
      }
      stop = true;
    })();
    let offsets: Map<string, number> = new Map();
    const got: Buffer[] = [];
    let answers = 0;
    let capped = 0;
    for (;;) {
      const finished = stop;
      const { answer } = await watch({ runId: "w-race", offsets, answerWaitMs: 0, capBytes: 700 });
      answers++;
      for (const c of answer.chunks) if (c.path === "pods/p_step.log") got.push(Buffer.from(c.bytes!));
      assert.ok(answer.keptBytes <= 700);
      if (answer.more) capped++;
      offsets = advanceOffsets(offsets, answer);
      if (finished && !answer.more) break;
    }
    await writer;
    assert.ok(answers >= 3 && capped >= 1, `${answers} answers, ${capped} cut by the cap`);
    assert.deepEqual(Buffer.concat(got), await readFile(file));
  });

  it("reports a file shorter than its offset without bytes, and follows no symlink", async () => {
    const outside = join(root, "secret.txt");
    await writeFile(outside, "secret\n");
    const dir = await liveRun("w-odd", { "runner.log": "short\n" });
    await symlink(outside, join(dir, "pods/link.log"));
    const { answer } = await watch({ runId: "w-odd", offsets: new Map([["runner.log", 100], ["launcher.log", 18]]), answerWaitMs: 0 });
    assert.deepEqual(answer.chunks.map((c) => [c.path, c.offset, c.sizeBytes, c.bytes]), [["runner.log", 100, 6, null]]);
    const linked = await liveRun("w-linkdir");
    await mkdir(join(root, "elsewhere"), { recursive: true });
    await writeFile(join(root, "elsewhere", "x.log"), "outside\n");
    await rename(join(linked, "pods"), join(root, "gone"));
    await symlink(join(root, "elsewhere"), join(linked, "pods"));
    assert.deepEqual((await watch({ runId: "w-linkdir", answerWaitMs: 0 })).answer.chunks.filter((c) => c.path.startsWith("pods/")), []);
  });

  it("logs: false sends no file and does not wake for a growing log; progress.json still wakes it", async () => {
    const dir = await liveRun("w-nologs", { "pods/a_step.log": "one\n" });
    const first = (await watch({ runId: "w-nologs", answerWaitMs: 0, logs: false })).answer;
    assert.deepEqual(first.chunks, []);
    const version = nextProgressVersion(null, first);
    const pending = watch({ runId: "w-nologs", progressVersion: version, answerWaitMs: 1500, logs: false });
    await appendFile(join(dir, "runner.log"), "more\n");
    const quiet = (await pending).answer;
    assert.deepEqual(quiet.chunks, []);
    assert.ok(quiet.waitedMs >= 1400, `a log line is no news without logs: answered after ${quiet.waitedMs} ms`);
    await writeFile(join(dir, ".p"), progress("w-nologs", "True"));
    await rename(join(dir, ".p"), join(dir, "progress.json"));
    const changed = (await watch({ runId: "w-nologs", progressVersion: version, answerWaitMs: WATCH_WAIT_MS_MAX, logs: false })).answer;
    assert.ok(changed.progress.state === "changed" && answeredOnNews(changed));
  });

  it("judges result.json as every reader does: corrupt, another run's (mismatch), another commit's, not a regular file", async () => {
    const result = (runId: string) => JSON.stringify({ ok: true, status: "succeeded", runId, manifestCommit: COMMIT, pipelineRun: null, temporaryNamespace: null, finishedAt: "2026-11-27T16:30:00.000Z" });
    await liveRun("w-corrupt", { "result.json": "{ not json" });
    await liveRun("w-other", { "result.json": result("someone-else") });
    const dirResult = await liveRun("w-dir");
    await mkdir(join(dirResult, "result.json"));
    const judge = async (runId: string, manifestCommit?: string) => {
      const run = await runBash(renderWatchReader({ runsRoot, runId, answerWaitMs: WATCH_WAIT_MS_MAX }), launcherEnv(root));
      return parseWatchOutput(run.stdout, { runId, manifestCommit });
    };
    assert.deepEqual([(await judge("w-corrupt")).resultState, (await judge("w-other")).resultState], ["corrupt", "mismatch"]);
    const dir = await judge("w-dir");
    assert.deepEqual([dir.resultState, answeredOnNews(dir)], ["corrupt", true], "a result.json of any form answers at once");
    await liveRun("w-commit", { "result.json": result("w-commit") });
    assert.equal((await judge("w-commit")).resultState, "valid");
    assert.match((await judge("w-commit", "f".repeat(40))).resultProblem ?? "", /manifest commit/);
    const answer = await runBash(renderWatchReader({ runsRoot, runId: "w-commit", answerWaitMs: 0 }), launcherEnv(root));
    assert.throws(() => parseWatchOutput(answer.stdout, { runId: "w-other" }), DispatchError);
  });

  it("answers distinctly for an unknown runId", async () => {
    const { answer } = await watch({ runId: "w-none", answerWaitMs: 0 });
    assert.equal(answer.exists, false);
    assert.equal(answer.runId, "w-none");
  });
});

describe("watch reader rendering", () => {
  it("matches its golden file and passes bash -n and shellcheck", async () => {
    const script = renderWatchReader({ runsRoot: "/home/ubuntu/.unidesk/runs", runId: "dev-20261127-162626-k3x9a2", offsets: new Map([["runner.log", 120], ["pods/e2e-x-pod_step-e2e.log", 4096]]), progressVersion: "1234:567:1764630000.1234567890" });
    await assertGolden("watch-reader.sh", script);
    assert.deepEqual(bashSyntax(script), { code: 0, report: "" });
    assert.deepEqual(shellcheck(script), { code: 0, report: "" });
    assert.match(script, new RegExp(`^UCI_WAIT_MS='${WATCH_WAIT_MS}'$`, "m"));
  });

  const bad: [string, Partial<WatchReaderSettings>, RegExp][] = [
    ["a path escaping the run dir", { offsets: new Map([["pods/../../etc/passwd", 0]]) }, /not a watched file/],
    ["an absolute path", { offsets: new Map([["/etc/passwd", 0]]) }, /not a watched file/],
    ["a hidden temp file", { offsets: new Map([["pods/.x.log.12", 0]]) }, /not a watched file/],
    ["a file outside the watched set", { offsets: new Map([["result.json", 0]]) }, /not a watched file/],
    ["a shell metacharacter", { offsets: new Map([["pods/a$(id).log", 0]]) }, /not a watched file/],
    ["a negative offset", { offsets: new Map([["runner.log", -1]]) }, /non-negative integer/],
    ["too many files", { offsets: new Map(Array.from({ length: WATCH_FILES_MAX + 1 }, (_, i) => [`pods/f${i}.log`, 0])) }, /at most 200/],
    ["a wait past the budget", { answerWaitMs: WATCH_WAIT_MS_MAX + 1 }, /answerWaitMs/],
    ["a forged progress version", { progressVersion: "1'; rm -rf /" }, /progressVersion/],
    ["a zero cap", { capBytes: 0 }, /capBytes/],
  ];
  for (const [name, settings, message] of bad) {
    it(`refuses ${name} with a UsageError`, () => {
      assert.throws(() => renderWatchReader({ runsRoot: "/r", runId: "x", ...settings }), (e: unknown) => e instanceof UsageError && message.test(e.message));
    });
  }

  it("formats offsets one per line", () => {
    assert.equal(formatOffsets(new Map([["runner.log", 3], ["pods/a_b.log", 0]])), "runner.log=3\npods/a_b.log=0");
  });

  const garbage: [string, string][] = [
    ["no header", "hello\n"],
    ["cut short", "unidesk-ci-watch\t1\nrunid\tx\nrun\tpresent\n"],
    ["count mismatch", "unidesk-ci-watch\t1\nrunid\tx\nrun\tpresent\nend\t1\t0\t0\n"],
    ["path escape", "unidesk-ci-watch\t1\nrunid\tx\nrun\tpresent\nfile\t../x\t0\t1\tb64:eA==\nend\t1\t1\t0\n"],
    ["bad progress version", "unidesk-ci-watch\t1\nrunid\tx\nrun\tpresent\nprogress\tzz\t1\tsame\nend\t0\t0\t0\n"],
    ["unknown line", "unidesk-ci-watch\t1\nrunid\tx\nrm\t-rf\nend\t0\t0\t0\n"],
  ];
  for (const [name, out] of garbage) {
    it(`turns a malformed answer into a DispatchError (${name})`, () => {
      assert.throws(() => parseWatchOutput(out), (e: unknown) => e instanceof DispatchError && e.exitCode === 5);
    });
  }
});

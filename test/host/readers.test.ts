// The fixed read-only readers, run with real bash against run dirs built here, and their parsers.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DispatchError } from "../../src/errors.ts";
import { LOGS_FILE_CAP_BYTES, LOGS_MAX_FILES, RESULT_MAX_BYTES } from "../../src/rules.ts";
import { parseCancelOutput, renderCancel } from "../../src/host/cancel.ts";
import { parseLogsOutput, renderLogsReader, type RunLogFile } from "../../src/host/logs-reader.ts";
import { parseWatchOutput, renderWatchReader, type WatchAnswer } from "../../src/host/watch-reader.ts";
import { launcherEnv, loggingShims, runBash, tempDir } from "./helpers.ts";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";

let root = "";
let runsRoot = "";
let cleanup = async () => {};
let deadPid = 0;
let standIn: ChildProcess | undefined;
const binary = Uint8Array.from([0, 1, 2, 255, 254, 0, 10, 13, 0x80, 0xc3, ...randomBytes(200)]);
const huge = Buffer.alloc(600 * 1024);

function result(runId: string, over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    ok: false, status: "failed", runId, manifestCommit: COMMIT, pipelineRun: `e2e-${runId}`, temporaryNamespace: `unidesk-ci-${runId}`,
    finishedAt: "2026-11-27T16:30:00.000Z", startedAt: "2026-11-27T16:26:26.000Z", durationMs: 214000, reason: "task e2e failed", writer: "runner", ...over,
  }) + "\n";
}

async function files(runId: string, content: Record<string, string | Uint8Array>): Promise<string> {
  const dir = join(runsRoot, runId);
  for (const [rel, data] of Object.entries(content)) {
    await mkdir(join(dir, rel, ".."), { recursive: true });
    await writeFile(join(dir, rel), data);
  }
  await mkdir(dir, { recursive: true });
  return dir;
}

before(async () => {
  const t = await tempDir("uci-readers-");
  root = t.dir;
  runsRoot = join(root, "runs");
  cleanup = t.cleanup;
  for (let i = 0; i < huge.length; i++) huge[i] = 0x61 + (i % 26);
  huge.write("THE-END\n", huge.length - 8);
  const child = spawn("true");
  deadPid = child.pid!;
  await new Promise((r) => child.on("exit", r));
  await files("finished", {
    "result.json": result("finished"),
    "launcher.log": "2026-11-27T16:26:26.000Z launcher accepted run finished\n2026-11-27T16:30:00.100Z launcher done\n",
    "runner.log": "2026-11-27T16:26:27.000Z step one\n2026-11-27T16:30:00.000Z wrote result.json ✓\n",
    "launcher.pid": `${deadPid}\n`,
    "runner.pid": `${deadPid}\n`,
    "pipelinerun.txt": "e2e-finished\n",
    "pipelinerun.json": "{\"kind\":\"PipelineRun\"}\n",
    "taskruns.json": "{\"items\":[]}\n",
    "pods/e2e-finished-test-pod_step-e2e.log": "FAIL: smoke\n",
    "pods/weird name ü\nline.log": "odd name\n",
    "pods/binary.bin": binary,
    "huge.log": huge,
    "empty.txt": "",
  });
  // A launcher stand-in: its command line names the result dir, as the detached launcher's does.
  standIn = spawn("bash", ["-c", "sleep 300; exit 0", "launcher-stand-in", join(runsRoot, "running")], { stdio: "ignore" });
  await files("running", {
    "launcher.log": "2026-11-27T16:26:26.000Z launcher accepted run running\n",
    "runner.log": "step one\nwaiting for PipelineRun e2e-running (3/120)",
    "launcher.pid": `${standIn.pid}\n`,
    "pipelinerun.txt": "e2e-running",
  });
  await files("bad-result", { "result.json": "{\"ok\":true}", "launcher.pid": "garbage" });
  await files("just-created", {});
});

after(() => {
  standIn?.kill("SIGKILL");
  return cleanup();
});

/** The watch reader's answer at once (answerWaitMs 0): the reference the other readers are compared with. */
async function status(runId: string, root = runsRoot) {
  const run = await runBash(renderWatchReader({ runsRoot: root, runId, answerWaitMs: 0 }), launcherEnv(root));
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, "");
  return parseWatchOutput(run.stdout);
}

/** The text of one log's chunk in a watch answer, or null when the answer holds none. */
function chunkText(answer: WatchAnswer, path: string): string | null {
  const c = answer.chunks.find((x) => x.path === path);
  return c?.bytes ? Buffer.from(c.bytes).toString("utf8") : null;
}

async function logs(runId: string, caps: { fileCapBytes?: number; totalCapBytes?: number; maxFiles?: number } = {}, env = launcherEnv(root)) {
  const run = await runBash(renderLogsReader({ runsRoot, runId, ...caps }), env);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, "");
  return { parsed: parseLogsOutput(run.stdout), bytes: run.stdout.length };
}

async function cancel(runId: string) {
  const run = await runBash(renderCancel({ runsRoot, runId }), launcherEnv(root));
  assert.equal(run.code, 0, run.stderr);
  return parseCancelOutput(run.stdout);
}

function byPath(list: RunLogFile[], path: string): RunLogFile {
  const f = list.find((x) => x.path === path);
  assert.ok(f, `no ${path} in ${list.map((x) => x.path).join(", ")}`);
  return f;
}

describe("the watch reader as the reference", () => {
  it("reports a finished run: result, PipelineRun, dead processes, the logs", async () => {
    const s = await status("finished");
    assert.equal(s.exists, true);
    assert.equal(s.result?.status, "failed");
    assert.equal(s.result?.reason, "task e2e failed");
    assert.equal(s.resultProblem, null);
    assert.equal(s.pipelineRun, "e2e-finished");
    assert.deepEqual(s.launcher, { pid: deadPid, alive: false });
    assert.deepEqual(s.runner, { pid: deadPid, alive: false });
    assert.deepEqual(s.liveness, { live: false, why: `launcher.pid ${deadPid} is gone, runner.pid ${deadPid} is gone` });
    assert.equal(chunkText(s, "launcher.log"), "2026-11-27T16:26:26.000Z launcher accepted run finished\n2026-11-27T16:30:00.100Z launcher done\n");
    assert.equal(chunkText(s, "runner.log"), "2026-11-27T16:26:27.000Z step one\n2026-11-27T16:30:00.000Z wrote result.json ✓\n");
  });

  it("reports a running run: no result, live launcher, no runner pid yet, a log without a final newline", async () => {
    const s = await status("running");
    assert.equal(s.result, null);
    assert.equal(s.resultState, "none");
    assert.deepEqual(s.launcher, { pid: standIn!.pid, alive: true });
    assert.deepEqual(s.liveness, { live: true, why: `launcher.pid ${standIn!.pid} runs it` });
    assert.deepEqual(s.runner, { pid: null, alive: false });
    assert.equal(s.pipelineRun, "e2e-running");
    assert.equal(chunkText(s, "runner.log"), "step one\nwaiting for PipelineRun e2e-running (3/120)");
  });

  it("reports an invalid result.json as a problem, not a result", async () => {
    const s = await status("bad-result");
    assert.equal(s.result, null);
    assert.match(s.resultProblem ?? "", /does not match the result schema/);
    assert.deepEqual(s.launcher, { pid: null, alive: false });
  });

  it("reports a result dir without files", async () => {
    const s = await status("just-created");
    assert.equal(s.exists, true);
    assert.equal(s.result, null);
    assert.deepEqual(s.chunks, []);
  });

  it("answers distinctly for an unknown runId, also when the runs root is missing", async () => {
    assert.deepEqual((await status("no-such-run")).exists, false);
    const missingRoot = await status("no-such-run", join(root, "nowhere"));
    assert.deepEqual(missingRoot.liveness, { live: false, why: "no run directory" });
    assert.equal(missingRoot.exists, false);
    assert.equal(missingRoot.runId, "no-such-run");
  });

  it("returns a compact answer without the logs", async () => {
    const run = await runBash(renderWatchReader({ runsRoot, runId: "finished", answerWaitMs: 0, logs: false }), launcherEnv(root));
    assert.ok(run.stdout.length < 2048, run.stdout);
    assert.match(run.stdout, /^unidesk-ci-watch\t1\nrunid\tfinished\nrun\tpresent\n/);
  });
});

describe("logs reader", () => {
  it("returns every file recursively, status first, then logs, pods, the rest", async () => {
    const { parsed } = await logs("finished");
    assert.ok(parsed.found);
    const onDisk = (await readdir(join(runsRoot, "finished"), { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).length;
    assert.equal(parsed.files.length, onDisk);
    assert.deepEqual(parsed.files.map((f) => f.path).slice(0, 7), [
      "result.json", "pipelinerun.txt", "launcher.log", "runner.log",
      "pods/binary.bin", "pods/e2e-finished-test-pod_step-e2e.log", "pods/weird name ü\nline.log",
    ]);
    assert.equal(parsed.result?.status, "failed");
    assert.equal(parsed.result?.writer, "runner");
    assert.equal(byPath(parsed.files, "pods/e2e-finished-test-pod_step-e2e.log").content, "FAIL: smoke\n");
    assert.equal(byPath(parsed.files, "runner.log").content, "2026-11-27T16:26:27.000Z step one\n2026-11-27T16:30:00.000Z wrote result.json ✓\n");
    assert.deepEqual(byPath(parsed.files, "empty.txt"), { path: "empty.txt", sizeBytes: 0, keptBytes: 0, truncated: false, unreadable: false, content: "" });
  });

  it("names every file exactly: each plain character at each place of a 3-byte group, and names that are not plain", async () => {
    // Plain names (letters, digits, . _ - /) are put in base64 by bash itself, the rest by base64: both must agree.
    const plain = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
    const names = [
      ...Array.from({ length: 3 }, (_, shift) => `pods/${"x".repeat(shift)}${plain}`),
      "pods/a", "pods/ab", "pods/abc", "pods/sub/dir/x.log",
      "pods/tab\there", "pods/plus+sign", "pods/é", "pods/\u0001start", "pods/back\\slash", "pods/star*", "pods/at@", "pods/bracket]",
    ];
    await files("names", Object.fromEntries(names.map((n, i) => [n, `${i}\n`])));
    const { parsed } = await logs("names");
    assert.ok(parsed.found);
    assert.deepEqual(parsed.files.map((f) => f.path).sort(), [...names].sort());
    for (const [i, n] of names.entries()) assert.equal(byPath(parsed.files, n).content, `${i}\n`, n);
    for (const [i, n] of names.entries()) assert.equal(byPath(parsed.files, n).sizeBytes, `${i}\n`.length, n);
  });

  it("is binary-safe", async () => {
    const { parsed } = await logs("finished");
    assert.ok(parsed.found);
    const f = byPath(parsed.files, "pods/binary.bin");
    assert.ok(f.content instanceof Uint8Array);
    assert.deepEqual(f.content, binary);
    assert.equal(f.truncated, false);
  });

  it("keeps the tail of a huge file with an explicit truncation marker", async () => {
    const { parsed } = await logs("finished");
    assert.ok(parsed.found);
    const f = byPath(parsed.files, "huge.log");
    assert.equal(f.sizeBytes, huge.length);
    assert.equal(f.keptBytes, LOGS_FILE_CAP_BYTES);
    assert.equal(f.truncated, true);
    assert.equal(f.content, huge.subarray(huge.length - LOGS_FILE_CAP_BYTES).toString("utf8"));
    assert.ok((f.content as string).endsWith("THE-END\n"));
  });

  it("stops at the total cap, still listing every file with its size", async () => {
    const { parsed, bytes } = await logs("finished", { fileCapBytes: 1000, totalCapBytes: 1500 });
    assert.ok(parsed.found);
    assert.ok(parsed.keptBytes <= 1500);
    assert.equal(parsed.totalCapBytes, 1500);
    assert.equal(parsed.fileCapBytes, 1000);
    assert.equal(byPath(parsed.files, "result.json").truncated, false, "the status comes first and whole");
    assert.equal(parsed.keptBytes, 1500, "the budget is used up exactly");
    const cut = byPath(parsed.files, "huge.log");
    assert.deepEqual([cut.sizeBytes, cut.truncated], [huge.length, true]);
    assert.ok(cut.keptBytes > 0 && cut.keptBytes < 1000);
    const afterCut = parsed.files.slice(parsed.files.indexOf(cut) + 1);
    assert.ok(afterCut.length > 0);
    for (const f of afterCut) assert.deepEqual([f.keptBytes, f.truncated, f.content], [0, f.sizeBytes > 0, ""], f.path);
    assert.equal(parsed.files.length, 13);
    assert.ok(bytes < 4000);
  });

  it("stays within the documented output size for a run dir full of big logs", async () => {
    const big: Record<string, Uint8Array> = {};
    for (let i = 0; i < 12; i++) big[`pods/p${i}_c.log`] = randomBytes(300 * 1024);
    await files("big", big);
    const { parsed, bytes } = await logs("big");
    assert.ok(parsed.found);
    assert.equal(parsed.keptBytes, 2 * 1024 * 1024);
    assert.ok(bytes < 3 * 1024 * 1024, `${bytes} bytes of output`);
    assert.deepEqual(parsed.files.map((f) => f.truncated), Array(12).fill(true));
  });

  it("answers distinctly for an unknown runId", async () => {
    const { parsed } = await logs("no-such-run");
    assert.deepEqual(parsed, { runId: "no-such-run", found: false, reference: null });
  });

  it("writes nothing on the host", async () => {
    const dir = join(runsRoot, "finished");
    const before = (await readdir(dir, { recursive: true })).sort();
    const mtime = (await stat(dir)).mtimeMs;
    await logs("finished");
    await status("finished");
    assert.deepEqual((await readdir(dir, { recursive: true })).sort(), before);
    assert.equal((await stat(dir)).mtimeMs, mtime);
  });
});

describe("an ended run waited on: result.json has one definite state in every reader", () => {
  const valid = JSON.parse(result("x")) as Record<string, unknown>;
  const json = (over: Record<string, unknown>) => JSON.stringify({ ...valid, ...over });
  const cases: { name: string; make: (dir: string) => Promise<void>; state: string; problem: RegExp }[] = [
    { name: "valid", make: (d) => writeFile(join(d, "result.json"), json({ runId: "rs-valid" })), state: "failed", problem: /^$/ },
    { name: "invalid JSON", make: (d) => writeFile(join(d, "result.json"), '{"ok":true,"status":"succeeded",'), state: "corrupt", problem: /^result\.json is not valid JSON$/ },
    { name: "wrong schema", make: (d) => writeFile(join(d, "result.json"), '{"ok":true,"status":"succeeded"}'), state: "corrupt", problem: /^result\.json does not match the result schema: runId: /m },
    { name: "too large", make: (d) => writeFile(join(d, "result.json"), json({ runId: "rs-too-large", ok: true, status: "succeeded", padding: "x".repeat(RESULT_MAX_BYTES) })), state: "corrupt", problem: new RegExp(`^result\\.json is \\d+ bytes, more than the ${RESULT_MAX_BYTES} a result may have$`) },
    { name: "not UTF-8", make: (d) => writeFile(join(d, "result.json"), Buffer.concat([Buffer.from(json({ runId: "rs-not-utf-8", reason: "" }).slice(0, -2)), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])), state: "corrupt", problem: /^result\.json is not UTF-8 text$/ },
    { name: "contradictory", make: (d) => writeFile(join(d, "result.json"), json({ runId: "rs-contradictory", ok: false, status: "succeeded" })), state: "corrupt", problem: /^result\.json contradicts itself: ok is false but status is succeeded$/ },
    { name: "a symlink", make: async (d) => (await writeFile(join(d, "elsewhere.json"), json({ runId: "rs-a-symlink" })), await symlink(join(d, "elsewhere.json"), join(d, "result.json"))), state: "corrupt", problem: /not a readable regular file/ },
    { name: "a directory", make: (d) => mkdir(join(d, "result.json")), state: "corrupt", problem: /not a readable regular file/ },
    { name: "another run's", make: (d) => writeFile(join(d, "result.json"), json({ runId: "someone-else", ok: true, status: "succeeded" })), state: "mismatch", problem: /^result\.json names run "someone-else", not rs-another-run-s$/ },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.state} in the watch reader, the logs reader and the cancel script alike`, async () => {
      const runId = `rs-${c.name.replace(/[^a-z0-9]+/gi, "-").replace(/-$/, "").toLowerCase()}`;
      const dir = await files(runId, {});
      await c.make(dir);
      const s = await status(runId);
      const { parsed: l } = await logs(runId);
      assert.ok(l.found);
      const k = await cancel(runId);
      const word = s.resultState === "valid" ? s.result?.status : s.resultState;
      assert.equal(word, c.state);
      assert.match(s.resultProblem ?? "", c.problem);
      assert.deepEqual([l.resultState, l.resultProblem], [s.resultState, s.resultProblem]);
      assert.deepEqual([k.outcome, k.status, k.problem], ["finished", c.state, s.resultProblem]);
      if (s.resultState !== "valid") assert.equal(s.result, null);
    });
  }

  it("a wait knows the commit it submitted: another commit's result.json is a mismatch", async () => {
    const run = await runBash(renderWatchReader({ runsRoot, runId: "rs-valid", answerWaitMs: 0 }), launcherEnv(root));
    const other = "f".repeat(40);
    const s = parseWatchOutput(run.stdout, { runId: "rs-valid", manifestCommit: other });
    assert.deepEqual([s.resultState, s.result, s.resultProblem], ["mismatch", null, `result.json is the verdict of manifest commit ${COMMIT}, not of ${other} that this run submitted`]);
    assert.equal(parseWatchOutput(run.stdout, { runId: "rs-valid", manifestCommit: COMMIT }).resultState, "valid");
  });
});

describe("logs past its budget: a run dir of 20 000 files", () => {
  const COUNT = 20_000;
  let shims = "";
  before(async () => {
    const dir = await files("many", { "result.json": result("many"), "runner.log": "step\n" });
    await mkdir(join(dir, "pods"));
    for (let i = 0; i < COUNT; i += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, j) => writeFile(join(dir, "pods", `p${String(i + j).padStart(5, "0")}_c.log`), `line ${i + j}\n`)));
    }
    // Every stat, tail and base64 the reader starts is logged, to count its subprocesses.
    shims = await loggingShims(join(root, "shims"), join(root, "spawned.txt"), ["stat", "tail", "base64"]);
  });

  it(`reads at most ${LOGS_MAX_FILES} files, most telling first, and counts the ones it left out`, async () => {
    const { parsed } = await logs("many", {}, launcherEnv(root, { PATH: `${shims}:${process.env.PATH}` }));
    assert.ok(parsed.found);
    assert.equal(parsed.files.length, LOGS_MAX_FILES);
    assert.deepEqual(parsed.files.slice(0, 3).map((f) => f.path), ["result.json", "runner.log", "pods/p00000_c.log"]);
    assert.equal(parsed.files.at(-1)?.path, `pods/p${String(LOGS_MAX_FILES - 3).padStart(5, "0")}_c.log`);
    assert.deepEqual([parsed.omittedFiles, parsed.omittedAtLeast, parsed.maxFiles], [COUNT + 2 - LOGS_MAX_FILES, false, LOGS_MAX_FILES]);
    assert.equal(parsed.resultState, "valid");
    const spawned = (await readFile(join(root, "spawned.txt"), "utf8")).trim().split("\n");
    // Per file read: one tail and one base64 (its size is the listing's, its name encoded by bash); nothing per
    // omitted file. The runs root's proof (uci_safe) stats each of its components twice, as given and resolved.
    const proof = 2 * runsRoot.split("/").filter(Boolean).length;
    assert.ok(spawned.length <= 2 * LOGS_MAX_FILES + 4 + proof, `${spawned.length} subprocesses`);
  });

  it("a smaller maxFiles still reads result.json, pipelinerun.txt and the logs first", async () => {
    const { parsed } = await logs("finished", { maxFiles: 5 });
    assert.ok(parsed.found);
    assert.deepEqual(parsed.files.map((f) => f.path), ["result.json", "pipelinerun.txt", "launcher.log", "runner.log", "pods/binary.bin"]);
    assert.equal(parsed.omittedFiles, 8);
  });
});

describe("reader output parsers", () => {
  const garbage: Array<[string, string, (s: string) => unknown]> = [
    ["watch: no header", "hello\n", parseWatchOutput],
    ["watch: cut short", "unidesk-ci-watch\t1\nrunid\tx\nrun\tpresent\n", parseWatchOutput],
    ["watch: bad base64", "unidesk-ci-watch\t1\nrunid\tx\nrun\tpresent\nlauncher\t-\tnone\nrunner\t-\tnone\nliveness\tlive\tok\npipelinerun\tb64:%%%\nresult\t-\t0\nprogress\t-\t0\t-\nwaited\t0\nend\t0\t0\t0\n", parseWatchOutput],
    ["watch: bad liveness", "unidesk-ci-watch\t1\nrunid\tx\nrun\tpresent\nlauncher\t-\tnone\nrunner\t-\tnone\nliveness\tmaybe\t\npipelinerun\t-\nresult\t-\t0\nprogress\t-\t0\t-\nwaited\t0\nend\t0\t0\t0\n", parseWatchOutput],
    ["watch: no liveness", "unidesk-ci-watch\t1\nrunid\tx\nrun\tpresent\nlauncher\t-\tnone\nrunner\t-\tnone\npipelinerun\t-\nresult\t-\t0\nprogress\t-\t0\t-\nwaited\t0\nend\t0\t0\t0\n", parseWatchOutput],
    ["logs: no liveness", "unidesk-ci-logs\t1\nrunid\tx\ncaps\t1\t1\t4\nrun\tpresent\nresult\t-\t0\nomitted\t0\texact\nend\t0\t0\n", parseLogsOutput],
    ["watch: bad process", "unidesk-ci-watch\t1\nrunid\tx\nrun\tpresent\nlauncher\t12\tmaybe\nrunner\t-\tnone\nliveness\tlive\tok\npipelinerun\t-\nresult\t-\t0\nprogress\t-\t0\t-\nwaited\t0\nend\t0\t0\t0\n", parseWatchOutput],
    ["logs: no end", "unidesk-ci-logs\t1\nrunid\tx\ncaps\t1\t1\t4\nrun\tpresent\n", parseLogsOutput],
    ["logs: count mismatch", "unidesk-ci-logs\t1\nrunid\tx\ncaps\t1\t1\t4\nrun\tpresent\nresult\t-\t0\nomitted\t0\texact\nend\t2\t0\n", parseLogsOutput],
    ["logs: no omitted line", "unidesk-ci-logs\t1\nrunid\tx\ncaps\t1\t1\t4\nrun\tpresent\nresult\t-\t0\nend\t0\t0\n", parseLogsOutput],
    ["logs: more files than asked for", `unidesk-ci-logs\t1\nrunid\tx\ncaps\t1\t1\t4\nrun\tpresent\nresult\t-\t0\n${`file\t${btoa("a")}\t0\tb64:\n`.repeat(5)}omitted\t0\texact\nend\t5\t0\n`, parseLogsOutput],
    ["logs: path escape", `unidesk-ci-logs\t1\nrunid\tx\ncaps\t1\t1\t4\nrun\tpresent\nfile\t${btoa("../etc/passwd")}\t1\tb64:\nomitted\t0\texact\nend\t1\t0\n`, parseLogsOutput],
    ["watch: another run's answer", "unidesk-ci-watch\t1\nrunid\ty\nrun\tabsent\nwaited\t0\nend\t0\t0\t0\n", (out) => parseWatchOutput(out, { runId: "x" })],
    ["logs: unknown line", "unidesk-ci-logs\t1\nrunid\tx\nrm\t-rf\nend\t0\t0\n", parseLogsOutput],
  ];
  for (const [name, text, parse] of garbage) {
    it(`turns a malformed answer into a DispatchError (${name})`, () => {
      assert.throws(() => parse(text), (e: unknown) => e instanceof DispatchError && e.exitCode === 5);
    });
  }

  it("ignores what a login shell printed before the header", () => {
    const s = parseWatchOutput("Welcome to Ubuntu\n\nunidesk-ci-watch\t1\nrunid\tx\nrun\tabsent\nwaited\t0\nend\t0\t0\t0\n");
    assert.equal(s.exists, false);
  });

  it("drops a split UTF-8 character at the start of a kept tail", () => {
    const text = new TextEncoder().encode("日本語のログ\n");
    const tail = text.subarray(1); // starts inside 日
    const out = `unidesk-ci-logs\t1\nrunid\tx\ncaps\t9\t9\t4\nrun\tpresent\nliveness\tlive\tlauncher.pid 1 runs it\nresult\t-\t0\nfile\t${btoa("a.log")}\t${text.length}\tb64:${btoa(String.fromCharCode(...tail))}\nomitted\t0\texact\nend\t1\t${tail.length}\n`;
    const parsed = parseLogsOutput(out);
    assert.ok(parsed.found);
    assert.deepEqual(parsed.files[0], { path: "a.log", sizeBytes: text.length, keptBytes: tail.length, truncated: true, unreadable: false, content: "本語のログ\n" });
  });
});

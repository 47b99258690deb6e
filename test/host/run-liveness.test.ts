// The liveness rule (src/host/run-liveness.sh) in real bash: every reader and the cancel script call a run lost
// exactly when the runner's sweep (scripts/ci/dev-e2e.sh: pid_runs, classify_run) would, on the same run dirs.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, readFile, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { RUN_YOUNG_GRACE_S } from "../../src/rules.ts";
import { parseCancelOutput, renderCancel } from "../../src/host/cancel.ts";
import { parseLogsOutput, renderLogsReader } from "../../src/host/logs-reader.ts";
import { parseWatchOutput, renderWatchReader } from "../../src/host/watch-reader.ts";
import { resultStatusWord } from "../../src/host/result.ts";
import { RUNNER } from "../runner/harness.ts";
import { isAlive, launcherEnv, runBash, tempDir, waitFor } from "./helpers.ts";

let root = "";
let runsRoot = "";
let cleanup = async () => {};
const children: ChildProcess[] = [];

/** A long-lived process in its own process group, stopped with all it started at the end; resolves once it runs. */
async function start(cmd: string, args: string[]): Promise<ChildProcess> {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "ignore"], detached: true });
  children.push(child);
  await new Promise((resolve, reject) => child.once("spawn", resolve).once("error", reject));
  return child;
}

/** A run dir with these pid files, older than the young-dir grace unless `young`; `aheadS`: dated that far in the future. */
async function runDir(runId: string, pids: { launcher?: number | string; runner?: number | string }, young = false, aheadS = 0): Promise<string> {
  const dir = join(runsRoot, runId);
  await mkdir(dir, { recursive: true });
  for (const [name, pid] of Object.entries(pids)) await writeFile(join(dir, `${name}.pid`), `${pid}\n`);
  if (!young || aheadS) {
    const t = new Date(Date.now() + (aheadS ? aheadS * 1000 : -3600_000));
    await utimes(dir, t, t);
  }
  return dir;
}

interface Case {
  runId: string;
  /** What every reader must say. */
  state: "running" | "lost";
  why: RegExp;
}
const cases: Case[] = [];

before(async () => {
  const t = await tempDir("uci-liveness-");
  root = t.dir;
  cleanup = t.cleanup;
  runsRoot = join(root, "runs");

  // (a) a live process of this run: its arguments name the result dir (as the runner's --result-dir does); it
  // ignores TERM, so the cancel script's signal leaves it for the next reader.
  const own = await start("bash", ["-c", "trap '' TERM; sleep 300; exit 0", "runner-stand-in", join(runsRoot, "a-own")]);
  await runDir("a-own", { runner: own.pid! });
  cases.push({ runId: "a-own", state: "running", why: new RegExp(`^runner\\.pid ${own.pid} runs it$`) });
  // (a') the same by argv[0] only (exec -a), behind a dead launcher.pid.
  const execA = await start("bash", ["-c", `exec -a "launcher-stand-in ${join(runsRoot, "a-exec")}" sleep 300`]);
  await waitFor("exec -a", () => (readFileSync(`/proc/${execA.pid}/cmdline`, "utf8").startsWith("launcher-stand-in") ? true : undefined));
  await runDir("a-exec", { launcher: 999_999_999, runner: execA.pid! });
  cases.push({ runId: "a-exec", state: "running", why: new RegExp(`^runner\\.pid ${execA.pid} runs it$`) });
  // (b) a reused pid: a live unrelated sleep in both pid files.
  const stranger = await start("sleep", ["300"]);
  await runDir("b-reused", { launcher: stranger.pid!, runner: stranger.pid! });
  cases.push({ runId: "b-reused", state: "lost", why: new RegExp(`^launcher\\.pid ${stranger.pid} is another program, runner\\.pid ${stranger.pid} is another program$`) });
  // (b') another run's runner whose result dir only starts like this one's (/runs/b-prefix-x vs /runs/b-prefix).
  const other = await start("bash", ["-c", "sleep 300; exit 0", "runner.sh", "--result-dir", join(runsRoot, "b-prefix-x")]);
  await runDir("b-prefix", { runner: other.pid! });
  cases.push({ runId: "b-prefix", state: "lost", why: new RegExp(`^runner\\.pid ${other.pid} is another program$`) });
  // (c) a dead pid, and a pid file without a pid.
  const dead = spawn("true");
  await new Promise((r) => dead.on("exit", r));
  await runDir("c-dead", { launcher: "garbage", runner: dead.pid! });
  cases.push({ runId: "c-dead", state: "lost", why: new RegExp(`^launcher\\.pid \\? is gone, runner\\.pid ${dead.pid} is gone$`) });
  // (c') a zombie: a child of a process that never reaps it (sleep after exec).
  const parent = await start("bash", ["-c", "sleep 0.1 & echo $!; exec sleep 300"]);
  const zombie = Number(await new Promise<string>((r) => parent.stdout!.once("data", (d: Buffer) => r(d.toString()))));
  await waitFor("the zombie", () => (/\) Z/.test(readFileSync(`/proc/${zombie}/stat`, "utf8")) ? true : undefined));
  await runDir("c-zombie", { runner: zombie });
  cases.push({ runId: "c-zombie", state: "lost", why: new RegExp(`^runner\\.pid ${zombie} is a zombie$`) });
  // (b'') another local user's process whose command line names this run's dir, under the pid in the pid file (a
  // dead run's pid taken by forking until it comes round): never the run, or a dead run could be kept live for ever.
  const foreign = await start("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "bash", "-c", "sleep 300; exit 0", "runner.sh", "--result-dir", join(runsRoot, "b-foreign")]);
  await waitFor("the foreign process", () => (/^Uid:\t65534\t/m.test(readFileSync(`/proc/${foreign.pid}/status`, "utf8")) && readFileSync(`/proc/${foreign.pid}/cmdline`, "utf8").startsWith("bash") ? true : undefined));
  await runDir("b-foreign", { launcher: foreign.pid!, runner: foreign.pid! });
  cases.push({ runId: "b-foreign", state: "lost", why: new RegExp(`^launcher\\.pid ${foreign.pid} is another user's process, runner\\.pid ${foreign.pid} is another user's process$`) });
  // (d) a young dir without pid files (a launcher before launcher.pid), and the same dir grown old.
  await runDir("d-young", {}, true);
  cases.push({ runId: "d-young", state: "running", why: /^started \d+s ago, no launcher\.pid or runner\.pid yet$/ });
  await runDir("d-old", {});
  cases.push({ runId: "d-old", state: "lost", why: new RegExp(`^no launcher\\.pid or runner\\.pid after ${RUN_YOUNG_GRACE_S}s$`) });
  // (e) a dir dated a day ahead (made before the clock was set back): old at once, not young for ever
  // (docs/decisions.md); (e') a few seconds ahead (a small step of the clock) is still young.
  await runDir("e-future", {}, false, 86_400);
  cases.push({ runId: "e-future", state: "lost", why: new RegExp(`^no launcher\\.pid or runner\\.pid after ${RUN_YOUNG_GRACE_S}s \\(dated \\d+s in the future: the clock was set back\\)$`) });
  // Dated 30 s ahead: young either way, whether the test reads it while it is still ahead or (loaded) after.
  await runDir("e-ahead", {}, true, 30);
  cases.push({ runId: "e-ahead", state: "running", why: /^(dated \d+s ahead of the clock|started \d+s ago), no launcher\.pid or runner\.pid yet$/ });
});

after(async () => {
  for (const c of children) {
    try {
      process.kill(-c.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await cleanup();
});

async function run(script: string): Promise<string> {
  const r = await runBash(script, launcherEnv(root));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  return r.stdout;
}

/** The runner's own verdict: its pid_runs and classify_run, cut out of scripts/ci/dev-e2e.sh and run in bash. */
function runnerVerdict(runId: string): { state: string; why: string } {
  const text = readFileSync(RUNNER, "utf8");
  const fn = (name: string) => {
    const m = new RegExp(`^${name}\\(\\) \\{\\n[\\s\\S]*?\\n\\}\\n`, "m").exec(text);
    assert.ok(m, `no ${name}() in the runner`);
    return m[0];
  };
  // The grace and the run-dir contract's names (its generated region) are what classify_run reads.
  const contract = /^# >>> generated from src\/host\/run-dir\.ts \(npm run build\) >>>\n([\s\S]*?)^# <<< generated <<<$/m.exec(text)?.[1] ?? "";
  const constants = [...text.split("\n").filter((l) => /^readonly SWEEP_GRACE_S=/.test(l)), contract];
  // The runner's liveness rule is its generated region (build/runner.ts), from the include the readers use.
  const liveness = /^# >>> generated from src\/host\/run-liveness\.sh \(npm run build\) >>>\n([\s\S]*?)^# <<< generated <<<$/m.exec(text)?.[1];
  assert.ok(liveness, "no generated liveness region in the runner");
  const script = [...constants, "declare -A run_state=() run_why=(); dead_runs=(); log() { :; }", liveness, fn("classify_run"), 'classify_run "$1" "$2" 2>/dev/null; printf "%s\\t%s" "${run_state[$1]}" "${run_why[$1]}"'].join("\n");
  const r = spawnSync("bash", ["-c", script, "runner-verdict", runId, join(runsRoot, runId)], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const [state, why] = r.stdout.split("\t");
  return { state: state!, why: why ?? "" };
}

describe("the liveness rule: readers, cancel and the runner's sweep agree", () => {
  it("the runner's young-dir grace is RUN_YOUNG_GRACE_S (test/runner/bounds.test.ts holds the copy too)", () => {
    assert.match(readFileSync(RUNNER, "utf8"), new RegExp(`^readonly SWEEP_GRACE_S=${RUN_YOUNG_GRACE_S}$`, "m"));
  });

  it("(a) live process of the run / (b) reused pid / (c) dead pid / (d) young dir: running, lost, lost, running — in the watch reader", async () => {
    for (const c of cases) {
      const s = parseWatchOutput(await run(renderWatchReader({ runsRoot, runId: c.runId, answerWaitMs: 0 })));
      assert.equal(s.liveness.live, c.state === "running", `${c.runId}: ${s.liveness.why}`);
      assert.match(s.liveness.why, c.why, c.runId);
      assert.equal(s.resultState, c.state === "lost" ? "lost" : "none", c.runId);
      if (c.state === "lost") assert.equal(s.resultProblem, `no launcher or runner process of it is alive and it wrote no result.json (${s.liveness.why})`);
      for (const p of [s.launcher, s.runner]) if (p.pid !== null && c.state === "lost") assert.equal(p.alive, false, c.runId);
    }
  });

  it("the logs reader says the same", async () => {
    for (const c of cases) {
      const logs = parseLogsOutput(await run(renderLogsReader({ runsRoot, runId: c.runId })));
      assert.ok(logs.found);
      assert.equal(resultStatusWord(logs), c.state, c.runId);
      assert.match(logs.liveness.why, c.why, c.runId);
    }
  });

  it("the runner's sweep judges every dir alike (its generated liveness region and classify_run, in bash)", async () => {
    for (const c of cases) {
      const runner = runnerVerdict(c.runId);
      const s = parseWatchOutput(await run(renderWatchReader({ runsRoot, runId: c.runId, answerWaitMs: 0 })));
      assert.equal(runner.state, s.liveness.live ? "live" : "dead", `${c.runId}: the runner says ${runner.why}, the reader ${s.liveness.why}`);
      // The two reads may fall in different seconds: a future-dated dir's "dated Ns" may differ by one.
      const sameSecond = (why: string) => why.replace(/dated \d+s/, "dated Ns");
      if (!s.liveness.live) assert.equal(sameSecond(runner.why), sameSecond(s.liveness.why), c.runId);
    }
  });

  it("the cancel script signals only a process proven the run's, and answers lost for the rest", async () => {
    for (const c of cases) {
      const answer = parseCancelOutput(await run(renderCancel({ runsRoot, runId: c.runId })));
      const expected = c.runId.startsWith("a-") ? "signalled" : c.state === "lost" ? "lost" : "unproven";
      assert.equal(answer.outcome, expected, `${c.runId}: ${answer.problem}`);
      if (expected === "lost") assert.match(answer.problem ?? "", new RegExp(`\\(${c.why.source.slice(1, -1)}\\)$`));
    }
    // Nothing else got a signal: the reused pid, the other run's runner and the zombie's parent live on.
    for (const child of children) if (!/exec -a/.test(String(child.spawnargs))) assert.ok(isAlive(child.pid!), String(child.spawnargs));
  });

  it("nothing on the host changes", async () => {
    const before = await readFile(join(runsRoot, "b-reused", "runner.pid"), "utf8");
    await run(renderWatchReader({ runsRoot, runId: "b-reused", answerWaitMs: 0 }));
    assert.equal(await readFile(join(runsRoot, "b-reused", "runner.pid"), "utf8"), before);
  });
});

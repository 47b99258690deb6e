/** The live half of the bench, on the sandbox: dispatch calls per command, result.json → CLI exit, the cost of following a quiet run. */
import { spawn, type ChildProcess } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { startSandbox, type Sandbox } from "../test/sandbox/sandbox.ts";
import type { WatchReaderSettings } from "../src/host/watch-reader.ts";

// The watch reader imports its .sh template: load those as text, as esbuild does (as build/build.ts).
await import(new URL("../test/text-loader.mjs", import.meta.url).href);
const { advanceOffsets, nextProgressVersion, parseWatchOutput, renderWatchReader } = await import("../src/host/watch-reader.ts");

interface Exited {
  code: number | null;
  stdout: string;
  exitedAtMs: number;
}

function start(bundle: string, args: string[], cwd: string, env: Record<string, string>): { child: ChildProcess; done: Promise<Exited> } {
  const child = spawn(process.execPath, [bundle, ...args], { cwd, env, stdio: ["ignore", "pipe", "ignore"] });
  let stdout = "";
  child.stdout!.on("data", (b) => (stdout += b));
  const done = new Promise<Exited>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, exitedAtMs: Date.now() }));
  });
  return { child, done };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One watch reader through backend-core, as the CLI sends it: its answer's stdout. */
async function watchOnce(sb: Sandbox, settings: WatchReaderSettings): Promise<string> {
  const res = await fetch(`${sb.backendUrl}/api/dispatch`, {
    method: "POST",
    headers: { authorization: `Bearer ${sb.token}`, "content-type": "application/json" },
    body: JSON.stringify({ providerId: sb.providerId, capability: "host.ssh", command: renderWatchReader(settings), timeoutMs: 60_000 }),
  });
  return ((await res.json()) as { stdout: string }).stdout;
}

/** Prints the rows: dispatch calls, result.json → exit of `--wait-ms` and `logs --follow` over `waitRuns` runs, a quiet run followed for `quietMs`. */
export async function benchSandbox(bundle: string, waitRuns: number, quietMs = Number(process.env.BENCH_QUIET_MS ?? 60_000)): Promise<void> {
  const sb = await startSandbox();
  const rows: [string, string, string, boolean][] = [];
  try {
    const env = sb.cliEnv();
    const cwd = sb.operatorRepoDir;
    const run = async (args: string[], ok = [0]) => {
      const before = sb.backend.callCount();
      const r = await start(bundle, args, cwd, env).done;
      if (!ok.includes(r.code ?? -1)) throw new Error(`${args.join(" ")} exited ${r.code}`);
      return { calls: sb.backend.callCount() - before, r };
    };
    const submit = await run(["run-dev-e2e", "--run-id", "bench-submit", "--json"]);
    await sb.waitForResult("bench-submit");
    const logs = await run(["logs", "bench-submit", "--json"]);
    rows.push(["dispatch calls: submit / logs", `${submit.calls} / ${logs.calls}`, "1 / 1", submit.calls === 1 && logs.calls === 1]);

    // result.json written → CLI exit, --wait-ms and logs --follow side by side, run after run.
    const exit = { wait: [] as number[], follow: [] as number[] };
    const writtenMs = (runId: string) => statSync(join(sb.runsRoot, runId, "result.json")).mtimeMs;
    for (let i = 0; i < waitRuns; i++) {
      const w = await run(["run-dev-e2e", "--run-id", `bench-wait-${i}`, "--wait-ms", "120000", "--json"]);
      exit.wait.push(w.r.exitedAtMs - writtenMs(`bench-wait-${i}`));
      await run(["run-dev-e2e", "--run-id", `bench-follow-${i}`]);
      const f = await run(["logs", `bench-follow-${i}`, "--follow", "--json"]);
      exit.follow.push(f.r.exitedAtMs - writtenMs(`bench-follow-${i}`));
    }
    const ms = (xs: number[]) => `${(median(xs) / 1000).toFixed(2)} s`;
    rows.push([`result.json → exit, --wait-ms (median of ${waitRuns})`, ms(exit.wait), "≤ 0.3 s", median(exit.wait) <= 300]);
    rows.push([`result.json → exit, logs --follow (median of ${waitRuns})`, ms(exit.follow), "≤ 0.3 s", median(exit.follow) <= 300]);

    // A long quiet run (tasks that print nothing), followed: dispatches per minute once the follower caught up.
    sb.kube!.setOutcome("bench-quiet", { kind: "hang" });
    await run(["run-dev-e2e", "--run-id", "bench-quiet"]);
    const follower = start(bundle, ["logs", "bench-quiet", "--follow"], cwd, env);
    await sleep(5_000);
    const before = sb.backend.callCount();
    await sleep(quietMs);
    const perMinute = ((sb.backend.callCount() - before) * 60_000) / quietMs;
    rows.push([`dispatches per minute, following a quiet run (${quietMs / 1000} s)`, perMinute.toFixed(1), "≤ 2", perMinute <= 2]);
    // The bytes of an answer that had nothing to tell: the offsets and progress version of a first answer, then a 1 s wait.
    const where = { runsRoot: sb.runsRoot, runId: "bench-quiet" };
    const first = parseWatchOutput(await watchOnce(sb, { ...where, answerWaitMs: 0 }));
    const quiet = await watchOnce(sb, { ...where, offsets: advanceOffsets(new Map(), first), progressVersion: nextProgressVersion(null, first), answerWaitMs: 1000 });
    const quietBytes = Buffer.byteLength(quiet);
    rows.push(["bytes of an answer with nothing new", String(quietBytes), "≤ 1024", quietBytes <= 1024 && parseWatchOutput(quiet).chunks.length === 0]);
    follower.child.kill("SIGINT");
    await follower.done;
    await run(["cancel", "bench-quiet", "--wait-ms", "60000"]);
  } finally {
    await sb.stop();
  }
  for (const [name, value, target, ok] of rows) process.stdout.write(`  ${name.padEnd(56)} ${value.padStart(9)}   target ${target.padEnd(10)} ${ok ? "ok" : "MISSED"}\n`);
}

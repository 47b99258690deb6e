/** The live half of the bench: dispatch calls per command and result.json → CLI exit latency, on the sandbox. */
import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { startSandbox } from "../test/sandbox/sandbox.ts";

interface Exited {
  code: number | null;
  stdout: string;
  exitedAtMs: number;
}

function cli(bundle: string, args: string[], cwd: string, env: Record<string, string>): Promise<Exited> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle, ...args], { cwd, env, stdio: ["ignore", "pipe", "ignore"] });
    let stdout = "";
    child.stdout.on("data", (b) => (stdout += b));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, exitedAtMs: Date.now() }));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Prints dispatch calls per command and the result.json → exit latency of `--wait-ms`, over `waitRuns` runs. */
export async function benchSandbox(bundle: string, waitRuns: number): Promise<void> {
  const sb = await startSandbox();
  try {
    const env = sb.cliEnv();
    const cwd = sb.operatorRepoDir;
    const calls = async (args: string[]) => {
      const before = sb.backend.callCount();
      const r = await cli(bundle, args, cwd, env);
      if (r.code !== 0) throw new Error(`${args.join(" ")} exited ${r.code}`);
      return { calls: sb.backend.callCount() - before, r };
    };
    const submit = await calls(["run-dev-e2e", "--run-id", "bench-submit", "--json"]);
    await sb.waitForResult("bench-submit");
    const logs = await calls(["logs", "bench-submit", "--json"]);
    const latencies: number[] = [];
    const perPoll: string[] = [];
    for (let i = 0; i < waitRuns; i++) {
      const runId = `bench-wait-${i}`;
      const w = await calls(["run-dev-e2e", "--run-id", runId, "--wait-ms", "120000", "--json"]);
      const polls = (JSON.parse(w.r.stdout) as { polls: number }).polls;
      perPoll.push(`${w.calls} calls = 1 submit + ${polls} polls`);
      const writtenMs = statSync(join(sb.runsRoot, runId, "result.json")).mtimeMs;
      latencies.push(w.r.exitedAtMs - writtenMs);
    }
    process.stdout.write(`  dispatch calls: submit ${submit.calls} (target 1), logs ${logs.calls} (target 1), wait ${perPoll.join("; ")} (target 1 per poll)\n`);
    process.stdout.write(`  result.json written → CLI exit with --wait-ms: median ${median(latencies).toFixed(0)} ms over ${waitRuns} runs (each ${latencies.map((l) => l.toFixed(0)).join(", ")} ms; bounded by the poll interval, 1 s growing ×1.5 to 10 s)\n`);
  } finally {
    await sb.stop();
  }
}

/** The fetch half of the bench: what one run of a repo with 20 MiB of other blobs moves through the egress proxy. */
import { spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { commitBulkBlobs, fetchByHand, fetchPhaseMs, markTraffic, trafficSince, type FetchKind, type Traffic } from "../test/sandbox/fetch-traffic.ts";
import { startSandbox, type Sandbox } from "../test/sandbox/sandbox.ts";

function runCli(bundle: string, args: string[], sb: Sandbox): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle, ...args], { cwd: sb.operatorRepoDir, env: sb.cliEnv(), stdio: "ignore" });
    child.on("error", reject);
    child.on("close", resolve);
  });
}

/** One fetch by hand into a fresh repo: its traffic and wall time. */
async function timedFetch(sb: Sandbox, kind: FetchKind, commit: string, i: number): Promise<{ traffic: Traffic; ms: number }> {
  const dir = join(sb.root, `bench-fetch-${kind}-${i}`);
  const mark = markTraffic(sb);
  const start = process.hrtime.bigint();
  await fetchByHand(sb, kind, commit, dir);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  await rm(dir, { recursive: true, force: true });
  return { traffic: trafficSince(sb, mark), ms };
}

const row = (name: string, value: string, target: string, ok: boolean) =>
  process.stdout.write(`  ${name.padEnd(24)} ${value.padStart(9)}   target ${target.padEnd(10)} ${ok ? "ok" : "MISSED"}\n`);
const seconds = (ms: number) => (ms / 1000).toFixed(2);
const counts = (t: Traffic) => `${t.bytes} B in ${t.tunnels} tunnel${t.tunnels === 1 ? "" : "s"}, ${t.gitRequests} requests`;

/**
 * Prints the egress-proxy bytes, tunnels and git requests of one `run-dev-e2e --wait-ms` of a repo holding
 * 20 MiB of other blobs, and the old full-blob fetch against the launcher's partial one through the same
 * proxy, interleaved over `rounds` rounds (fastest of each).
 */
export async function benchFetch(bundle: string, rounds: number): Promise<void> {
  const sb = await startSandbox();
  try {
    const { commit } = await commitBulkBlobs(sb);
    const mark = markTraffic(sb);
    const code = await runCli(bundle, ["run-dev-e2e", "--run-id", "bench-fetch", "--wait-ms", "120000", "--json"], sb);
    if (code !== 0) throw new Error(`run-dev-e2e of the bulk repo exited ${code}`);
    const run = trafficSince(sb, mark);
    const phaseMs = fetchPhaseMs(await readFile(join(sb.runsRoot, "bench-fetch", "launcher.log"), "utf8"));

    const best = { old: Infinity, launcher: Infinity };
    const traffic: Partial<Record<FetchKind, Traffic>> = {};
    for (let i = 0; i < rounds; i++) {
      for (const kind of ["old", "launcher"] as const) {
        const t = await timedFetch(sb, kind, commit, i);
        best[kind] = Math.min(best[kind], t.ms);
        traffic[kind] ??= t.traffic;
      }
    }
    const before = traffic.old!;
    const after = traffic.launcher!;
    const bytesRatio = after.bytes / before.bytes;
    const timeRatio = best.launcher / best.old;
    row("run: proxy bytes (20MiB)", String(run.bytes), "≤ 65536", run.bytes <= 65_536);
    row("run: tunnels / requests", `${run.tunnels} / ${run.gitRequests}`, "≤ 2 / 4", run.tunnels <= 2 && run.gitRequests <= 4);
    row("fetch bytes after÷before", bytesRatio.toFixed(4), "≤ 0.01", bytesRatio <= 0.01);
    row("fetch s after÷before", timeRatio.toFixed(2), "≤ 0.5", timeRatio <= 0.5);
    process.stdout.write(
      `  (fetch through the proxy, fastest of ${rounds}: before ${seconds(best.old)} s, ${counts(before)}; after ${seconds(best.launcher)} s, ${counts(after)};` +
        ` the run's fetch phase in launcher.log ${phaseMs === undefined ? "?" : seconds(phaseMs)} s — for this run only)\n`,
    );
  } finally {
    await sb.stop();
  }
}

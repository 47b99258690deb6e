/** Text for a run's progress and its final result. Pure: data in, text out. */
import type { RunResult } from "../host/result.ts";
import type { RunSnapshot } from "../runs/wait.ts";
import { keyValueLines, palette } from "./color.ts";

/** `1m05s` style durations. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** The words for a snapshot's phase (no symbols: they must read in logs and on dumb terminals). */
export function describeSnapshot(s: RunSnapshot): string {
  switch (s.phase) {
    case "missing":
      return "waiting for the run directory";
    case "starting":
      return "starting (fetching the manifest commit)";
    case "running":
      // A run with nothing alive is `lost`, never running: no "dead process" remark is needed here.
      return `running ${s.pipelineRun ?? ""}`.trimEnd();
    case "finished":
      return `finished: ${s.result?.status ?? "unknown"}`;
    case "corrupt":
    case "mismatch":
      return `finished: ${s.phase} (${s.problem ?? "result.json is unusable"})`;
    case "lost":
      return `lost: ${s.problem ?? "nothing of it is alive"}`;
  }
}

/** One line per state change when stderr is not a terminal: `[12s] running e2e-…`. */
export function renderChangeLine(snapshot: RunSnapshot, elapsedMs: number): string {
  return `[${formatDuration(elapsedMs)}] ${describeSnapshot(snapshot)}\n`;
}

/** The final summary of a finished run (stdout). */
export function renderRunSummary(r: RunResult, opts: { color: boolean }): string {
  const p = palette(opts.color);
  const status = r.status === "succeeded" ? p.green(r.status) : p.red(r.status);
  const pairs: [string, string][] = [
    ["status", status],
    ["runId", r.runId],
    ["commit", r.manifestCommit],
    ["pipelineRun", r.pipelineRun ?? "(none)"],
    ["namespace", r.temporaryNamespace ?? "(none)"],
  ];
  if (r.durationMs !== undefined) pairs.push(["duration", formatDuration(r.durationMs)]);
  pairs.push(["finishedAt", r.finishedAt]);
  if (r.reason) pairs.push(["reason", r.reason]);
  return keyValueLines(pairs);
}

/** What happens to a lost run next (docs/runner.md#the-sweep-every-run-ends-even-after-a-crash). */
export const LOST_HINT = "the next run's sweep records it (result.json status lost) and cleans up its PipelineRun and namespace";

/** The summary of a run without a usable verdict (result.json corrupt, another run's or commit's, or lost): no status is read from it. */
export function renderUnusableSummary(u: { runId: string; state: "corrupt" | "mismatch" | "lost"; problem: string }, opts: { color: boolean }): string {
  return keyValueLines([["status", palette(opts.color).red(u.state)], ["problem", u.problem], ["runId", u.runId]]);
}

/** The wait loop: polls a run until result.json exists or the wait runs out. Yields data, never text. */
import type { Env } from "../env.ts";
import type { RunResult } from "../host/result.ts";

/** Where a run is, as one poll sees it. */
export interface RunSnapshot {
  /**
   * missing: no run dir yet; starting: launcher fetching; running: PipelineRun created; finished: this
   * run's valid result.json; corrupt / mismatch: a result.json that is unusable or another run's or commit's;
   * lost: no result.json and nothing of the run alive (docs/readers.md#liveness-the-runners-rule-never-a-bare-pid).
   */
  phase: "missing" | "starting" | "running" | "finished" | "corrupt" | "mismatch" | "lost";
  pipelineRun?: string;
  result?: RunResult;
  /** corrupt / mismatch / lost: why. */
  problem?: string;
  /** Whether a launcher or runner process of this run is alive on the host. */
  alive?: boolean;
}

/** Poll intervals: a first poll at once, the next after `intervalMs`, then ×`backoff` up to `maxIntervalMs` (docs/commands.md). */
export interface WaitOptions {
  /** Give up after this long (the run goes on). */
  timeoutMs: number;
  /** @default 1000 */
  intervalMs?: number;
  /** @default 10000 */
  maxIntervalMs?: number;
  /** @default 1.5 */
  backoff?: number;
  signal?: AbortSignal;
}

/** One poll's outcome: the snapshot, whether it differs from the previous one, the time waited so far. */
export interface WaitEvent {
  snapshot: RunSnapshot;
  changed: boolean;
  elapsedMs: number;
  polls: number;
}

/** How the wait ended: a verdict, a result.json that is none or a lost run (ended at once), or the deadline. */
export type WaitEnd =
  | { kind: "finished"; result: RunResult; elapsedMs: number; polls: number }
  | { kind: "corrupt" | "mismatch" | "lost"; problem: string; elapsedMs: number; polls: number }
  | { kind: "timeout"; last?: RunSnapshot; elapsedMs: number; polls: number };

const key = (s: RunSnapshot) => `${s.phase}|${s.pipelineRun ?? ""}|${s.result?.status ?? ""}|${s.problem ?? ""}|${s.alive ?? ""}`;

/** Polls with backoff; yields every poll, returns when result.json appears (valid or not), the run is lost, or the deadline passes. */
export async function* waitForRun(poll: (signal: AbortSignal) => Promise<RunSnapshot>, options: WaitOptions, env: Env): AsyncGenerator<WaitEvent, WaitEnd> {
  const signal = options.signal ?? env.signal;
  const start = env.now().getTime();
  const deadline = start + options.timeoutMs;
  let interval = options.intervalMs ?? 1000;
  let previous: string | undefined;
  let last: RunSnapshot | undefined;
  let polls = 0;
  for (;;) {
    const snapshot = await poll(signal);
    polls += 1;
    const elapsedMs = env.now().getTime() - start;
    const changed = key(snapshot) !== previous;
    previous = key(snapshot);
    last = snapshot;
    yield { snapshot, changed, elapsedMs, polls };
    if (snapshot.phase === "finished" && snapshot.result) return { kind: "finished", result: snapshot.result, elapsedMs, polls };
    // An unusable result.json never turns valid (the writers replace it atomically once), and a lost run never
    // writes one (only the next sweep does, `lost`): the wait ends here.
    if (snapshot.phase === "corrupt" || snapshot.phase === "mismatch" || snapshot.phase === "lost") {
      return { kind: snapshot.phase, problem: snapshot.problem ?? "result.json is unusable", elapsedMs, polls };
    }
    const remaining = deadline - env.now().getTime();
    if (remaining <= 0) return { kind: "timeout", last, elapsedMs, polls };
    // The last poll lands on the deadline, so a run finishing just in time is still seen.
    await env.sleep(Math.min(interval, remaining), signal);
    interval = Math.round(Math.min(interval * (options.backoff ?? 1.5), options.maxIntervalMs ?? 10_000));
  }
}

/** Where a run is and how a wait on it ends: the one mapping every waiting command shares. Data, never text. */
import type { RunResult } from "../host/result.ts";

/** Where a run is, as one answer sees it. */
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

/** How a wait ended: a verdict, a result.json that is none or a lost run (ended at once), or the deadline. `polls`: the answers it took. */
export type WaitEnd =
  | { kind: "finished"; result: RunResult; elapsedMs: number; polls: number }
  | { kind: "corrupt" | "mismatch" | "lost"; problem: string; elapsedMs: number; polls: number }
  | { kind: "timeout"; last?: RunSnapshot; elapsedMs: number; polls: number };

/** A snapshot as a comparable string: a change of it is a state change. */
export const snapshotKey = (s: RunSnapshot) => `${s.phase}|${s.pipelineRun ?? ""}|${s.result?.status ?? ""}|${s.problem ?? ""}|${s.alive ?? ""}`;

/** The end a snapshot means, or undefined while the run goes on (the one place a phase ends a wait). */
export function snapshotEnd(s: RunSnapshot, elapsedMs: number, polls: number): WaitEnd | undefined {
  if (s.phase === "finished" && s.result) return { kind: "finished", result: s.result, elapsedMs, polls };
  // An unusable result.json never turns valid (the writers replace it atomically once), and a lost run never
  // writes one (only the next sweep does, `lost`): the wait ends here.
  if (s.phase === "corrupt" || s.phase === "mismatch" || s.phase === "lost") return { kind: s.phase, problem: s.problem ?? "result.json is unusable", elapsedMs, polls };
  return undefined;
}

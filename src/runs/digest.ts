/**
 * The failure digest of a run that did not succeed (docs/commands.md#the-failure-digest): each failed step with its
 * exit code, message and last lines; the tasks still running when it ended; what changed since the last green run.
 * Data, never text (src/io/render-digest.ts shows it).
 */
import type { RunFailure, RunResult } from "../host/result.ts";
import { FAILURE_TAIL_LINES } from "../rules.ts";
import type { RunChanges } from "./changes.ts";
import type { TaskState } from "./tasks.ts";

/** What the digest shows. */
export interface RunDigest {
  /** result.json's `failures`, else the failed TaskRuns (step and exit code read from their message, no tail). */
  failures: RunFailure[];
  /** Tasks that were still running when the run (or the wait) ended, and for how long. */
  running: { task: string; forMs: number }[];
  /** What changed since the last green run (null: not known to this command). */
  changes: RunChanges | null;
}

/** A failure from a failed TaskRun's state: `"step-deploy" exited with code 1` gives the step and the exit code. */
export function failureFromTask(t: TaskState): RunFailure {
  const message = t.message ?? "";
  const step = /"step-([^"]+)" exited/.exec(message)?.[1] ?? null;
  const code = /exited with code (\d+)/.exec(message)?.[1];
  return { task: t.task, step, exitCode: code === undefined ? null : Number(code), reason: t.reason ?? "Failed", message, log: null, tail: [] };
}

const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : NaN);

/**
 * The digest of a run from what the command knows: its result (null: it has none, e.g. the wait gave up), the task
 * states last seen, the changes. Tasks count as still running when result.json's phases left them open, else when
 * their last state was running (or cancelled by the run's end), timed up to the run's end (or `now`).
 */
export function digestOf(input: { result: RunResult | null; tasks: readonly TaskState[]; changes: RunChanges | null; now: Date }): RunDigest {
  const { result, tasks } = input;
  const failures = result?.failures ?? tasks.filter((t) => t.state === "failed").map(failureFromTask);
  const end = result ? ms(result.finishedAt) : input.now.getTime();
  let running: RunDigest["running"];
  const open = result?.phases?.filter((p) => p.name.startsWith("task:") && p.finishedAt === null);
  if (open && open.length) running = open.map((p) => ({ task: p.name.slice(5), forMs: Math.max(0, end - ms(p.startedAt)) }));
  else {
    const stopped = tasks.filter((t) => (t.state === "running" || (t.state === "cancelled" && result !== null)) && !Number.isNaN(ms(t.startTime)));
    running = stopped.map((t) => {
      const until = t.state === "cancelled" && !Number.isNaN(ms(t.completionTime)) ? ms(t.completionTime) : end;
      return { task: t.task, forMs: Math.max(0, until - ms(t.startTime)) };
    });
  }
  if (result?.status === "succeeded") return { failures: [], running: [], changes: null };
  return { failures, running, changes: input.changes };
}

/** The last FAILURE_TAIL_LINES lines of a log's text (its final newline dropped). */
export function tailLines(text: string): string[] {
  const lines = text.replace(/\n$/, "").split("\n");
  return text === "" ? [] : lines.slice(-FAILURE_TAIL_LINES);
}

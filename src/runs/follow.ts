/**
 * Following a run through the watch reader (docs/commands.md): one dispatch per answer, the reader waiting on the
 * host until something is new. Yields state changes, task changes and whole log lines — data, never text.
 */
import type { Env } from "../env.ts";
import type { DispatchTarget } from "../dispatch/client.ts";
import { DispatchError } from "../errors.ts";
import type { RunProgress } from "../host/progress.ts";
import { runHostScript } from "../host/run-script.ts";
import { advanceOffsets, nextProgressVersion, parseWatchOutput, renderWatchReader } from "../host/watch-reader.ts";
import { FOLLOW_LINE_MAX_BYTES, WATCH_WAIT_MS } from "../rules.ts";
import { toSnapshot, type RunLocation } from "./read.ts";
import { logSource, taskStates, type TaskState } from "./tasks.ts";
import { snapshotEnd, snapshotKey, type RunSnapshot, type WaitEnd } from "./wait.ts";
import type { RunChanges } from "./changes.ts";

/** Consecutive failed answers tolerated before the follow gives up with exit 5 (a blip must not end a long wait). */
export const MAX_FAILED_POLLS = 3;

/** Dispatch budget of an answer beyond the reader's own wait: its last look, the burst, the transfer (under host.ssh's 60 s). */
export const ANSWER_MARGIN_MS = 15_000;

/** Pause before asking again after an answer that came back at once with nothing new (no run directory yet) or a failed one; grows ×1.5 to 10 s. */
export const IDLE_MS = [1_000, 10_000] as const;

/** What to follow and how. */
export interface FollowRequest extends RunLocation {
  /** A result.json of another manifest commit is a `mismatch`, never a success. */
  manifestCommit?: string;
  /** Give up after this long (the run goes on). @default no limit */
  timeoutMs?: number;
  /** Follow the logs (line events); false: only status and task changes, as `--wait-ms`. */
  logs: boolean;
  /** How long one answer may wait on the host. @default WATCH_WAIT_MS */
  answerWaitMs?: number;
  /** New log bytes per answer. @default WATCH_ANSWER_CAP_BYTES */
  capBytes?: number;
}

/** What following yields. */
export type FollowEvent =
  /** The run's phase (or PipelineRun, liveness) changed; the first answer always is one. */
  | { type: "status"; snapshot: RunSnapshot; elapsedMs: number }
  /** A task changed state (or was seen for the first time). */
  | { type: "task"; task: TaskState; elapsedMs: number }
  /** One line of a log: its bytes without the newline; `eol` false when it did not end with one (cut at FOLLOW_LINE_MAX_BYTES, or the file's last bytes when following ended). */
  | { type: "line"; path: string; source: string; bytes: Uint8Array; eol: boolean }
  /** After each answer: where the run is now (for a redraw). */
  | { type: "answer"; snapshot: RunSnapshot; tasks: TaskState[]; elapsedMs: number; answers: number }
  /** The run was asked for by reference (`@latest`, `@latest-failed`) and the host named this run id (first answer only). */
  | { type: "resolved"; reference: string; runId: string };

/** How following ended, with the run id followed (a reference resolved), the tasks last seen and, for a run that did not succeed, the changes since the last green run. */
export type FollowEnd = WaitEnd & { runId: string; tasks: TaskState[]; changes: RunChanges | null };

const sameTask = (a: TaskState, b: TaskState | undefined) => b !== undefined && a.state === b.state && a.startTime === b.startTime && a.completionTime === b.completionTime;

/**
 * Follows a run until its result.json (or an unusable one) is seen and every log byte read, or `timeoutMs` passes.
 * Returns how it ended; throws on Ctrl-C (env.signal) and after MAX_FAILED_POLLS + 1 failed answers in a row.
 */
export async function* followRun(target: DispatchTarget, req: FollowRequest, env: Env): AsyncGenerator<FollowEvent, FollowEnd> {
  const start = env.now().getTime();
  const deadline = req.timeoutMs === undefined ? Infinity : start + req.timeoutMs;
  let runId = req.runId;
  let changes: RunChanges | null = null;
  const ended = (end: WaitEnd): FollowEnd => ({ ...end, runId, tasks, changes });
  let offsets = new Map<string, number>();
  let version: string | null = null;
  const partial = new Map<string, Uint8Array>();
  let progress: RunProgress | null = null;
  let tasks: TaskState[] = [];
  let previous: string | undefined;
  let last: RunSnapshot | undefined;
  let answers = 0;
  let failures = 0;
  let idleMs: number = IDLE_MS[0];
  const elapsed = () => env.now().getTime() - start;
  const idle = async () => {
    await env.sleep(Math.min(idleMs, deadline - env.now().getTime()), env.signal);
    idleMs = Math.min(Math.round(idleMs * 1.5), IDLE_MS[1]);
  };
  const line = (path: string, bytes: Uint8Array, eol: boolean): FollowEvent => ({ type: "line", path, source: logSource(path, progress), bytes, eol });
  function* flush(): Generator<FollowEvent> {
    for (const [path, rest] of partial) if (rest.length) yield line(path, rest, false);
    partial.clear();
  }
  for (;;) {
    // The first answer comes at once (the CLI knows nothing yet); later ones wait on the host for news.
    const answerWaitMs = answers === 0 ? 0 : Math.max(0, Math.min(req.answerWaitMs ?? WATCH_WAIT_MS, deadline - env.now().getTime()));
    const command = renderWatchReader({ runsRoot: req.runsRoot, runId, offsets, progressVersion: version, answerWaitMs, capBytes: req.capBytes, logs: req.logs });
    let answer;
    try {
      answer = parseWatchOutput(await runHostScript(target, { name: "watch reader", command, timeoutMs: answerWaitMs + ANSWER_MARGIN_MS }, env), { runId, manifestCommit: req.manifestCommit });
      failures = 0;
    } catch (error) {
      if (!(error instanceof DispatchError) || ++failures > MAX_FAILED_POLLS) throw error;
      if (env.now().getTime() >= deadline) return ended({ kind: "timeout", last, elapsedMs: elapsed(), polls: answers });
      await idle();
      continue;
    }
    answers += 1;
    const elapsedMs = elapsed();
    if (answer.reference !== null && answer.exists) {
      // From now on the run is asked for by its id: a newer run must not take over the follow.
      runId = answer.runId;
      yield { type: "resolved", reference: answer.reference, runId };
    }
    if (answer.changes) changes = answer.changes;
    let news = false;
    const snapshot = toSnapshot(answer);
    last = snapshot;
    // A run's end comes after its task changes (`logs <finished> --follow`: the task lines, then `finished:`).
    const ending = snapshot.phase === "finished";
    let status: FollowEvent | null = null;
    if (snapshotKey(snapshot) !== previous) {
      previous = snapshotKey(snapshot);
      news = true;
      status = { type: "status", snapshot, elapsedMs };
      if (!ending) yield status;
    }
    if (answer.progress.state === "changed" && answer.progress.progress) {
      progress = answer.progress.progress;
      const next = taskStates(progress);
      for (const t of next) {
        if (sameTask(t, tasks.find((o) => o.task === t.task))) continue;
        news = true;
        yield { type: "task", task: t, elapsedMs };
      }
      tasks = next;
    }
    if (status && ending) yield status;
    version = nextProgressVersion(version, answer);
    for (const chunk of answer.chunks) {
      // Shorter than the bytes held (replaced, which the runner never does): go on from its end, repeating nothing.
      if (chunk.bytes === null) offsets.set(chunk.path, chunk.sizeBytes);
      if (!chunk.bytes?.length) continue;
      news = true;
      let held = concat(partial.get(chunk.path), chunk.bytes);
      for (let nl = held.indexOf(10); nl >= 0; nl = held.indexOf(10)) {
        yield line(chunk.path, held.subarray(0, nl), true);
        held = held.subarray(nl + 1);
      }
      if (held.length > FOLLOW_LINE_MAX_BYTES) {
        yield line(chunk.path, held, false);
        held = new Uint8Array();
      }
      partial.set(chunk.path, held);
    }
    offsets = advanceOffsets(offsets, answer);
    yield { type: "answer", snapshot, tasks, elapsedMs, answers };
    const end = snapshotEnd(snapshot, elapsedMs, answers);
    // A finished run's last bytes may not have fit in this answer: they come first.
    if (end && !answer.more) {
      yield* flush();
      return ended(end);
    }
    if (env.now().getTime() >= deadline) {
      yield* flush();
      return ended({ kind: "timeout", last, elapsedMs, polls: answers });
    }
    if (answer.more) continue;
    // An answer that did not wait and brought nothing: the reader had nothing to wait for (no run directory).
    if (!news && answer.waitedMs < answerWaitMs) await idle();
    else idleMs = IDLE_MS[0];
  }
}

function concat(a: Uint8Array | undefined, b: Uint8Array): Uint8Array {
  if (!a?.length) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

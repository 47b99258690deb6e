/**
 * Following a run through the watch reader (docs/commands.md): one dispatch per answer, the reader waiting on the
 * host until something is new. Yields state changes, task changes and whole log lines — data, never text.
 */
import type { Env } from "../env.ts";
import type { DispatchTarget } from "../dispatch/client.ts";
import { runHostScript } from "../host/run-script.ts";
import { parseWatchOutput, renderWatchReader } from "../host/watch-reader.ts";
import { LineFramer, type FramedLine } from "../io/line-framer.ts";
import { WATCH_WAIT_MS } from "../rules.ts";
import { AnswerStream } from "./answer-stream.ts";
import { followDiff, initialFollowState, type FollowEvent } from "./follow-diff.ts";
import type { RunLocation } from "./read.ts";
import { logSource, type TaskState } from "./tasks.ts";
import { snapshotEnd, type WaitEnd } from "./wait.ts";
import type { RunChanges } from "./changes.ts";

export { IDLE_MS, MAX_FAILED_POLLS } from "./answer-stream.ts";
export type { FollowEvent } from "./follow-diff.ts";

/** Dispatch budget of an answer beyond the reader's own wait: its last look, the burst, the transfer (under host.ssh's 60 s). */
export const ANSWER_MARGIN_MS = 15_000;

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

/** How following ended, with the run id followed (a reference resolved), the tasks last seen and, for a run that did not succeed, the changes since the last green run. */
export type FollowEnd = WaitEnd & { runId: string; tasks: TaskState[]; changes: RunChanges | null };

/**
 * Follows a run until its result.json (or an unusable one) is seen and every log byte read, or `timeoutMs` passes.
 * Returns how it ended; throws on Ctrl-C (env.signal) and after MAX_FAILED_POLLS + 1 failed answers in a row.
 * Three parts, each tested alone: the answers with their retries (answer-stream.ts), what each one adds
 * (follow-diff.ts, pure) and the log bytes framed into lines (io/line-framer.ts).
 */
export async function* followRun(target: DispatchTarget, req: FollowRequest, env: Env): AsyncGenerator<FollowEvent, FollowEnd> {
  const start = env.now().getTime();
  const deadline = req.timeoutMs === undefined ? Infinity : start + req.timeoutMs;
  let state = initialFollowState(req.runId);
  const stream = new AnswerStream({
    ask: async (answerWaitMs) => {
      const command = renderWatchReader({ runsRoot: req.runsRoot, runId: state.runId, offsets: state.offsets, progressVersion: state.version, answerWaitMs, capBytes: req.capBytes, logs: req.logs });
      const stdout = await runHostScript(target, { name: "watch reader", command, timeoutMs: answerWaitMs + ANSWER_MARGIN_MS }, env);
      return parseWatchOutput(stdout, { runId: state.runId, manifestCommit: req.manifestCommit });
    },
    now: () => env.now().getTime(),
    pause: (ms) => env.sleep(ms, env.signal),
    deadline,
    answerWaitMs: req.answerWaitMs ?? WATCH_WAIT_MS,
  });
  const framer = new LineFramer();
  const elapsed = () => env.now().getTime() - start;
  const ended = (end: WaitEnd): FollowEnd => ({ ...end, runId: state.runId, tasks: state.tasks, changes: state.changes });
  const lines = (framed: FramedLine[]): FollowEvent[] => framed.map((l) => ({ type: "line", ...l, source: logSource(l.path, state.progress) }));
  for (;;) {
    const answered = await stream.next();
    if (!answered) return ended({ kind: "timeout", last: state.last, elapsedMs: elapsed(), polls: stream.answers });
    const { answer, answerWaitMs } = answered;
    const elapsedMs = elapsed();
    const step = followDiff(state, answer, elapsedMs);
    state = step.state;
    yield* step.events;
    for (const chunk of step.chunks) yield* lines(framer.push(chunk.path, chunk.bytes));
    yield { type: "answer", snapshot: step.snapshot, tasks: state.tasks, elapsedMs, answers: stream.answers };
    const end = snapshotEnd(step.snapshot, elapsedMs, stream.answers);
    // A finished run's last bytes may not have fit in this answer: they come first.
    if (end && !answer.more) {
      yield* lines(framer.flush());
      return ended(end);
    }
    if (env.now().getTime() >= deadline) {
      yield* lines(framer.flush());
      return ended({ kind: "timeout", last: state.last, elapsedMs, polls: stream.answers });
    }
    if (answer.more) continue;
    // An answer that did not wait and brought nothing: the reader had nothing to wait for (no run directory).
    if (!step.news && answer.waitedMs < answerWaitMs) await stream.idle();
    else stream.settle();
  }
}

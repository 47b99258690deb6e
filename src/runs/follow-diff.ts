/**
 * The pure step of following a run (runs/follow.ts): what one watch answer adds to what the follow knew. No
 * dispatch, no clock, no mutation: the state before and the answer in; the state after, the events to yield and
 * the new log bytes (for io/line-framer.ts) out.
 */
import type { RunProgress } from "../host/progress.ts";
import { advanceOffsets, nextProgressVersion, type WatchAnswer } from "../host/watch-reader.ts";
import type { RunChanges } from "./changes.ts";
import { toSnapshot } from "./read.ts";
import { taskStates, type TaskState } from "./tasks.ts";
import { snapshotKey, type RunSnapshot } from "./wait.ts";

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

/** What the follow knows between answers. */
export interface FollowState {
  /** The run asked for: a reference (`@latest`) until the host resolved it, then its id. */
  runId: string;
  /** The next byte to read of each log file. */
  offsets: ReadonlyMap<string, number>;
  /** The progress.json version last seen (sent back so an unchanged file is not sent again). */
  version: string | null;
  progress: RunProgress | null;
  tasks: TaskState[];
  /** snapshotKey of the last status shown. */
  statusKey: string | undefined;
  last: RunSnapshot | undefined;
  /** A run that did not succeed: what changed since the last green run. */
  changes: RunChanges | null;
}

/** What one answer brought. */
export interface FollowStep {
  state: FollowState;
  /** `resolved`, `status` and `task` events in the order shown: a finished run's status after its task changes. */
  events: FollowEvent[];
  /** New log bytes per file, in the answer's order (to be framed into lines). */
  chunks: { path: string; bytes: Uint8Array }[];
  snapshot: RunSnapshot;
  /** Something changed: the status, a task, or new log bytes. */
  news: boolean;
}

/** Before the first answer. */
export const initialFollowState = (runId: string): FollowState => ({ runId, offsets: new Map(), version: null, progress: null, tasks: [], statusKey: undefined, last: undefined, changes: null });

const sameTask = (a: TaskState, b: TaskState | undefined) => b !== undefined && a.state === b.state && a.startTime === b.startTime && a.completionTime === b.completionTime;

/** The step from `state` given `answer`, seen `elapsedMs` after the follow started. */
export function followDiff(state: FollowState, answer: WatchAnswer, elapsedMs: number): FollowStep {
  const events: FollowEvent[] = [];
  let runId = state.runId;
  if (answer.reference !== null && answer.exists) {
    // From now on the run is asked for by its id: a newer run must not take over the follow.
    runId = answer.runId;
    events.push({ type: "resolved", reference: answer.reference, runId });
  }
  const snapshot = toSnapshot(answer);
  const key = snapshotKey(snapshot);
  const status: FollowEvent | null = key !== state.statusKey ? { type: "status", snapshot, elapsedMs } : null;
  // A run's end comes after its task changes (`logs <finished> --follow`: the task lines, then `finished:`).
  const ending = snapshot.phase === "finished";
  if (status && !ending) events.push(status);
  let { progress, tasks } = state;
  let taskNews = false;
  if (answer.progress.state === "changed" && answer.progress.progress) {
    progress = answer.progress.progress;
    const next = taskStates(progress);
    for (const t of next) {
      if (sameTask(t, tasks.find((o) => o.task === t.task))) continue;
      taskNews = true;
      events.push({ type: "task", task: t, elapsedMs });
    }
    tasks = next;
  }
  if (status && ending) events.push(status);
  const offsets = new Map(state.offsets);
  const chunks: FollowStep["chunks"] = [];
  for (const chunk of answer.chunks) {
    // Shorter than the bytes held (replaced, which the runner never does): go on from its end, repeating nothing.
    if (chunk.bytes === null) offsets.set(chunk.path, chunk.sizeBytes);
    if (chunk.bytes?.length) chunks.push({ path: chunk.path, bytes: chunk.bytes });
  }
  const next: FollowState = {
    runId,
    offsets: advanceOffsets(offsets, answer),
    version: nextProgressVersion(state.version, answer),
    progress,
    tasks,
    statusKey: key,
    last: snapshot,
    changes: answer.changes ?? state.changes,
  };
  return { state: next, events, chunks, snapshot, news: status !== null || taskNews || chunks.length > 0 };
}

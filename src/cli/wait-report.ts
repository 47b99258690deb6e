/**
 * `--wait-ms` and `--follow`: drive the follow loop (runs/follow.ts) and show it — a live task table on a TTY, one
 * line per change otherwise; with `--follow` each log line on stdout, with `--follow --json` one event per line.
 */
import type { Env } from "../env.ts";
import { InterruptedError, RunFailedError, WaitTimeoutError, withContext } from "../errors.ts";
import type { DispatchTarget } from "../dispatch/client.ts";
import { followRun } from "../runs/follow.ts";
import type { FollowEnd, FollowEvent } from "../runs/follow.ts";
import { formatDuration, LOST_HINT, renderChangeLine, renderRunSummary, renderUnusableSummary } from "../io/render-run.ts";
import { followEventJson, renderSourceLine, renderTaskChange, renderWaitBlock } from "../io/render-follow.ts";
import { outputFor, type Output } from "../io/output.ts";
import { digestOf } from "../runs/digest.ts";
import { ofTasks } from "../runs/tasks.ts";
import { renderDigest, renderResolved } from "../io/render-digest.ts";
import { ownSequence } from "../io/terminal.ts";
import type { JsonDocument } from "../io/json-schemas.ts";

export { MAX_FAILED_POLLS } from "../runs/follow.ts";

/** How long one answer waits on the host while a terminal shows the task table, so its times move (10 s; else WATCH_WAIT_MS). */
export const TTY_ANSWER_WAIT_MS = 10_000;

/** A terminal's clock ticks at most this many seconds while one answer is pending (then waits for it, frozen). */
export const TTY_TICKS_MAX = 30;

/**
 * Awaits `pending`, calling `tick(n)` every second meanwhile (env.sleep: a fake clock advances), at most
 * TTY_TICKS_MAX times; no tick once the answer arrived or env.signal aborted.
 */
async function ticking<T>(pending: Promise<T>, tick: ((n: number) => void) | undefined, env: Env): Promise<T> {
  if (!tick) return pending;
  const stop = new AbortController();
  const ticks = (async () => {
    for (let n = 1; n <= TTY_TICKS_MAX; n++) {
      await env.sleep(1000, stop.signal);
      if (stop.signal.aborted || env.signal.aborted) return;
      tick(n);
    }
  })().catch(() => undefined);
  try {
    return await pending;
  } finally {
    stop.abort();
    await ticks;
  }
}

/** What the wait needs to know about the submitted run. */
export interface WaitRequest {
  runId: string;
  runsRoot: string;
  /** The manifest commit this CLI submitted: a result.json of another commit is a `mismatch`, never a success. */
  manifestCommit?: string;
  /** Give up after this long (the run goes on); undefined only with `follow`: until the run ends. */
  deadlineMs: number | undefined;
  /** The calling command's output (io/output.ts), decided with the same `follow`. */
  output?: Output;
  /** Without `output`: the wait's own decision from `--json` (tests). @default false */
  json?: boolean;
  /** Fields of the submit summary repeated in the final JSON document. */
  summary: Record<string, unknown>;
  /** The final status that means success (exit 0): `cancelled` after a cancel. @default "succeeded" */
  expect?: string;
  /** Follow the logs too (`logs --follow`, `run-dev-e2e --follow`). @default false */
  follow?: boolean;
  /** With `follow`: print only the lines of these pipeline tasks (`logs --follow --task`). @default every line */
  tasks?: readonly string[];
  /** Thrown when the first answer finds no run directory (`logs --follow` of an unknown run id); else it is waited for. */
  unknown?: Error;
}

/**
 * Follows the run until result.json, prints the outcome, and throws the error that carries the exit code (1, 3, 5,
 * 130) and the summary as its context. A corrupt result.json, one naming another run id or manifest commit, or a
 * lost run (no result.json, nothing of it alive) ends the wait at once with exit 1.
 */
export async function waitAndReport(target: DispatchTarget, req: WaitRequest, env: Env): Promise<void> {
  const follow = req.follow ?? false;
  const out = req.output ?? outputFor(env, { json: req.json ?? false, follow });
  const view = waitView(out, req, env);
  const resumeFor = (id: string) => (follow ? `resume following with: unidesk-ci logs ${id} --follow` : `follow it with: unidesk-ci logs ${id} --follow`);
  const resume = resumeFor(req.runId);
  let end: FollowEnd;
  try {
    const events = followRun(target, { runsRoot: req.runsRoot, runId: req.runId, manifestCommit: req.manifestCommit, timeoutMs: req.deadlineMs, logs: follow, answerWaitMs: view.answerWaitMs }, env);
    for (;;) {
      const next = await ticking(events.next(), view.tick, env);
      if (next.done) {
        end = next.value;
        break;
      }
      const e = next.value;
      if (e.type === "status" && e.snapshot.phase === "missing" && req.unknown) throw req.unknown;
      view.show(e);
    }
  } catch (error) {
    if (env.signal.aborted) {
      const message = follow ? `interrupted; stopped following run ${req.runId}, which goes on on the host` : `interrupted while waiting; run ${req.runId} goes on on the host`;
      throw new InterruptedError(message, { hint: resume, cause: error, context: req.summary });
    }
    throw withContext(error, req.summary);
  }

  const runId = end.runId;
  const digest = digestOf({ result: end.kind === "finished" ? end.result : null, tasks: end.tasks, changes: end.changes, now: env.now() });
  const digestFields = { failures: digest.failures, running: digest.running, changes: digest.changes };
  if (end.kind === "timeout") {
    out.note(renderDigest({ ...digest, changes: null }, { color: env.color, ended: "timeout" }));
    const message = `gave up ${follow ? "following" : "waiting"} after ${formatDuration(end.elapsedMs)}; run ${runId} ${req.expect ? "has not finished cancelling" : "was not cancelled and goes on"}`;
    const context = { ...req.summary, phase: end.last?.phase ?? "missing", pipelineRun: end.last?.pipelineRun ?? null, waitedMs: end.elapsedMs, polls: end.polls, running: digest.running };
    throw new WaitTimeoutError(message, { hint: resumeFor(runId), context });
  }
  if (end.kind !== "finished") {
    const logs = `see its files with: unidesk-ci logs ${runId}`;
    const { message, hint } = {
      corrupt: { message: `run ${runId} has a corrupt result.json: ${end.problem}`, hint: logs },
      mismatch: { message: `run ${runId} has a result.json that is not its verdict: ${end.problem}`, hint: `run id ${runId} holds another run's verdict; start a new run without --run-id` },
      lost: { message: `run ${runId} is lost: ${end.problem}`, hint: `${LOST_HINT}; ${logs}` },
    }[end.kind];
    const unusable = { runId: runId, state: end.kind, problem: end.problem };
    out.print((follow ? "\n" : "") + renderUnusableSummary(unusable, { color: env.color }));
    // In the JSON modes the reporter prints the document: { ok: false, …summary, status, resultProblem, result: null, …, error: run_failed }.
    const context = { ...req.summary, status: end.kind, resultProblem: end.problem, result: null, waitedMs: end.elapsedMs, polls: end.polls };
    throw new RunFailedError(message, { hint, context });
  }
  const result = end.result;
  const ok = result.status === (req.expect ?? "succeeded");
  const waited = { ...req.summary, result, waitedMs: end.elapsedMs, polls: end.polls };
  if (ok) out.document({ ok: true, ...waited } as JsonDocument);
  out.print((follow ? "\n" : "") + renderRunSummary(result, { color: env.color }));
  if (!ok) {
    // The cause on the first screen: the failed steps, their last lines, what changed since the last green run.
    out.print(renderDigest(digest, { color: env.color, ended: result.status === "cancelled" ? "cancelled" : "finished" }));
    const next = digest.failures.length ? `the failed steps' logs: unidesk-ci logs ${runId} --failed` : `see its logs with: unidesk-ci logs ${runId}`;
    out.note(`run ${runId} ${result.status}; ${next}\n`);
    // In the JSON modes the reporter prints the document: { ok: false, …summary, result, waitedMs, polls, failures, running, changes, error: run_failed }.
    throw new RunFailedError(`run ${runId} ${result.status}`, { silent: true, hint: `see its logs with: unidesk-ci logs ${runId}`, context: { ...waited, ...digestFields } });
  }
}

/** How one output mode shows the follow's events; chosen once per wait. */
interface WaitView {
  /** How long one answer waits on the host (undefined: WATCH_WAIT_MS). */
  answerWaitMs?: number;
  show(e: FollowEvent): void;
  /** Between answers, once a second: the block's clock and spinner moved on (tty only, while the run goes on). */
  tick?: (n: number) => void;
}

/**
 * The view of a wait: `json` nothing until the document; `ndjson` one event per line; `tty` the task block on
 * stderr, redrawn at each answer and each second; `plain` a line per change on stderr, the log lines on stdout.
 */
function waitView(out: Output, req: WaitRequest, env: Env): WaitView {
  const resolved = (e: FollowEvent) => e.type === "resolved" && out.note(renderResolved(e.reference, e.runId));
  switch (out.mode) {
    case "json":
      return { show: () => undefined };
    case "ndjson":
      return { show: (e) => out.event(e.type === "line" && !ofTasks(e.source, req.tasks) ? undefined : followEventJson(e)) };
    case "tty": {
      let drawn = 0;
      // Back to the block's first line, clear to the end of the screen, draw it again.
      const draw = (block: string) => {
        out.note((drawn ? ownSequence(`\x1b[${drawn}F\x1b[J`) : "") + block);
        drawn = block.split("\n").length - 1;
      };
      const view: WaitView = {
        answerWaitMs: TTY_ANSWER_WAIT_MS,
        show: (e) => {
          resolved(e);
          if (e.type !== "answer") return;
          const opts = { color: env.color, deadlineMs: req.deadlineMs ?? 0 };
          const at = env.now().getTime();
          draw(renderWaitBlock(e, { ...opts, now: env.now() }));
          // On a terminal, between answers: the last answer's block, its clock and spinner moved on by each second.
          view.tick = e.snapshot.phase === "finished" ? undefined : (n) => draw(renderWaitBlock({ ...e, elapsedMs: e.elapsedMs + env.now().getTime() - at, answers: e.answers + n }, { ...opts, now: env.now() }));
        },
      };
      return view;
    }
    case "plain":
      return {
        show: (e) => {
          resolved(e);
          if (e.type === "status") out.note(renderChangeLine(e.snapshot, e.elapsedMs));
          else if (e.type === "task") out.note(renderTaskChange(e.task, e.elapsedMs, env.now()));
          else if (e.type === "line" && ofTasks(e.source, req.tasks)) out.print(renderSourceLine(e.source, e.bytes, { color: env.color }));
        },
      };
  }
}

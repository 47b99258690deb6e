/** `--wait-ms`: drives the wait loop and shows it — progress on a TTY, one line per change otherwise. */
import type { Env } from "../env.ts";
import { DispatchError, InterruptedError, RunFailedError, WaitTimeoutError, withContext } from "../errors.ts";
import type { DispatchTarget } from "../dispatch/client.ts";
import { runSnapshotPoller } from "../runs/poll.ts";
import { waitForRun, type RunSnapshot, type WaitEnd } from "../runs/wait.ts";
import { formatDuration, LOST_HINT, renderChangeLine, renderProgressLine, renderRunSummary, renderUnusableSummary } from "../io/render-run.ts";
import { writeJson } from "../io/json.ts";
import type { JsonDocument } from "../io/json-schemas.ts";

/** Consecutive failed polls tolerated before the wait gives up with exit 5 (a blip must not end a long wait). */
export const MAX_FAILED_POLLS = 3;

/** What the wait needs to know about the submitted run. */
export interface WaitRequest {
  runId: string;
  runsRoot: string;
  /** The manifest commit this CLI submitted: a result.json of another commit is a `mismatch`, never a success. */
  manifestCommit?: string;
  waitMs: number;
  json: boolean;
  /** Fields of the submit summary repeated in the final JSON document. */
  summary: Record<string, unknown>;
  /** The final status that means success (exit 0): `cancelled` after a cancel. @default "succeeded" */
  expect?: string;
}

/**
 * Waits for result.json, prints the outcome, and throws the error that carries the exit code (1, 3, 5, 130) and
 * the summary as its context.
 * A corrupt result.json, one naming another run id or manifest commit, or a lost run (no result.json, nothing of it
 * alive) ends the wait at once with exit 1.
 */
export async function waitAndReport(target: DispatchTarget, req: WaitRequest, env: Env): Promise<void> {
  let failures = 0;
  let previous: RunSnapshot = { phase: "missing" };
  const fetchSnapshot = runSnapshotPoller(target, { runsRoot: req.runsRoot, runId: req.runId, manifestCommit: req.manifestCommit }, env);
  const poll = async (): Promise<RunSnapshot> => {
    try {
      previous = await fetchSnapshot();
      failures = 0;
    } catch (error) {
      if (!(error instanceof DispatchError) || ++failures > MAX_FAILED_POLLS) throw error;
    }
    return previous;
  };
  const tty = env.isStderrTTY && !req.json;
  let end: WaitEnd;
  try {
    const events = waitForRun(poll, { timeoutMs: req.waitMs }, env);
    for (;;) {
      const next = await events.next();
      if (next.done) {
        end = next.value;
        break;
      }
      if (req.json) continue;
      if (tty) env.stderr.write(renderProgressLine(next.value, { color: env.color, waitMs: req.waitMs }));
      else if (next.value.changed) env.stderr.write(renderChangeLine(next.value));
    }
  } catch (error) {
    if (tty) env.stderr.write("\n");
    if (env.signal.aborted) {
      throw new InterruptedError(`interrupted while waiting; run ${req.runId} goes on on the host`, { hint: `follow it with: unidesk-ci logs ${req.runId}`, cause: error, context: req.summary });
    }
    throw withContext(error, req.summary);
  }
  if (tty) env.stderr.write("\r\x1b[2K");

  if (end.kind === "timeout") {
    const message = `gave up waiting after ${formatDuration(end.elapsedMs)}; run ${req.runId} ${req.expect ? "has not finished cancelling" : "was not cancelled and goes on"}`;
    const hint = `follow it with: unidesk-ci logs ${req.runId}`;
    const context = { ...req.summary, phase: end.last?.phase ?? "missing", pipelineRun: end.last?.pipelineRun ?? null, waitedMs: end.elapsedMs, polls: end.polls };
    throw new WaitTimeoutError(message, { hint, context });
  }
  if (end.kind !== "finished") {
    const logs = `see its files with: unidesk-ci logs ${req.runId}`;
    const { message, hint } = {
      corrupt: { message: `run ${req.runId} has a corrupt result.json: ${end.problem}`, hint: logs },
      mismatch: { message: `run ${req.runId} has a result.json that is not its verdict: ${end.problem}`, hint: `run id ${req.runId} holds another run's verdict; start a new run without --run-id` },
      lost: { message: `run ${req.runId} is lost: ${end.problem}`, hint: `${LOST_HINT}; ${logs}` },
    }[end.kind];
    const unusable = { runId: req.runId, state: end.kind, problem: end.problem };
    if (!req.json) env.stdout.write(renderUnusableSummary(unusable, { color: env.color }));
    // With --json the reporter prints the document: { ok: false, …summary, status, resultProblem, result: null, …, error: run_failed }.
    const context = { ...req.summary, status: end.kind, resultProblem: end.problem, result: null, waitedMs: end.elapsedMs, polls: end.polls };
    throw new RunFailedError(message, { hint, context });
  }
  const result = end.result;
  const ok = result.status === (req.expect ?? "succeeded");
  const waited = { ...req.summary, result, waitedMs: end.elapsedMs, polls: end.polls };
  if (req.json && ok) writeJson(env, { ok: true, ...waited } as JsonDocument);
  if (!req.json) env.stdout.write(renderRunSummary(result, { color: env.color }));
  if (!ok) {
    if (!req.json) env.stderr.write(`run ${req.runId} ${result.status}; see its logs with: unidesk-ci logs ${req.runId}\n`);
    // With --json the reporter prints the document: { ok: false, …summary, result, waitedMs, polls, error: run_failed }.
    throw new RunFailedError(`run ${req.runId} ${result.status}`, { silent: true, hint: `see its logs with: unidesk-ci logs ${req.runId}`, context: waited });
  }
}

/** `--wait-ms`: drives the wait loop and shows it — progress on a TTY, one line per change otherwise. */
import type { Env } from "../env.ts";
import { DispatchError, InterruptedError, RunFailedError, WaitTimeoutError } from "../errors.ts";
import type { DispatchTarget } from "../dispatch/client.ts";
import { runSnapshotPoller } from "../runs/poll.ts";
import { waitForRun, type RunSnapshot, type WaitEnd } from "../runs/wait.ts";
import { formatDuration, LOST_HINT, renderChangeLine, renderProgressLine, renderRunSummary, renderUnusableSummary } from "../io/render-run.ts";

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
 * Waits for result.json, prints the outcome, and throws the error that carries the exit code (1, 3, 5, 130).
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
      throw new InterruptedError(`interrupted while waiting; run ${req.runId} goes on on the host`, { hint: `follow it with: unidesk-ci logs ${req.runId}`, cause: error });
    }
    throw error;
  }
  if (tty) env.stderr.write("\r\x1b[2K");

  if (end.kind === "timeout") {
    const message = `gave up waiting after ${formatDuration(end.elapsedMs)}; run ${req.runId} ${req.expect ? "has not finished cancelling" : "was not cancelled and goes on"}`;
    const hint = `follow it with: unidesk-ci logs ${req.runId}`;
    if (req.json) {
      env.stdout.write(JSON.stringify({ ok: false, ...req.summary, phase: end.last?.phase ?? "missing", pipelineRun: end.last?.pipelineRun ?? null, waitedMs: end.elapsedMs, polls: end.polls, error: { code: "wait_timeout", message, hint, exitCode: 3 } }) + "\n");
    }
    throw new WaitTimeoutError(message, { hint, silent: req.json });
  }
  if (end.kind !== "finished") {
    const logs = `see its files with: unidesk-ci logs ${req.runId}`;
    const { message, hint } = {
      corrupt: { message: `run ${req.runId} has a corrupt result.json: ${end.problem}`, hint: logs },
      mismatch: { message: `run ${req.runId} has a result.json that is not its verdict: ${end.problem}`, hint: `run id ${req.runId} holds another run's verdict; start a new run without --run-id` },
      lost: { message: `run ${req.runId} is lost: ${end.problem}`, hint: `${LOST_HINT}; ${logs}` },
    }[end.kind];
    const unusable = { runId: req.runId, state: end.kind, problem: end.problem };
    env.stdout.write(
      req.json
        ? JSON.stringify({ ok: false, ...req.summary, status: end.kind, resultProblem: end.problem, result: null, waitedMs: end.elapsedMs, polls: end.polls, error: { code: "run_failed", message, hint, exitCode: 1 } }) + "\n"
        : renderUnusableSummary(unusable, { color: env.color }),
    );
    throw new RunFailedError(message, { hint, silent: req.json });
  }
  const result = end.result;
  const ok = result.status === (req.expect ?? "succeeded");
  env.stdout.write(req.json ? JSON.stringify({ ok, ...req.summary, result, waitedMs: end.elapsedMs, polls: end.polls }) + "\n" : renderRunSummary(result, { color: env.color }));
  if (!ok) {
    if (!req.json) env.stderr.write(`run ${req.runId} ${result.status}; see its logs with: unidesk-ci logs ${req.runId}\n`);
    throw new RunFailedError(`run ${req.runId} ${result.status}`, { silent: true });
  }
}

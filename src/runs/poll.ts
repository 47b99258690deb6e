/** Read-only round trips to the host: one status-reader dispatch per poll, one logs-reader dispatch per `logs`. */
import type { Env } from "../env.ts";
import type { DispatchTarget } from "../dispatch/client.ts";
import { HOST_SSH_BUDGET_MS } from "../dispatch/wire.ts";
import { parseStatusOutput, renderStatusReader, type RunStatus } from "../host/status-reader.ts";
import { parseLogsOutput, renderLogsReader, type RunLogs } from "../host/logs-reader.ts";
import type { ResultExpectation } from "../host/result.ts";
import { runHostScript, SCRIPT_TIMEOUT_MS } from "../host/run-script.ts";
import type { RunSnapshot } from "./wait.ts";

/** Budget of the logs reader: up to the caps of data, base64-encoded. */
export const LOGS_TIMEOUT_MS = HOST_SSH_BUDGET_MS;

/** Where: the run and the host's runs root. */
export interface RunLocation {
  runsRoot: string;
  runId: string;
}

/** Maps the status reader's answer to the wait loop's phases. */
export function toSnapshot(status: RunStatus): RunSnapshot {
  const alive = status.launcher.pid === null && status.runner.pid === null ? undefined : status.launcher.alive || status.runner.alive;
  if (!status.exists) return { phase: "missing" };
  if (status.resultState === "corrupt" || status.resultState === "mismatch" || status.resultState === "lost") {
    return { phase: status.resultState, problem: status.resultProblem ?? undefined, pipelineRun: status.pipelineRun ?? undefined, alive };
  }
  if (status.result) return { phase: "finished", result: status.result, pipelineRun: status.pipelineRun ?? undefined, alive };
  if (status.pipelineRun) return { phase: "running", pipelineRun: status.pipelineRun, alive };
  return { phase: "starting", alive };
}

/**
 * A poller for one run: the status reader is rendered once, each call is one read-only dispatch. Its
 * result.json counts only when it names `where.runId` and, when given, `manifestCommit`.
 */
export function runSnapshotPoller(target: DispatchTarget, where: RunLocation & { manifestCommit?: string }, env: Env): () => Promise<RunSnapshot> {
  const reader = renderStatusReader(where);
  const expected: ResultExpectation = { runId: where.runId, manifestCommit: where.manifestCommit };
  return async () => toSnapshot(parseStatusOutput(await runHostScript(target, { name: "status reader", command: reader, timeoutMs: SCRIPT_TIMEOUT_MS }, env), expected));
}

/** Every file of the run directory, from one read-only dispatch. */
export async function fetchRunLogs(target: DispatchTarget, where: RunLocation, env: Env): Promise<RunLogs> {
  const stdout = await runHostScript(target, { name: "logs reader", command: renderLogsReader(where), timeoutMs: LOGS_TIMEOUT_MS }, env);
  return parseLogsOutput(stdout);
}

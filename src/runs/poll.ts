/** Read-only round trips to the host: one status-reader dispatch per poll, one logs-reader dispatch per `logs`. */
import type { Env } from "../env.ts";
import { dispatch, type DispatchTarget } from "../dispatch/client.ts";
import { HOST_SSH_BUDGET_MS } from "../dispatch/wire.ts";
import { renderStatusReader } from "../launcher/status-reader.ts";
import { renderLogsReader } from "../launcher/logs-reader.ts";
import { parseStatusOutput, type RunStatus } from "./status.ts";
import { parseLogsOutput, type RunLogs } from "./logs.ts";
import type { RunSnapshot } from "./wait.ts";
import { DispatchError } from "../errors.ts";

/** Budget of one reader dispatch: they read a few files, so well inside the 60 s host.ssh limit. */
export const READER_TIMEOUT_MS = 30_000;
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
  if (status.result) return { phase: "finished", result: status.result, pipelineRun: status.pipelineRun ?? undefined, alive };
  if (status.pipelineRun) return { phase: "running", pipelineRun: status.pipelineRun, alive };
  return { phase: "starting", alive };
}

/** Dispatches a fixed script and returns its stdout; a non-zero exit is a DispatchError. */
export async function runReader(target: DispatchTarget, command: string, timeoutMs: number, what: string, env: Env): Promise<string> {
  const answer = await dispatch(target, { command, timeoutMs }, env);
  if (answer.exitCode !== 0) {
    throw new DispatchError(`the ${what} failed on ${target.providerId} (exit ${answer.exitCode}): ${answer.stderr.trim().split("\n").at(-1) || "no output"}`);
  }
  return answer.stdout;
}

/** A poller for one run: the status reader is rendered once, each call is one read-only dispatch. */
export function runSnapshotPoller(target: DispatchTarget, where: RunLocation, env: Env): () => Promise<RunSnapshot> {
  const reader = renderStatusReader(where);
  return async () => toSnapshot(parseStatusOutput(await runReader(target, reader, READER_TIMEOUT_MS, "status reader", env)));
}

/** Every file of the run directory, from one read-only dispatch. */
export async function fetchRunLogs(target: DispatchTarget, where: RunLocation, env: Env): Promise<RunLogs> {
  const stdout = await runReader(target, renderLogsReader(where), LOGS_TIMEOUT_MS, "logs reader", env);
  return parseLogsOutput(stdout);
}

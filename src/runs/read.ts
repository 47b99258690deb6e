/** Read-only round trips to the host: one logs-reader dispatch per `logs`; the snapshot of a reader's answer. */
import type { Env } from "../env.ts";
import type { DispatchTarget } from "../dispatch/client.ts";
import { HOST_SSH_BUDGET_MS } from "../dispatch/wire.ts";
import { parseLogsOutput, renderLogsReader, type LogsReaderSettings, type RunLogs } from "../host/logs-reader.ts";
import type { RunStatus } from "../host/watch-reader.ts";
import { runHostScript } from "../host/run-script.ts";
import type { RunSnapshot } from "./wait.ts";

/** Budget of the logs reader: up to the caps of data, base64-encoded. */
export const LOGS_TIMEOUT_MS = HOST_SSH_BUDGET_MS;

/** Where: the run and the host's runs root. */
export interface RunLocation {
  runsRoot: string;
  runId: string;
}

/** What a reader's answer says about a run (the watch reader's status part). */
export type RunView = Pick<RunStatus, "exists" | "launcher" | "runner" | "pipelineRun" | "resultState" | "result" | "resultProblem">;

/** Maps a reader's answer to the wait's phases. */
export function toSnapshot(status: RunView): RunSnapshot {
  const alive = status.launcher.pid === null && status.runner.pid === null ? undefined : status.launcher.alive || status.runner.alive;
  if (!status.exists) return { phase: "missing" };
  if (status.resultState === "corrupt" || status.resultState === "mismatch" || status.resultState === "lost") {
    return { phase: status.resultState, problem: status.resultProblem ?? undefined, pipelineRun: status.pipelineRun ?? undefined, alive };
  }
  if (status.result) return { phase: "finished", result: status.result, pipelineRun: status.pipelineRun ?? undefined, alive };
  if (status.pipelineRun) return { phase: "running", pipelineRun: status.pipelineRun, alive };
  return { phase: "starting", alive };
}

/** Every file of the run directory (or, with `only`, one file), from one read-only dispatch. */
export async function fetchRunLogs(target: DispatchTarget, where: RunLocation & Omit<LogsReaderSettings, "runsRoot" | "runId">, env: Env): Promise<RunLogs> {
  const stdout = await runHostScript(target, { name: "logs reader", command: renderLogsReader(where), timeoutMs: LOGS_TIMEOUT_MS }, env);
  return parseLogsOutput(stdout);
}

/** `unidesk-ci logs <runId>`: status and every result file of a run, in one dispatch round trip. */
import { argument, command, constant, message, object, type InferValue } from "@optique/core";
import { backendFlags, backendOptions, jsonOption, runIdValue } from "./common.ts";
import { lazy } from "./lazy.ts";
import type { Env } from "../env.ts";
import { UsageError } from "../errors.ts";
import { resolveConfig, requireDispatchTarget } from "../config.ts";
import { fetchRunLogs } from "../runs/poll.ts";
import { logsJson, renderLogs } from "../io/render-logs.ts";
import { writeJson } from "../io/json.ts";

/** Parser of `logs`. */
export const logsCommand = lazy(() =>
  command(
    "logs",
    object({
      command: constant("logs" as const),
      runId: argument(runIdValue, { description: message`The run id printed by run-dev-e2e.` }),
      json: jsonOption(),
      ...backendOptions(),
    }),
    {
      brief: message`Show a run's status and result files (result.json, launcher.log, runner.log, PipelineRun, pod logs).`,
      description: message`Reads the run directory on D601 with a fixed read-only reader in one dispatch, even after the submitting CLI exited. Large files keep their tail, with explicit truncation markers. Exits 0 when the files were read, whatever the run's status.`,
    },
  ),
);

/** Parsed options of `logs`. */
export type LogsOptions = InferValue<ReturnType<typeof logsCommand>>;

/** Runs `logs`. */
export async function runLogs(opts: LogsOptions, env: Env): Promise<void> {
  const config = await resolveConfig(backendFlags(opts), env);
  const target = requireDispatchTarget(config);
  const logs = await fetchRunLogs(target, { runsRoot: config.runsRoot, runId: opts.runId }, env);
  if (!logs.found) throw unknownRun(opts.runId, config);
  if (opts.json) writeJson(env, logsJson(logs));
  else env.stdout.write(renderLogs(logs, { color: env.color }));
}

/** The usage error (exit 2) for a run id with no directory on the host. */
export function unknownRun(runId: string, config: { providerId: string; runsRoot: string }): UsageError {
  return new UsageError(`no run ${runId} on ${config.providerId} (nothing under ${config.runsRoot}/${runId})`, {
    hint: "check the run id printed by run-dev-e2e, and that UNIDESK_CI_RUNS_ROOT matches the one it ran with",
  });
}

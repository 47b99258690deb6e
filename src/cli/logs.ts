/** `unidesk-ci logs <runId>`: status and every result file of a run in one dispatch; `--follow` streams a running one; `--file` prints one file. */
import { argument, command, constant, message, object, option, optional, type InferValue } from "@optique/core";
import { backendFlags, backendOptions, jsonOption, namesValue, runRefValue, textValue, waitMsOption } from "./common.ts";
import { lazy } from "./lazy.ts";
import type { Env } from "../env.ts";
import { UsageError } from "../errors.ts";
import { resolveConfig, requireDispatchTarget } from "../config.ts";
import { LOGS_CAP_MAX_BYTES, RUN_REF, TASK_NAME } from "../rules.ts";
import { addCommitSubjects } from "../manifest/git-log.ts";
import { renderResolved } from "../io/render-digest.ts";
import { fetchRunLogs } from "../runs/read.ts";
import { logsJson, renderFileWhole, renderLogs } from "../io/render-logs.ts";
import { outputFor } from "../io/output.ts";
import { waitAndReport } from "./wait-report.ts";

/** Parser of `logs`. */
export const logsCommand = lazy(() =>
  command(
    "logs",
    object({
      command: constant("logs" as const),
      runId: argument(runRefValue, { description: message`The run id printed by run-dev-e2e, or @latest (the newest run) or @latest-failed (the newest that did not succeed).` }),
      follow: option("-f", "--follow", { description: message`Print what exists, then each new line as it arrives, until the run ends; then its summary. Exit 0 when it succeeded, 1 when it ended otherwise.` }),
      deadlineMs: waitMsOption(message`With --follow: stop following after MS milliseconds (exit 3; the run goes on).`),
      file: optional(option("--file", textValue("NAME"), { description: message`Print one file of the run directory whole (e.g. taskruns.json, pods/<pod>_<container>.log).` })),
      task: optional(option("--task", namesValue("NAME", { regex: TASK_NAME, error: "is not a pipeline task name (a DNS label)" }), { description: message`Only the logs of this pipeline task (repeatable, or a comma list).` })),
      failed: option("--failed", { description: message`Only the failed steps' logs, after the failure digest.` }),
      json: jsonOption(),
      ...backendOptions(),
    }),
    {
      brief: message`Show a run's status, tasks and logs; --follow streams them while it runs.`,
      description: message`Reads the run directory on D601 with a fixed read-only reader in one dispatch, even after the submitting CLI exited: the summary, the task table, the logs with their source ([task/step], [runner], [launcher]) and the other files with their sizes. Large files keep their tail, with explicit truncation markers. Exits 0 when the files were read, whatever the run's status. With --follow, one dispatch per answer of the fixed watch reader (with --json: one event per line).`,
    },
  ),
);

/** Parsed options of `logs`. */
export type LogsOptions = InferValue<ReturnType<typeof logsCommand>>;

/** Runs `logs`. */
export async function runLogs(opts: LogsOptions, env: Env): Promise<void> {
  if (opts.file !== undefined && opts.follow) throw new UsageError("--file cannot be combined with --follow", { hint: "follow the run, or print one file once it is written" });
  if (opts.file !== undefined && (opts.task?.length || opts.failed)) throw new UsageError("--file prints one whole file: it cannot be combined with --task or --failed", { hint: `unidesk-ci logs ${opts.runId} --file ${opts.file}` });
  if (opts.failed && opts.follow) throw new UsageError("--failed reads a finished run: it cannot be combined with --follow", { hint: `follow it, then: unidesk-ci logs ${opts.runId} --failed` });
  if (opts.deadlineMs !== undefined && !opts.follow) throw new UsageError("--wait-ms needs --follow (logs without it answers at once)", { hint: `unidesk-ci logs ${opts.runId} --follow --wait-ms ${opts.deadlineMs}` });
  const config = await resolveConfig(backendFlags(opts), env);
  const target = requireDispatchTarget(config);
  const where = { runsRoot: config.runsRoot, runId: opts.runId };
  const out = outputFor(env, opts);
  if (opts.follow) {
    await waitAndReport(target, { ...where, deadlineMs: opts.deadlineMs, output: out, summary: { runId: opts.runId, event: "result" }, follow: true, tasks: opts.task ?? [], unknown: unknownRun(opts.runId, config) }, env);
    return;
  }
  const whole = opts.file !== undefined ? { only: opts.file, fileCapBytes: LOGS_CAP_MAX_BYTES, totalCapBytes: LOGS_CAP_MAX_BYTES } : {};
  const fetched = await fetchRunLogs(target, { ...where, ...whole }, env);
  if (!fetched.found) throw unknownRun(opts.runId, config);
  if (fetched.reference !== null) out.note(renderResolved(fetched.reference, fetched.runId));
  // The operator's clone (the current directory) adds the subjects of the manifest commits in between, when it has them.
  const changes = fetched.changes && (await addCommitSubjects(fetched.changes, fetched.result?.manifestCommit ?? null, ".", env));
  const logs = { ...fetched, changes };
  const file = logs.files.find((f) => f.path === opts.file);
  if (opts.file !== undefined && !file) {
    throw new UsageError(`run ${logs.runId} has no file ${opts.file}`, { hint: `see its files with: unidesk-ci logs ${logs.runId}` });
  }
  const filter = { tasks: opts.task ?? [], failed: opts.failed };
  out.result(() => logsJson(logs, { ...filter, now: env.now() }), () => (file ? renderFileWhole(file) : renderLogs(logs, { color: env.color, now: env.now(), ...filter })));
}

/** The usage error (exit 2) for a run id with no directory on the host. */
export function unknownRun(runId: string, config: { providerId: string; runsRoot: string }): UsageError {
  if (RUN_REF.test(runId)) {
    const which = runId === "@latest" ? "no run" : "no run that ended without succeeding";
    return new UsageError(`${runId} names nothing: ${config.providerId} has ${which} under ${config.runsRoot}`, { hint: "list the runs with: unidesk-ci runs" });
  }
  return new UsageError(`no run ${runId} on ${config.providerId} (nothing under ${config.runsRoot}/${runId})`, {
    hint: "check the run id printed by run-dev-e2e, and that UNIDESK_CI_RUNS_ROOT matches the one it ran with",
  });
}

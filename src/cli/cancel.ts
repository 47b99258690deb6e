/** `unidesk-ci cancel <runId>`: SIGTERM to a run's own runner (or launcher) on D601, in one fixed dispatch. */
import { argument, command, constant, message, object, option, optional, type InferValue } from "@optique/core";
import { backendFlags, backendOptions, jsonOption, runRefValue, waitMsOption } from "./common.ts";
import { lazy } from "./lazy.ts";
import type { Env } from "../env.ts";
import { RunFailedError } from "../errors.ts";
import { resolveConfig, requireDispatchTarget } from "../config.ts";
import { requestCancel } from "../runs/cancel.ts";
import { waitAndReport } from "./wait-report.ts";
import { LOST_HINT } from "../io/render-run.ts";
import { unknownRun } from "./logs.ts";
import { outputFor } from "../io/output.ts";
import { renderResolved } from "../io/render-digest.ts";

/** Parser of `cancel`. */
export const cancelCommand = lazy(() =>
  command(
    "cancel",
    object({
      command: constant("cancel" as const),
      runId: argument(runRefValue, { description: message`The run to cancel, or @latest (the newest run).` }),
      deadlineMs: waitMsOption(message`Then wait up to MS milliseconds for its result.json.`),
      json: jsonOption(),
      ...backendOptions(),
    }),
    {
      brief: message`Cancel a run: its runner cancels the PipelineRun, cleans up and writes status cancelled.`,
      description: message`Sends SIGTERM to the run's own runner (before it starts: its launcher) in one fixed dispatch.`,
    },
  ),
);

/** Parsed options of `cancel`. */
export type CancelOptions = InferValue<ReturnType<typeof cancelCommand>>;

/** Runs `cancel`. */
export async function runCancel(opts: CancelOptions, env: Env): Promise<void> {
  const config = await resolveConfig(backendFlags(opts), env);
  const target = requireDispatchTarget(config);
  const out = outputFor(env, opts);
  const answer = await requestCancel(target, { runsRoot: config.runsRoot, runId: opts.runId }, env);
  if (answer.outcome === "absent") throw unknownRun(opts.runId, config);
  // Named by @latest: from here on the run is the one the host resolved it to.
  const runId = answer.runId;
  const where = { runsRoot: config.runsRoot, runId };
  if (answer.reference !== null) out.note(renderResolved(answer.reference, runId));
  const follow = `unidesk-ci logs ${runId}`;
  if (answer.outcome === "lost") throw new RunFailedError(`run ${runId} is lost: ${answer.problem}; nothing to cancel`, { hint: `${LOST_HINT}; see: ${follow}` });
  if (answer.outcome === "unproven") throw new RunFailedError(`run ${runId}: ${answer.problem}`, { hint: `it may be starting: retry in a few seconds; see: ${follow}` });
  const finished = answer.problem ? `${answer.status}: ${answer.problem}` : `status: ${answer.status}`;
  const line = answer.outcome === "finished" ? `run ${runId} already finished (${finished}); nothing to cancel\n` : `cancel requested: signalled the ${answer.process} (pid ${answer.pid}) of run ${runId}\n`;
  if (answer.outcome === "signalled" && opts.deadlineMs) {
    out.note(line);
    return waitAndReport(target, { ...where, deadlineMs: opts.deadlineMs, output: out, summary: answer, expect: "cancelled" }, env);
  }
  out.result(() => ({ ok: true, ...answer }), () => line);
  if (answer.outcome === "signalled") out.note(`follow it with: ${follow} --follow\n`);
}

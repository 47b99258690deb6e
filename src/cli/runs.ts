/** `unidesk-ci runs`: the newest runs on D601, in one fixed read-only dispatch. */
import { command, constant, message, object, option, optional, text, type InferValue } from "@optique/core";
import { maximum, minimum, number, pipe, regex, string as zString, transform } from "zod/mini";
import "../zod-locale.ts";
import { backendFlags, backendOptions, choiceValue, jsonOption } from "./common.ts";
import { lazy } from "./lazy.ts";
import { zodValue } from "./zod-value.ts";
import type { Env } from "../env.ts";
import { resolveConfig, requireDispatchTarget } from "../config.ts";
import { RUNS_LIMIT_DEFAULT, RUNS_LIMIT_MAX } from "../rules.ts";
import { listRuns } from "../runs/list.ts";
import { LISTED_STATUSES } from "../host/runs-lister.ts";
import { renderRuns } from "../io/render-runs.ts";
import { outputFor } from "../io/output.ts";

const limitValue = zodValue(
  pipe(
    pipe(zString().check(regex(/^[0-9]{1,6}$/, { error: `is not a whole number from 1 to ${RUNS_LIMIT_MAX}` })), transform(Number)),
    number().check(minimum(1, { error: "must be at least 1" }), maximum(RUNS_LIMIT_MAX, { error: `is more than ${RUNS_LIMIT_MAX}` })),
  ),
  "N",
  RUNS_LIMIT_DEFAULT,
);

/** Parser of `runs`. */
export const runsCommand = lazy(() =>
  command(
    "runs",
    object({
      command: constant("runs" as const),
      limit: optional(option("--limit", limitValue, { description: message`List the newest N runs (default ${text(String(RUNS_LIMIT_DEFAULT))}, at most ${text(String(RUNS_LIMIT_MAX))}).` })),
      status: optional(option("--status", choiceValue(LISTED_STATUSES, "STATUS"), { description: message`List only the newest runs of this status.` })),
      json: jsonOption(),
      ...backendOptions(),
    }),
    {
      brief: message`List recent runs, newest first: status, start, duration, manifest commit, PipelineRun.`,
      description: message`Reads the runs root on D601 with a fixed read-only lister in one dispatch. CHANGED: the services whose commit changed against the run before (id: old → new; N services when several; - none; ? unknown). Statuses: running, succeeded, failed, timeout, cancelled, error, lost (died: swept, or no result.json and nothing of it alive), corrupt (result.json unreadable).`,
    },
  ),
);

/** Parsed options of `runs`. */
export type RunsOptions = InferValue<ReturnType<typeof runsCommand>>;

/** Runs `runs`. */
export async function runRuns(opts: RunsOptions, env: Env): Promise<void> {
  const config = await resolveConfig(backendFlags(opts), env);
  const target = requireDispatchTarget(config);
  const limit = opts.limit ?? RUNS_LIMIT_DEFAULT;
  const listing = await listRuns(target, { runsRoot: config.runsRoot, limit, status: opts.status }, env);
  outputFor(env, opts).result(() => ({ ok: true, runs: listing.runs, total: listing.total }), () => renderRuns(listing, { color: env.color, now: env.now(), limit, status: opts.status }));
}

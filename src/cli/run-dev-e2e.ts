/** `unidesk-ci run-dev-e2e`: submit the fixed launcher for origin/master's dev desired state. */
import { command, constant, message, object, option, optional, type InferValue } from "@optique/core";
import { backendFlags, backendOptions, jsonOption, runIdValue, textValue, waitMsOption } from "./common.ts";
import { lazy } from "./lazy.ts";
import type { Env } from "../env.ts";
import { AuthError, ConfigError, DispatchError, ManifestError, UsageError, withContext } from "../errors.ts";
import { newRunId } from "../runs/run-id.ts";
import { resolveConfig, requireDispatchTarget, type Config } from "../config.ts";
import { loadFromOrigin, unpushedManifestWarning, type LoadedManifest } from "../manifest/load.ts";
import type { DispatchTarget } from "../dispatch/client.ts";
import { renderLauncher } from "../host/launcher.ts";
import { LAUNCH_TIMEOUT_MS, submitLauncher } from "../runs/submit.ts";
import { waitAndReport } from "./wait-report.ts";
import { dispatchRequestBody, redactedRequest } from "../dispatch/wire.ts";
import { renderSubmitted } from "../io/render-submit.ts";
import { outputFor } from "../io/output.ts";

/** Parser of `run-dev-e2e`: syntax and help only. */
export const runDevE2eCommand = lazy(() =>
  command(
    "run-dev-e2e",
    object({
      command: constant("run-dev-e2e" as const),
      deadlineMs: waitMsOption(message`Wait up to MS milliseconds for result.json, polling D601 (0: do not wait).`),
      follow: option("-f", "--follow", { description: message`Then follow the run like logs --follow (bounded by --wait-ms): exit 0 when it succeeded, 1 when it ended otherwise.` }),
      keepNamespace: option("--keep-namespace", { description: message`Keep the temporary namespace after the run (for debugging).` }),
      dryRun: option("--dry-run", { description: message`Offline: no fetch, no network, no token; print the exact launcher a real run would send.` }),
      repoDir: optional(option("--repo-dir", textValue("DIR"), { description: message`Operator clone whose origin/master is read (default: the current directory).` })),
      runId: optional(option("--run-id", runIdValue, { description: message`Use this run id instead of a generated one (re-dispatching an existing id starts nothing).` })),
      json: jsonOption(),
      ...backendOptions(),
    }),
    {
      brief: message`Run the dev smoke e2e for origin/master's deploy.json on D601.`,
      description: message`Fetches origin/master, reads deploy.json#environments.dev from that commit, and dispatches the fixed launcher to D601 through backend-core. Prints the run id, the result directory and the next commands.`,
    },
  ),
);

/** Parsed options of `run-dev-e2e`. */
export type RunDevE2eOptions = InferValue<ReturnType<typeof runDevE2eCommand>>;

/** Runs `run-dev-e2e`. */
export async function runRunDevE2e(opts: RunDevE2eOptions, env: Env): Promise<void> {
  if (opts.dryRun && (opts.deadlineMs !== undefined || opts.follow)) {
    throw new UsageError(`${opts.follow ? "--follow" : "--wait-ms"} cannot be combined with --dry-run (a dry run starts nothing to wait for)`, { hint: "drop one of the two flags" });
  }
  const repoDir = opts.repoDir ?? env.cwd;
  const pending = resolveConfig(backendFlags(opts), env);
  // A dry run reads the config and git side by side; a real run checks credentials first, so a
  // misconfigured laptop fails fast and nothing is fetched or sent.
  const offline = opts.dryRun ? loadFromOrigin(repoDir, env, { fetch: false }) : undefined;
  offline?.catch(() => undefined); // reported below, after any config error
  const config = await pending;
  const target = opts.dryRun ? undefined : requireDispatchTarget(config);
  const loaded = await (offline ?? loadFromOrigin(repoDir, env, { fetch: true }));
  const unpushed = unpushedManifestWarning(loaded);
  if (unpushed) env.stderr.write(unpushed);
  const runId = opts.runId ?? newRunId(env.now());
  const resultDir = `${config.runsRoot}/${runId}`;
  // From here on every failure names the run, so a calling script can follow or cancel it (docs/json.md).
  try {
    await submitAndWait({ ...opts, runId }, { config, target, loaded, resultDir }, env);
  } catch (error) {
    throw withContext(error, { runId, resultDir, runMayHaveStarted: mayHaveStarted(error) });
  }
}

/** Whether a failure may leave a run on the host: only a refusal before the launcher ran (or its own refusal) rules it out. */
function mayHaveStarted(error: unknown): boolean {
  const context = (error as { context?: { runMayHaveStarted?: unknown; state?: unknown } } | null)?.context;
  if (typeof context?.runMayHaveStarted === "boolean") return context.runMayHaveStarted;
  if (context?.state !== undefined) return true; // the launcher answered: the wait failed, the run exists
  if (error instanceof AuthError || error instanceof ConfigError || error instanceof UsageError || error instanceof ManifestError) return false;
  if (error instanceof DispatchError) return error.mayHaveRun;
  return true;
}

/** What the submit needs besides the options: the target is undefined for a dry run. */
interface Prepared {
  config: Config;
  target: DispatchTarget | undefined;
  loaded: LoadedManifest;
  resultDir: string;
}

async function submitAndWait(opts: RunDevE2eOptions & { runId: string }, { config, target, loaded, resultDir }: Prepared, env: Env): Promise<void> {
  const runId = opts.runId;
  const ci = loaded.manifest.environments.dev.ci;
  const launcher = renderLauncher({
    repo: ci.repo,
    manifestCommit: loaded.commit,
    scriptPath: ci.scriptPath,
    runId,
    environment: "dev",
    timeoutMs: ci.timeoutMs,
    keepNamespace: opts.keepNamespace,
    workRoot: config.workRoot,
    runsRoot: config.runsRoot,
    egressProxy: config.egressProxy,
  });
  const out = outputFor(env, opts);
  const plan = { runId, manifestCommit: loaded.commit, resultDir, providerId: config.providerId, scriptPath: ci.scriptPath, timeoutMs: ci.timeoutMs };

  if (!target) {
    const body = dispatchRequestBody(config.providerId, launcher, LAUNCH_TIMEOUT_MS);
    const request = redactedRequest(config.backendUrl, body);
    out.result(() => ({ ok: true, dryRun: true, ...plan, launcher, request }), () => launcher);
    return;
  }

  const submitted = await submitLauncher(target, launcher, runId, env, loaded.commit);
  const summary = { ...plan, state: submitted.state };
  const wait = { runId, runsRoot: config.runsRoot, manifestCommit: loaded.commit, output: out };
  if (opts.follow) {
    out.event({ event: "submitted", ...summary });
    out.note(renderSubmitted(summary, nextCommands(runId), { color: false }));
    await waitAndReport(target, { ...wait, deadlineMs: opts.deadlineMs, summary: { runId, event: "result", state: submitted.state }, follow: true }, env);
    return;
  }
  if (opts.deadlineMs === undefined || opts.deadlineMs === 0) {
    out.result(() => ({ ok: true, ...summary, next: nextCommands(runId) }), () => renderSubmitted(summary, nextCommands(runId), { color: env.color }));
    if (submitted.state === "duplicate") out.note(`warning: run ${runId} already existed on ${config.providerId}; nothing new was started\n`);
    return;
  }
  out.note(renderSubmitted(summary, nextCommands(runId), { color: false }));
  await waitAndReport(target, { ...wait, deadlineMs: opts.deadlineMs, summary }, env);
}

/** The commands an operator runs next for this run. */
export function nextCommands(runId: string): string[] {
  return [`unidesk-ci logs ${runId} --follow`, `unidesk-ci logs ${runId}`, `unidesk-ci logs ${runId} --json`];
}

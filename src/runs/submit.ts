/** Submitting the launcher: one dispatch call, and the launcher's state line read back. */
import { literal, object, optional, string, union } from "zod/mini";
import "../zod-locale.ts";
import type { Env } from "../env.ts";
import { ConfigError, DispatchError, UsageError } from "../errors.ts";
import { untrustedLine } from "../redact.ts";
import { dispatch } from "../dispatch/client.ts";
import { HOST_SSH_BUDGET_MS } from "../dispatch/wire.ts";
import type { DispatchTarget } from "../dispatch/client.ts";
import { LAUNCHER_CONFLICT, LAUNCHER_CONFLICT_EXIT, LAUNCHER_DUPLICATE, LAUNCHER_STARTED, LAUNCHER_UNSAFE_ROOT_EXIT } from "../host/run-dir.ts";

/**
 * The launcher's last stdout line (docs/launcher.md). With `conflict` (exit 3), `manifestCommit` is the other
 * commit the run id belongs to, or "" when its result dir holds no record of it.
 */
export const launchStateSchema = object({
  runId: string(),
  state: union([literal(LAUNCHER_STARTED), literal(LAUNCHER_DUPLICATE), literal(LAUNCHER_CONFLICT)]),
  resultDir: string(),
  manifestCommit: optional(string()),
});

/** What the launcher answered. */
export interface Launched {
  state: typeof LAUNCHER_STARTED | typeof LAUNCHER_DUPLICATE;
  resultDir: string;
}

// The launcher's exit codes: the run id belongs to another manifest commit; the runs root is one other local users could change (docs/security.md).
export { LAUNCHER_CONFLICT_EXIT, LAUNCHER_UNSAFE_ROOT_EXIT };

/** The budget the launcher dispatch asks for: all of host.ssh's, though it detaches within a second. */
export const LAUNCH_TIMEOUT_MS = HOST_SSH_BUDGET_MS;

/**
 * Sends the rendered launcher to the provider and checks its answer names this run and commit. A run id
 * taken by another manifest commit is a UsageError (exit 2): its verdict is not this commit's.
 */
export async function submitLauncher(target: DispatchTarget, launcher: string, runId: string, env: Env, manifestCommit?: string): Promise<Launched> {
  const answer = await dispatch(target, { command: launcher, timeoutMs: LAUNCH_TIMEOUT_MS }, env);
  const lastLine = answer.stdout.trimEnd().split("\n").at(-1) ?? "";
  const state = launchStateSchema.safeParse(parseJson(lastLine));
  if (state.success && state.data.runId === runId && state.data.state === LAUNCHER_CONFLICT && answer.exitCode === LAUNCHER_CONFLICT_EXIT) {
    const owner = state.data.manifestCommit || "an unknown commit (its result dir has no commit record)";
    throw new UsageError(`run id ${runId} belongs to manifest commit ${owner}${manifestCommit ? `, not ${manifestCommit}` : ""}: nothing was started on ${target.providerId}`, {
      hint: `a run id proves one commit; omit --run-id for a new one, or see that run with 'unidesk-ci logs ${runId}'`,
    });
  }
  if (answer.exitCode === LAUNCHER_UNSAFE_ROOT_EXIT && /^unidesk-ci launcher: unsafe runs root /m.test(answer.stderr)) {
    const line = answer.stderr.split("\n").find((l) => l.startsWith("unidesk-ci launcher: unsafe runs root ")) ?? "";
    throw new ConfigError(`${line.slice("unidesk-ci launcher: ".length, 600)}: nothing was started on ${target.providerId}`, {
      hint: "a runs root other local users can change could forge a verdict; see docs/security.md",
      context: { runMayHaveStarted: false },
    });
  }
  if (answer.exitCode !== 0) {
    const why = untrustedLine(answer.stderr.trim().split("\n").at(-1) || lastLine, [target.token, ...env.secrets]) || "no output";
    throw new DispatchError(`the launcher failed on ${target.providerId} before starting run ${runId} (exit ${answer.exitCode}): ${why}`, {
      hint: `nothing was started; check the host with 'unidesk-ci logs ${runId}'`,
      context: { runMayHaveStarted: false },
    });
  }
  if (!state.success || state.data.runId !== runId || state.data.state === LAUNCHER_CONFLICT) {
    throw new DispatchError(`malformed answer from the launcher on ${target.providerId}: expected its JSON state line for ${runId}, got ${JSON.stringify(untrustedLine(lastLine, [target.token, ...env.secrets]))}`);
  }
  return { state: state.data.state, resultDir: state.data.resultDir };
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

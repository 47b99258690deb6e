/** Submitting the launcher: one dispatch call, and the launcher's state line read back. */
import { literal, object, string, union } from "zod/mini";
import "../zod-locale.ts";
import type { Env } from "../env.ts";
import { DispatchError } from "../errors.ts";
import { dispatch } from "../dispatch/client.ts";
import { HOST_SSH_BUDGET_MS } from "../dispatch/wire.ts";
import type { DispatchTarget } from "../dispatch/client.ts";

/** The launcher's last stdout line (docs/launcher.md). */
export const launchStateSchema = object({
  runId: string(),
  state: union([literal("started"), literal("duplicate")]),
  resultDir: string(),
});

/** What the launcher answered. */
export interface Launched {
  state: "started" | "duplicate";
  resultDir: string;
}

/** The budget the launcher dispatch asks for: all of host.ssh's, though it detaches within a second. */
export const LAUNCH_TIMEOUT_MS = HOST_SSH_BUDGET_MS;

/** Sends the rendered launcher to the provider and checks its answer names this run. */
export async function submitLauncher(target: DispatchTarget, launcher: string, runId: string, env: Env): Promise<Launched> {
  const answer = await dispatch(target, { command: launcher, timeoutMs: LAUNCH_TIMEOUT_MS }, env);
  const lastLine = answer.stdout.trimEnd().split("\n").at(-1) ?? "";
  if (answer.exitCode !== 0) {
    const why = answer.stderr.trim().split("\n").at(-1) || lastLine || "no output";
    throw new DispatchError(`the launcher failed on ${target.providerId} before starting run ${runId} (exit ${answer.exitCode}): ${why}`, {
      hint: `nothing was started; check the host with 'unidesk-ci logs ${runId}'`,
      context: { runMayHaveStarted: false },
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(lastLine);
  } catch {
    parsed = undefined;
  }
  const state = launchStateSchema.safeParse(parsed);
  if (!state.success || state.data.runId !== runId) {
    throw new DispatchError(`malformed answer from the launcher on ${target.providerId}: expected its JSON state line for ${runId}, got ${JSON.stringify(lastLine.slice(0, 200))}`);
  }
  return { state: state.data.state, resultDir: state.data.resultDir };
}

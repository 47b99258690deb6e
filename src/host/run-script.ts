/** Sends one fixed host script (a reader, the cancel script) through dispatch and returns its stdout. */
import type { Env } from "../env.ts";
import { dispatch, type DispatchTarget } from "../dispatch/client.ts";
import { DispatchError } from "../errors.ts";
import { untrustedLine } from "../redact.ts";

/** Budget of one short fixed script: it reads a few files, so well inside the 60 s host.ssh limit. */
export const SCRIPT_TIMEOUT_MS = 30_000;

/** A rendered fixed script and what to call it in messages. */
export interface HostScript {
  /** e.g. "watch reader", "cancel script". */
  name: string;
  command: string;
  timeoutMs: number;
}

/** Dispatches a fixed script and returns its stdout; a non-zero exit is a DispatchError. */
export async function runHostScript(target: DispatchTarget, script: HostScript, env: Env): Promise<string> {
  const answer = await dispatch(target, { command: script.command, timeoutMs: script.timeoutMs }, env);
  if (answer.exitCode !== 0) {
    throw new DispatchError(`the ${script.name} failed on ${target.providerId} (exit ${answer.exitCode}): ${untrustedLine(answer.stderr.trim().split("\n").at(-1) ?? "", [target.token, ...env.secrets]) || "no output"}`);
  }
  return answer.stdout;
}

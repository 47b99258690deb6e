/** `cancel`: one dispatch of the fixed cancel script (src/host/cancel.sh). */
import type { Env } from "../env.ts";
import type { DispatchTarget } from "../dispatch/client.ts";
import { parseCancelOutput, renderCancel, type CancelAnswer } from "../host/cancel.ts";
import { runHostScript, SCRIPT_TIMEOUT_MS } from "../host/run-script.ts";
import type { RunLocation } from "./read.ts";

/** Asks the host to cancel a run, in one dispatch. */
export async function requestCancel(target: DispatchTarget, where: RunLocation, env: Env): Promise<CancelAnswer> {
  return parseCancelOutput(await runHostScript(target, { name: "cancel script", command: renderCancel(where), timeoutMs: SCRIPT_TIMEOUT_MS }, env));
}

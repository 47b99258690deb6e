/** `runs`: one dispatch of the fixed runs lister (src/host/runs-lister.sh). */
import type { Env } from "../env.ts";
import type { DispatchTarget } from "../dispatch/client.ts";
import { parseRunsOutput, renderRunsLister, type RunListing, type RunsListerSettings } from "../host/runs-lister.ts";
import { runHostScript, SCRIPT_TIMEOUT_MS } from "../host/run-script.ts";

/** Lists the newest runs on the host (of `settings.status` only, when given), in one dispatch. */
export async function listRuns(target: DispatchTarget, settings: RunsListerSettings, env: Env): Promise<RunListing> {
  return parseRunsOutput(await runHostScript(target, { name: "runs lister", command: renderRunsLister(settings), timeoutMs: SCRIPT_TIMEOUT_MS }, env), settings.status);
}

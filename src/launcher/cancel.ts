/** Renders the fixed cancel script (cancel.sh) for `cancel <runId>` (docs/readers.md). */
import { checkRunId } from "../runs/run-id.ts";
import template from "./cancel.sh";
import { fillTemplate } from "./template.ts";
import { checkAbsolutePath, checkStringSetting } from "./validate.ts";

/** The cancel script for one run; throws a UsageError naming a bad field. */
export function renderCancel(settings: { runsRoot: string; runId: string }): string {
  checkStringSetting("runsRoot", settings.runsRoot, checkAbsolutePath);
  checkStringSetting("runId", settings.runId, checkRunId);
  return fillTemplate(template, { RUNS_ROOT: settings.runsRoot, RUN_ID: settings.runId }, "cancel.sh");
}

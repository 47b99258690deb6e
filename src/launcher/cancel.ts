/** Renders the fixed cancel script (cancel.sh) for `cancel <runId>` (docs/readers.md). */
import template from "./cancel.sh";
import { fillRunTemplate } from "./template.ts";

/** The cancel script for one run; throws a UsageError naming a bad field. */
export function renderCancel(settings: { runsRoot: string; runId: string }): string {
  return fillRunTemplate(template, "cancel.sh", settings);
}

/** Explicit `@@NAME@@` placeholder substitution for the fixed .sh templates. */
import { checkRunId, checkAbsolutePath, checkStringSetting, RUN_YOUNG_GRACE_S } from "../rules.ts";
import resultRecord from "./result-record.sh";
import runLiveness from "./run-liveness.sh";
import { shellQuote } from "./shell-quote.ts";

const PLACEHOLDER = /@@([A-Z0-9_]+)@@/g;

/**
 * Replaces every `@@NAME@@` of `template` by `shellQuote(values[NAME])` in one pass (values are never
 * rescanned). Each name must occur exactly once and every placeholder must have a value, so an
 * unreplaced placeholder is impossible; a mismatch is a bug in the template, not an operator error.
 */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>, templateName: string): string {
  const seen = new Map<string, number>();
  const out = template.replace(PLACEHOLDER, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${templateName}: placeholder @@${name}@@ has no value`);
    seen.set(name, (seen.get(name) ?? 0) + 1);
    return shellQuote(value);
  });
  for (const name of Object.keys(values)) {
    const count = seen.get(name) ?? 0;
    if (count !== 1) throw new Error(`${templateName}: placeholder @@${name}@@ occurs ${count} times, expected exactly once`);
  }
  // Validated values never hold "@@", so any left here would be a template bug.
  if (/@@[A-Z0-9_]+@@/.test(out)) throw new Error(`${templateName}: an unreplaced placeholder remains`);
  return out;
}

/**
 * The shared bash functions a host script puts in at a `# uci:include <name>` line, each with its rules already
 * filled in: result-record.sh (how result.json is reported) and run-liveness.sh (the runner's liveness rule).
 */
const INCLUDES: Readonly<Record<string, () => string>> = {
  "result-record.sh": () => resultRecord,
  "run-liveness.sh": () => fillTemplate(runLiveness, { RUN_YOUNG_GRACE_S: String(RUN_YOUNG_GRACE_S) }, "run-liveness.sh"),
};

const INCLUDE_LINE = /^# uci:include (\S+)\n/gm;

/** Replaces each `# uci:include <name>` line of a template by that shared file (at most once each; an unknown name is a template bug). */
export function withIncludes(template: string, templateName: string): string {
  const seen = new Set<string>();
  return template.replace(INCLUDE_LINE, (_line, name: string) => {
    const include = Object.hasOwn(INCLUDES, name) ? INCLUDES[name] : undefined;
    if (include === undefined) throw new Error(`${templateName}: unknown include ${name}`);
    if (seen.has(name)) throw new Error(`${templateName}: ${name} is included twice`);
    seen.add(name);
    return include();
  });
}

/**
 * Fills a per-run host script (status/logs reader, cancel): puts in its includes, checks runsRoot and runId, then
 * substitutes them and `extra`.
 */
export function fillRunTemplate(template: string, templateName: string, where: { runsRoot: string; runId: string }, extra: Readonly<Record<string, string>> = {}): string {
  checkStringSetting("runsRoot", where.runsRoot, checkAbsolutePath);
  checkStringSetting("runId", where.runId, checkRunId);
  return fillTemplate(withIncludes(template, templateName), { RUNS_ROOT: where.runsRoot, RUN_ID: where.runId, ...extra }, templateName);
}

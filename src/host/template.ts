/** Explicit `@@NAME@@` placeholder substitution for the fixed .sh templates. */
import { checkRunId, checkAbsolutePath, checkStringSetting } from "../rules.ts";
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

/** Fills a per-run host script (status/logs reader, cancel): checks runsRoot and runId, then substitutes them and `extra`. */
export function fillRunTemplate(template: string, templateName: string, where: { runsRoot: string; runId: string }, extra: Readonly<Record<string, string>> = {}): string {
  checkStringSetting("runsRoot", where.runsRoot, checkAbsolutePath);
  checkStringSetting("runId", where.runId, checkRunId);
  return fillTemplate(template, { RUNS_ROOT: where.runsRoot, RUN_ID: where.runId, ...extra }, templateName);
}

const INCLUDE = /^# include ([a-z0-9-]+\.sh)\n/gm;

/** Replaces each `# include <name>.sh` line of a template by that shared fragment (before any placeholder is filled). */
export function includeFragments(template: string, fragments: Readonly<Record<string, string>>, templateName: string): string {
  return template.replace(INCLUDE, (_line, name: string) => {
    const fragment = fragments[name];
    if (fragment === undefined) throw new Error(`${templateName}: no fragment ${name} to include`);
    return fragment;
  });
}

/** Turns zod issues into `path: message` lines (docs/manifest.md#errors). */
import { ManifestError, type CliErrorOptions, type ManifestIssue } from "../errors.ts";

export type { ManifestIssue };

/** The part of a zod issue this module reads (keeps callers free of zod's internal types). */
export interface IssueLike {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** Path shown for a problem with the whole document. */
export const ROOT_PATH = "(root)";

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** Formats a zod path as `environments.dev.services[0].commitId`; `(root)` when empty. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const key of path) {
    if (typeof key === "number") text += `[${key}]`;
    else {
      const name = String(key);
      // Odd keys (spaces, dots) are quoted so the path stays unambiguous.
      text += IDENTIFIER.test(name) ? (text === "" ? name : `.${name}`) : `[${JSON.stringify(name)}]`;
    }
  }
  return text === "" ? ROOT_PATH : text;
}

/** Converts zod issues to {@link ManifestIssue}s, in zod's order. */
export function toManifestIssues(issues: readonly IssueLike[]): ManifestIssue[] {
  return issues.map((issue) => ({ path: formatIssuePath(issue.path), message: issue.message }));
}

/** One-line form `path: message`. */
export function formatIssue(issue: ManifestIssue): string {
  return `${issue.path}: ${issue.message}`;
}

/** A ManifestError for a manifest that failed JSON parsing or validation: first issue in the message, all in `issues`. */
export function manifestIssuesError(source: string, issues: ManifestIssue[], options: CliErrorOptions = {}): ManifestError {
  return new ManifestError(summarizeIssues(source, issues), { ...options, issues, source });
}

/** `<source>: <path>: <message>` for the first issue, plus ` (and N more)`. */
export function summarizeIssues(source: string, issues: readonly ManifestIssue[]): string {
  const first = issues[0];
  if (first === undefined) return `${source}: invalid`;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  return `${source}: ${formatIssue(first)}${more}`;
}

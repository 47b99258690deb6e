/**
 * What changed since the last green run (docs/commands.md#what-changed-since-the-last-green-run): the type and
 * schema of `changes`, and the pure diff of `environments.dev.services` between two deploy.json copies. Data, never text.
 */
import { array, nullable, object, string, type infer as Infer } from "zod/mini";
import "../zod-locale.ts";
import { checkResultJson } from "../host/result.ts";

/** A service of `environments.dev.services`. */
const serviceSchema = object({ id: string(), commitId: string() });

/** The diff of `environments.dev.services`: services added, removed, and those whose commit changed. */
export const serviceChangesSchema = object({
  added: array(serviceSchema),
  removed: array(serviceSchema),
  changed: array(object({ id: string(), from: string(), to: string() })),
});

/**
 * `changes` of a run that did not succeed: the newest earlier run that succeeded (`since`, null when none did), the
 * services changed between its deploy.json and this run's, and the subjects of the manifest commits in between
 * when the operator's clone has them (`commits`, null when it does not, oldest first).
 */
export const changesSchema = object({
  since: nullable(object({ runId: string(), manifestCommit: nullable(string()) })),
  services: serviceChangesSchema,
  commits: nullable(array(object({ sha: string(), subject: string() }))),
});

/** What changed since the last green run. */
export type RunChanges = Infer<typeof changesSchema>;
/** The services part of {@link RunChanges}. */
export type ServiceChanges = Infer<typeof serviceChangesSchema>;
/** `environments.dev.services` as id → commitId. */
export type ServiceCommits = ReadonlyMap<string, string>;

/** `environments.dev.services` of deploy.json text as id → commitId, or null when it is not readable (not JSON, no such array). */
export function serviceCommits(deployJson: string): ServiceCommits | null {
  let doc: unknown;
  try {
    doc = JSON.parse(deployJson.replace(/^\uFEFF/, ""));
  } catch {
    return null;
  }
  const services = (doc as { environments?: { dev?: { services?: unknown } } } | null)?.environments?.dev?.services;
  if (!Array.isArray(services)) return null;
  const out = new Map<string, string>();
  for (const s of services as { id?: unknown; commitId?: unknown }[]) {
    if (typeof s?.id === "string" && typeof s.commitId === "string") out.set(s.id, s.commitId);
  }
  return out;
}

/** The services added, removed and changed from `from` to `to`, each list in `to`'s (removed: `from`'s) order. */
export function diffServices(from: ServiceCommits, to: ServiceCommits): ServiceChanges {
  const added = [...to].filter(([id]) => !from.has(id)).map(([id, commitId]) => ({ id, commitId }));
  const removed = [...from].filter(([id]) => !to.has(id)).map(([id, commitId]) => ({ id, commitId }));
  const changed = [...to].flatMap(([id, commit]) => {
    const old = from.get(id);
    return old !== undefined && old !== commit ? [{ id, from: old, to: commit }] : [];
  });
  return { added, removed, changed };
}

/** How many services changed (added + removed + changed). */
export function countServiceChanges(s: ServiceChanges): number {
  return s.added.length + s.removed.length + s.changed.length;
}

/** The files a reader returned for a run that did not succeed: the last green run (null: none) and both deploy.json copies (null: absent). */
export interface GreenRunFiles {
  green: { runId: string; resultJson: string | null; deployJson: string | null } | null;
  deployJson: string | null;
}

/**
 * The changes of a run from what its reader returned (commits null: the clone adds them, see
 * src/manifest/git-log.ts). Without a green run, or with a deploy.json missing or unreadable on either side, the
 * services are empty.
 */
export function changesFromFiles(files: GreenRunFiles): RunChanges {
  const none: ServiceChanges = { added: [], removed: [], changed: [] };
  if (files.green === null) return { since: null, services: none, commits: null };
  const result = files.green.resultJson === null ? null : checkResultJson(files.green.resultJson).result;
  const from = files.green.deployJson === null ? null : serviceCommits(files.green.deployJson);
  const to = files.deployJson === null ? null : serviceCommits(files.deployJson);
  return {
    since: { runId: files.green.runId, manifestCommit: result?.manifestCommit ?? null },
    services: from && to ? diffServices(from, to) : none,
    commits: null,
  };
}

/** The fixed read-only runs lister (runs-lister.sh): its renderer and the parser of its answer (docs/readers.md). */
import { UsageError } from "../errors.ts";
import { checkAbsolutePath, checkStringSetting, FULL_SHA, RUN_ID, RUNS_DEPLOY_CAP_BYTES, RUNS_LIMIT_DEFAULT, RUNS_LIMIT_MAX, RUNS_RESULT_CAP_BYTES } from "../rules.ts";
import { diffServices, serviceCommits, type RunChanges } from "../runs/changes.ts";
import { decodeCount, decodeField, lenientText, malformed, readerRecords } from "./records.ts";
import { judgeResult } from "./result.ts";
import { RUN_STATUSES, STATE_CORRUPT, STATE_RUNNING, STATUS_LOST } from "./run-dir.ts";
import template from "./runs-lister.sh";
import { fillTemplate, prepared } from "./template.ts";

/** What the runs lister is rendered from. */
export interface RunsListerSettings {
  /** Parent of the result dirs. */
  runsRoot: string;
  /** Newest runs to list, 1 … RUNS_LIMIT_MAX. @default RUNS_LIMIT_DEFAULT */
  limit?: number;
  /** List only runs of this status (`runs --status`; the host's first cut, the CLI judges again). @default every run */
  status?: ListedStatus;
}

/** The runs lister script; throws a UsageError naming a bad field. */
export function renderRunsLister(settings: RunsListerSettings): string {
  const limit = settings.limit ?? RUNS_LIMIT_DEFAULT;
  checkStringSetting("runsRoot", settings.runsRoot, checkAbsolutePath);
  if (!Number.isInteger(limit) || limit < 1 || limit > RUNS_LIMIT_MAX) throw new UsageError(`limit ${JSON.stringify(limit)} must be an integer from 1 to ${RUNS_LIMIT_MAX}`);
  const status = settings.status ?? "";
  if (status !== "" && !LISTED_STATUSES.includes(status)) throw new UsageError(`status ${JSON.stringify(status)} must be one of ${LISTED_STATUSES.join(", ")}`);
  const values = { RUNS_ROOT: settings.runsRoot, LIMIT: String(limit), RESULT_CAP_BYTES: String(RUNS_RESULT_CAP_BYTES), DEPLOY_CAP_BYTES: String(RUNS_DEPLOY_CAP_BYTES), STATUS: status };
  return fillTemplate(prepared(template, "runs-lister.sh"), values, "runs-lister.sh");
}

/**
 * A listed run's status: a final one from result.json (`lost`: written by the runner's sweep for a run that
 * died, or for one that died and no sweep has recorded yet: no result.json and nothing of it alive by the runner's
 * liveness rule), `running` (no result.json, alive by that rule) or `corrupt` (result.json unreadable, not JSON,
 * not a result, or too large).
 */
export type ListedStatus = (typeof RUN_STATUSES)[number] | typeof STATE_RUNNING | typeof STATE_CORRUPT;

/** Every status a listed run can have, in the order `runs --status` documents them. */
export const LISTED_STATUSES: readonly ListedStatus[] = [STATE_RUNNING, ...RUN_STATUSES, STATE_CORRUPT];

/** One run as `runs` shows it. */
export interface ListedRun {
  runId: string;
  status: ListedStatus;
  manifestCommit: string | null;
  /** result.json's startedAt, else when its launcher started (launcher.pid's mtime), ISO 8601. */
  startedAt: string;
  finishedAt: string | null;
  /** result.json's durationMs (null while running; the renderer counts from startedAt). */
  durationMs: number | null;
  pipelineRun: string | null;
  /** result.json's reason, or what is wrong with it (corrupt). */
  reason: string | null;
  /** The services changed against the run before it (`since`: that run; commits null), or null when there is none or either deploy.json is missing or unreadable. */
  changes: RunChanges | null;
}

/** The lister's answer: newest first. */
export interface RunListing {
  /** The runs root exists. */
  rootExists: boolean;
  runs: ListedRun[];
  /** Run dirs under the runs root (the listing holds the newest `limit`). */
  total: number;
}

const READER = "runs lister";

/**
 * Parses the runs lister's stdout (keeping only runs of `status` when given: the host cut by result.json's status
 * word, and a result.json it could not judge is `corrupt` here); throws DispatchError (exit 5) on a malformed answer.
 */
export function parseRunsOutput(stdout: string, status?: ListedStatus): RunListing {
  let rootExists: boolean | undefined;
  const runs: ListedRun[] = [];
  const previous = new Map<string, string>();
  const deploys = new Map<string, string | null>();
  for (const [key, ...f] of readerRecords(stdout, "unidesk-ci-runs", READER)) {
    if (key === "root") rootExists = f[0] === "present";
    else if (key === "run") {
      const run = parseRun(f);
      const before = f[11];
      if (before !== undefined && before !== "-") previous.set(run.runId, checkListedId(before));
      runs.push(run);
    } else if (key === "deploy") {
      const bytes = decodeField(f[1], READER);
      deploys.set(checkListedId(f[0]), bytes === null ? null : lenientText(bytes));
    } else if (key === "end") {
      if (decodeCount(f[0], READER) !== runs.length) throw malformed(READER, "the run count does not match (the answer was cut short)");
      if (rootExists === undefined) throw malformed(READER, "no 'root' line");
      const listed = runs.map((r) => ({ ...r, changes: changesAgainst(r, previous.get(r.runId), deploys, runs) }));
      return { rootExists, runs: status === undefined ? listed : listed.filter((r) => r.status === status), total: decodeCount(f[1], READER) };
    } else throw malformed(READER, `unknown line ${JSON.stringify(key)}`);
  }
  throw malformed(READER, "no 'end' line");
}

function checkListedId(id: string | undefined): string {
  if (id === undefined || !RUN_ID.test(id)) throw malformed(READER, `bad run id ${JSON.stringify(id)}`);
  return id;
}

/** The services changed from the run before `run` to it, when both deploy.json copies came back readable. */
function changesAgainst(run: ListedRun, before: string | undefined, deploys: ReadonlyMap<string, string | null>, listed: readonly ListedRun[]): RunChanges | null {
  if (before === undefined) return null;
  const to = deploys.get(run.runId);
  const from = deploys.get(before);
  const fromServices = from ? serviceCommits(from) : null;
  const toServices = to ? serviceCommits(to) : null;
  if (!fromServices || !toServices) return null;
  const manifestCommit = listed.find((r) => r.runId === before)?.manifestCommit ?? null;
  return { since: { runId: before, manifestCommit }, services: diffServices(fromServices, toServices), commits: null };
}

function parseRun([runId, startedS, lpid, lstate, rpid, rstate, liveness, resultField, resultSize, prField, commit]: string[]): ListedRun {
  if (runId === undefined || !RUN_ID.test(runId)) throw malformed(READER, `bad run id ${JSON.stringify(runId)}`);
  [lstate, rstate].forEach((s, i) => {
    if (s !== "alive" && s !== "dead" && s !== "none") throw malformed(READER, `process state ${JSON.stringify(s)}`);
    if (s !== "none") decodeCount(i === 0 ? lpid : rpid, READER);
  });
  if (liveness !== "live" && liveness !== "dead") throw malformed(READER, `liveness ${JSON.stringify(liveness)}`);
  const pr = decodeField(prField, READER);
  const run: ListedRun = {
    runId,
    status: liveness === "live" ? STATE_RUNNING : STATUS_LOST,
    manifestCommit: commit !== undefined && FULL_SHA.test(commit) ? commit : null,
    startedAt: new Date(decodeCount(startedS, READER) * 1000).toISOString(),
    finishedAt: null,
    durationMs: null,
    pipelineRun: pr ? lenientText(pr).trim() || null : null,
    reason: null,
    changes: null,
  };
  const bytes = decodeField(resultField, READER);
  if (bytes === null) return run;
  // The one judgement of result.json (src/host/result.ts): a listing calls unusable, and another run's, corrupt.
  const verdict = judgeResult({ bytes, sizeBytes: decodeCount(resultSize, READER) }, { runId });
  if (verdict.resultState !== "valid") return { ...run, status: STATE_CORRUPT, reason: verdict.resultProblem };
  const r = verdict.result;
  return {
    ...run,
    status: r.status,
    manifestCommit: r.manifestCommit,
    startedAt: r.startedAt ?? run.startedAt,
    finishedAt: r.finishedAt,
    durationMs: r.durationMs ?? null,
    pipelineRun: r.pipelineRun ?? run.pipelineRun,
    reason: r.reason ?? null,
  };
}

/** Text and JSON of `logs <runId>`: the summary, the tasks, the logs by source, the other files listed; explicit truncation markers. */
import type { RunLogFile, RunLogs } from "../host/logs-reader.ts";
import { resultStatusWord } from "../host/result.ts";
import { checkProgressJson } from "../host/progress.ts";
import { WATCH_PATH } from "../rules.ts";
import { logSource, ofTasks, taskSourceFromTaskRuns, taskStates, type TaskSource } from "../runs/tasks.ts";
import { digestOf, tailLines, type RunDigest } from "../runs/digest.ts";
import { renderDigest } from "./render-digest.ts";
import { keyValueLines, palette, type Palette } from "./color.ts";
import { lineText, renderSourceLine, renderTaskTable } from "./render-follow.ts";
import { toBase64 } from "./base64.ts";
import type { LogsReport } from "./json-schemas.ts";
import { LOST_HINT, renderRunSummary, renderUnusableSummary } from "./render-run.ts";

type FoundLogs = Extract<RunLogs, { found: true }>;

/** The marker written where a file's head was cut off (or its content dropped by the total cap). */
export function truncationMarker(f: RunLogFile): string {
  if (f.keptBytes === 0) return `[truncated: ${f.path} is ${f.sizeBytes} bytes; none returned, the total cap was used up — read it on the host]`;
  return `[truncated: showing the last ${f.keptBytes} of ${f.sizeBytes} bytes of ${f.path}]`;
}

/** A log's lines (text, or bytes when not UTF-8), without their newlines. */
function splitLines(content: string | Uint8Array): (string | Uint8Array)[] {
  if (typeof content === "string") return content === "" ? [] : content.replace(/\n$/, "").split("\n");
  const out: Uint8Array[] = [];
  let start = 0;
  for (let nl = content.indexOf(10); nl >= 0; nl = content.indexOf(10, start)) {
    out.push(content.subarray(start, nl));
    start = nl + 1;
  }
  if (start < content.length) out.push(content.subarray(start));
  return out;
}

/** A file's markers when it is unreadable or cut, else "". */
function markers(f: RunLogFile, p: Palette): string {
  if (f.unreadable) return `[unreadable on the host: ${f.path}]\n`;
  return f.truncated ? p.yellow(truncationMarker(f)) + "\n" : "";
}

/** One log's lines, each prefixed by its source. */
function renderLogFile(f: RunLogFile, source: string, color: boolean): string {
  return markers(f, palette(color)) + splitLines(f.content).map((l) => renderSourceLine(source, l, { color })).join("");
}

/** `--file NAME`: the file as it is (binary lines escaped as in the logs), after any marker. */
export function renderFileWhole(f: RunLogFile): string {
  const body = typeof f.content === "string" ? f.content : splitLines(f.content).map((l) => lineText(l as Uint8Array) + "\n").join("");
  return markers(f, palette(false)) + body;
}

/** The run's tasks from progress.json, else taskruns.json (runs older than progress.json), else null. */
export function taskSourceOf(logs: FoundLogs): TaskSource | null {
  const text = (path: string) => {
    const c = logs.files.find((f) => f.path === path && !f.truncated)?.content;
    return typeof c === "string" ? c : undefined;
  };
  const progress = text("progress.json");
  const fromProgress = progress === undefined ? null : checkProgressJson(progress).progress;
  if (fromProgress) return fromProgress;
  const taskRuns = text("taskruns.json");
  return taskRuns === undefined ? null : taskSourceFromTaskRuns(taskRuns);
}

/** Every file of the run directory, logs included, as a list with their sizes (so `--file NAME` can be named). */
function renderFileList(logs: FoundLogs): string {
  if (logs.files.length === 0) return "";
  const width = Math.max(...logs.files.map((f) => f.path.length)) + 2;
  const rows = logs.files.map((f) => `  ${f.path.padEnd(width)}${f.sizeBytes} bytes${f.unreadable ? " (unreadable)" : ""}\n`);
  return `files:\n${rows.join("")}print one with: unidesk-ci logs ${logs.runId} --file NAME\n`;
}

/** The marker for the files a logs call did not read (beyond its file cap). */
export function omittedMarker(logs: FoundLogs): string {
  return `[omitted: ${logs.omittedAtLeast ? "at least " : ""}${logs.omittedFiles} more file(s) not read, at most ${logs.maxFiles} files per call — read them on the host]`;
}

function renderHead(logs: FoundLogs, opts: { color: boolean }): string {
  if (logs.resultState === "valid") return renderRunSummary(logs.result, opts);
  if (logs.resultState === "none") return keyValueLines([["status", "running (no result.json yet)"], ["runId", logs.runId]]);
  if (logs.resultState === "lost") return renderUnusableSummary({ runId: logs.runId, state: "lost", problem: `${logs.resultProblem}; ${LOST_HINT}` }, opts);
  return renderUnusableSummary({ runId: logs.runId, state: logs.resultState, problem: logs.resultProblem }, opts);
}

/** Which logs to show: only these tasks' (`--task`), only the failed steps' (`--failed`). */
export interface LogsFilter {
  /** @default every task */
  tasks?: readonly string[];
  /** @default false */
  failed?: boolean;
}

/**
 * The digest of a run that ended without succeeding (null while it runs or when it succeeded): result.json's
 * failures (else the failed TaskRuns'), each tail taken from the step's log file when result.json has none.
 */
export function logsDigest(logs: FoundLogs, now: Date): RunDigest | null {
  if (logs.result === null || logs.result.status === "succeeded") return null;
  const source = taskSourceOf(logs);
  const digest = digestOf({ result: logs.result, tasks: source ? taskStates(source) : [], changes: logs.changes, now });
  const failures = digest.failures.map((f) => {
    if (f.tail.length || f.step === null) return f;
    const file = logs.files.find((x) => (f.log !== null ? x.path === f.log : logSource(x.path, source) === `${f.task}/${f.step}`));
    return file && typeof file.content === "string" ? { ...f, log: file.path, tail: tailLines(file.content) } : f;
  });
  return { ...digest, failures };
}

/** Whether log file `path` passes the filter: one of `--task`'s tasks, or (`--failed`) a failed step's log. */
function passes(path: string, source: TaskSource | null, filter: LogsFilter, digest: RunDigest | null): boolean {
  const from = logSource(path, source);
  if (!ofTasks(from, filter.tasks) || (filter.tasks?.length && !path.startsWith("pods/"))) return false;
  if (!filter.failed) return true;
  return (digest?.failures ?? []).some((f) => f.log === path || (f.step !== null ? from === `${f.task}/${f.step}` : from.startsWith(`${f.task}/`)));
}

/**
 * Human output, like `tkn pr logs`: the status, the failure digest (a run that did not succeed), the task table,
 * every log line with its source (only `filter`'s), then every file with its size.
 */
export function renderLogs(logs: FoundLogs, opts: { color: boolean; now: Date } & LogsFilter): string {
  const p = palette(opts.color);
  const source = taskSourceOf(logs);
  const tasks = source ? taskStates(source) : [];
  const digest = logsDigest(logs, opts.now);
  // Pods in pipeline order; launcher.log and runner.log (no task) first.
  const order = (path: string) => {
    const i = tasks.findIndex((t) => logSource(path, source).startsWith(`${t.task}/`));
    return path.startsWith("pods/") ? (i < 0 ? tasks.length : i) : -1;
  };
  const logFiles = logs.files.filter((f) => WATCH_PATH.test(f.path) && passes(f.path, source, opts, digest)).sort((a, b) => order(a.path) - order(b.path));
  const truncated = logFiles.filter((f) => f.truncated).length;
  const footer = [
    truncated ? `[${truncated} log(s) truncated; caps ${logs.fileCapBytes} bytes per file, ${logs.totalCapBytes} in total]\n` : "",
    logs.omittedFiles ? p.yellow(omittedMarker(logs)) + "\n" : "",
  ].join("");
  const filtered = opts.failed || Boolean(opts.tasks?.length);
  const sections = [
    renderHead(logs, opts),
    digest ? renderDigest(digest, { color: opts.color, ended: logs.result?.status === "cancelled" ? "cancelled" : "finished" }) : "",
    tasks.length && !opts.failed ? renderTaskTable(tasks, opts) : "",
    logFiles.map((f) => renderLogFile(f, logSource(f.path, source), opts.color)).join("") || (filtered ? "(no log matches the filter)\n" : ""),
    filtered ? "" : renderFileList(logs),
    footer,
  ];
  return sections.filter(Boolean).join("\n");
}

/** The `--json` document: stable camelCase fields; binary content as base64; logs filtered as the human output. */
export function logsJson(logs: FoundLogs, opts: { now: Date } & LogsFilter = { now: new Date(0) }): LogsReport {
  const source = taskSourceOf(logs);
  const digest = logsDigest(logs, opts.now);
  const files = logs.files.filter((f) => !WATCH_PATH.test(f.path) || passes(f.path, source, opts, digest));
  return {
    ok: true,
    runId: logs.runId,
    reference: logs.reference,
    failures: digest?.failures ?? [],
    changes: logs.changes,
    status: resultStatusWord(logs),
    result: logs.result,
    resultProblem: logs.resultProblem,
    files: files.map((f) => ({
      path: f.path,
      sizeBytes: f.sizeBytes,
      keptBytes: f.keptBytes,
      truncated: f.truncated,
      unreadable: f.unreadable,
      encoding: typeof f.content === "string" ? "utf8" : "base64",
      content: typeof f.content === "string" ? f.content : toBase64(f.content),
    })),
    omittedFiles: logs.omittedFiles,
    omittedAtLeast: logs.omittedAtLeast,
    keptBytes: logs.keptBytes,
    fileCapBytes: logs.fileCapBytes,
    totalCapBytes: logs.totalCapBytes,
    maxFiles: logs.maxFiles,
  };
}

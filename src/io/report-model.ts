/**
 * The plain data of `unidesk-ci report` (docs/commands.md#report): one run as the logs reader returned it, turned
 * into status, tasks with times, failures, phases, changes and step logs. Every string of the model (task names,
 * messages, log lines) is made visible text here once ({@link visibleDeep}); the renderers only escape syntax.
 */
import type { RunLogs } from "../host/logs-reader.ts";
import { resultStatusWord, type RunFailure, type RunPhase } from "../host/result.ts";
import type { RunProgress } from "../host/progress.ts";
import { checkProgressJson } from "../host/progress.ts";
import { redactSecrets } from "../redact.ts";
import { FAILURE_LINE_MAX_CHARS, FAILURE_TAIL_LINES, FULL_SHA, ISO_TIME, WATCH_PATH } from "../rules.ts";
import { logSource, taskStates, type TaskState } from "../runs/tasks.ts";
import { lineText } from "./render-follow.ts";
import { BIDI_CHARS, HIDDEN_CHARS, TAG_CHAR } from "./terminal.ts";
import { formatDuration } from "./render-run.ts";
import { taskSourceOf } from "./render-logs.ts";
import type { RunChanges } from "../runs/changes.ts";

type FoundLogs = Extract<RunLogs, { found: true }>;

/** One pipeline task of the report. */
export interface ReportTask {
  name: string;
  state: TaskState["state"];
  reason: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** Until the report's `now` while it runs; null before it started. */
  durationMs: number | null;
}

/** One log file of the run (launcher, runner, each step), its lines as visible text. */
export interface ReportLog {
  /** `launcher`, `runner`, `<task>/<step>`. */
  source: string;
  path: string;
  lines: string[];
  /** Only its tail came back (the logs reader's caps). */
  truncated: boolean;
  sizeBytes: number;
}

/** Everything a report shows. */
export interface ReportModel {
  runId: string;
  /** The final status, `running` (no result.json yet), or `corrupt` / `mismatch` / `lost`. */
  status: ReturnType<typeof resultStatusWord>;
  /** Why the result is unusable (corrupt, mismatch, lost), else the result's reason, else null. */
  reason: string | null;
  manifestCommit: string | null;
  pipelineRun: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** Until the report's `now` while the run goes on. */
  durationMs: number | null;
  tasks: ReportTask[];
  /** From result.json; for results without them, rebuilt from the failed TaskRuns and their pod logs. */
  failures: RunFailure[];
  /** From result.json; for results without them, the PipelineRun's and each task's span. */
  phases: RunPhase[];
  changes: RunChanges | null;
  logs: ReportLog[];
  /** When the report was made (ISO). */
  generatedAt: string;
}

// C0 controls but tab and LF, DEL and C1, bidi controls, what hides text (HIDDEN_CHARS, tag characters), U+FFFE/U+FFFF,
// lone surrogates: each shown as an escape.
const INVISIBLE = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f${BIDI_CHARS}\\ufeff\\ufffe\\uffff${HIDDEN_CHARS}]|${TAG_CHAR}|[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]`, "g");

/** Text with every character that is illegal in XML 1.0, invisible or reorders text (bidi) shown as `\xHH` / `\uHHHH` / `\u{HHHHH}`; backslashes stay as they are. */
export function visibleText(text: string): string {
  return text.replace(INVISIBLE, (c) => {
    const code = c.codePointAt(0)!;
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : NaN);
const span = (start: string | null | undefined, end: string | null | undefined, now: Date) => {
  const a = ms(start);
  if (Number.isNaN(a)) return null;
  const b = end ? ms(end) : now.getTime();
  return Number.isNaN(b) ? null : Math.max(0, b - a);
};

/**
 * A log's content as visible lines (CRLF ends dropped; bytes that are not UTF-8 escaped as in `logs`), the secrets
 * redacted first: a tail line is cut later, and a cut through a secret would leave a prefix no writer recognises.
 */
function logLines(content: string | Uint8Array, secrets: readonly string[]): string[] {
  const text = redactSecrets(typeof content === "string" ? content : lineText(content).replaceAll("\\x0a", "\n"), secrets);
  if (text === "") return [];
  return text.replace(/\n$/, "").split("\n").map((l) => visibleText(l.replace(/\r$/, "")));
}

/** The failures of a result without `failures`: one per failed TaskRun, its step and tail from the pod log saved for it. */
function failuresFromTasks(tasks: ReportTask[], progress: Pick<RunProgress, "taskRuns"> | null, logs: ReportLog[]): RunFailure[] {
  return tasks
    .filter((t) => t.state === "failed")
    .map((t) => {
      const tr = progress?.taskRuns.find((r) => r.pipelineTask === t.name);
      // Tekton's message names the step (`"step-deploy" exited with code 1`); else the last step that logged.
      const said = /"step-([^"]+)" exited with code (\d+)/.exec(tr?.message ?? "");
      const steps = logs.filter((l) => l.source.startsWith(`${t.name}/`) && l.path.includes("_step-"));
      const log = steps.find((l) => said && l.path.endsWith(`_step-${said[1]}.log`)) ?? steps.filter((l) => l.lines.length).at(-1) ?? null;
      return {
        task: t.name,
        step: said?.[1] ?? (log ? log.source.slice(t.name.length + 1) : null),
        exitCode: said ? Number(said[2]) : null,
        reason: t.reason ?? "Failed",
        message: tr?.message ?? "",
        log: log?.path ?? null,
        tail: log ? log.lines.slice(-FAILURE_TAIL_LINES).map((l) => l.slice(0, FAILURE_LINE_MAX_CHARS)) : [],
      };
    });
}

/** The phases of a result without `phases`: the PipelineRun's span and each started task's. */
function phasesFromTasks(tasks: ReportTask[], progress: Pick<RunProgress, "pipelineRun"> | null): RunPhase[] {
  const pr = progress?.pipelineRun;
  const phases: RunPhase[] = pr?.startTime ? [{ name: "pipelinerun", startedAt: pr.startTime, finishedAt: pr.completionTime ?? null }] : [];
  for (const t of tasks) if (t.startedAt) phases.push({ name: `task:${t.name}`, startedAt: t.startedAt, finishedAt: t.finishedAt });
  return phases;
}

/** A JSON value with every string in it made {@link visibleText}, the secrets redacted first. */
const visibleDeep = <T>(value: T, secrets: readonly string[] = []): T =>
  JSON.parse(JSON.stringify(value), (_, v: unknown) => (typeof v === "string" ? visibleText(redactSecrets(v, secrets)) : v)) as T;

/**
 * The report's data from one logs-reader answer (`changes` when the caller has them); `now` ends what still runs.
 * The whole model goes through {@link visibleDeep} once at the end, so no field, today's or one added later, reaches
 * a renderer with a secret (`secrets`: the token) or a character that is invisible, reorders text or is illegal in XML.
 */
export function buildReportModel(logs: FoundLogs, opts: { now: Date; changes?: RunChanges | null; secrets?: Iterable<string> }): ReportModel {
  const secrets = [...(opts.secrets ?? [])];
  const source = taskSourceOf(logs);
  const progressText = logs.files.find((f) => f.path === "progress.json" && typeof f.content === "string")?.content as string | undefined;
  const progress = progressText === undefined ? null : checkProgressJson(progressText).progress;
  const tasks: ReportTask[] = (source ? taskStates(source) : []).map((t) => ({
    name: t.task,
    state: t.state,
    reason: t.reason,
    startedAt: t.startTime,
    finishedAt: t.completionTime,
    durationMs: t.state === "pending" || t.state === "skipped" ? null : span(t.startTime, t.state === "running" ? null : t.completionTime, opts.now),
  }));
  const logFiles: ReportLog[] = logs.files
    .filter((f) => WATCH_PATH.test(f.path))
    .map((f) => ({ source: logSource(f.path, source), path: f.path, lines: logLines(f.content, secrets), truncated: f.truncated, sizeBytes: f.sizeBytes }));
  const result = logs.result;
  const status = resultStatusWord(logs);
  // progress.json's time and commit are checked here (result.json's by its schema): they are shown as facts.
  const startedAt = result?.startedAt ?? [progress?.startedAt, progress?.pipelineRun?.startTime].find((t) => t && ISO_TIME.test(t)) ?? null;
  const finishedAt = result?.finishedAt ?? null;
  return visibleDeep<ReportModel>({
    runId: logs.runId,
    status,
    reason: logs.resultProblem || result?.reason || null,
    manifestCommit: result?.manifestCommit ?? (FULL_SHA.test(progress?.manifestCommit ?? "") ? progress!.manifestCommit! : null),
    pipelineRun: result?.pipelineRun ?? progress?.pipelineRun?.name ?? null,
    startedAt,
    finishedAt,
    durationMs: result?.durationMs ?? (status === "running" || finishedAt ? span(startedAt, finishedAt, opts.now) : null),
    tasks,
    failures: result?.failures ?? failuresFromTasks(tasks, progress, logFiles),
    phases: result?.phases ?? phasesFromTasks(tasks, progress),
    changes: opts.changes ?? null,
    logs: logFiles,
    generatedAt: opts.now.toISOString(),
  }, secrets);
}

/** `✗ <task>/<step> exited <code>: <message>` (the reason when it has no exit code), the digest's line of a failure. */
export function failureHeadline(f: RunFailure): string {
  const what = f.exitCode === null ? f.reason : `exited ${f.exitCode}`;
  return `✗ ${f.task}${f.step ? `/${f.step}` : ""} ${what}${f.message ? `: ${f.message}` : ""}`;
}

/** Whether a run's status is final and not `succeeded` (a running run has no failure yet). */
export const runDidNotSucceed = (m: ReportModel) => m.status !== "succeeded" && m.status !== "running";

/** Inline text: our own words, or `{ code }` spans of untrusted text each renderer escapes its way. */
export type Inline = (string | { code: string })[];

const sha12 = (sha: string) => ({ code: /^[0-9a-f]{40}$/.test(sha) ? sha.slice(0, 12) : sha });

/** The run's facts as label and value rows, shared by the Markdown and HTML reports. */
export function reportFacts(m: ReportModel): [string, Inline][] {
  const rows: [string, Inline][] = [
    ["status", [m.status]],
    ["commit", m.manifestCommit ? [{ code: m.manifestCommit }] : ["(unknown)"]],
    ["duration", [m.durationMs === null ? "(unknown)" : `${formatDuration(m.durationMs)}${m.status === "running" ? " so far" : ""}`]],
  ];
  if (m.startedAt) rows.push(["started", [m.startedAt]]);
  if (m.pipelineRun) rows.push(["PipelineRun", [{ code: m.pipelineRun }]]);
  if (m.reason) rows.push(["reason", [{ code: m.reason }]]);
  return rows;
}

/** The changes section as paragraphs and list items (null: no changes known). */
export function changeItems(c: RunChanges | null): { intro: Inline; items: Inline[]; commits: Inline[] } | null {
  if (!c) return null;
  if (!c.since) return { intro: ["No earlier run succeeded: nothing to compare with."], items: [], commits: [] };
  const s = c.services;
  return {
    intro: ["Last green run ", { code: c.since.runId }, ...(c.since.manifestCommit ? [" at ", sha12(c.since.manifestCommit)] : []), s.changed.length + s.added.length + s.removed.length ? "." : ". No service commit changed."],
    items: [
      ...s.changed.map((x): Inline => [{ code: x.id }, ": ", sha12(x.from), " → ", sha12(x.to)]),
      ...s.added.map((x): Inline => ["added ", { code: x.id }, " at ", sha12(x.commitId)]),
      ...s.removed.map((x): Inline => ["removed ", { code: x.id }, " (was ", sha12(x.commitId), ")"]),
    ],
    commits: (c.commits ?? []).map((x) => [sha12(x.sha), " ", { code: x.subject }]),
  };
}

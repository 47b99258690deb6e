/** `unidesk-ci report <runId>`: a run as JUnit XML, Markdown and/or one HTML page, from the one dispatch `logs` makes (docs/commands.md#report). */
import { argument, command, constant, message, object, option, optional, type InferValue } from "@optique/core";
import { backendFlags, backendOptions, jsonOption, runRefValue, textValue } from "./common.ts";
import { lazy } from "./lazy.ts";
import type { Env } from "../env.ts";
import { UsageError } from "../errors.ts";
import { resolveConfig, requireDispatchTarget } from "../config.ts";
import { fetchRunLogs } from "../runs/read.ts";
import { outputFor, type Output } from "../io/output.ts";
import { buildReportModel, type ReportModel } from "../io/report-model.ts";
import { renderResolved } from "../io/render-digest.ts";
import { addCommitSubjects } from "../manifest/git-log.ts";
import { renderJunit } from "../io/report-junit.ts";
import { renderMarkdown } from "../io/report-markdown.ts";
import { renderHtml } from "../io/report-html.ts";
import { unknownRun } from "./logs.ts";

/** The formats `report` writes, in the order it writes them. */
export const REPORT_FORMATS = ["junit", "markdown", "html"] as const;
/** One of {@link REPORT_FORMATS}. */
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const RENDER: Record<ReportFormat, (m: ReportModel) => string> = { junit: renderJunit, markdown: renderMarkdown, html: renderHtml };

/** Parser of `report`. */
export const reportCommand = lazy(() =>
  command(
    "report",
    object({
      command: constant("report" as const),
      runId: argument(runRefValue, { description: message`The run id printed by run-dev-e2e, or @latest (the newest run) or @latest-failed (the newest that did not succeed).` }),
      junit: optional(option("--junit", textValue("FILE"), { description: message`Write JUnit XML (one testcase per pipeline task) to FILE; - for stdout.` })),
      markdown: optional(option("--markdown", textValue("FILE"), { description: message`Write a Markdown summary (fits $GITHUB_STEP_SUMMARY) to FILE; - for stdout.` })),
      html: optional(option("--html", textValue("FILE"), { description: message`Write one self-contained HTML page with a timeline to FILE; - for stdout.` })),
      json: jsonOption(),
      ...backendOptions(),
    }),
    {
      brief: message`Write a run's report as JUnit XML, Markdown and/or HTML for other CI systems.`,
      description: message`Reads the run directory on D601 in one dispatch (as logs does) and writes the report files only once it has the data, each atomically (a temporary file renamed into place); - writes to stdout (one format at most). Exits 0 when the report was written, whatever the run's status; a run still running gets a report of its state so far, marked running.`,
    },
  ),
);

/** Parsed options of `report`. */
export type ReportOptions = InferValue<ReturnType<typeof reportCommand>>;

/** The report's `--json` document. */
export interface ReportDocument {
  ok: true;
  runId: string;
  /** `@latest` / `@latest-failed` when the run was named by one, else null. */
  reference: string | null;
  status: ReportModel["status"];
  written: { format: ReportFormat; path: string; bytes: number }[];
}

/** The formats asked for with their targets, after the flag checks (UsageError, nothing dispatched). */
async function checkTargets(opts: ReportOptions, out: Output, env: Env): Promise<{ format: ReportFormat; path: string }[]> {
  const targets = REPORT_FORMATS.flatMap((format) => (opts[format] === undefined ? [] : [{ format, path: opts[format]! }]));
  const example = `unidesk-ci report ${opts.runId} --junit junit.xml --markdown -`;
  if (targets.length === 0) throw new UsageError("report needs at least one of --junit FILE, --markdown FILE, --html FILE", { hint: example });
  const toStdout = targets.filter((t) => t.path === "-");
  if (toStdout.length > 1) throw new UsageError(`only one report can go to stdout, not --${toStdout.map((t) => t.format).join(" - and --")} -`, { hint: "write the others to files" });
  if (toStdout.length && !out.human) throw new UsageError(`--${toStdout[0]!.format} - cannot be combined with --json (stdout holds the JSON document)`, { hint: "write the report to a file" });
  for (const [i, t] of targets.entries()) {
    if (t.path === "-") continue;
    const twice = targets.find((u, j) => j < i && u.path === t.path);
    if (twice) throw new UsageError(`--${twice.format} and --${t.format} both name ${t.path}`, { hint: "give each format its own file" });
    const why = await env.checkOutputPath(t.path);
    if (why !== null) throw new UsageError(`cannot write --${t.format} ${t.path}: ${why}`, { hint: "name a file in an existing directory, or - for stdout" });
  }
  return targets;
}

/** Runs `report`. */
export async function runReport(opts: ReportOptions, env: Env): Promise<void> {
  const out = outputFor(env, opts);
  const targets = await checkTargets(opts, out, env);
  const config = await resolveConfig(backendFlags(opts), env);
  const target = requireDispatchTarget(config);
  const logs = await fetchRunLogs(target, { runsRoot: config.runsRoot, runId: opts.runId }, env);
  if (!logs.found) throw unknownRun(opts.runId, config);
  if (logs.reference !== null) out.note(renderResolved(logs.reference, logs.runId));
  // The operator's clone (the current directory) adds the subjects of the manifest commits in between, as in `logs`.
  const changes = logs.changes && (await addCommitSubjects(logs.changes, logs.result?.manifestCommit ?? null, ".", env));
  const model = buildReportModel(logs, { now: env.now(), changes, secrets: env.secrets });
  const texts = targets.map((t) => ({ ...t, text: RENDER[t.format](model) }));
  for (const t of texts) {
    if (t.path === "-") continue;
    try {
      await env.writeFileAtomic(t.path, t.text);
    } catch (error) {
      throw new UsageError(`cannot write --${t.format} ${t.path}: ${error instanceof Error ? error.message : String(error)}`, { hint: "nothing was left half-written there; name a writable file, or - for stdout" });
    }
  }
  const written = texts.map((t) => ({ format: t.format, path: t.path, bytes: new TextEncoder().encode(t.text).length }));
  out.document({ ok: true, runId: model.runId, reference: logs.reference, status: model.status, written } satisfies ReportDocument);
  const stdout = texts.find((t) => t.path === "-");
  if (stdout) out.print(stdout.text);
  const running = model.status === "running" ? " (still running: the report shows its state so far)" : "";
  out.note(`run ${model.runId} ${model.status}${running}; wrote ${written.map((w) => `${w.format} to ${w.path === "-" ? "stdout" : w.path}`).join(", ")}\n`);
}

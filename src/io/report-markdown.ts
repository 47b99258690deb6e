/**
 * `report --markdown`: a summary that fits `>> "$GITHUB_STEP_SUMMARY"` (docs/commands.md#report). Every untrusted
 * string goes into a code span or a fenced block whose fence its content cannot close, so it can inject no HTML,
 * link or table cell.
 */
import { formatDuration } from "./render-run.ts";
import { failureHeadline, type ReportChanges, type ReportModel, type ReportTask } from "./report-model.ts";

const longestRun = (text: string, c: string) => Math.max(0, ...(text.match(new RegExp(`${c}+`, "g")) ?? []).map((r) => r.length));

/** One line as a code span: `|` escaped (GFM splits table cells before code spans), the fence longer than any backtick run inside. */
export function mdCode(text: string): string {
  const line = text.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
  if (line === "") return "";
  const fence = "`".repeat(longestRun(line, "`") + 1);
  const pad = line.startsWith("`") || line.endsWith("`") || (line.startsWith(" ") && line.endsWith(" ")) ? " " : "";
  return `${fence}${pad}${line}${pad}${fence}`;
}

/** Lines as a fenced block no line of which can close it (its fence is longer than any backtick run in them). */
export function mdFence(lines: readonly string[]): string {
  const fence = "`".repeat(Math.max(3, longestRun(lines.join("\n"), "`") + 1));
  return `${fence}text\n${lines.join("\n")}\n${fence}\n`;
}

const SYMBOL: Record<ReportTask["state"], string> = { succeeded: "✓", failed: "✗", cancelled: "✗", running: "●", pending: "·", skipped: "–" };
const dur = (ms: number | null) => (ms === null ? "" : formatDuration(ms));
const short = (sha: string) => (/^[0-9a-f]{40}$/.test(sha) ? sha.slice(0, 12) : sha);

/** What changed since the last green run, as a Markdown section (empty when there is nothing to say). */
function changesSection(c: ReportChanges | null): string {
  if (!c) return "";
  if (!c.since) return "### Changes since the last green run\n\nNo earlier run succeeded: nothing to compare with.\n";
  const s = c.services;
  const rows = [
    ...s.changed.map((x) => `- ${mdCode(x.id)}: ${mdCode(short(x.from))} → ${mdCode(short(x.to))}`),
    ...s.added.map((x) => `- added ${mdCode(x.id)} at ${mdCode(short(x.commitId))}`),
    ...s.removed.map((x) => `- removed ${mdCode(x.id)} (was ${mdCode(short(x.commitId))})`),
  ];
  const commits = c.commits?.length ? `\nManifest commits in between:\n\n${c.commits.map((x) => `- ${mdCode(short(x.sha))} ${mdCode(x.subject)}`).join("\n")}\n` : "";
  return `### Changes since the last green run\n\nLast green run ${mdCode(c.since.runId)} at ${mdCode(short(c.since.manifestCommit))}.\n\n${rows.length ? rows.join("\n") : "No service commit changed."}\n${commits}`;
}

/** The Markdown summary of a report. */
export function renderMarkdown(m: ReportModel): string {
  const icon = m.status === "succeeded" ? "✓" : m.status === "running" ? "●" : "✗";
  const facts: [string, string][] = [
    ["status", `**${m.status}**`],
    ["commit", m.manifestCommit ? mdCode(m.manifestCommit) : "(unknown)"],
    ["duration", m.durationMs === null ? "(unknown)" : `${formatDuration(m.durationMs)}${m.status === "running" ? " so far" : ""}`],
  ];
  if (m.startedAt) facts.push(["started", m.startedAt]);
  if (m.pipelineRun) facts.push(["PipelineRun", mdCode(m.pipelineRun)]);
  if (m.reason) facts.push(["reason", mdCode(m.reason)]);
  const out = [`## ${icon} unidesk-ci run ${mdCode(m.runId)}: ${m.status}\n`, `| | |\n|---|---|\n${facts.map(([k, v]) => `| ${k} | ${v} |`).join("\n")}\n`];
  if (m.tasks.length) {
    out.push(`### Tasks\n\n| task | status | duration |\n|---|---|---|\n${m.tasks.map((t) => `| ${mdCode(t.name)} | ${SYMBOL[t.state]} ${t.state} | ${dur(t.durationMs)} |`).join("\n")}\n`);
  }
  if (m.failures.length) {
    const items = m.failures.map((f) => `${mdCode(failureHeadline(f))}\n\n${f.log ? `Last lines of ${mdCode(f.log)}:\n\n` : ""}${f.tail.length ? mdFence(f.tail) : "(no log lines)\n"}`);
    out.push(`### Failures\n\n${items.join("\n")}`);
  }
  const changes = changesSection(m.changes);
  if (changes) out.push(changes);
  out.push(`<sub>unidesk-ci report, ${m.generatedAt}: \`unidesk-ci logs ${m.runId}\` shows every log.</sub>\n`);
  return out.join("\n");
}

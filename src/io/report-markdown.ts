/**
 * `report --markdown`: a summary that fits `>> "$GITHUB_STEP_SUMMARY"` (docs/commands.md#report). Every untrusted
 * string goes into a code span or a fenced block its content cannot close, so it injects no HTML, link or cell.
 */
import { formatDuration } from "./render-run.ts";
import { changeItems, failureHeadline, reportFacts, type Inline, type ReportModel } from "./report-model.ts";

const longestRun = (text: string) => Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));

/** One line as a code span: `|` escaped (GFM splits table cells before code spans), the fence longer than any backtick run inside. */
export function mdCode(text: string): string {
  const line = text.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
  const fence = "`".repeat(longestRun(line) + 1);
  const pad = /^[` ]|[` ]$/.test(line) ? " " : "";
  return line && `${fence}${pad}${line}${pad}${fence}`;
}

/** Lines as a fenced block no line of which can close it. */
export const mdFence = (lines: readonly string[]) => {
  const fence = "`".repeat(Math.max(3, longestRun(lines.join("\n")) + 1));
  return `${fence}text\n${lines.join("\n")}\n${fence}\n`;
};

const md = (parts: Inline) => parts.map((p) => (typeof p === "string" ? p : mdCode(p.code))).join("");
const SYMBOL = { succeeded: "✓", failed: "✗", cancelled: "✗", running: "●", pending: "·", skipped: "–" };

/** The Markdown summary of a report. */
export function renderMarkdown(m: ReportModel): string {
  const icon = m.status === "succeeded" ? "✓" : m.status === "running" ? "●" : "✗";
  const out = [`## ${icon} unidesk-ci run ${mdCode(m.runId)}: ${m.status}\n`, `| | |\n|---|---|\n${reportFacts(m).map(([k, v]) => `| ${k} | ${md(v)} |\n`).join("")}`];
  if (m.tasks.length) out.push(`### Tasks\n\n| task | status | duration |\n|---|---|---|\n${m.tasks.map((t) => `| ${mdCode(t.name)} | ${SYMBOL[t.state]} ${t.state} | ${t.durationMs === null ? "" : formatDuration(t.durationMs)} |\n`).join("")}`);
  if (m.failures.length) {
    out.push(`### Failures\n\n${m.failures.map((f) => `${mdCode(failureHeadline(f))}\n\n${f.log ? `Last lines of ${mdCode(f.log)}:\n\n` : ""}${f.tail.length ? mdFence(f.tail) : "(no log lines)\n"}`).join("\n")}`);
  }
  const c = changeItems(m.changes);
  if (c) out.push(`### Changes since the last green run\n\n${md(c.intro)}\n${c.items.map((i) => `\n- ${md(i)}`).join("")}\n${c.commits.length ? `\nManifest commits in between:\n${c.commits.map((i) => `\n- ${md(i)}`).join("")}\n` : ""}`);
  out.push(`<sub>unidesk-ci report, ${m.generatedAt}; every log: \`unidesk-ci logs ${m.runId}\`</sub>\n`);
  return out.join("\n");
}

/**
 * `report --html`: one self-contained page (docs/commands.md#report): a timeline of the run's phases and tasks
 * (SVG bars on one time axis, the failed ones marked), the digest, the changes, the task table and every log in a
 * `<details>`. No script, no external asset: a CSP allowing nothing but its one stylesheet (by hash) and data:
 * images. Every untrusted string is HTML-escaped.
 */
import { formatDuration } from "./render-run.ts";
import { failureHeadline, type ReportModel, type ReportTask } from "./report-model.ts";

/** HTML text or attribute value. */
export function htmlEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** The page's one stylesheet; {@link REPORT_CSS_SHA256} is its hash in the CSP (a test holds them together). */
export const REPORT_CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:70em;padding:0 1em;color:#1f2328}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #d0d7de}
code,pre{font:12px/1.35 ui-monospace,monospace}pre{background:#f6f8fa;padding:.6em;overflow:auto;white-space:pre-wrap;word-break:break-all}
table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:.2em .6em;text-align:left}
.succeeded{color:#1a7f37}.failed,.cancelled,.error,.timeout,.lost,.corrupt,.mismatch{color:#cf222e}.running{color:#9a6700}.skipped,.pending{color:#6e7781}
.tl{display:grid;grid-template-columns:minmax(8em,max-content) 1fr 5em;gap:2px .6em;align-items:center}
.tl svg{width:100%;height:14px;background:#f6f8fa}.tl .axis{font-size:11px;color:#6e7781;display:flex;justify-content:space-between}
rect{fill:#8c959f}rect.phase{fill:#54aeff}rect.succeeded{fill:#2da44e}rect.failed,rect.cancelled{fill:#cf222e}rect.running{fill:#d4a72c}
summary{cursor:pointer}.muted{color:#6e7781}`;

/** `sha256-…` of {@link REPORT_CSS}. */
export const REPORT_CSS_SHA256 = "sha256-R8BQbIudt3iirJ+B9Ak9Wx/WFCaRGacURk0EY4iMNRw=";

const AXIS_UNITS = 1000;
const time = (iso: string | null) => (iso ? Date.parse(iso) : NaN);

interface Bar {
  label: string;
  kind: "phase" | "task";
  state: string;
  start: number;
  end: number | null;
}

/** The timeline: one row per phase and per task on one axis from the first start to the last end (or the report's time). */
function timeline(m: ReportModel): string {
  const now = Date.parse(m.generatedAt);
  const bars: Bar[] = m.phases.filter((p) => !p.name.startsWith("task:")).map((p) => ({ label: p.name, kind: "phase", state: p.finishedAt ? "phase" : "running", start: time(p.startedAt), end: p.finishedAt ? time(p.finishedAt) : null }));
  const taskBar = (t: ReportTask): Bar => ({ label: t.name, kind: "task", state: t.state, start: time(t.startedAt), end: t.finishedAt ? time(t.finishedAt) : null });
  bars.push(...m.tasks.map(taskBar));
  const starts = bars.map((b) => b.start).filter((n) => !Number.isNaN(n));
  if (starts.length === 0) return `<p class="muted">No phase or task started: no timeline.</p>\n`;
  const t0 = Math.min(...starts, ...[time(m.startedAt)].filter((n) => !Number.isNaN(n)));
  const ends = bars.map((b) => (b.end === null ? (Number.isNaN(b.start) ? NaN : now) : b.end)).filter((n) => !Number.isNaN(n));
  const t1 = Math.max(t0 + 1, ...ends, ...[time(m.finishedAt)].filter((n) => !Number.isNaN(n)));
  const x = (t: number) => Math.round(((t - t0) / (t1 - t0)) * AXIS_UNITS);
  const rows = bars.map((b) => {
    const mark = b.state === "failed" || b.state === "cancelled" ? "✗ " : "";
    const label = `<span class="${b.kind === "task" ? b.state : "muted"}">${mark}${htmlEscape(b.label)}</span>`;
    if (Number.isNaN(b.start)) return `${label}<svg data-${b.kind}="${htmlEscape(b.label)}" data-state="${b.state}" viewBox="0 0 ${AXIS_UNITS} 10" preserveAspectRatio="none"></svg><span class="${b.state}">${b.state}</span>\n`;
    const end = b.end ?? now;
    const from = x(b.start);
    const width = Math.max(2, x(end) - from);
    const title = `${b.label}: ${b.state}, ${formatDuration(end - b.start)}${b.end === null ? " so far" : ""}`;
    return `${label}<svg data-${b.kind}="${htmlEscape(b.label)}" data-state="${b.state}" viewBox="0 0 ${AXIS_UNITS} 10" preserveAspectRatio="none"><rect class="${b.state}" x="${from}" width="${width}" height="10"><title>${htmlEscape(title)}</title></rect></svg><span>${formatDuration(end - b.start)}</span>\n`;
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<span>${formatDuration((t1 - t0) * f)}</span>`).join("");
  return `<div class="tl">\n${rows.join("")}<span></span><div class="axis">${ticks}</div><span></span>\n</div>\n`;
}

/** The HTML page of a report. */
export function renderHtml(m: ReportModel): string {
  const e = htmlEscape;
  const facts: [string, string][] = [
    ["status", `<b class="${m.status}">${m.status}</b>`],
    ["commit", m.manifestCommit ? `<code>${e(m.manifestCommit)}</code>` : "(unknown)"],
    ["duration", m.durationMs === null ? "(unknown)" : `${formatDuration(m.durationMs)}${m.status === "running" ? " so far" : ""}`],
  ];
  if (m.startedAt) facts.push(["started", e(m.startedAt)]);
  if (m.pipelineRun) facts.push(["PipelineRun", `<code>${e(m.pipelineRun)}</code>`]);
  if (m.reason) facts.push(["reason", e(m.reason)]);
  const parts = [
    `<h1>unidesk-ci run <code>${e(m.runId)}</code>: <span class="${m.status}">${m.status}</span></h1>\n`,
    `<table>\n${facts.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join("\n")}\n</table>\n`,
    `<h2>Timeline</h2>\n${timeline(m)}`,
  ];
  if (m.failures.length) {
    const items = m.failures.map((f) => `<div class="failure"><p class="failed"><b>${e(failureHeadline(f))}</b></p>\n${f.log ? `<p class="muted">last lines of <code>${e(f.log)}</code></p>\n` : ""}${f.tail.length ? `<pre>${e(f.tail.join("\n"))}</pre>` : `<p class="muted">(no log lines)</p>`}</div>\n`);
    parts.push(`<h2>Failures</h2>\n${items.join("")}`);
  }
  const c = m.changes;
  if (c) {
    const short = (sha: string) => e(/^[0-9a-f]{40}$/.test(sha) ? sha.slice(0, 12) : sha);
    const rows = c.since
      ? [
          ...c.services.changed.map((x) => `<li><code>${e(x.id)}</code>: <code>${short(x.from)}</code> → <code>${short(x.to)}</code></li>`),
          ...c.services.added.map((x) => `<li>added <code>${e(x.id)}</code> at <code>${short(x.commitId)}</code></li>`),
          ...c.services.removed.map((x) => `<li>removed <code>${e(x.id)}</code> (was <code>${short(x.commitId)}</code>)</li>`),
        ]
      : [];
    const since = c.since ? `<p>Last green run <code>${e(c.since.runId)}</code> at <code>${short(c.since.manifestCommit)}</code>.</p>\n${rows.length ? `<ul>\n${rows.join("\n")}\n</ul>` : "<p>No service commit changed.</p>"}\n` : "<p>No earlier run succeeded: nothing to compare with.</p>\n";
    const commits = c.commits?.length ? `<p>Manifest commits in between:</p>\n<ul>\n${c.commits.map((x) => `<li><code>${short(x.sha)}</code> ${e(x.subject)}</li>`).join("\n")}\n</ul>\n` : "";
    parts.push(`<h2>Changes since the last green run</h2>\n${since}${commits}`);
  }
  if (m.tasks.length) {
    const rows = m.tasks.map((t) => `<tr><td>${e(t.name)}</td><td class="${t.state}">${t.state}</td><td>${t.durationMs === null ? "" : formatDuration(t.durationMs)}</td></tr>`);
    parts.push(`<h2>Tasks</h2>\n<table>\n<tr><th>task</th><th>status</th><th>duration</th></tr>\n${rows.join("\n")}\n</table>\n`);
  }
  if (m.logs.length) {
    const failed = new Set(m.failures.map((f) => f.log));
    const logs = m.logs.map((l) => `<details${failed.has(l.path) ? " open" : ""}><summary><code>${e(l.source)}</code> <span class="muted">${e(l.path)}, ${l.sizeBytes} bytes${l.truncated ? ", only its tail" : ""}</span></summary>\n<pre>${e(l.lines.join("\n"))}</pre></details>\n`);
    parts.push(`<h2>Logs</h2>\n${logs.join("")}`);
  }
  parts.push(`<p class="muted">unidesk-ci report, ${e(m.generatedAt)}</p>\n`);
  const csp = `default-src 'none'; style-src '${REPORT_CSS_SHA256}'; img-src data:; base-uri 'none'; form-action 'none'`;
  return `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta http-equiv="Content-Security-Policy" content="${csp}">\n<meta name="viewport" content="width=device-width,initial-scale=1">\n<title>unidesk-ci ${e(m.runId)}: ${m.status}</title>\n<style>${REPORT_CSS}</style>\n</head>\n<body>\n${parts.join("")}</body>\n</html>\n`;
}

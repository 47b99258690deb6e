/**
 * `report --html`: one self-contained page (docs/commands.md#report): a timeline of the run's phases and tasks
 * (SVG bars on one time axis, failed ones marked), the digest, the changes, the tasks and every log in a
 * `<details>`. No script and no external asset: the CSP allows only its one stylesheet (by hash). Every untrusted
 * string is HTML-escaped.
 */
import { formatDuration } from "./render-run.ts";
import { changeItems, failureHeadline, reportFacts, type Inline, type ReportModel } from "./report-model.ts";

/** HTML text or attribute value. */
export const htmlEscape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page's one stylesheet; {@link REPORT_CSS_SHA256} is its hash in the CSP (a test holds them together). */
export const REPORT_CSS = `body{font:14px/1.4 system-ui,sans-serif;max-width:70em;margin:auto;padding:1em}pre{background:#eee;padding:.5em;white-space:pre-wrap;word-break:break-all}td,th{border:1px solid #ccc;padding:0 .5em;text-align:left}.tl{display:grid;grid-template-columns:max-content 1fr 5em;gap:2px 1em;align-items:center}svg{width:100%;height:14px;background:#eee}rect{fill:#57f}.succeeded{color:#170;fill:#2a4}.failed,.cancelled{color:#c22;fill:#c22}.running{fill:#da2}.m{color:#777}`;

/** `sha256-…` of {@link REPORT_CSS}. */
export const REPORT_CSS_SHA256 = "sha256-+7qj7Yu5Lzu/2DZ01zaIXtQhB5NpDtzWM6zM8Z0uD+4=";

const t = (iso: string | null) => (iso ? Date.parse(iso) : NaN);
const e = htmlEscape;
const html = (parts: Inline) => parts.map((p) => (typeof p === "string" ? e(p) : `<code>${e(p.code)}</code>`)).join("");
const list = (items: Inline[]) => (items.length ? `<ul>${items.map((i) => `<li>${html(i)}`).join("")}</ul>\n` : "");

/** The timeline: one row per phase and per task on one axis from the first start to the last end (or the report's time). */
function timeline(m: ReportModel): string {
  const now = t(m.generatedAt);
  const rows = [
    ...m.phases.filter((p) => !p.name.startsWith("task:")).map((p) => ({ name: p.name, kind: "phase", state: p.finishedAt ? "" : "running", start: t(p.startedAt), end: t(p.finishedAt) })),
    ...m.tasks.map((k) => ({ name: k.name, kind: "task", state: k.state, start: t(k.startedAt), end: t(k.finishedAt) })),
  ].map((r) => ({ ...r, end: Number.isNaN(r.end) ? now : r.end }));
  const t0 = Math.min(...rows.map((r) => r.start).filter((n) => n === n));
  if (!Number.isFinite(t0)) return `<p class=m>No phase or task started.</p>\n`;
  const t1 = Math.max(t0 + 1, ...rows.map((r) => r.end));
  const x = (n: number) => Math.round(((n - t0) / (t1 - t0)) * 1000);
  const bars = rows.map((r) => {
    const took = r.start === r.start ? formatDuration(r.end - r.start) : r.state;
    const bar = r.start === r.start ? `<rect class="${r.state}" x="${x(r.start)}" width="${Math.max(3, x(r.end) - x(r.start))}" height="10"><title>${e(`${r.name}: ${r.state || "done"}, ${took}`)}</title></rect>` : "";
    const mark = r.state === "failed" || r.state === "cancelled" ? "✗ " : "";
    return `<span class="${r.kind === "task" ? r.state : "m"}">${mark}${e(r.name)}</span><svg data-${r.kind}="${e(r.name)}" data-state="${r.state}" viewBox="0 0 1000 10" preserveAspectRatio="none">${bar}</svg><span>${took}</span>\n`;
  });
  return `<div class=tl>\n${bars.join("")}<span></span><span class=m>0s … ${formatDuration(t1 - t0)}</span><span></span></div>\n`;
}

/** The HTML page of a report. */
export function renderHtml(m: ReportModel): string {
  const parts = [
    `<h1>unidesk-ci run <code>${e(m.runId)}</code>: <span class="${m.status}">${m.status}</span></h1>\n<table>\n${reportFacts(m).map(([k, v]) => `<tr><th>${k}<td>${html(v)}\n`).join("")}</table>\n<h2>Timeline</h2>\n${timeline(m)}`,
  ];
  if (m.failures.length) parts.push(`<h2>Failures</h2>\n${m.failures.map((f) => `<p class=failed><b>${e(failureHeadline(f))}</b>${f.log ? ` <span class=m>${e(f.log)}</span>` : ""}</p>\n<pre>${e(f.tail.join("\n"))}</pre>\n`).join("")}`);
  const c = changeItems(m.changes);
  if (c) parts.push(`<h2>Changes since the last green run</h2>\n<p>${html(c.intro)}</p>\n${list(c.items)}${c.commits.length ? `<p>Manifest commits in between:</p>\n${list(c.commits)}` : ""}`);
  if (m.tasks.length) parts.push(`<h2>Tasks</h2>\n<table>\n${m.tasks.map((k) => `<tr><td>${e(k.name)}<td class="${k.state}">${k.state}<td>${k.durationMs === null ? "" : formatDuration(k.durationMs)}\n`).join("")}</table>\n`);
  const failed = new Set(m.failures.map((f) => f.log));
  if (m.logs.length) parts.push(`<h2>Logs</h2>\n${m.logs.map((l) => `<details${failed.has(l.path) ? " open" : ""}><summary><code>${e(l.source)}</code> <span class=m>${e(l.path)}, ${l.sizeBytes} bytes${l.truncated ? ", its tail" : ""}</span></summary>\n<pre>${e(l.lines.join("\n"))}</pre></details>\n`).join("")}`);
  const csp = `default-src 'none'; style-src '${REPORT_CSS_SHA256}'; base-uri 'none'; form-action 'none'`;
  return `<!DOCTYPE html>\n<html lang=en>\n<meta charset=utf-8>\n<meta http-equiv=Content-Security-Policy content="${csp}">\n<title>unidesk-ci ${e(m.runId)}: ${m.status}</title>\n<style>${REPORT_CSS}</style>\n${parts.join("")}<p class=m>unidesk-ci report, ${m.generatedAt}</p>\n`;
}

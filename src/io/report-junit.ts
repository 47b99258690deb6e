/**
 * `report --junit`: one `testsuite` for the run, one `testcase` per pipeline task (docs/commands.md#report), as
 * GitHub Actions, GitLab and Jenkins read JUnit XML. Text comes from {@link visibleText} (no character illegal in
 * XML 1.0 is left) and is escaped here.
 */
import { failureHeadline, runDidNotSucceed, visibleText, type ReportModel, type ReportTask } from "./report-model.ts";

/**
 * XML text or attribute value: every character XML 1.0 does not allow shown as an escape ({@link visibleText}, so no
 * caller can make the document unreadable), markup escaped; in attributes tab, LF and CR as references (they would
 * be normalised away).
 */
export function xmlEscape(text: string, attribute = false): string {
  const out = visibleText(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return attribute ? out.replace(/"/g, "&quot;").replace(/\t/g, "&#9;").replace(/\n/g, "&#10;").replace(/\r/g, "&#13;") : out;
}

const seconds = (ms: number | null) => ((ms ?? 0) / 1000).toFixed(3);
const attrs = (pairs: [string, string | null][]) => pairs.filter(([, v]) => v !== null).map(([k, v]) => ` ${k}="${xmlEscape(v!, true)}"`).join("");
/** One line of at most 500 characters, for a `message` attribute. */
const oneLine = (text: string) => (text.length > 500 ? `${text.slice(0, 499)}…` : text).replace(/\s*\n\s*/g, " ");

/** The testcase of one task: passed, `<skipped/>`, `<failure>` (failed) or `<error>` (cancelled). */
function testcase(m: ReportModel, t: ReportTask, classname: string): string {
  const head = `  <testcase${attrs([["name", t.name], ["classname", classname], ["time", seconds(t.durationMs)]])}`;
  if (t.state === "succeeded") return `${head}/>\n`;
  if (t.state === "skipped" || t.state === "pending" || t.state === "running") {
    const why = t.state === "skipped" ? "skipped: the pipeline did not run it" : t.state === "running" ? "still running when the report was made" : "not started when the report was made";
    return `${head}>\n    <skipped${attrs([["message", why]])}/>\n  </testcase>\n`;
  }
  const failures = m.failures.filter((f) => f.task === t.name);
  const headline = failures[0] ? failureHeadline(failures[0]).slice(2) : `${t.name} ${t.state}${t.reason ? ` (${t.reason})` : ""}`;
  const body = failures.map((f) => [failureHeadline(f), `reason: ${f.reason}`, ...(f.log ? [`log: ${f.log}`] : []), ...(f.tail.length ? ["", ...f.tail] : [])].join("\n")).join("\n\n") || headline;
  const tag = t.state === "cancelled" ? "error" : "failure";
  return `${head}>\n    <${tag}${attrs([["message", oneLine(headline)], ["type", t.reason ?? t.state]])}>${xmlEscape(body)}</${tag}>\n  </testcase>\n`;
}

/** The JUnit XML document of a report. */
export function renderJunit(m: ReportModel): string {
  const classname = `unidesk-ci.${m.runId}`;
  const cases = m.tasks.map((t) => testcase(m, t, classname));
  const failures = m.tasks.filter((t) => t.state === "failed").length;
  let errors = m.tasks.filter((t) => t.state === "cancelled").length;
  const skipped = m.tasks.filter((t) => t.state === "skipped" || t.state === "pending" || t.state === "running").length;
  // A run that did not succeed with no task to blame (launcher, timeout, missing pipeline): one `run` case says why.
  if (runDidNotSucceed(m) && failures + errors === 0) {
    errors += 1;
    const why = `run ${m.status}${m.reason ? `: ${m.reason}` : ""}`;
    cases.push(`  <testcase${attrs([["name", "(run)"], ["classname", classname], ["time", seconds(m.durationMs)]])}>\n    <error${attrs([["message", oneLine(why)], ["type", m.status]])}>${xmlEscape(why)}</error>\n  </testcase>\n`);
  }
  const properties = [["runId", m.runId], ["status", m.status], ["manifestCommit", m.manifestCommit], ["pipelineRun", m.pipelineRun]] as const;
  const props = properties.filter(([, v]) => v !== null).map(([k, v]) => `    <property${attrs([["name", k], ["value", v]])}/>\n`).join("");
  const suite = attrs([
    ["name", `unidesk-ci ${m.runId}`],
    ["tests", String(cases.length)],
    ["failures", String(failures)],
    ["errors", String(errors)],
    ["skipped", String(skipped)],
    ["time", seconds(m.durationMs)],
    ["timestamp", m.startedAt],
  ]);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites${attrs([["name", "unidesk-ci"], ["tests", String(cases.length)], ["failures", String(failures)], ["errors", String(errors)], ["skipped", String(skipped)], ["time", seconds(m.durationMs)]])}>\n<testsuite${suite}>\n  <properties>\n${props}  </properties>\n${cases.join("")}</testsuite>\n</testsuites>\n`;
}

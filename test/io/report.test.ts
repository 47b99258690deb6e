// The report renderers on fixed runs: goldens, the JUnit XML read by an independent consumer (Debian's
// python3-junitparser) and checked well-formed by xmllint, hostile text that breaks none of the three formats.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { buildReportModel, visibleText } from "../../src/io/report-model.ts";
import { renderJunit } from "../../src/io/report-junit.ts";
import { mdCode, mdFence, renderMarkdown } from "../../src/io/report-markdown.ts";
import { REPORT_CSS, REPORT_CSS_SHA256, renderHtml } from "../../src/io/report-html.ts";
import { testResult } from "../host/answers.ts";
import { assertGolden } from "../golden/golden.ts";
import { failedModel, runningModel, succeededModel, testLogs } from "./report-fixtures.ts";
import { junitparserRead, xmllint } from "./junit-check.ts";

describe("report model", () => {
  it("visibleText shows C0, DEL, bidi controls, U+FFFE and lone surrogates as escapes; keeps tab, LF and pairs", () => {
    assert.equal(visibleText("a\u0000b\u001bc\u007f\u202e\u2066\ufffe\ud800x\udc00 ok\t\n😀"), "a\\x00b\\x1bc\\x7f\\u202e\\u2066\\ufffe\\ud800x\\udc00 ok\t\n😀");
  });

  it("a result without failures or phases: the failed TaskRun's step, exit code and log tail, and the task spans", () => {
    const RUN = "dev-20261127-162626-k3x9a2";
    const lines = Array.from({ length: 25 }, (_, i) => `line ${i + 1}`).join("\n") + "\n";
    const logs = testLogs(RUN, { result: testResult(RUN, { status: "failed" }), tasks: ["a", "b"], runs: [["a", "True", "Succeeded"], ["b", "False", "Failed"]], pods: { [`pods/e2e-${RUN}-b-pod_step-b.log`]: lines } });
    const m = buildReportModel(logs, { now: new Date("2026-11-27T16:30:00Z") });
    assert.equal(m.failures.length, 1);
    assert.deepEqual({ ...m.failures[0], tail: m.failures[0]!.tail.length }, { task: "b", step: "b", exitCode: 2, reason: "Failed", message: '"step-b" exited with code 2', log: `pods/e2e-${RUN}-b-pod_step-b.log`, tail: 20 });
    assert.equal(m.failures[0]!.tail.at(-1), "line 25");
    assert.deepEqual(m.phases.map((p) => p.name), ["pipelinerun", "task:a", "task:b"]);
  });

  it("a running run: status running, duration and the running task's until now, pending tasks without one", () => {
    const m = runningModel();
    assert.equal(m.status, "running");
    assert.deepEqual(m.tasks.map((t) => [t.name, t.state, t.durationMs]), [["check-inputs", "succeeded", 2000], ["smoke", "running", 204_000], ["report", "pending", null]]);
    assert.deepEqual(m.failures, []);
  });
});

describe("report --junit", () => {
  for (const [name, model, expected] of [
    ["failed", failedModel, { tests: 3, failures: 1, errors: 0, skipped: 1, cases: [["check-inputs", "passed"], ["deploy<script>", "Failure"], ["report", "Skipped"]] }],
    ["succeeded", succeededModel, { tests: 2, failures: 0, errors: 0, skipped: 0, cases: [["check-inputs", "passed"], ["report", "passed"]] }],
    ["running", runningModel, { tests: 3, failures: 0, errors: 0, skipped: 2, cases: [["check-inputs", "passed"], ["smoke", "Skipped"], ["report", "Skipped"]] }],
  ] as const) {
    it(`${name}: well-formed, junitparser counts one test per pipeline task, failures = failed tasks (golden report-${name}.xml)`, async () => {
      const xml = renderJunit(model());
      xmllint(xml);
      assert.deepEqual(junitparserRead(xml), expected);
      await assertGolden(`report-${name}.xml`, xml);
    });
  }

  it("a failed run with no task to blame gets one (run) case with an error", () => {
    const RUN = "dev-20261127-162626-k3x9a2";
    const m = buildReportModel(testLogs(RUN, { result: testResult(RUN, { status: "error", reason: "fetch failed <x>" }), tasks: [], runs: [] }), { now: new Date() });
    const xml = renderJunit(m);
    xmllint(xml);
    assert.deepEqual(junitparserRead(xml), { tests: 1, failures: 0, errors: 1, skipped: 0, cases: [["(run)", "Error"]] });
  });

  it("hostile text stays text: the failure body and message carry it escaped, nothing illegal in XML 1.0 is left", () => {
    const xml = renderJunit(failedModel());
    assert.ok(!/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(xml));
    assert.ok(!xml.includes("<script>") && !xml.includes("]]></failure><"));
    assert.match(xml, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(xml, /\\x01\\x1b\[31m\\u202eRTL\\ud800/);
    const body = execFileSync("xmllint", ["--xpath", "string(//testcase[@name='deploy<script>']/failure)", "-"], { input: xml, encoding: "utf8" });
    assert.match(body, /^✗ deploy<script>\/deploy exited 1: "step-deploy" exited with code 1 x\]\]><\/failure><script>/);
    assert.match(body, /applying manifests\nx\]\]><\/failure>.*\n\\x07bell\n?$/);
  });
});

describe("report --markdown", () => {
  for (const [name, model] of [["failed", failedModel], ["succeeded", succeededModel], ["running", runningModel]] as const) {
    it(`${name} (golden report-${name}.md)`, () => assertGolden(`report-${name}.md`, renderMarkdown(model())));
  }

  it("untrusted text sits only in code spans and fences its content cannot close; no raw HTML, link or extra cell", () => {
    const md = renderMarkdown(failedModel());
    // Outside code spans and fenced blocks, no untrusted markup is left.
    const bare = md.replace(/^(`{3,})text\n[\s\S]*?\n\1$/gm, "").replace(/(`+)[^`]*?(?:`(?!\1)[^`]*?)*\1/g, "");
    assert.ok(!/<(?!sub>|\/sub>)|\]\(|onerror|https?:/.test(bare), bare);
    for (const row of md.split("\n").filter((l) => l.startsWith("| "))) assert.equal(row.replace(/\\\|/g, "").split("|").length - 2, row.startsWith("| task") || row.includes("|---|---|---|") || /^\| `/.test(row) ? 3 : 2, row);
  });

  it("mdCode and mdFence: fences longer than any backtick run inside", () => {
    assert.equal(mdCode("a ``b`` | c"), "```a ``b`` \\| c```");
    assert.equal(mdCode("`x"), "`` `x ``");
    assert.equal(mdFence(["````", "x"]), "`````text\n````\nx\n`````\n");
  });
});

describe("report --html", () => {
  for (const [name, model] of [["failed", failedModel], ["succeeded", succeededModel], ["running", runningModel]] as const) {
    it(`${name} (golden report-${name}.html)`, () => assertGolden(`report-${name}.html`, renderHtml(model())));
  }

  it("the CSP's style hash is the stylesheet's; no script, no URL to anywhere", () => {
    assert.equal(REPORT_CSS_SHA256, `sha256-${createHash("sha256").update(REPORT_CSS).digest("base64")}`);
    const html = renderHtml(failedModel());
    const tags = html.match(/<[^>]*>/g) ?? [];
    assert.deepEqual(tags.filter((t) => /^<(script|img|a|iframe|link)\b|\s(src|href|on\w+)=/i.test(t)), [], "a tag or URL attribute from the hostile text survived");
    assert.match(html, /&#60;script&#62;alert\(1\)&#60;\/script&#62;&#34;&#62;&#60;img src=x onerror=alert\(2\)&#62;/);
  });
});

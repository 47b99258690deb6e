import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { cli, cliCounted, dispatchKinds, jsonOf, show, withE2e } from "./sandbox-helpers.ts";
import { junitparserRead, xmllint } from "../io/junit-check.ts";
import { RUN_END_WAIT_MS } from "../support/until.ts";

/** `report` against the built bundle on a failed run of the sandbox: one logs dispatch per call, files an independent consumer reads. */
describe("e2e: report of a failed run", () => {
  it("--junit - then --markdown F --html F: one dispatch each, JUnit read by junitparser, well-formed, exit 0", () => withE2e(async (e2e) => {
    const runId = "e2e-report-1";
    e2e.sb.kube!.setOutcome(runId, { kind: "fail", message: "e2e assertion <failed> & ]]>" });
    const run = await cli(e2e, ["run-dev-e2e", "--run-id", runId, "--wait-ms", RUN_END_WAIT_MS]);
    assert.equal(run.code, 1, show(run));

    const from = e2e.sb.backend.requests.length;
    const junit = await cliCounted(e2e, ["report", runId, "--junit", "-"]);
    assert.equal(junit.code, 0, show(junit));
    assert.equal(junit.calls, 1);
    assert.deepEqual(dispatchKinds(e2e.sb, from), ["logs"]);
    xmllint(junit.stdout);
    const read = junitparserRead(junit.stdout);
    assert.deepEqual([read.tests, read.failures, read.errors, read.skipped], [3, 1, 0, 0], junit.stdout);
    assert.deepEqual(read.cases, [["check-inputs", "passed"], ["smoke-namespace", "passed"], ["report", "Failure"]]);
    assert.match(junit.stdout, /<failure message="report\/report exited 1: &quot;step-report&quot; exited with code 1"/);
    assert.match(junit.stdout, /\[report\] FAILED: e2e assertion &lt;failed&gt; &amp; \]\]&gt;/);
    assert.match(junit.stderr, /^run e2e-report-1 failed; wrote junit to stdout$/m);

    const dir = mkdtempSync(join(tmpdir(), "uci-report-e2e-"));
    try {
      const md = join(dir, "summary.md");
      const html = join(dir, "report.html");
      const files = await cliCounted(e2e, ["report", runId, "--markdown", md, "--html", html, "--json"]);
      assert.equal(files.code, 0, show(files));
      assert.equal(files.calls, 1);
      assert.deepEqual(jsonOf(files).written.map((w: { format: string }) => w.format), ["markdown", "html"]);
      assert.deepEqual(readdirSync(dir).sort(), ["report.html", "summary.md"], "no temporary file left");
      const summary = readFileSync(md, "utf8");
      assert.match(summary, /^## ✗ unidesk-ci run `e2e-report-1`: failed$/m);
      assert.match(summary, /^\| `report` \| ✗ failed \| \d+s \|$/m);
      assert.match(summary, /^````?text\n[\s\S]*\[report\] FAILED: e2e assertion <failed> & \]\]>\n/m);
      const page = readFileSync(html, "utf8");
      assert.match(page, /<svg data-task="report" data-state="failed"/);
      assert.match(page, /e2e assertion &#60;failed&#62; &#38; \]\]&#62;/);

      const missing = await cliCounted(e2e, ["report", runId, "--html", join(dir, "no", "r.html")]);
      assert.equal(missing.code, 2, show(missing));
      assert.equal(missing.calls, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }));
});

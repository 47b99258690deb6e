// The HTML report in a real headless Chromium (Debian's /usr/bin/chromium, driven by the pinned playwright-core):
// no console error, no request leaving the page, a bar per started task, the failed task marked, a screenshot kept
// under test-artifacts/ (docs/commands.md#report).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { chromium } from "playwright-core";
import { renderHtml } from "../../src/io/report-html.ts";
import { failedModel, runningModel } from "./report-fixtures.ts";

/** Where screenshots are kept (gitignored). */
export const ARTIFACTS = new URL("../../test-artifacts/", import.meta.url).pathname;

/** What the page did in the browser: console errors, requests other than the page itself, the timeline's rows. */
export async function openInChromium(html: string, screenshot: string) {
  const dir = mkdtempSync(join(tmpdir(), "uci-report-"));
  const file = join(dir, "report.html");
  writeFileSync(file, html);
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless=new", "--no-sandbox"], timeout: 120_000 });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(60_000);
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => void (m.type() === "error" && errors.push(m.text())));
    page.on("pageerror", (e) => void errors.push(String(e)));
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url === `file://${file}` || url.startsWith("data:")) return route.continue();
      requests.push(url);
      return route.abort();
    });
    await page.goto(`file://${file}`, { waitUntil: "load" });
    const rows = await page.$$eval("svg[data-task]", (svgs) => svgs.map((s) => ({ task: s.getAttribute("data-task"), state: s.getAttribute("data-state"), bars: s.querySelectorAll("rect").length, width: s.querySelector("rect")?.getBoundingClientRect().width ?? 0, fill: s.querySelector("rect") ? getComputedStyle(s.querySelector("rect")!).fill : null })));
    const phases = await page.$$eval("svg[data-phase] rect", (r) => r.length);
    const scripts = await page.$$eval("script, img", (n) => n.length);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, screenshot), fullPage: true });
    return { errors, requests, rows, phases, scripts };
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("report --html in headless Chromium", { timeout: 240_000 }, () => {
  it("a failed run with hostile text: no console error, no request, a bar per started task, the failed one red", async () => {
    const r = await openInChromium(renderHtml(failedModel()), "report-failed.png");
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.requests, []);
    assert.equal(r.scripts, 0, "the hostile <script>/<img> became elements");
    assert.deepEqual(r.rows.map((x) => [x.task, x.state, x.bars]), [["check-inputs", "succeeded", 1], ["deploy<script>", "failed", 1], ["report", "skipped", 0]]);
    assert.ok(r.rows.filter((x) => x.bars).every((x) => x.width >= 1), JSON.stringify(r.rows));
    assert.equal(r.rows[1]!.fill, "rgb(204, 34, 34)", "the failed task's bar is red");
    assert.equal(r.phases, 4);
  });

  it("a running run: its running task has a bar up to the report's time", async () => {
    const r = await openInChromium(renderHtml(runningModel()), "report-running.png");
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.requests, []);
    assert.deepEqual(r.rows.map((x) => [x.task, x.state, x.bars]), [["check-inputs", "succeeded", 1], ["smoke", "running", 1], ["report", "pending", 0]]);
  });
});

// What the cluster writes reaches reports and the terminal only as data (docs/security.md): each test is an attack
// through a field of progress.json, result.json or a pod log, against `report` (JUnit read by xmllint, Markdown,
// HTML, files and stdout) and `logs`' digest. Found by a review of 82caf1d (2026-12-06).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fakeEnv } from "../../src/env.ts";
import { writeFileAtomic } from "../../src/write-file.ts";
import { dispatchOf, hostAnswer, HttpMock } from "../http-mock.ts";
import { testProgress, testResult } from "../host/answers.ts";
import { runMainChecked } from "./helpers.ts";

const RUN = "dev-20261127-162626-k3x9a2";
const TOKEN = "tokH1secretABCDEFGH";
const vars = { HOME: "/nonexistent-home", UNIDESK_BACKEND_URL: "https://backend.test", UNIDESK_TOKEN: TOKEN };
const b64 = (s: string) => Buffer.from(s).toString("base64");
const blen = (s: string) => Buffer.byteLength(s);
const POD = `pods/e2e-${RUN}-deploy-pod_step-deploy.log`;

/** The logs reader's answer for RUN: progress.json and pod logs as files, result.json when given. */
function answer(opts: { result?: object | null; progress: object; pods?: Record<string, string> }) {
  const progress = JSON.stringify(opts.progress);
  const files: [string, string][] = [["progress.json", progress], ...Object.entries(opts.pods ?? {})];
  const result = opts.result ? JSON.stringify(opts.result) : null;
  return hostAnswer([
    "unidesk-ci-logs\t1", `runid\t${RUN}`, "caps\t1000000\t1000000\t200", "run\tpresent", opts.result ? "liveness\tdead\tgone" : "liveness\tlive\tlauncher runs",
    result ? `result\tb64:${b64(result)}\t${blen(result)}` : "result\t-\t0",
    ...files.map(([p, c]) => `file\t${b64(p)}\t${blen(c)}\tb64:${b64(c)}`), "omitted\t0\texact", `end\t${files.length}\t0`, "",
  ].join("\n"));
}

/** A failed deploy task whose TaskRun message is `message` (Tekton's words, raw in progress.json). */
function failedProgress(message = '"step-deploy" exited with code 1', status = "False"): Record<string, any> {
  const progress = testProgress(RUN, ["deploy"], [["deploy", status, status === "False" ? "Failed" : "Running"]]) as Record<string, any>;
  progress.taskRuns[0].message = message;
  return progress;
}

/** `report RUN <args>` against one answer: exit code, stdout, the files written. */
async function report(args: string[], opts: Parameters<typeof answer>[0]) {
  const files: Record<string, string> = {};
  const env = fakeEnv({ vars, fetch: new HttpMock().register(dispatchOf("logs"), answer(opts)).fetch, files });
  const code = await runMainChecked(["report", RUN, ...args], env);
  return { code, out: env.out(), err: env.err(), files };
}

const xmllint = (xml: string) => execFileSync("xmllint", ["--noout", "-"], { input: xml, stdio: ["pipe", "pipe", "pipe"] });

describe("hostile text in reports and digests", () => {
  it("the token in a pod log is redacted in every report FILE, as on stdout", async () => {
    const pods = { [POD]: `curl -H 'Authorization: Bearer ${TOKEN}' failed\n` };
    const r = await report(["--markdown", "r.md", "--html", "r.html", "--junit", "r.xml"], { progress: failedProgress(), pods });
    assert.equal(r.code, 0);
    for (const f of ["r.md", "r.html", "r.xml"]) {
      assert.ok(!r.files[f]!.includes(TOKEN), `${f} holds no token`);
      assert.match(r.files[f]!, /Bearer \*\*\*/, `${f} still has the line, the token masked`);
    }
  });

  it("a token straddling the report's cut of a long tail line leaves no prefix of it", async () => {
    const pods = { [POD]: `${"x".repeat(400 - 12)}${TOKEN}\n` };
    for (const format of ["--markdown", "--junit", "--html"]) {
      const r = await report([format, "-"], { progress: failedProgress(), pods });
      assert.equal(r.code, 0);
      assert.ok(!r.out.includes(TOKEN.slice(0, 6)), `${format}: no part of the token`);
    }
  });

  it("a start time in progress.json that is Markdown (a fake heading, a remote image) is not a fact of the report", async () => {
    const progress = failedProgress(undefined, "Unknown");
    progress.startedAt = "2026 | x |\n\n# All green ✓\n\n![](https://evil.example/pixel.png) <img src=https://evil.example/i.png>";
    const r = await report(["--markdown", "-"], { progress });
    assert.equal(r.code, 0);
    assert.doesNotMatch(r.out, /evil\.example|All green/);
    assert.match(r.out, /\| started \| 2026-11-27T16:26:30Z \|/, "the PipelineRun's own start time instead");
  });

  it("JUnit stays well-formed XML whatever the commit, PipelineRun, start time or Tekton's step name hold (C0, U+FFFE, U+FFFF)", async () => {
    const progress = failedProgress('"step-x\ufffe\u0001" exited with code 1');
    progress.manifestCommit = "abc\u0001";
    progress.pipelineRun.name = "e2e-\uffff\u0008";
    progress.startedAt = "2026\u0008";
    const r = await report(["--junit", "j.xml"], { progress });
    assert.equal(r.code, 0);
    xmllint(r.files["j.xml"]!);
    assert.match(r.files["j.xml"]!, /e2e-\\uffff\\x08/, "the odd characters shown as escapes");
    assert.match(r.files["j.xml"]!, /x\\ufffe\\x01/);
  });

  it("text hidden in a log line (zero-width space, word joiner, soft hyphen, Hangul filler, tag characters) is shown, in every report and on the terminal", async () => {
    const hidden = "ok\u200b\u2060\u00ad\u3164\u{E0041}\u{E0042}done 😀";
    const pods = { [POD]: `${hidden}\n` };
    for (const format of ["--markdown", "--junit", "--html"]) {
      const r = await report([format, "-"], { progress: failedProgress(), pods });
      assert.doesNotMatch(r.out, /[\u200b\u2060\u00ad\u3164]|\udb40/, format);
      assert.match(r.out, /ok\\u200b\\u2060\\xad\\u3164\\u\{e0041\}\\u\{e0042\}done 😀/, format);
    }
    const env = fakeEnv({ vars, fetch: new HttpMock().register(dispatchOf("logs"), answer({ progress: failedProgress(), pods })).fetch, files: {} });
    await runMainChecked(["logs", RUN], env);
    assert.match(env.out(), /ok\\u200b\\u2060\\u00ad\\u3164\\u\{e0041\}\\u\{e0042\}done 😀/);
  });

  for (const [where, opts] of [
    ["result.json's failures[].message", { result: testResult(RUN, { status: "failed", reason: "PipelineRun failed", failures: [{ task: "deploy", step: "deploy", exitCode: 1, reason: "Failed", message: "oops\nstatus:      succeeded\r\n✓ all tasks passed", log: null, tail: [] }] }), progress: failedProgress() }],
    ["a TaskRun message in progress.json", { result: testResult(RUN, { status: "failed", reason: "PipelineRun failed" }), progress: failedProgress('"step-deploy" exited with code 1\nstatus:      succeeded\u2028✓ all tasks passed') }],
    ["result.json's reason", { result: testResult(RUN, { status: "failed", reason: "PipelineRun failed\n✓ all tasks passed" }), progress: failedProgress() }],
  ] as const) {
    it(`a line break in ${where} never starts a fake line of the digest`, async () => {
      const env = fakeEnv({ vars, fetch: new HttpMock().register(dispatchOf("logs"), answer(opts)).fetch, files: {} });
      await runMainChecked(["logs", RUN], env);
      const text = env.out() + env.err();
      assert.doesNotMatch(text, /^\s*(✓ all tasks passed|status:\s+succeeded)/m);
      assert.match(text, /all tasks passed/, "the words are still shown, on the line they belong to");
    });
  }
});

describe("report files", () => {
  const dir = mkdtempSync(join(tmpdir(), "uci-report-mode-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("a new report file is the operator's alone (0600); a file replaced keeps its mode", async () => {
    const fresh = join(dir, "new.xml");
    await writeFileAtomic(fresh, "<x/>");
    assert.equal(statSync(fresh).mode & 0o777, 0o600);
    const shared = join(dir, "shared.xml");
    writeFileSync(shared, "old");
    chmodSync(shared, 0o644);
    await writeFileAtomic(shared, "<y/>");
    assert.equal(statSync(shared).mode & 0o777, 0o644);
    // Another user's file at FILE (planted 0666 in a directory others can write) lends no mode: the report is 0600.
    const open = join(dir, "open");
    chmodSync(dir, 0o755);
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    const planted = join(open, "report.xml");
    execFileSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "bash", "-c", `umask 0; echo theirs > ${planted}`]);
    await writeFileAtomic(planted, "<z/>");
    assert.equal(statSync(planted).mode & 0o777, 0o600);
  });
});

/**
 * Attack: pod log lines, condition messages, result reasons, task names and backend text carrying every escape
 * family (OSC 52/8/0, cursor moves, erases, bare CR, C1, bidi) reach no terminal raw, through every human command
 * output; the CLI's own colours still do. `--json` keeps the data, with C1 and bidi as \u escapes.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeOperatorRepo } from "../../build/bench-fixture.ts";
import { fakeEnv } from "../../src/env.ts";
import { sanitizeTerminalText } from "../../src/io/terminal.ts";
import { backendError, dispatchOf, hostAnswer, HttpMock } from "../http-mock.ts";
import { testProgress, testResult, watchAnswer } from "../host/answers.ts";
import { fakeBackend, realSpawn, runMainChecked } from "./helpers.ts";
import { HOSTILE } from "../io/hostile-text.ts";

const TOKEN = "tok-escapes-3f1e";
const RUN = "dev-20261127-162626-k3x9a2";

const ALL = Object.values(HOSTILE).join(" ");

/** Our own sequences: the palette's SGR codes and the progress block's redraw; nothing else may be raw. */
function assertTerminalSafe(text: string, what: string): void {
  const stripped = text.replace(/\x1b\[(1|2|22|31|32|33|39)m/g, "").replace(/\x1b\[\d+F\x1b\[J/g, "");
  assert.doesNotMatch(stripped, /\x1b/, `${what}: raw ESC\n${JSON.stringify(text)}`);
  assert.doesNotMatch(stripped, /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/, `${what}: raw control`);
  assert.doesNotMatch(stripped, /[\u202a-\u202e\u2066-\u2069]/, `${what}: raw bidi`);
  assert.doesNotMatch(stripped, /\r(?!\n)/, `${what}: bare CR`);
}

describe("sanitizeTerminalText shows every family visibly escaped", () => {
  for (const [name, text] of Object.entries(HOSTILE)) {
    it(name, () => {
      const out = sanitizeTerminalText(text);
      assertTerminalSafe(out, name);
      assert.match(out, /\\x1b|\\x0d|\\u009[bcd]|\\u202[ce]|\\u206[69]|\\x7f/);
    });
  }
  it("keeps newlines, tabs, CRLF and ordinary text", () => assert.equal(sanitizeTerminalText("a\tb\r\nc ü ✓\n"), "a\tb\r\nc ü ✓\n"));
});

describe("every human output is terminal-safe (colours on, a TTY)", () => {
  const vars = { HOME: "/nonexistent-home", UNIDESK_BACKEND_URL: "https://backend.test", UNIDESK_TOKEN: TOKEN, CLICOLOR_FORCE: "1" };
  const watch = dispatchOf("watch");
  const task = `report${HOSTILE["bidi override"]}`;
  const progress = (status: string, reason: string) => {
    const p = testProgress(RUN, [task], [[task, status, reason]]) as { taskRuns: { message: string | null }[]; pipelineRun: { message: string | null } };
    p.taskRuns[0]!.message = ALL;
    p.pipelineRun.message = ALL;
    return { version: `1:1:${status.length}`, json: p };
  };
  const followed = () =>
    new HttpMock()
      .register(watch, hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}`, progress: progress("Unknown", `Running${HOSTILE["OSC 0 title"]}`), chunks: [{ path: "runner.log", offset: 0, data: `runner ${ALL}\n` }, { path: `pods/e2e-${RUN}-report-pod_step-report.log`, offset: 0, data: `pod ${ALL}\n` }] })))
      .register(watch, hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}`, result: testResult(RUN, { status: "failed", reason: `reason ${ALL}` }), progress: progress("False", `Failed${HOSTILE["C1 CSI"]}`) })));

  for (const tty of [true, false]) {
    it(`logs --follow (tty: ${tty}): log lines, task names, reasons, condition messages`, async () => {
      const env = fakeEnv({ vars, fetch: followed().fetch, tty });
      assert.equal(await runMainChecked(["logs", RUN, "--follow"], env), 1);
      assert.match(env.out(), /pod /);
      assertTerminalSafe(env.out(), "stdout");
      assertTerminalSafe(env.err(), "stderr");
      assert.match(env.out() + env.err(), /\\x1b\]52/, "shown visibly escaped");
    });
  }

  it("--json keeps the data: C0 escaped by JSON, C1 and bidi as \\u escapes, nothing raw", async () => {
    const env = fakeEnv({ vars, fetch: followed().fetch });
    assert.equal(await runMainChecked(["logs", RUN, "--follow", "--json"], env), 1);
    assertTerminalSafe(env.out(), "json");
    const lines = env.out().trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(lines.some((d) => d.event === "line" && d.content === `pod ${ALL}`), "the exact text survives in the data");
  });

  it("errors: a backend error code and message with escapes, newlines and the token", async () => {
    const mock = new HttpMock().register(dispatchOf("runs"), backendError(400, `bad\x1b]52;c;x\x07\nerror: forged ${TOKEN}`, `msg ${ALL}\nhint: forged Bearer ${TOKEN}`));
    for (const json of [false, true]) {
      const env = fakeEnv({ vars, fetch: mock.fetch, tty: true });
      assert.equal(await runMainChecked(["runs", ...(json ? ["--json"] : [])], env), 5);
      const all = env.out() + env.err();
      assert.ok(!all.includes(TOKEN), all);
      assertTerminalSafe(all, "error");
      if (!json) assert.equal(env.err().split("\n").filter((l) => /^(error|hint):/.test(l)).length, 1 + (env.err().includes("\nhint:") ? 1 : 0));
      if (!json) assert.doesNotMatch(env.err(), /^error: forged|^hint: forged/m);
    }
  });

  it("doctor: backend text in the report and the error", async () => {
    const mock = new HttpMock().register(dispatchOf("doctor"), backendError(502, `c\x1b[2K${TOKEN}`, `m ${ALL}`)).register(dispatchOf("doctor"), backendError(502, "c", `m ${ALL}`)).register(dispatchOf("doctor"), backendError(502, "c", `m ${ALL}`));
    const env = fakeEnv({ vars, fetch: mock.fetch, tty: true });
    await runMainChecked(["doctor"], env);
    assertTerminalSafe(env.out(), "doctor stdout");
    assertTerminalSafe(env.err(), "doctor stderr");
    assert.ok(!(env.out() + env.err()).includes(TOKEN));
  });
});

describe("on disk, through the real readers: logs, runs, run-dev-e2e --wait-ms, cancel", () => {
  let dir: string;
  let repo: string;
  let runsRoot: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "unidesk-ci-esc-"));
    repo = makeOperatorRepo(dir);
    const commit = execFileSync("git", ["-C", repo, "rev-parse", "origin/master"], { encoding: "utf8" }).trim();
    runsRoot = join(dir, "runs");
    for (const id of ["esc-run-1", "esc-run-2"]) {
      mkdirSync(join(runsRoot, id, "pods"), { recursive: true });
      writeFileSync(join(runsRoot, id, "runner.log"), `runner ${ALL}\n`);
      writeFileSync(join(runsRoot, id, "pods", `e2e-${id}-report-pod_step-report.log`), `pod ${ALL}\n`);
      writeFileSync(join(runsRoot, id, "result.json"), JSON.stringify({ ok: false, status: "failed", reason: `reason ${ALL}`, runId: id, manifestCommit: commit, pipelineRun: `e2e-${id}`, temporaryNamespace: `unidesk-ci-${id}`, startedAt: "2026-01-01T00:00:00Z", finishedAt: "2026-01-01T00:02:05Z", durationMs: 125000, writer: "runner" }));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const vars = () => ({ HOME: dir, UNIDESK_BACKEND_URL: "https://backend.test", UNIDESK_TOKEN: TOKEN, UNIDESK_CI_RUNS_ROOT: runsRoot, CLICOLOR_FORCE: "1" });
  const cases: [string, string[]][] = [
    ["logs", ["logs", "esc-run-1"]],
    ["logs --file", ["logs", "esc-run-1", "--file", "runner.log"]],
    ["runs", ["runs"]],
    ["run-dev-e2e --wait-ms", ["run-dev-e2e", "--run-id", "esc-run-2", "--wait-ms", "60000"]],
    ["run-dev-e2e --follow", ["run-dev-e2e", "--run-id", "esc-run-2", "--follow"]],
    ["cancel", ["cancel", "esc-run-1"]],
  ];
  for (const [name, args] of cases) {
    for (const tty of [true, false]) {
      it(`${name} (tty: ${tty})`, async () => {
        const backend = fakeBackend({ token: TOKEN });
        const env = backend.tie(fakeEnv({ vars: vars(), fetch: backend.fetch, spawn: realSpawn, cwd: repo, tty }));
        await runMainChecked(args, env);
        assertTerminalSafe(env.out(), `${name} stdout`);
        assertTerminalSafe(env.err(), `${name} stderr`);
      });
    }
  }
});

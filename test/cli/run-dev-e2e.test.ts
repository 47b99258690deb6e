import { guardTerminalText } from "../../src/io/terminal.ts";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeOperatorRepo } from "../../build/bench-fixture.ts";
import { fakeEnv } from "../../src/env.ts";
import { RunFailedError, UsageError, WaitTimeoutError } from "../../src/errors.ts";
import { runCli } from "../../src/cli/program.ts";
import { testProgress } from "../host/answers.ts";
import { fakeBackend, realSpawn, runMainChecked } from "./helpers.ts";

const TOKEN = "tok-inproc-91b2";
const COMMIT_RE = /^[0-9a-f]{40}$/;

describe("run-dev-e2e and logs, in process", () => {
  let dir: string;
  let repo: string;
  let runsRoot: string;
  let commit: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "unidesk-ci-cmd-"));
    repo = makeOperatorRepo(dir);
    commit = execFileSync("git", ["-C", repo, "rev-parse", "origin/master"], { encoding: "utf8" }).trim();
    runsRoot = join(dir, "runs");
    mkdirSync(runsRoot);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const vars = () => ({ HOME: dir, UNIDESK_BACKEND_URL: "https://backend.test", UNIDESK_TOKEN: TOKEN, UNIDESK_CI_RUNS_ROOT: runsRoot });
  const env = (backend: ReturnType<typeof fakeBackend>, tty = false) => backend.tie(fakeEnv({ vars: vars(), fetch: backend.fetch, spawn: realSpawn, cwd: repo, tty }));
  const result = (runId: string, status: string) =>
    JSON.stringify({ ok: status === "succeeded", status, runId, manifestCommit: commit, pipelineRun: `e2e-${runId}`, temporaryNamespace: `unidesk-ci-${runId}`, startedAt: "2026-01-01T00:00:00Z", finishedAt: "2026-01-01T00:02:05Z", durationMs: 125000, writer: "runner" });
  const runDir = (runId: string) => {
    const d = join(runsRoot, runId);
    mkdirSync(d, { recursive: true });
    return d;
  };

  it("submits exactly the launcher --dry-run prints, in one dispatch, and prints runId, result dir and next commands", async () => {
    const dry = fakeEnv({ vars: { HOME: dir, UNIDESK_CI_RUNS_ROOT: runsRoot }, spawn: realSpawn, cwd: repo });
    await runCli(["run-dev-e2e", "--dry-run", "--run-id", "cmd-1"], dry);
    const backend = fakeBackend({ token: TOKEN });
    const e = env(backend);
    await runCli(["run-dev-e2e", "--run-id", "cmd-1"], e);
    assert.equal(backend.received.length, 1);
    const sent = backend.received[0]!;
    assert.equal(sent.command, dry.out());
    assert.deepEqual([sent.providerId, sent.capability, sent.timeoutMs], ["D601", "host.ssh", 60000]);
    assert.match(e.out(), /^runId: +cmd-1$/m);
    assert.match(e.out(), new RegExp(`^resultDir: +${runsRoot}/cmd-1$`, "m"));
    assert.match(e.out(), /^ {2}unidesk-ci logs cmd-1$/m);
    assert.ok(!(e.out() + e.err() + sent.command).includes(TOKEN));
  });

  it("--json gives one document with the run's coordinates", async () => {
    const backend = fakeBackend({ token: TOKEN });
    const e = env(backend);
    await runCli(["run-dev-e2e", "--json"], e);
    const doc = JSON.parse(e.out());
    assert.equal(doc.ok, true);
    assert.match(doc.runId, /^dev-\d{8}-\d{6}-[a-z0-9]{6}$/);
    assert.match(doc.manifestCommit, COMMIT_RE);
    assert.equal(doc.resultDir, `${runsRoot}/${doc.runId}`);
    assert.equal(doc.state, "started");
    assert.equal(e.err(), "");
  });

  it("a duplicate runId starts nothing and says so", async () => {
    const backend = fakeBackend({ token: TOKEN, launcherState: "duplicate" });
    const e = env(backend);
    await runCli(["run-dev-e2e", "--run-id", "cmd-dup"], e);
    assert.match(e.out(), /already existed/);
    assert.match(e.err(), /nothing new was started/);
  });

  it("--wait-ms: one watch answer per dispatch, one line per change, exit 0 on success", async () => {
    const d = runDir("cmd-wait-ok");
    const backend = fakeBackend({
      token: TOKEN,
      // As the runner: pipelinerun.txt, then progress.json (news: the reader answers at once), then result.json.
      beforeAnswer: (n) => {
        if (n === 2) {
          writeFileSync(join(d, "pipelinerun.txt"), "e2e-cmd-wait-ok\n");
          writeFileSync(join(d, "progress.json"), JSON.stringify(testProgress("cmd-wait-ok", ["check-inputs"], [["check-inputs", "Unknown", "Running"]])));
        }
        if (n === 3) writeFileSync(join(d, "result.json"), result("cmd-wait-ok", "succeeded"));
      },
    });
    const e = env(backend);
    await runCli(["run-dev-e2e", "--run-id", "cmd-wait-ok", "--wait-ms", "600000"], e);
    assert.deepEqual(backend.received.map((r) => r.kind), ["launcher", "watch", "watch", "watch"]);
    assert.match(e.err(), /task check-inputs running/);
    assert.match(e.err(), /starting/);
    assert.match(e.err(), /running e2e-cmd-wait-ok/);
    assert.match(e.out(), /^status: +succeeded$/m);
    assert.match(e.out(), /^duration: +2m05s$/m);
  });

  it("--wait-ms exits 1 (silently, summary printed) when the run failed", async () => {
    const d = runDir("cmd-wait-fail");
    writeFileSync(join(d, "result.json"), result("cmd-wait-fail", "failed"));
    const backend = fakeBackend({ token: TOKEN });
    const e = env(backend);
    await assert.rejects(runCli(["run-dev-e2e", "--run-id", "cmd-wait-fail", "--wait-ms", "60000"], e), (err) => err instanceof RunFailedError && err.silent && err.exitCode === 1);
    assert.match(e.out(), /^status: +failed$/m);
    assert.match(e.err(), /unidesk-ci logs cmd-wait-fail/);
  });

  it("--wait-ms exits 3 when the wait runs out, saying the run goes on", async () => {
    const d = runDir("cmd-wait-slow");
    writeFileSync(join(d, "pipelinerun.txt"), "e2e-cmd-wait-slow\n");
    const backend = fakeBackend({ token: TOKEN });
    const e = env(backend);
    await assert.rejects(runCli(["run-dev-e2e", "--run-id", "cmd-wait-slow", "--wait-ms", "5000"], e), (err) => err instanceof WaitTimeoutError && err.exitCode === 3 && /goes on/.test(err.message) && /logs cmd-wait-slow/.test(err.hint ?? ""));
    // The first answer at once, the second waits on the host for the rest of the deadline (nothing changes). The
    // reader naps in steps, so it may come back a few ms early: then one last look without a wait may follow.
    const waits = backend.received.filter((r) => r.kind === "watch").map((r) => Number(/^UCI_WAIT_MS='?(\d+)/m.exec(r.command)?.[1]));
    assert.equal(waits[0], 0, `asked waits: ${waits}`);
    assert.ok(waits[1]! > 2500 && waits.reduce((a, b) => a + b, 0) <= 5000, `asked waits: ${waits}`);
    assert.ok(waits.length <= 3 && waits.slice(2).every((w) => w === 0), `asked waits: ${waits}`);
  });

  it("--wait-ms --json prints one document, even on timeout", async () => {
    runDir("cmd-wait-json");
    const backend = fakeBackend({ token: TOKEN });
    const e = env(backend);
    await assert.rejects(runCli(["run-dev-e2e", "--run-id", "cmd-wait-json", "--wait-ms", "2000", "--json"], e), WaitTimeoutError);
    assert.equal(e.out(), "", "a failure's document is the reporter's to print");
    const m = env(fakeBackend({ token: TOKEN }));
    assert.equal(await runMainChecked(["run-dev-e2e", "--run-id", "cmd-wait-json", "--wait-ms", "2000", "--json"], m), 3);
    const doc = JSON.parse(m.out());
    assert.equal(doc.ok, false);
    assert.deepEqual([doc.error.code, doc.error.exitCode], ["wait_timeout", 3]);
    assert.deepEqual([doc.runId, doc.resultDir, doc.runMayHaveStarted, doc.state, doc.phase], ["cmd-wait-json", `${runsRoot}/cmd-wait-json`, true, "started", "starting"]);
    assert.equal(m.err(), "");
  });

  it("--wait-ms --json when the run failed: ok false, error run_failed with exitCode 1, and the result", async () => {
    writeFileSync(join(runDir("cmd-wait-fail-json"), "result.json"), result("cmd-wait-fail-json", "failed"));
    const e = env(fakeBackend({ token: TOKEN }));
    assert.equal(await runMainChecked(["run-dev-e2e", "--run-id", "cmd-wait-fail-json", "--wait-ms", "60000", "--json"], e), 1);
    const doc = JSON.parse(e.out());
    assert.equal(doc.ok, false);
    assert.deepEqual([doc.error.code, doc.error.exitCode], ["run_failed", 1]);
    assert.match(doc.error.message, /run cmd-wait-fail-json failed/);
    assert.deepEqual([doc.result.status, doc.runId, doc.state, doc.polls], ["failed", "cmd-wait-fail-json", "started", 1]);
    assert.equal(e.err(), "");
  });

  it("--wait-ms --json when the run succeeded: ok true, the result, no error", async () => {
    writeFileSync(join(runDir("cmd-wait-ok-json"), "result.json"), result("cmd-wait-ok-json", "succeeded"));
    const e = env(fakeBackend({ token: TOKEN }));
    assert.equal(await runMainChecked(["run-dev-e2e", "--run-id", "cmd-wait-ok-json", "--wait-ms", "60000", "--json"], e), 0);
    const doc = JSON.parse(e.out());
    assert.deepEqual([doc.ok, doc.result.status, doc.error], [true, "succeeded", undefined]);
  });

  it("on a TTY the task block redraws in place", async () => {
    const d = runDir("cmd-wait-tty");
    const backend = fakeBackend({ token: TOKEN, beforeAnswer: (n) => n === 2 && writeFileSync(join(d, "result.json"), result("cmd-wait-tty", "succeeded")) });
    const e = env(backend, true);
    await runCli(["run-dev-e2e", "--run-id", "cmd-wait-tty", "--wait-ms", "60000"], e);
    const frames = guardTerminalText(e.err()).replace(/\x1b\[\d+m/g, "").split("\x1b[1F\x1b[J");
    assert.match(frames[0]!, /\n\/ 0s\/1m00s starting \(fetching the manifest commit\)\n$/);
    assert.match(frames.at(-1)!, /^ {2}\d+s\/1m00s finished: succeeded\n$/);
    // While the reader answers (real bash), the clock ticks on the fake clock: one second per redraw, spinner turning.
    const ticks = frames.slice(1, -1);
    assert.deepEqual(ticks.map((f) => f.slice(2)), ticks.map((_, i) => `${i + 1}s/1m00s starting (fetching the manifest commit)\n`));
    const spinner = (frame: string) => frame.split("\n").at(-2)![0];
    assert.ok(ticks.length > 0 && ticks.every((f, i) => spinner(f) !== spinner(frames[i]!)), "the spinner turns at each redraw");
  });

  it("logs shows the result, the logs by source with truncation markers, the other files listed", async () => {
    const d = runDir("cmd-logs");
    writeFileSync(join(d, "result.json"), result("cmd-logs", "failed"));
    writeFileSync(join(d, "runner.log"), "step 1\nstep 2\n");
    writeFileSync(join(d, "launcher.log"), "x".repeat(300_000) + "\nlast line\n");
    mkdirSync(join(d, "pods"));
    writeFileSync(join(d, "pods", "e2e-cmd-logs-smoke-pod_step-test.log"), "assertion failed\n");
    const backend = fakeBackend({ token: TOKEN });
    const e = env(backend);
    await runCli(["logs", "cmd-logs"], e);
    assert.equal(backend.received.length, 1);
    const out = e.out();
    assert.match(out, /^status: +failed$/m);
    assert.match(out, /^\[runner\] step 1\n\[runner\] step 2$/m);
    assert.match(out, /^\[truncated: showing the last 262144 of 300011 bytes of launcher\.log\]\n\[launcher\] x+\n\[launcher\] last line$/m);
    assert.match(out, /^\[e2e-cmd-logs-smoke-pod\/step-test\] assertion failed$/m);
    // Every file of the run dir is listed, pod logs included, so `--file pods/…` can be copied from here.
    assert.match(out, /^files:\n {2}result\.json +\d+ bytes\n {2}launcher\.log +300011 bytes\n {2}runner\.log +14 bytes\n {2}pods\/e2e-cmd-logs-smoke-pod_step-test\.log +17 bytes\nprint one with: unidesk-ci logs cmd-logs --file NAME$/m);
  });

  it("logs --json carries the files and their sizes", async () => {
    const backend = fakeBackend({ token: TOKEN });
    const e = env(backend);
    await runCli(["logs", "cmd-logs", "--json"], e);
    const doc = JSON.parse(e.out());
    assert.equal(doc.status, "failed");
    const launcher = doc.files.find((f: { path: string }) => f.path === "launcher.log");
    assert.deepEqual([launcher.sizeBytes, launcher.keptBytes, launcher.truncated], [300011, 262144, true]);
  });

  it("logs of an unknown run is a clear usage error", async () => {
    const backend = fakeBackend({ token: TOKEN });
    const e = env(backend);
    await assert.rejects(runCli(["logs", "no-such-run"], e), (err) => err instanceof UsageError && /no run no-such-run/.test(err.message));
  });

  describe("a run nobody can find: every failure after the run id exists names it", () => {
    /** A backend that answers the launcher per `submit` and each watch answer per `poll` (n from 1); unset: the normal fake. */
    const brokenBackend = (breaks: { submit?: (abort: () => void) => Promise<Response>; poll?: (n: number) => Response | undefined }, abort: () => void = () => undefined) => {
      const normal = fakeBackend({ token: TOKEN });
      let polls = 0;
      const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
        const isLauncher = !String(init?.body).includes("unidesk-ci-watch");
        if (isLauncher && breaks.submit) return breaks.submit(abort);
        if (!isLauncher) {
          const broken = breaks.poll?.(++polls);
          if (broken) return broken;
        }
        return normal.fetch(input, init);
      }) as typeof fetch;
      return { fetch: fetchFn, received: normal.received };
    };
    const run = async (runId: string, backend: { fetch: typeof fetch }, options: { json: boolean; signal?: AbortSignal }) => {
      const e = fakeEnv({ vars: vars(), fetch: backend.fetch, spawn: realSpawn, cwd: repo, signal: options.signal });
      const code = await runMainChecked(["run-dev-e2e", "--run-id", runId, "--wait-ms", "60000", ...(options.json ? ["--json"] : [])], e);
      return { code, out: e.out(), err: e.err(), doc: options.json ? JSON.parse(e.out()) : undefined };
    };
    const reset = () => Promise.reject(Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }) }));
    const refused = () => Promise.reject(Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }) }));

    const cases: { name: string; breaks: Parameters<typeof brokenBackend>[0]; interrupt?: boolean; code: number; error: string; mayHaveStarted: boolean }[] = [
      { name: "the answer to the submit never came (connection reset after the backend took it)", breaks: { submit: reset }, code: 5, error: "dispatch", mayHaveStarted: true },
      { name: "Ctrl-C during the submit", breaks: { submit: (abort) => (abort(), Promise.reject(new DOMException("This operation was aborted", "AbortError"))) }, interrupt: true, code: 130, error: "interrupted", mayHaveStarted: true },
      { name: "the backend answers the submit with garbage", breaks: { submit: async () => new Response("<html>502</html>", { status: 200 }) }, code: 5, error: "dispatch", mayHaveStarted: true },
      { name: "the backend is down (connection refused, 3 attempts)", breaks: { submit: refused }, code: 5, error: "dispatch", mayHaveStarted: false },
      { name: "the token is rejected at the submit (401)", breaks: { submit: async () => Response.json({ ok: false, error: { code: "unauthorized", message: "no" } }, { status: 401 }) }, code: 4, error: "auth", mayHaveStarted: false },
      { name: "D601 unreachable at the submit (503 provider_unavailable)", breaks: { submit: async () => Response.json({ ok: false, error: { code: "provider_unavailable", message: "D601 down" } }, { status: 503 }) }, code: 5, error: "dispatch", mayHaveStarted: false },
      { name: "401 mid-wait", breaks: { poll: () => Response.json({ ok: false, error: { code: "unauthorized", message: "expired" } }, { status: 401 }) }, code: 4, error: "auth", mayHaveStarted: true },
      { name: "garbage mid-wait (three polls in a row)", breaks: { poll: () => new Response("<html>oops</html>", { status: 200 }) }, code: 5, error: "dispatch", mayHaveStarted: true },
    ];
    for (const [i, c] of cases.entries()) {
      for (const json of [true, false]) {
        it(`${c.name}${json ? " --json" : ""}: exit ${c.code}, runId and resultDir named, run ${c.mayHaveStarted ? "may have started" : "not started"}`, async () => {
          const runId = `cmd-lost-${i}-${json ? "j" : "t"}`;
          const controller = new AbortController();
          const r = await run(runId, brokenBackend(c.breaks, () => controller.abort(new Error("interrupted by SIGINT"))), { json, signal: controller.signal });
          assert.equal(r.code, c.code, r.out + r.err);
          if (json) {
            assert.deepEqual([r.doc.error.code, r.doc.error.exitCode], [c.error, c.code]);
            assert.deepEqual([r.doc.runId, r.doc.resultDir, r.doc.runMayHaveStarted], [runId, `${runsRoot}/${runId}`, c.mayHaveStarted]);
            assert.equal(r.err, "");
            return;
          }
          assert.match(r.err, /^error: /m);
          if (c.mayHaveStarted) {
            assert.match(r.err, new RegExp(`^follow it with: unidesk-ci logs ${runId}$`, "m"));
            assert.match(r.err, new RegExp(`^cancel it with: unidesk-ci cancel ${runId}$`, "m"));
          } else {
            assert.match(r.err, new RegExp(`^run ${runId} was not started$`, "m"));
            assert.doesNotMatch(r.err, /cancel it with/);
          }
        });
      }
    }

    it("a submit that may have started says so to a human, with the result directory", async () => {
      const r = await run("cmd-lost-human", brokenBackend({ submit: reset }), { json: false });
      assert.match(r.err, new RegExp(`^run cmd-lost-human may have started on the host \\(result directory ${runsRoot}/cmd-lost-human\\)$`, "m"));
    });
  });
});

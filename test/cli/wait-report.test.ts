// `--wait-ms` and `--follow` against stubbed watch-reader dispatches (test/http-mock.ts): answer and retry counts,
// failed answers, Ctrl-C, result.json files that are corrupt or another run's verdict, the TTY table, follow output.
import { guardTerminalText } from "../../src/io/terminal.ts";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fakeEnv } from "../../src/env.ts";
import { DispatchError, ExitCode, InterruptedError, RunFailedError, WaitTimeoutError } from "../../src/errors.ts";
import type { DispatchTarget } from "../../src/dispatch/client.ts";
import { MAX_RETRIES } from "../../src/dispatch/client.ts";
import { RESULT_MAX_BYTES } from "../../src/rules.ts";
import { reportError, runCli } from "../../src/cli/program.ts";
import { MAX_FAILED_POLLS, waitAndReport, type WaitRequest } from "../../src/cli/wait-report.ts";
import { after, backendError, dispatchOf, hang, hostAnswer, HttpMock } from "../http-mock.ts";
import { signalledAnswer, testProgress, testResult, watchAnswer } from "../host/answers.ts";

const TOKEN = "tok-wait-7d2e";
const RUN = "dev-20261127-162626-k3x9a2";
const COMMIT = testResult(RUN).manifestCommit;
const target: DispatchTarget = { backendUrl: "http://backend.test", token: TOKEN, providerId: "D601" };
const request = (over: Partial<WaitRequest> = {}): WaitRequest => ({ runId: RUN, runsRoot: "/home/ubuntu/.unidesk/runs", manifestCommit: COMMIT, deadlineMs: 600_000, json: false, summary: { runId: RUN }, ...over });
const status = dispatchOf("watch");
const running = hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}` }));
const finished = (over = {}) => hostAnswer(watchAnswer(RUN, { result: testResult(RUN, over), pipelineRun: `e2e-${RUN}` }));
/** An answer that fails without retries: the watch reader itself failed on the host. */
const readerFailed = hostAnswer("", 1, "bash: fork: retry: Resource temporarily unavailable");

describe("--wait-ms answers (exact)", () => {
  it("a quiet run whose answers come back at once: asked at 0, 0, 1 s, 2.5 s, 4.75 s and on the 5 s deadline, then exit 3", async () => {
    const mock = new HttpMock().registerTimes(6, status, running);
    const env = fakeEnv({ fetch: mock.fetch });
    await assert.rejects(waitAndReport(target, request({ deadlineMs: 5000 }), env), (e) => e instanceof WaitTimeoutError && e.exitCode === ExitCode.waitTimeout && e.hint === `follow it with: unidesk-ci logs ${RUN} --follow`);
    mock.verify();
    assert.equal(env.clockMs() - new Date("2026-01-01T00:00:00Z").getTime(), 5000);
  });

  it("stops at the first answer that sees this run's result.json, one line per change", async () => {
    const mock = new HttpMock().registerTimes(2, status, running).register(status, finished());
    const env = fakeEnv({ fetch: mock.fetch });
    await waitAndReport(target, request(), env);
    mock.verify();
    assert.match(env.out(), /^status: +succeeded$/m);
    assert.equal(env.err(), `[0s] running e2e-${RUN}\n[1s] finished: succeeded\n`);
  });

  it("without a TTY one line per task change, naming the task; the reader watches no log", async () => {
    const p = (runs: [string, string, string][]) => ({ version: `1:${runs.length}:1`, json: testProgress(RUN, ["check-inputs", "report"], runs) });
    const mock = new HttpMock()
      .register(status, hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}`, progress: p([["check-inputs", "Unknown", "Running"]]) })))
      .register(status, hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}`, progress: p([["check-inputs", "True", "Succeeded"], ["report", "Unknown", "Running"]]) })))
      .register(status, finished());
    const env = fakeEnv({ fetch: mock.fetch });
    await waitAndReport(target, request(), env);
    mock.verify();
    assert.equal(env.err(), `[0s] running e2e-${RUN}\n[0s] task check-inputs running\n[0s] task report pending\n[0s] task check-inputs succeeded (2s)\n[0s] task report running\n[0s] finished: succeeded\n`);
    assert.ok(mock.requests.every((r) => /^UCI_LOGS='0'$/m.test(JSON.parse(r.body).command)));
  });

  it("on a TTY the task table is redrawn in place (symbols, elapsed) and left showing the end", async () => {
    const mock = new HttpMock().register(status, hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}`, progress: ttyProgress([["check-inputs", "Unknown", "Running"]]) }))).register(status, ttyFinished);
    const env = fakeEnv({ fetch: mock.fetch, tty: true, vars: { NO_COLOR: "1" }, start: new Date("2026-11-27T16:26:40Z") });
    // The clock stands still: no tick between the answers that come back at once.
    await waitAndReport(target, request(), frozenClock(env, 0));
    mock.verify();
    const frames = guardTerminalText(env.err()).split("\x1b[3F\x1b[J");
    assert.equal(frames.length, 2, env.err());
    assert.equal(frames[0], `/ 0s/10m00s running e2e-${RUN}\n  ● check-inputs  running    9s\n  · report        pending\n`);
    assert.equal(frames[1], `  0s/10m00s finished: succeeded\n  ✓ check-inputs  succeeded  2s\n  ✓ report        succeeded  2s\n`);
    assert.ok(mock.requests.slice(1).every((r) => /^UCI_WAIT_MS='10000'$/m.test(JSON.parse(r.body).command)), "after the first, a terminal asks for 10 s answers");
  });
});

const ttyProgress = (runs: [string, string, string][]) => ({ version: `1:${runs.length}:1`, json: testProgress(RUN, ["check-inputs", "report"], runs) });
const ttyFinished = hostAnswer(watchAnswer(RUN, { result: testResult(RUN), pipelineRun: `e2e-${RUN}`, progress: ttyProgress([["check-inputs", "True", "Succeeded"], ["report", "True", "Succeeded"]]) }));

/**
 * `env` whose virtual clock stops once it moved `ms` past its start: a sleep from then on ends only when its
 * signal aborts, after calling `onStop` (once). So a pending answer sees exactly `ms / 1000` ticks.
 */
function frozenClock<E extends ReturnType<typeof fakeEnv>>(env: E, ms: number, onStop: () => void = () => undefined): E {
  const start = env.clockMs();
  let stopped = false;
  const sleep = async (wait: number, signal?: AbortSignal): Promise<void> => {
    if (env.clockMs() - start < ms) return env.sleep(wait, signal);
    if (!stopped) (stopped = true), onStop();
    return new Promise((_, reject) => {
      if (signal?.aborted) reject(signal.reason);
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  };
  return { ...env, sleep };
}

describe("the TTY clock between answers", () => {
  const first = hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}`, progress: ttyProgress([["check-inputs", "Unknown", "Running"]]) }));
  const heads = (err: string) => guardTerminalText(err).split("\x1b[3F\x1b[J").map((f) => f.split("\n")[0]!);

  it("ticks every second while an answer is pending (elapsed, spinner, task duration), and stops when it arrives", async () => {
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const mock = new HttpMock().register(status, first).register(status, async (req) => (await answered, ttyFinished(req)));
    const base = fakeEnv({ fetch: mock.fetch, tty: true, vars: { NO_COLOR: "1" }, start: new Date("2026-11-27T16:26:40Z") });
    // The second answer comes once the clock moved 4 s; the clock stands still from then on.
    await waitAndReport(target, request(), frozenClock(base, 4000, answer));
    mock.verify();
    assert.deepEqual(heads(base.err()), [
      `/ 0s/10m00s running e2e-${RUN}`,
      `- 1s/10m00s running e2e-${RUN}`,
      `\\ 2s/10m00s running e2e-${RUN}`,
      `| 3s/10m00s running e2e-${RUN}`,
      `/ 4s/10m00s running e2e-${RUN}`,
      `  4s/10m00s finished: succeeded`,
    ]);
    assert.match(guardTerminalText(base.err()).split("\x1b[3F\x1b[J")[2]!, /^ {2}● check-inputs {2}running {4}11s$/m, "a running task's duration ticks too");
  });

  it("stops ticking when Ctrl-C aborts during a pending answer", async () => {
    const controller = new AbortController();
    const mock = new HttpMock().register(status, first).register(status, hang);
    const base = fakeEnv({ fetch: mock.fetch, tty: true, vars: { NO_COLOR: "1" }, signal: controller.signal });
    await assert.rejects(waitAndReport(target, request(), frozenClock(base, 2000, () => controller.abort(new Error("SIGINT")))), InterruptedError);
    assert.deepEqual(heads(base.err()).map((h) => h.split(" ")[1]), ["0s/10m00s", "1s/10m00s", "2s/10m00s"]);
  });

  it("never ticks without a terminal or with --json: the clock moves only by the wait's own pauses", async () => {
    for (const over of [{}, { json: true }]) {
      const mock = new HttpMock().register(status, first).register(status, ttyFinished);
      const env = fakeEnv({ fetch: mock.fetch, tty: !("json" in over) ? false : true });
      await waitAndReport(target, request(over), env);
      assert.equal(env.clockMs(), new Date("2026-01-01T00:00:00Z").getTime(), JSON.stringify(over));
      assert.doesNotMatch(env.err(), /\x1b/);
    }
  });
});

describe("--wait-ms failed answers", () => {
  it(`tolerates ${MAX_FAILED_POLLS} failed answers in a row (each a dispatch error after its retries)`, async () => {
    const mock = new HttpMock()
      .register(status, running)
      .registerTimes(1 + MAX_RETRIES, status, backendError(503, "provider_unavailable", "D601 busy"))
      .register(status, readerFailed)
      .registerTimes(1 + MAX_RETRIES, status, backendError(502, "internal", "bad gateway"))
      .register(status, finished());
    const env = fakeEnv({ fetch: mock.fetch });
    await waitAndReport(target, request(), env);
    mock.verify();
    assert.equal(mock.requests.length, 3 + 2 * (1 + MAX_RETRIES));
    assert.match(env.out(), /^status: +succeeded$/m);
  });

  it(`ends the wait with exit 5 at failed answer ${MAX_FAILED_POLLS + 1}`, async () => {
    const mock = new HttpMock().register(status, running).registerTimes(MAX_FAILED_POLLS + 1, status, readerFailed);
    const env = fakeEnv({ fetch: mock.fetch });
    await assert.rejects(waitAndReport(target, request(), env), (e) => e instanceof DispatchError && e.exitCode === ExitCode.unreachable && /watch reader failed on D601 \(exit 1\)/.test(e.message));
    mock.verify();
  });

  it("a failure that is not the backend's (a rejected token) ends the wait at once", async () => {
    const mock = new HttpMock().register(status, running).register(status, backendError(401, "unauthorized", "token expired"));
    await assert.rejects(waitAndReport(target, request(), fakeEnv({ fetch: mock.fetch })), (e) => (e as { exitCode?: number }).exitCode === ExitCode.auth);
    mock.verify();
  });
});

describe("Ctrl-C during a wait", () => {
  const interrupted = (e: unknown) =>
    e instanceof InterruptedError && e.exitCode === ExitCode.interrupted && e.message.includes(`run ${RUN} goes on`) && e.hint === `follow it with: unidesk-ci logs ${RUN} --follow`;

  it("between answers: InterruptedError (130) naming the run, which goes on", async () => {
    const controller = new AbortController();
    const mock = new HttpMock().register(status, running).register(status, after(() => controller.abort(new Error("SIGINT")), running));
    await assert.rejects(waitAndReport(target, request(), fakeEnv({ fetch: mock.fetch, signal: controller.signal })), interrupted);
    mock.verify();
  });

  it("during an answer's request: the request is aborted, same error", async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const mock = new HttpMock().register(status, running).register(status, after((req) => ((seen = req.signal), queueMicrotask(() => controller.abort(new Error("SIGINT")))), hang));
    await assert.rejects(waitAndReport(target, request(), fakeEnv({ fetch: mock.fetch, signal: controller.signal })), interrupted);
    mock.verify();
    assert.equal(seen?.aborted, true, "the fetch's own signal was aborted");
  });
});

describe("an ended run waited on: result.json that is no verdict of this run ends the wait at once (exit 1)", () => {
  const valid = JSON.stringify(testResult(RUN));
  const cases: { name: string; result: string | Uint8Array; state: "corrupt" | "mismatch"; problem: RegExp }[] = [
    { name: "invalid JSON", result: valid.slice(0, -1), state: "corrupt", problem: /result\.json is not valid JSON/ },
    { name: "wrong schema", result: JSON.stringify({ ok: true, status: "succeeded", runId: RUN }), state: "corrupt", problem: /does not match the result schema: manifestCommit: / },
    { name: "too large", result: JSON.stringify({ ...testResult(RUN), padding: "x".repeat(RESULT_MAX_BYTES) }), state: "corrupt", problem: new RegExp(`bytes, more than the ${RESULT_MAX_BYTES} a result may have`) },
    { name: "not UTF-8", result: Buffer.concat([Buffer.from(valid.slice(0, -1) + ',"reason":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), state: "corrupt", problem: /not UTF-8/ },
    { name: "another run id", result: JSON.stringify(testResult("dev-other")), state: "mismatch", problem: /names run "dev-other", not dev-/ },
    { name: "another commit", result: JSON.stringify(testResult(RUN, { manifestCommit: "f".repeat(40) })), state: "mismatch", problem: new RegExp(`verdict of manifest commit f{40}, not of ${COMMIT} that this run submitted`) },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.state}, one answer, exit 1 naming the problem`, async () => {
      const mock = new HttpMock().register(status, hostAnswer(watchAnswer(RUN, { result: c.result })));
      const env = fakeEnv({ fetch: mock.fetch });
      await assert.rejects(waitAndReport(target, request(), env), (e) => e instanceof RunFailedError && e.exitCode === 1 && !e.silent && c.problem.test(e.message) && e.message.startsWith(`run ${RUN} has a `));
      mock.verify();
      assert.match(env.out(), new RegExp(`^status: +${c.state}\\nproblem: +.*\\nrunId: +${RUN}\\n$`));
      assert.doesNotMatch(env.out(), /succeeded/);
      assert.match(env.err(), new RegExp(`^\\[0s\\] finished: ${c.state} \\(`));
    });
  }

  it("--json: one document with the state, the problem and the error (exitCode 1)", async () => {
    const mock = new HttpMock().register(status, hostAnswer(watchAnswer(RUN, { result: "{}" })));
    const env = fakeEnv({ fetch: mock.fetch });
    const error = await waitAndReport(target, request({ json: true }), env).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof RunFailedError);
    assert.equal(env.out(), "", "the failure document is the reporter's");
    assert.equal(reportError(error, env, true), 1);
    mock.verify();
    const doc = JSON.parse(env.out());
    assert.deepEqual([doc.ok, doc.runId, doc.status, doc.result, doc.polls, doc.error.code, doc.error.exitCode], [false, RUN, "corrupt", null, 1, "run_failed", 1]);
    assert.match(doc.resultProblem, /does not match the result schema/);
    assert.equal(env.err(), "");
  });
});

describe("a lost run waited on (no result.json, nothing of it alive): the wait ends after one answer (exit 1)", () => {
  const lost = hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}`, alive: false }));

  it("names the run, says nothing is alive and no result.json was written, hints at the sweep and logs", async () => {
    const mock = new HttpMock().register(status, running).register(status, lost);
    const env = fakeEnv({ fetch: mock.fetch });
    await assert.rejects(waitAndReport(target, request(), env), (e) =>
      e instanceof RunFailedError && e.exitCode === ExitCode.runFailed && !e.silent &&
      e.message === `run ${RUN} is lost: no launcher or runner process of it is alive and it wrote no result.json (launcher.pid 4242 is another program)` &&
      e.hint === `the next run's sweep records it (result.json status lost) and cleans up its PipelineRun and namespace; see its files with: unidesk-ci logs ${RUN}`);
    mock.verify();
    assert.equal(mock.requests.length, 2, "no poll after the one that saw it lost");
    assert.match(env.out(), new RegExp(`^status: +lost\nproblem: +no launcher or runner process of it is alive .*\nrunId: +${RUN}\n$`));
    assert.equal(env.err(), `[0s] running e2e-${RUN}\n[0s] lost: no launcher or runner process of it is alive and it wrote no result.json (launcher.pid 4242 is another program)\n`);
  });

  it("--json: one document, status lost, the error with exitCode 1", async () => {
    const mock = new HttpMock().register(status, lost);
    const env = fakeEnv({ fetch: mock.fetch });
    const error = await waitAndReport(target, request({ json: true }), env).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof RunFailedError);
    assert.equal(env.out(), "", "the failure document is the reporter's");
    assert.equal(reportError(error, env, true), 1);
    mock.verify();
    const doc = JSON.parse(env.out());
    assert.deepEqual([doc.ok, doc.status, doc.result, doc.polls, doc.error.code, doc.error.exitCode], [false, "lost", null, 1, "run_failed", 1]);
    assert.match(doc.resultProblem, /launcher\.pid 4242 is another program/);
  });

  it("cancel --wait-ms: a run lost after the signal (it died before writing its result) ends the wait at once", async () => {
    const vars = { HOME: "/nonexistent-home", UNIDESK_BACKEND_URL: "https://backend.test", UNIDESK_TOKEN: TOKEN };
    const mock = new HttpMock().register(dispatchOf("cancel"), hostAnswer(signalledAnswer(RUN))).register(status, lost);
    await assert.rejects(runCli(["cancel", RUN, "--wait-ms", "600000"], fakeEnv({ vars, fetch: mock.fetch })), (e) => e instanceof RunFailedError && / is lost: /.test(e.message));
    mock.verify();
  });
});

describe("cancel --wait-ms against stubs", () => {
  const vars = { HOME: "/nonexistent-home", UNIDESK_BACKEND_URL: "https://backend.test", UNIDESK_TOKEN: TOKEN };

  it("one cancel dispatch, then answers until the cancelled result: exactly three requests", async () => {
    const mock = new HttpMock()
      .register(dispatchOf("cancel"), hostAnswer(signalledAnswer(RUN)))
      .register(status, running)
      .register(status, finished({ status: "cancelled" }));
    const env = fakeEnv({ vars, fetch: mock.fetch });
    await runCli(["cancel", RUN, "--wait-ms", "60000"], env);
    mock.verify();
    assert.match(env.out(), /^status: +cancelled$/m);
  });

  it("checks the run id of the result it waits for (it knows no commit)", async () => {
    const mock = new HttpMock()
      .register(dispatchOf("cancel"), hostAnswer(signalledAnswer(RUN)))
      .register(status, hostAnswer(watchAnswer(RUN, { result: testResult("dev-other", { status: "cancelled" }) })));
    const env = fakeEnv({ vars, fetch: mock.fetch });
    await assert.rejects(runCli(["cancel", RUN, "--wait-ms", "60000"], env), (e) => e instanceof RunFailedError && /names run "dev-other"/.test(e.message));
    mock.verify();
    assert.match(env.out(), /^status: +mismatch$/m);
  });

  it("an already finished run with a corrupt result.json: finished (corrupt), no status read from it", async () => {
    const mock = new HttpMock().register(dispatchOf("cancel"), hostAnswer(`unidesk-ci-cancel\t1\nrunid\t${RUN}\noutcome\tfinished\nresult\tb64:${btoa('{"status": "succeeded"')}\t22\nend\n`));
    const env = fakeEnv({ vars, fetch: mock.fetch });
    await runCli(["cancel", RUN], env);
    mock.verify();
    assert.equal(env.out(), `run ${RUN} already finished (corrupt: result.json is not valid JSON); nothing to cancel\n`);
  });
});

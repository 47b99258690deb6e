// The follow loop (src/runs/follow.ts) against stubbed watch-reader dispatches (test/http-mock.ts): lines joined
// across answers, sources, task changes, the pacing of answers, failed answers, the deadline, the last bytes.
import assert from "node:assert/strict";
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fakeEnv } from "../../src/env.ts";
import type { DispatchTarget } from "../../src/dispatch/client.ts";
import { DispatchError } from "../../src/errors.ts";
import { FOLLOW_LINE_MAX_BYTES, WATCH_WAIT_MS } from "../../src/rules.ts";
import { ANSWER_MARGIN_MS, followRun, MAX_FAILED_POLLS, type FollowEvent, type FollowRequest } from "../../src/runs/follow.ts";
import type { WaitEnd } from "../../src/runs/wait.ts";
import { after, dispatchOf, hostAnswer, HttpMock, type MockRequest } from "../http-mock.ts";
import { testProgress, testResult, watchAnswer } from "../host/answers.ts";
import { fakeBackend } from "../cli/helpers.ts";
import { launcherStandIn, stopStandIns } from "../host/helpers.ts";

const RUN = "dev-20261127-162626-k3x9a2";
const target: DispatchTarget = { backendUrl: "http://backend.test", token: "tok-follow-1", providerId: "D601" };
const watch = dispatchOf("watch");
const request = (over: Partial<FollowRequest> = {}): FollowRequest => ({ runsRoot: "/home/ubuntu/.unidesk/runs", runId: RUN, logs: true, ...over });
const POD = `pods/e2e-${RUN}-check-inputs-pod_step-check-inputs.log`;
const progress = (runs: [string, string, string][], pr = "Unknown") => testProgress(RUN, ["check-inputs", "report"], runs, pr);
const done = testResult(RUN);

/** What each request asked for: the offsets, the progress version, the reader's wait and the dispatch budget. */
const asked = (r: MockRequest) => {
  const body = JSON.parse(r.body) as { command: string; timeoutMs: number };
  const value = (name: string) => new RegExp(`^UCI_${name}='?([^']*)'?$`, "m").exec(body.command)?.[1] ?? "";
  return { offsets: value("OFFSETS"), version: value("PROGRESS_SEEN"), answerWaitMs: Number(value("WAIT_MS")), logs: value("LOGS"), timeoutMs: body.timeoutMs };
};

async function drain(gen: AsyncGenerator<FollowEvent, WaitEnd>) {
  const events: FollowEvent[] = [];
  for (;;) {
    const n = await gen.next();
    if (n.done) return { events, end: n.value };
    events.push(n.value);
  }
}
const linesOf = (events: FollowEvent[]) => events.flatMap((e) => (e.type === "line" ? [`${e.source}|${Buffer.from(e.bytes).toString("latin1")}|${e.eol}`] : []));

describe("followRun", () => {
  it("joins lines split across answers, names their source, sends the offsets back, and flushes the last partial line", async () => {
    const mock = new HttpMock()
      .register(watch, hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}`, progress: { version: "1:10:1", json: progress([["check-inputs", "Unknown", "Running"]]) }, chunks: [{ path: "runner.log", offset: 0, data: "runner up\nhalf" }, { path: POD, offset: 0, data: "one\n" }] })))
      .register(watch, hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}`, progress: { version: "1:10:1" }, chunks: [{ path: "runner.log", offset: 14, data: " a line\n" }, { path: POD, offset: 4, data: "two\nthr" }] })))
      .register(watch, hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}`, result: done, progress: { version: "1:10:1" }, chunks: [{ path: POD, offset: 11, data: "ee" }] })));
    const { events, end } = await drain(followRun(target, request(), fakeEnv({ fetch: mock.fetch })));
    mock.verify();
    assert.equal(end.kind, "finished");
    assert.deepEqual(linesOf(events), ["runner|runner up|true", "check-inputs/check-inputs|one|true", "runner|half a line|true", "check-inputs/check-inputs|two|true", "check-inputs/check-inputs|three|false"]);
    const [, second, third] = mock.requests.map(asked);
    assert.deepEqual([second!.offsets, second!.version], [`runner.log=14\n${POD}=4`, "1:10:1"]);
    assert.equal(third!.offsets, `runner.log=22\n${POD}=11`);
    assert.deepEqual([second!.answerWaitMs, second!.timeoutMs, second!.logs], [WATCH_WAIT_MS, WATCH_WAIT_MS + ANSWER_MARGIN_MS, "1"]);
  });

  it("keeps binary bytes exact, and cuts an endless line into pieces of FOLLOW_LINE_MAX_BYTES", async () => {
    const binary = Uint8Array.from([0x62, 0, 0xff, 0xfe, 0x0d, 0x80, 0xc3, 0x28]);
    const long = "L".repeat(FOLLOW_LINE_MAX_BYTES + 10);
    const mock = new HttpMock()
      .register(watch, hostAnswer(watchAnswer(RUN, { chunks: [{ path: "runner.log", offset: 0, data: Buffer.concat([Buffer.from(binary), Buffer.from("\n")]) }, { path: "launcher.log", offset: 0, data: long }] })))
      .register(watch, hostAnswer(watchAnswer(RUN, { result: done, chunks: [{ path: "launcher.log", offset: long.length, data: "end\n" }] })));
    const { events } = await drain(followRun(target, request(), fakeEnv({ fetch: mock.fetch })));
    const lines = events.filter((e) => e.type === "line");
    assert.deepEqual(lines.map((l) => [l.source, l.bytes.length, l.eol]), [["runner", binary.length, true], ["launcher", long.length, false], ["launcher", 3, true]]);
    assert.deepEqual(lines[0]!.bytes, binary);
  });

  it("yields each task change once, and the status changes", async () => {
    const mock = new HttpMock()
      .register(watch, hostAnswer(watchAnswer(RUN, { progress: { version: "1:1:1", json: progress([]) } })))
      .register(watch, hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}`, progress: { version: "1:2:1", json: progress([["check-inputs", "Unknown", "Running"]]) } })))
      .register(watch, hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}`, progress: { version: "1:3:1", json: progress([["check-inputs", "True", "Succeeded"], ["report", "False", "Failed"]], "False") } })))
      .register(watch, hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}`, result: testResult(RUN, { status: "failed" }), progress: { version: "1:3:1" } })));
    const { events, end } = await drain(followRun(target, request(), fakeEnv({ fetch: mock.fetch })));
    assert.equal(end.kind === "finished" && end.result.status, "failed");
    const changes = events.flatMap((e) => (e.type === "task" ? [`${e.task.task} ${e.task.state}`] : e.type === "status" ? [e.snapshot.phase] : []));
    assert.deepEqual(changes, ["starting", "check-inputs pending", "report pending", "running", "check-inputs running", "check-inputs succeeded", "report failed", "finished"]);
  });

  it("a run already finished at the first answer: its task changes come before `finished` (logs <finished> --follow)", async () => {
    const mock = new HttpMock().register(watch, hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}`, result: testResult(RUN, { status: "failed" }), progress: { version: "1:3:1", json: progress([["check-inputs", "True", "Succeeded"], ["report", "False", "Failed"]], "False") } })));
    const { events } = await drain(followRun(target, request(), fakeEnv({ fetch: mock.fetch })));
    const changes = events.flatMap((e) => (e.type === "task" ? [`${e.task.task} ${e.task.state}`] : e.type === "status" ? [e.snapshot.phase] : []));
    assert.deepEqual(changes, ["check-inputs succeeded", "report failed", "finished"]);
  });

  it("a finished run's bytes that did not fit (more) are fetched before the end", async () => {
    const mock = new HttpMock()
      .register(watch, hostAnswer(watchAnswer(RUN, { result: done, more: true, chunks: [{ path: "runner.log", offset: 0, data: "a\n" }] })))
      .register(watch, hostAnswer(watchAnswer(RUN, { result: done, chunks: [{ path: POD, offset: 0, data: "b\n" }] })));
    const { events, end } = await drain(followRun(target, request(), fakeEnv({ fetch: mock.fetch })));
    mock.verify();
    assert.deepEqual([end.kind, end.polls, linesOf(events).length], ["finished", 2, 2]);
  });

  it("paces answers that came back at once with nothing (no run directory yet): 1 s, 1.5 s, …; a reader that waited is asked again at once", async () => {
    const env = fakeEnv();
    const times: number[] = [];
    const at = () => times.push(env.clockMs());
    const absent = hostAnswer(`unidesk-ci-watch\t1\nrunid\t${RUN}\nrun\tabsent\nend\t0\t0\t0\n`);
    const mock = new HttpMock()
      .registerTimes(4, watch, after(at, absent))
      .register(watch, after((r) => (at(), void env.sleep(asked(r).answerWaitMs)), hostAnswer(watchAnswer(RUN, { waitedMs: WATCH_WAIT_MS }))))
      .register(watch, after(at, hostAnswer(watchAnswer(RUN, { result: done }))));
    await drain(followRun(target, request({ logs: false }), { ...env, fetch: mock.fetch }));
    mock.verify();
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    assert.deepEqual(gaps, [0, 1000, 1500, 2250, WATCH_WAIT_MS], "the first answer is news; then idle pauses; then the waited answer");
    assert.deepEqual(mock.requests.slice(0, 2).map((r) => [asked(r).answerWaitMs, asked(r).logs]), [[0, "0"], [WATCH_WAIT_MS, "0"]], "the first answer at once, then the reader waits");
  });

  it(`tolerates ${MAX_FAILED_POLLS} failed answers in a row, ends with exit 5 at the next`, async () => {
    const failed = hostAnswer("", 1, "bash: fork: retry: Resource temporarily unavailable");
    const ok = new HttpMock().register(watch, hostAnswer(watchAnswer(RUN))).registerTimes(MAX_FAILED_POLLS, watch, failed).register(watch, hostAnswer(watchAnswer(RUN, { result: done })));
    assert.equal((await drain(followRun(target, request(), fakeEnv({ fetch: ok.fetch })))).end.kind, "finished");
    ok.verify();
    const bad = new HttpMock().register(watch, hostAnswer(watchAnswer(RUN))).registerTimes(MAX_FAILED_POLLS + 1, watch, failed);
    await assert.rejects(drain(followRun(target, request(), fakeEnv({ fetch: bad.fetch }))), (e) => e instanceof DispatchError && /watch reader failed on D601 \(exit 1\)/.test(e.message));
    bad.verify();
  });

  it("the last answer waits exactly until the deadline, then the follow ends (timeout, the last snapshot)", async () => {
    const env = fakeEnv();
    const running = (r: MockRequest) => (void env.sleep(asked(r).answerWaitMs), undefined);
    const mock = new HttpMock()
      .register(watch, hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}` })))
      .register(watch, after(running, hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}`, waitedMs: WATCH_WAIT_MS }))))
      .register(watch, after(running, hostAnswer(watchAnswer(RUN, { pipelineRun: `e2e-${RUN}`, waitedMs: 5_000 }))));
    const { end } = await drain(followRun(target, request({ timeoutMs: WATCH_WAIT_MS + 5_000 }), { ...env, fetch: mock.fetch }));
    mock.verify();
    assert.deepEqual(mock.requests.map((r) => asked(r).answerWaitMs), [0, WATCH_WAIT_MS, 5_000]);
    assert.deepEqual([end.kind, end.elapsedMs, end.kind === "timeout" && end.last?.pipelineRun], ["timeout", WATCH_WAIT_MS + 5_000, `e2e-${RUN}`]);
  });

  it("a corrupt result.json, another commit's, or a lost run (nothing alive, no result.json) ends at once", async () => {
    for (const [result, kind, manifestCommit] of [["{", "corrupt", undefined], [JSON.stringify(done), "mismatch", "f".repeat(40)], [undefined, "lost", undefined]] as const) {
      const mock = new HttpMock().register(watch, hostAnswer(watchAnswer(RUN, { result, alive: result !== undefined })));
      const { end } = await drain(followRun(target, request({ manifestCommit }), fakeEnv({ fetch: mock.fetch })));
      mock.verify();
      assert.equal(end.kind, kind);
    }
  });
});

describe("followRun against the real watch reader (bash), with a small cap", () => {
  it("rebuilds a log appended while it is followed — binary, long lines, answers cut by a 700-byte cap — byte for byte", async () => {
    const root = await mkdtemp(join(tmpdir(), "uci-follow-"));
    try {
      const dir = join(root, RUN);
      await mkdir(join(dir, "pods"), { recursive: true });
      await writeFile(join(dir, "launcher.pid"), `${launcherStandIn(dir)}\n`);
      const file = join(dir, POD);
      await writeFile(file, "");
      const backend = fakeBackend({ token: target.token });
      const gen = followRun(target, request({ runsRoot: root, capBytes: 700, answerWaitMs: 2000 }), fakeEnv({ fetch: backend.fetch }));
      const writer = (async () => {
        for (let i = 0; i < 60; i++) {
          const chunk = i % 9 === 4 ? Buffer.from([0x62, 0, 0xff, 0x0a]) : Buffer.from(`line ${i} ${"x".repeat((i * 37) % 900)}${i % 5 === 0 ? "" : "\n"}`);
          await appendFile(file, chunk);
          await new Promise((r) => setTimeout(r, 5));
        }
        await appendFile(file, "last words without a newline");
        await writeFile(join(dir, "result.json"), JSON.stringify(testResult(RUN)));
      })();
      const { events, end } = await drain(gen);
      await writer;
      assert.equal(end.kind, "finished");
      const rebuilt = Buffer.concat(events.flatMap((e) => (e.type === "line" && e.path === POD ? [Buffer.from(e.bytes), Buffer.from(e.eol ? "\n" : "")] : [])));
      assert.deepEqual(rebuilt, await readFile(file));
      const kinds = backend.received.map((r) => r.kind);
      assert.ok(kinds.length >= 5 && kinds.every((k) => k === "watch"), `${kinds.length} answers`);
    } finally {
      stopStandIns();
      await rm(root, { recursive: true, force: true });
    }
  });
});
